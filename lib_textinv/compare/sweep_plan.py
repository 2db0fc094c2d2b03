"""Plan a step-sweep grid: which checkpoints, which prompts and seeds, and how cells are batched.

Pure functions, no torch. A cell is (checkpoint, prompt, seed); its prompt text and seed depend
only on the cell, never on the batch it lands in, so the same cell gives the same image whatever
the batch size (the webui's per-image prompts and seeds, docs/webui-contract.md §16 "Checkpoints
side by side in one batch"). Cells from different checkpoints share a batch because every
checkpoint has its own token ``<name>-<N>``: one generation call renders ``batch_size`` cells
instead of one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

DEFAULT_PROMPTS = (
    "drawing of a cat, {}",
    "a portrait of a woman, {}",
    "a landscape, {}",
    "abstract drawing, {}",
)
DEFAULT_SEEDS = (1234,)
SEED_MAX = 2**32 - 1  # the webui's seeds are 32-bit; -1 (random) would make the columns incomparable
DEFAULT_BATCH_SIZE = 8
TRIGGER_MARK = "{}"
CHOOSE_MODES = ("all", "every", "list")


class PlanError(ValueError):
    """The choices cannot make a grid; the message says which and why."""


@dataclass(frozen=True)
class PlanCheckpoint:
    token: str
    label: str  # column heading, e.g. "500 steps"
    path: str
    step: int | None = None  # file-name step (for the scores and the JSON handed to other sections)
    final: bool = False


@dataclass(frozen=True)
class Cell:
    checkpoint: int  # column
    prompt: int
    seed_index: int
    token: str
    text: str  # the full prompt with the trigger placed
    seed: int


@dataclass(frozen=True)
class SweepCost:
    calls: int  # generation calls (process_images)
    unet_passes: int  # denoiser forward calls (cond and uncond batched together, one per step)
    images: int


class GridShape:
    """Columns are checkpoints, rows are (prompt, seed) pairs: shared by a plan and its record."""

    checkpoints: Sequence[object]
    prompts: Sequence[str]
    seeds: Sequence[int]

    @property
    def cols(self) -> int:
        return len(self.checkpoints)

    @property
    def rows(self) -> int:
        return len(self.prompts) * len(self.seeds)


@dataclass
class SweepPlan(GridShape):
    checkpoints: list[PlanCheckpoint]
    prompts: list[str]
    seeds: list[int]
    batch_size: int
    cells: list[Cell] = field(default_factory=list)
    name: str = ""  # the embedding whose checkpoints these are (recorded with the sweep)
    run_folder: str = ""  # its training run <log>/<date>/<name>

    def row_of(self, cell: Cell) -> int:
        return cell.prompt * len(self.seeds) + cell.seed_index

    def grid_index(self, cell: Cell) -> int:
        """Position in the grid, row-major (rows = prompt × seed, columns = checkpoints)."""
        return self.row_of(cell) * self.cols + cell.checkpoint

    def batches(self) -> list[list[Cell]]:
        return make_batches(self.cells, self.batch_size)

    def row_labels(self) -> list[str]:
        return [f"{p.replace(TRIGGER_MARK, '*')} · seed {s}" for p in self.prompts for s in self.seeds]

    def col_labels(self) -> list[str]:
        return [c.label for c in self.checkpoints]


# -- choosing checkpoints --------------------------------------------------------------------------


def parse_int_list(text: str, what: str = "number") -> list[int]:
    """``"100, 200 500"`` → [100, 200, 500] (order kept, duplicates dropped)."""
    out: list[int] = []
    for part in re.split(r"[,\s;]+", (text or "").strip()):
        if not part:
            continue
        try:
            value = int(part)
        except ValueError:
            raise PlanError(f"{what} {part!r} is not a whole number") from None
        if value not in out:
            out.append(value)
    return out


def choose_steps(
    available: Sequence[int], mode: str = "all", every: int = 1, wanted: Sequence[int] = ()
) -> list[int]:
    """Pick checkpoint steps: ``all``; ``every`` k-th (always keeping the last one, the one the
    user most likely wants to judge); ``list`` of steps (each must exist)."""
    steps = sorted(set(available))
    if mode == "all":
        return steps
    if mode == "every":
        if every < 1:
            raise PlanError(f"every k-th checkpoint: k must be at least 1 (got {every})")
        picked = steps[every - 1 :: every]
        if steps and steps[-1] not in picked:
            picked.append(steps[-1])
        return picked
    if mode == "list":
        missing = [s for s in wanted if s not in steps]
        if missing:
            raise PlanError(
                f"no checkpoint for step(s) {', '.join(map(str, missing))}; "
                f"available: {', '.join(map(str, steps))}"
            )
        return [s for s in steps if s in set(wanted)]
    raise PlanError(f"unknown checkpoint choice {mode!r} (use one of {', '.join(CHOOSE_MODES)})")


# -- prompts and seeds ------------------------------------------------------------------------------


def clean_prompts(prompts: Sequence[str]) -> list[str]:
    """Prompts as the sweep uses them: stripped, blank ones dropped (tab and API alike)."""
    return [p.strip() for p in prompts if p and p.strip()]


def parse_prompts(text: str) -> list[str]:
    """One prompt per line; blank lines ignored; none → the defaults."""
    return clean_prompts((text or "").splitlines()) or list(DEFAULT_PROMPTS)


def place_trigger(prompt: str, token: str) -> str:
    """``{}`` marks where the trigger goes (every occurrence); without it the trigger is
    appended as ``", <token>"``."""
    if TRIGGER_MARK in prompt:
        return prompt.replace(TRIGGER_MARK, token)
    base = prompt.rstrip().rstrip(",").rstrip()
    return f"{base}, {token}" if base else token


def check_seeds(seeds: Sequence[int]) -> list[int]:
    """The seed rule of every sweep, from the tab or the API: fixed numbers in the webui's range,
    each once (order kept)."""
    bad = [s for s in seeds if s < 0 or s > SEED_MAX]
    if bad:
        raise PlanError(
            f"seeds must be fixed numbers from 0 to {SEED_MAX} (got {bad[0]}); -1 (random) "
            "would make the columns incomparable"
        )
    return list(dict.fromkeys(seeds))


def parse_seeds(text: str) -> list[int]:
    """Seeds typed in the tab ("1, 2 3"); none → the default."""
    return check_seeds(parse_int_list(text, "seed")) or list(DEFAULT_SEEDS)


# -- cells and batches -----------------------------------------------------------------------------


def make_cells(
    checkpoints: Sequence[PlanCheckpoint], prompts: Sequence[str], seeds: Sequence[int]
) -> list[Cell]:
    """Every (checkpoint, prompt, seed) once, ordered prompt → seed → checkpoint so that
    consecutive cells (and so every batch) mix checkpoints and a row fills up left to right."""
    return [
        Cell(checkpoint=ci, prompt=pi, seed_index=si, token=cp.token, text=place_trigger(p, cp.token), seed=s)
        for pi, p in enumerate(prompts)
        for si, s in enumerate(seeds)
        for ci, cp in enumerate(checkpoints)
    ]


def make_batches(cells: Sequence[Cell], batch_size: int) -> list[list[Cell]]:
    if batch_size < 1:
        raise PlanError(f"batch size must be at least 1 (got {batch_size})")
    return [list(cells[i : i + batch_size]) for i in range(0, len(cells), batch_size)]


def plan_sweep(
    checkpoints: Sequence[PlanCheckpoint],
    prompts: Sequence[str],
    seeds: Sequence[int],
    batch_size: int = DEFAULT_BATCH_SIZE,
    name: str = "",
    run_folder: str = "",
) -> SweepPlan:
    """The plan of a sweep of ``name``'s run ``run_folder`` (both recorded with its grid)."""
    if not checkpoints:
        raise PlanError("choose at least one checkpoint")
    if not prompts:
        raise PlanError("give at least one prompt")
    if not seeds:
        raise PlanError("give at least one seed")
    tokens = [c.token for c in checkpoints]
    if len(set(tokens)) != len(tokens):
        raise PlanError(
            "two checkpoints share a token: " + ", ".join(sorted({t for t in tokens if tokens.count(t) > 1}))
        )
    if batch_size < 1:
        raise PlanError(f"batch size must be at least 1 (got {batch_size})")
    return SweepPlan(
        checkpoints=list(checkpoints),
        prompts=list(prompts),
        seeds=list(seeds),
        batch_size=batch_size,
        cells=make_cells(checkpoints, prompts, seeds),
        name=name,
        run_folder=run_folder,
    )


def cost(n_cells: int, batch_size: int, sampling_steps: int) -> SweepCost:
    """Generation calls and denoiser passes for ``n_cells`` images in batches of ``batch_size``
    (first-order samplers: one UNet call per step per batch, cond and uncond in one call)."""
    calls = math.ceil(n_cells / batch_size) if n_cells else 0
    return SweepCost(calls=calls, unet_passes=calls * sampling_steps, images=n_cells)


def plan_cost(plan: SweepPlan, sampling_steps: int) -> tuple[SweepCost, SweepCost]:
    """(ours, one call per cell)."""
    n = len(plan.cells)
    return cost(n, plan.batch_size, sampling_steps), cost(n, 1, sampling_steps)
