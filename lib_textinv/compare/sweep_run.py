"""Run a sweep plan: register every chosen checkpoint under its own token, render the cells in
mixed batches, save each cell and the labelled grid, and always remove the registrations.

The webui work sits behind ``SweepHost`` (the bridge implements it; tests use a fake). The
registrations are temporary and in memory only: the user's ``embeddings/`` folder is never
written. They are removed in a ``finally`` whatever happens (exception, Interrupt). Interrupt
keeps the cells already made; the grid is then drawn with the missing cells left blank.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from lib_textinv.compare.checkpoints import TrainingRun
from lib_textinv.compare.sweep_plan import Cell, PlanCheckpoint, PlanError, SweepPlan, choose_steps
from lib_textinv.kit.progress import Cancelled, Progress

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class GenParams:
    """txt2img settings shared by every cell (prompts and seeds are per cell)."""

    negative_prompt: str = ""
    sampler: str = "Euler a"
    scheduler: str = "Automatic"
    steps: int = 20
    cfg_scale: float = 7.0
    width: int = 512
    height: int = 512


class SweepHost(Protocol):
    def register_checkpoint(self, token: str, path: str) -> None:
        """Load ``path`` and register it in memory under ``token`` (``emb.name == token`` and a
        real ``filename``), without touching the embeddings folder."""

    def is_registered(self, token: str, path: str) -> bool:
        """Optional: whether ``token`` is still registered for ``path`` (checked before each batch)."""

    def unregister(self, token: str) -> None:
        """Remove the temporary entry for ``token``; if the user had an embedding of that name
        loaded before, put it back."""

    def generate(self, prompts: list[str], seeds: list[int], params: GenParams) -> list[tuple[Any, str]]:
        """One generation call: image ``i`` from ``prompts[i]`` and ``seeds[i]``, in one batch,
        without reloading the embedding database. Returns ``(PIL.Image, infotext)`` per prompt.
        Raises ``progress.Cancelled`` when interrupted (a half-sampled batch is not returned)."""

    def save_image(self, image: Any, prompt: str, seed: int, infotext: str) -> str:
        """Save one cell as the webui saves samples; returns the file path."""

    def save_grid(self, image: Any, prompt: str, seed: int, infotext: str) -> str:
        """Save the grid into the grids folder with ``infotext``; returns the file path."""

    def draw_grid(
        self, images: list[Any], cols: int, rows: int, col_labels: list[str], row_labels: list[str]
    ) -> Any:
        """Row-major ``images`` → one labelled grid image."""


@dataclass
class CellResult:
    cell: Cell
    image: Any
    infotext: str
    path: str | None = None


@dataclass
class SweepResult:
    total: int
    cells: list[CellResult] = field(default_factory=list)
    grid: Any = None
    grid_path: str | None = None
    grid_infotext: str = ""
    interrupted: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def done(self) -> int:
        return len(self.cells)

    @property
    def grid_dir(self) -> str | None:
        return str(Path(self.grid_path).parent) if self.grid_path else None

    def summary(self) -> str:
        state = "interrupted" if self.interrupted else "done"
        where = f"; grid saved to {self.grid_path}" if self.grid_path else ""
        return f"Sweep {state}: {self.done}/{self.total} cells{where}"


def plan_checkpoints(
    run: TrainingRun,
    mode: str = "all",
    every: int = 1,
    wanted: Sequence[int] = (),
    include_final: bool = False,
) -> list[PlanCheckpoint]:
    """The usable checkpoints of ``run`` chosen by ``mode`` (``all`` / ``every`` k-th / ``list``),
    ascending by step, optionally followed by the final embedding."""
    steps = choose_steps([c.step for c in run.usable if not c.final], mode, every, wanted)
    picked = [run.by_step(s) for s in steps]
    if include_final:
        final = next((c for c in run.checkpoints if c.final), None)
        if final is None or not final.usable:
            raise PlanError(
                final.error if final else f"no final {run.name} embedding in the embeddings folder"
            )
        picked.append(final)
    return [
        PlanCheckpoint(token=c.token, label=c.label, path=str(c.path), step=c.step, final=c.final)
        for c in picked
    ]


def run_sweep(
    plan: SweepPlan, host: SweepHost, params: GenParams, progress: Progress | None = None
) -> SweepResult:
    progress = progress or Progress()
    result = SweepResult(total=len(plan.cells))
    progress.begin(len(plan.cells), f"step sweep: {plan.cols} checkpoints × {plan.rows} rows")
    registered: list[str] = []
    try:
        for cp in plan.checkpoints:
            progress.check()
            host.register_checkpoint(cp.token, cp.path)
            registered.append(cp.token)
        for batch in plan.batches():
            progress.check()
            _ensure_registered(plan, host, result)
            made = host.generate([c.text for c in batch], [c.seed for c in batch], params)
            if len(made) != len(batch):
                raise RuntimeError(f"the generator returned {len(made)} images for a batch of {len(batch)}")
            for cell, (image, infotext) in zip(batch, made, strict=True):
                path = host.save_image(image, cell.text, cell.seed, infotext)
                result.cells.append(CellResult(cell=cell, image=image, infotext=infotext, path=path))
            progress.step(len(batch), f"cells {result.done}/{result.total}")
    except Cancelled:
        result.interrupted = True
        logger.info("sweep interrupted after %d of %d cells", result.done, result.total)
    finally:
        for token in reversed(registered):
            try:
                host.unregister(token)
            except Exception as e:  # keep removing the others; a leftover is reported, not hidden
                logger.exception("could not unregister %s", token)
                result.warnings.append(f"could not remove the temporary token {token}: {e}")
    if result.cells:
        _make_grid(plan, params, host, result)
    return result


def _ensure_registered(plan: SweepPlan, host: SweepHost, result: SweepResult) -> None:
    """Put back registrations an embeddings reload dropped (the Extra Networks refresh button
    reloads the database without the queue lock); without this the batch would render the bare
    word instead of the checkpoint. Hosts without ``is_registered`` are trusted."""
    check = getattr(host, "is_registered", None)
    if not callable(check):
        return
    lost = [cp for cp in plan.checkpoints if not check(cp.token, cp.path)]
    for cp in lost:
        host.register_checkpoint(cp.token, cp.path)
    if lost:
        note = "the embeddings were reloaded during the sweep; re-registered " + ", ".join(
            cp.token for cp in lost
        )
        logger.warning(note)
        if note not in result.warnings:
            result.warnings.append(note)


def _make_grid(plan: SweepPlan, params: GenParams, host: SweepHost, result: SweepResult) -> None:
    by_index = {plan.grid_index(r.cell): r.image for r in result.cells}
    first = result.cells[0].image
    blank = _blank_like(first)
    images = [by_index.get(i, blank) for i in range(plan.cols * plan.rows)]
    result.grid = host.draw_grid(images, plan.cols, plan.rows, plan.col_labels(), plan.row_labels())
    result.grid_infotext = grid_infotext(plan, params, result)
    first_cell = result.cells[0].cell
    result.grid_path = host.save_grid(result.grid, first_cell.text, first_cell.seed, result.grid_infotext)


def _blank_like(image: Any) -> Any:
    from PIL import Image

    return Image.new("RGB", image.size, (255, 255, 255))


def params_infotext(prompt: str, seed: int, params: GenParams) -> str:
    """The webui's infotext layout (prompt / Negative prompt / parameters line)."""
    lines = [prompt]
    if params.negative_prompt:
        lines.append(f"Negative prompt: {params.negative_prompt}")
    lines.append(
        f"Steps: {params.steps}, Sampler: {params.sampler}, Schedule type: {params.scheduler}, "
        f"CFG scale: {params.cfg_scale:g}, Seed: {seed}, Size: {params.width}x{params.height}"
    )
    return "\n".join(lines)


