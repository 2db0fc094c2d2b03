"""Run a sweep plan: register every chosen checkpoint under its own token, render the cells in
mixed batches, save each cell, the labelled grid and the sweep's record, and always remove the
registrations.

The registrations are temporary and in memory only: the user's ``embeddings/`` folder is never
written. They are removed in a ``finally`` whatever happens (exception, Stop). Stop keeps the cells
already made; the grid is then drawn with the missing cells left blank. The sweep runs as one
long-work job (``start_sweep``), the same for the tab and the API.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from lib_textinv.compare import ti_hashes
from lib_textinv.compare.checkpoints import TrainingRun
from lib_textinv.compare.sweep_plan import Cell, PlanCheckpoint, PlanError, SweepPlan, choose_steps
from lib_textinv.compare.sweep_record import RecordedCell, RecordedCheckpoint, SweepRecord, write_record
from lib_textinv.kit import longwork
from lib_textinv.kit.host import Host
from lib_textinv.kit.jobs import Job
from lib_textinv.kit.progress import Cancelled, Progress

logger = logging.getLogger(__name__)

SWEEP_KEY = "compare.sweep"  # one sweep at a time; Stop in the tab and DELETE in the API end it


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
    record: SweepRecord | None = None

    @property
    def done(self) -> int:
        return len(self.cells)

    @property
    def record_path(self) -> str | None:
        return self.record.path if self.record is not None else None

    def summary(self) -> str:
        state = "interrupted" if self.interrupted else "done"
        where = f"; grid saved to {self.grid_path}" if self.grid_path else ""
        return f"Sweep {state}: {self.done}/{self.total} cells{where}"

    def to_dict(self) -> dict[str, Any]:
        """What the job reports (tab and API): plain values, the record's path to score it by."""
        return {
            "done": self.done,
            "total": self.total,
            "interrupted": self.interrupted,
            "grid": self.grid_path,
            "record": self.record_path,
            "infotext": self.grid_infotext,
            "cells": [
                {
                    "token": r.cell.token,
                    "prompt": r.cell.text,
                    "seed": r.cell.seed,
                    "path": r.path,
                }
                for r in self.cells
            ],
            "warnings": list(self.warnings),
            "summary": self.summary(),
        }


def plan_checkpoints(
    run: TrainingRun,
    mode: str = "all",
    every: int = 1,
    wanted: Sequence[int] = (),
    include_final: bool = False,
) -> list[PlanCheckpoint]:
    """The usable checkpoints of ``run`` chosen by ``mode`` (``all`` / ``every`` k-th / ``list``),
    ascending by step, optionally followed by the final embedding."""
    steps = choose_steps(
        [c.step for c in run.usable if c.step is not None and not c.final], mode, every, wanted
    )
    picked = [c for c in map(run.by_step, steps) if c is not None]
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
    plan: SweepPlan, host: Host, params: GenParams, progress: Progress | None = None
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
        _record(plan, params, result)
    return result


def start_sweep(host: Host, plan: SweepPlan, params: GenParams) -> Job:
    """The sweep as a long-work job whose result is ``SweepResult.to_dict()``; raises
    ``longwork.Busy`` while another sweep runs."""
    title = f"Step sweep of {plan.name or 'checkpoints'} ({len(plan.cells)} cells)"
    return longwork.start(host, SWEEP_KEY, title, lambda p: run_sweep(plan, host, params, p).to_dict())


def _ensure_registered(plan: SweepPlan, host: Host, result: SweepResult) -> None:
    """Put back registrations an embeddings reload dropped (the Extra Networks refresh button
    reloads the database without the queue lock); without this the batch would render the bare
    word instead of the checkpoint."""
    lost = [cp for cp in plan.checkpoints if not host.is_registered(cp.token, cp.path)]
    for cp in lost:
        host.register_checkpoint(cp.token, cp.path)
    if lost:
        note = "the embeddings were reloaded during the sweep; re-registered " + ", ".join(
            cp.token for cp in lost
        )
        logger.warning(note)
        if note not in result.warnings:
            result.warnings.append(note)


def _make_grid(plan: SweepPlan, params: GenParams, host: Host, result: SweepResult) -> None:
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


def _record(plan: SweepPlan, params: GenParams, result: SweepResult) -> None:
    """Write the record beside the grid: what Scores will read. A sweep whose record cannot be
    written still shows its grid; the warning says it cannot be scored."""
    if not result.grid_path:
        return
    cps = plan.checkpoints
    width, height = result.cells[0].image.size
    record = SweepRecord(
        name=plan.name,
        run_folder=plan.run_folder,
        grid=result.grid_path,
        checkpoints=tuple(RecordedCheckpoint(c.token, c.label, c.path, c.step, c.final) for c in cps),
        prompts=tuple(plan.prompts),
        seeds=tuple(plan.seeds),
        cells=tuple(
            RecordedCell(
                path=r.path or "",
                token=r.cell.token,
                step=cps[r.cell.checkpoint].step,
                final=cps[r.cell.checkpoint].final,
                prompt=r.cell.text,
                seed=r.cell.seed,
                column=r.cell.checkpoint,
                row=plan.row_of(r.cell),
            )
            for r in result.cells
            if r.path
        ),
        cell_size=(int(width), int(height)),
        total=result.total,
        interrupted=result.interrupted,
        params=asdict(params),
    )
    try:
        write_record(record)
    except OSError as e:
        logger.exception("could not write the sweep record beside %s", result.grid_path)
        result.warnings.append(f"the sweep's record could not be written ({e}): Score cannot read it")
        return
    result.record = record


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
    """The first cell's infotext (so PNG Info can send it to txt2img) with the "TI hashes" of every
    cell (each cell names only its own checkpoint; the grid shows them all), plus the sweep's own
    keys: which checkpoint each column is, the prompts and seeds, and how many cells were made."""
    first = result.cells[0]
    base = first.infotext or params_infotext(first.cell.text, first.cell.seed, params)
    every = ti_hashes.merged(r.infotext for r in result.cells)
    if every:
        base = ti_hashes.with_entries(base, every)
    extra = {
        "Sweep checkpoints": "; ".join(f"{c.token}={c.path}" for c in plan.checkpoints),
        "Sweep prompts": " | ".join(plan.prompts),
        "Sweep seeds": ", ".join(map(str, plan.seeds)),
        "Sweep cells": f"{result.done} of {result.total}" + (" (interrupted)" if result.interrupted else ""),
    }
    return base.rstrip("\n") + "".join(
        f", {k}: {json.dumps(v, ensure_ascii=False)}" for k, v in extra.items()
    )
