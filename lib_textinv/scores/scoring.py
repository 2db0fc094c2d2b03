"""Putting the scores together for one training run and the sweep made of it (tab and API alike).

* ``prescore``: the fixed-batch loss of every checkpoint (``fixed_loss``), before any image exists.
* ``score``: CLIP-I/CLIP-T of the sweep's cells (``clip_scores``), drift (``drift``), the recommended
  step (``choose_step``), the CSV beside the grid (``scores_csv``) and the grid with the recommended
  column marked (``grid_mark``).

The sweep is handed over as its record (``compare.sweep_record``): its grid and exactly its cells,
never a folder scan. The model work goes through the host (``loss_host``, ``token_table``) and CLIP
through the one loader (``kit.clip_loader``); what the host cannot do is skipped with the reason.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from lib_textinv.compare.sweep_record import SweepRecord
from lib_textinv.kit.host import Host, Unavailable
from lib_textinv.kit.progress import Progress
from lib_textinv.scores.choose_step import Candidate, Recommendation, choose, choose_from_loss
from lib_textinv.scores.clip_scores import Cell, ScoreResult, score_cells
from lib_textinv.scores.drift import DriftResult, drift_for_checkpoints, token_tables
from lib_textinv.scores.fixed_loss import (
    FixedBatchSpec,
    FixedLossResult,
    build_fixed_batch,
    checkpoint_losses,
)
from lib_textinv.scores.grid_mark import save_marked_grid
from lib_textinv.train.run_files import run_settings

logger = logging.getLogger(__name__)

SCORES_KEY = "scores"  # pre-score and score: one at a time, one Stop for both


# -- the run -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunCheckpoint:
    step: int
    path: Path
    token: str


def run_checkpoints(
    run_folder: str, expected_width: int | None = None, steps: Collection[int] | None = None
) -> tuple[str, list[RunCheckpoint], list[str]]:
    """(embedding name, usable step checkpoints, problems); ``steps`` narrows the list when any
    of them is a checkpoint of the run."""
    from lib_textinv.compare.checkpoints import run_from_folder

    run = run_from_folder(run_folder, expected_width=expected_width)
    problems = [c.error for c in run.checkpoints if c.error]
    cps = [RunCheckpoint(c.step, c.path, c.token) for c in run.usable if c.step is not None and not c.final]
    if steps:
        cps = [c for c in cps if c.step in steps] or cps
    return run.name, cps, problems


def training_inputs(
    run_folder: str, host: Host, training_folder: str | None = None
) -> tuple[list[Path], list[str], int, int]:
    """(training images, template lines, width, height) from the run's ``settings-*.json``;
    ``training_folder`` overrides the images folder."""
    from lib_textinv.dataset.scan import list_images
    from lib_textinv.kit.templates import read_template

    settings = run_settings(run_folder)
    folder = training_folder or settings.get("data_root")
    if not folder or not Path(folder).is_dir():
        raise ValueError(
            f"training images folder not found ({folder or 'the run has no settings-*.json'}); "
            "give the folder the run was trained on"
        )
    template = settings.get("template_file") or ""
    if template and not Path(template).is_file():
        template = host.templates().get(Path(template).name, "")
    lines = read_template(template) if template else ["a picture of [name]"]
    width = int(settings.get("training_width") or 512)
    height = int(settings.get("training_height") or 512)
    return list_images(folder), lines, width, height


# -- pre-score ---------------------------------------------------------------------------------


def prescore(
    host: Host,
    run_folder: str,
    steps: Collection[int] | None = None,
    training_folder: str | None = None,
    spec: FixedBatchSpec | None = None,
    images_per_checkpoint: int = 4,
    sampler_steps: int = 20,
    progress: Progress | None = None,
) -> FixedLossResult:
    """The fixed-batch loss of the run's checkpoints; raises ``Unavailable`` without a model."""
    progress = progress or Progress()
    _name, cps, problems = run_checkpoints(run_folder, host.model_facts().embedding_width, steps)
    if not cps:
        raise ValueError(f"{run_folder}: no usable checkpoints")
    images, lines, w, h = training_inputs(run_folder, host, training_folder)
    spec = spec or FixedBatchSpec(width=w, height=h)
    loss_host = host.loss_host()
    batch = build_fixed_batch(loss_host, images, lines, spec, progress)
    result = checkpoint_losses(
        loss_host,
        [(c.step, c.path) for c in cps],
        batch,
        progress,
        images_per_checkpoint=images_per_checkpoint,
        sampler_steps=sampler_steps,
    )
    result.problems[:0] = problems
    result.run_folder = str(run_folder)
    return result