def grid_infotext(plan: SweepPlan, params: GenParams, result: SweepResult) -> str:
    """The first cell's infotext (so PNG Info can send it to txt2img) plus the sweep's own keys:
    which checkpoint each column is, the prompts and seeds, and how many cells were made."""
    first = result.cells[0]
    base = first.infotext or params_infotext(first.cell.text, first.cell.seed, params)
    extra = {
        "Sweep checkpoints": "; ".join(f"{c.token}={c.path}" for c in plan.checkpoints),
        "Sweep prompts": " | ".join(plan.prompts),
        "Sweep seeds": ", ".join(map(str, plan.seeds)),
        "Sweep cells": f"{result.done} of {result.total}" + (" (interrupted)" if result.interrupted else ""),
    }
    return base.rstrip("\n") + "".join(
        f", {k}: {json.dumps(v, ensure_ascii=False)}" for k, v in extra.items()
    )


# -- standalone fallbacks (no webui): a plain PIL grid and a folder writer ---------------------------


def draw_grid_pil(
    images: Sequence[Any],
    cols: int,
    rows: int,
    col_labels: Sequence[str] = (),
    row_labels: Sequence[str] = (),
) -> Any:
    """A labelled grid with plain PIL (the webui's ``image_grid`` + ``draw_grid_annotations`` are
    used inside the webui): cells the size of the largest image, centred, labels above and left."""
    from PIL import Image, ImageDraw

    from lib_textinv.kit.pil_text import load_font, text_size, wrap_text

    if len(images) != cols * rows:
        raise ValueError(f"{len(images)} images do not fill a {cols}×{rows} grid")
    cw = max(im.width for im in images)
    ch = max(im.height for im in images)
    font = load_font(max(10, (cw + ch) // 25))
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    col_txt = [wrap_text(probe, t, font, cw - 8) for t in col_labels] if col_labels else []
    left_w = (cw * 3) // 4 if row_labels else 0
    row_txt = [wrap_text(probe, t, font, left_w - 8) for t in row_labels] if row_labels else []
    top_h = max((text_size(probe, t, font)[1] for t in col_txt), default=0) + 16 if col_txt else 0
    grid = Image.new("RGB", (left_w + cols * cw, top_h + rows * ch), (255, 255, 255))
    draw = ImageDraw.Draw(grid)
    for i, im in enumerate(images):
        r, c = divmod(i, cols)
        grid.paste(
            im.convert("RGB"),
            (left_w + c * cw + (cw - im.width) // 2, top_h + r * ch + (ch - im.height) // 2),
        )
    for c, t in enumerate(col_txt):
        w, h = text_size(draw, t, font)
        draw.multiline_text(
            (left_w + c * cw + (cw - w) // 2, (top_h - h) // 2), t, fill=(0, 0, 0), font=font, align="center"
        )
    for r, t in enumerate(row_txt):
        w, h = text_size(draw, t, font)
        draw.multiline_text(
            ((left_w - w) // 2, top_h + r * ch + (ch - h) // 2), t, fill=(0, 0, 0), font=font, align="center"
        )
    return grid


def save_png_with_infotext(image: Any, path: str | Path, infotext: str) -> str:
    """PNG with the infotext in the ``parameters`` text chunk (what the webui writes), atomically."""
    from PIL.PngImagePlugin import PngInfo

    from lib_textinv.kit.files import atomic_save_image

    info = PngInfo()
    info.add_text("parameters", infotext)
    atomic_save_image(image, path, format="PNG", pnginfo=info)
    return str(path)


class FolderOutput:
    """Standalone/test stand-in for the webui's saving: numbered PNGs in two folders."""

    def __init__(self, samples_dir: str | Path, grids_dir: str | Path) -> None:
        self.samples_dir, self.grids_dir = Path(samples_dir), Path(grids_dir)

    @staticmethod
    def _next(folder: Path, stem: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        n = len(list(folder.glob("*.png")))
        return folder / f"{n:05d}-{stem}.png"

    def save_image(self, image: Any, prompt: str, seed: int, infotext: str) -> str:
        return save_png_with_infotext(image, self._next(self.samples_dir, str(seed)), infotext)

    def save_grid(self, image: Any, prompt: str, seed: int, infotext: str) -> str:
        return save_png_with_infotext(image, self._next(self.grids_dir, "sweep"), infotext)

    def draw_grid(
        self, images: list[Any], cols: int, rows: int, col_labels: list[str], row_labels: list[str]
    ) -> Any:
        return draw_grid_pil(images, cols, rows, col_labels, row_labels)