def loss_for(
    host: Host,
    run_folder: str,
    loss: FixedLossResult | None,
    training_folder: str | None = None,
    progress: Progress | None = None,
) -> tuple[FixedLossResult | None, list[str]]:
    """``loss`` when it was computed for this run, else a fresh pre-score: it is cheap next to the
    sweep, and without CLIP weights it is what the recommendation falls back on."""
    if loss is not None and loss.run_folder == str(run_folder):
        return loss, []
    try:
        return prescore(host, run_folder, None, training_folder, progress=progress), []
    except (ValueError, Unavailable) as e:
        return None, [f"fixed-batch loss skipped: {e}"]


# -- the sweep ---------------------------------------------------------------------------------


def _same_folder(a: str, b: str) -> bool:
    return bool(a) and bool(b) and os.path.realpath(a) == os.path.realpath(b)


def sweep_mismatch(record: SweepRecord, name: str, run_folder: str) -> str | None:
    """Why ``record`` is not a sweep of ``name``'s run ``run_folder`` (None when it is)."""
    if record.name != name:
        return f"the sweep {record.grid} is of {record.name!r}, not of {name!r}"
    if not _same_folder(record.run_folder, run_folder):
        return f"the sweep {record.grid} is of the run {record.run_folder}, not of {run_folder}"
    return None


def sweep_cells(record: SweepRecord, steps: Collection[int]) -> list[Cell]:
    """The record's cells of the step checkpoints ``steps`` (the final embedding's column has no
    step of the run to score against)."""
    return [
        Cell(step=c.step, prompt=c.prompt, image=c.path, seed=c.seed, checkpoint=c.token)
        for c in record.cells
        if c.step is not None and not c.final and c.step in steps
    ]


# -- the whole report --------------------------------------------------------------------------


@dataclass
class ScoreReport:
    name: str
    run_folder: str
    clip: ScoreResult | None = None
    drift: DriftResult | None = None
    loss: FixedLossResult | None = None
    recommendation: Recommendation | None = None
    csv_path: str | None = None
    marked_grid_path: str | None = None
    sweep: str | None = None  # the record of the sweep whose cells were scored
    tolerance: float = 0.05
    problems: list[str] = field(default_factory=list)

    def table(self) -> list[dict]:
        """One row per checkpoint with every number we have."""
        rows: dict[int, dict] = {}

        def row(step: int) -> dict:
            return rows.setdefault(
                step,
                {
                    "step": step,
                    "checkpoint": f"{self.name}-{step}",
                    "fixed_loss": None,
                    "clip_i": None,
                    "clip_t": None,
                    "cells": 0,
                    "mean_norm": None,
                    "norm_ratio": None,
                    "nearest_tokens": "",
                    "recommended": False,
                },
            )

        for p in self.loss.points if self.loss else []:
            row(p.step)["fixed_loss"] = p.loss
        for c in self.clip.checkpoints if self.clip else []:
            r = row(c.step)
            r.update(clip_i=c.clip_i, clip_t=c.clip_t, cells=c.n)
        for d in self.drift.rows if self.drift else []:
            row(d.step).update(
                mean_norm=d.mean_norm,
                norm_ratio=d.norm_ratio,
                nearest_tokens=d.nearest_text(),
                encoders=d.summary(),  # per text encoder (SDXL: clip_l, clip_g)
            )
        if self.recommendation is not None and self.recommendation.step in rows:
            rows[self.recommendation.step]["recommended"] = True
        return [rows[s] for s in sorted(rows)]

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "run_folder": self.run_folder,
            "checkpoints": self.table(),
            "cells": [c.__dict__ for c in self.clip.cells] if self.clip else [],
            "ordinary_token_norm": self.drift.ordinary_norm if self.drift else None,
            "ordinary_token_norms": self.drift.ordinary_norms if self.drift else None,
            "fixed_loss": self.loss.to_dict() if self.loss else None,
            "recommendation": self.recommendation.to_dict() if self.recommendation else None,
            "csv": self.csv_path,
            "marked_grid": self.marked_grid_path,
            "sweep": self.sweep,
            "problems": self.problems,
        }


def recommend(report: ScoreReport) -> Recommendation | None:
    if report.clip is not None and report.clip.checkpoints:
        cands = [
            Candidate(c.step, c.clip_i, c.clip_t, f"{report.name}-{c.step}") for c in report.clip.checkpoints
        ]
        rec = choose(cands, report.tolerance)
        if rec is not None:
            return rec
    if report.loss is not None and report.loss.points:
        pts = report.loss.points
        rec = choose_from_loss([p.step for p in pts], [p.loss for p in pts], report.loss.flat_steps)
        if rec is not None:
            return Recommendation(rec.step, f"{report.name}-{rec.step}", rec.rule, rec.why)
    return None


def column_note(row: dict) -> str:
    """What the strip under a grid column says about its checkpoint."""
    parts = []
    if row["clip_i"] is not None:
        parts.append(f"CLIP-I {row['clip_i']:.3f}")
    if row["clip_t"] is not None:
        parts.append(f"CLIP-T {row['clip_t']:.3f}")
    if row["fixed_loss"] is not None:
        parts.append(f"loss {row['fixed_loss']:.4f}")
    return " · ".join(parts) or "not scored"


def mark_grid(report: ScoreReport, record: SweepRecord) -> None:
    """Save the sweep's grid with the recommended column framed and every column's scores under it
    (``report.marked_grid_path``); a grid that cannot be marked is a problem, not an error."""
    rec = report.recommendation
    tokens = record.tokens
    if rec is None or rec.checkpoint not in tokens:
        report.problems.append(
            f"the recommended {rec.checkpoint if rec else 'step'} is not a column of the grid"
        )
        return
    rows = {r["checkpoint"]: r for r in report.table()}
    notes = [column_note(rows[t]) if t in rows else "not scored" for t in tokens]
    try:
        report.marked_grid_path = save_marked_grid(
            record.grid,
            record.cols,
            record.rows,
            record.cell_size,
            tokens.index(rec.checkpoint),
            notes,
            "recommended ·",
            f", Sweep recommended: {json.dumps(rec.checkpoint)}",
        )
    except (OSError, ValueError) as e:
        report.problems.append(f"{Path(record.grid).name}: the grid is not marked ({e})")


def score(
    host: Host,
    run_folder: str,
    sweep: SweepRecord | None = None,
    steps: Collection[int] | None = None,
    training_folder: str | None = None,
    tolerance: float = 0.05,
    loss: FixedLossResult | None = None,
    clip: bool = True,
    drift: bool = True,
    write_csv: bool = True,
    progress: Progress | None = None,
) -> ScoreReport:
    """CLIP scores of the sweep's cells, drift of every checkpoint, the recommendation, the marked
    grid and the CSV beside it. ``steps`` narrows the checkpoints (default: the sweep's columns).
    Parts that the host cannot do are skipped with the reason in ``problems``."""
    progress = progress or Progress()
    if steps is None and sweep is not None:
        steps = {c.step for c in sweep.checkpoints if c.step is not None and not c.final}
    name, cps, problems = run_checkpoints(run_folder, host.model_facts().embedding_width, steps)
    report = ScoreReport(
        name=name, run_folder=str(run_folder), loss=loss, tolerance=tolerance, problems=list(problems)
    )
    mismatch = sweep_mismatch(sweep, name, str(run_folder)) if sweep is not None else None
    if mismatch:
        report.problems.append(f"CLIP scores and grid marks skipped: {mismatch}")
        sweep = None
    report.sweep = sweep.path if sweep is not None else None
    if drift:
        _score_drift(host, report, cps, progress)
    if clip and mismatch is None:
        _score_clip(host, report, sweep, {c.step for c in cps}, training_folder, progress)
    report.recommendation = recommend(report)
    if sweep is not None and report.recommendation is not None:
        mark_grid(report, sweep)
    if write_csv and sweep is not None:
        from lib_textinv.scores.scores_csv import csv_path_for, write_scores_csv

        cells = report.clip.cells if report.clip else []
        report.csv_path = write_scores_csv(
            csv_path_for(sweep.grid), report.table(), cells, report.recommendation
        )
    return report


def _score_drift(host: Host, report: ScoreReport, cps: list[RunCheckpoint], progress: Progress) -> None:
    try:
        tables = token_tables(host)  # SDXL: one per text encoder
    except Unavailable as e:
        report.problems.append(f"drift skipped: {e}")
        return
    report.drift = drift_for_checkpoints([(c.step, c.path) for c in cps], tables, progress=progress)
    report.problems += report.drift.problems


def _score_clip(
    host: Host,
    report: ScoreReport,
    sweep: SweepRecord | None,
    steps: Collection[int],
    training_folder: str | None,
    progress: Progress,
) -> None:
    """CLIP-I/CLIP-T of exactly the sweep's recorded cells."""
    from lib_textinv.kit.clip_loader import clip_from_settings

    if sweep is None:
        report.problems.append("CLIP scores skipped: no sweep of this run yet (Generate one first)")
        return
    cells = sweep_cells(sweep, steps)
    if not cells:
        report.problems.append(f"CLIP scores skipped: the sweep {sweep.grid} has no cells of these steps")
        return
    try:
        images, _lines, _w, _h = training_inputs(report.run_folder, host, training_folder)
        embedder, batch = clip_from_settings(host)
    except (Unavailable, ValueError) as e:
        report.problems.append(f"CLIP scores skipped: {e}")
        return
    try:
        report.clip = score_cells(embedder, cells, images, report.name, progress, batch_size=batch)
    except ValueError as e:
        report.problems.append(f"CLIP scores skipped: {e}")
        return
    finally:
        embedder.to("cpu")  # kept loaded for the next click, but off the GPU the webui needs
    report.problems += report.clip.problems
