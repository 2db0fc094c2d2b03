"""Putting the scores together for one training run and its sweep grid (used by the UI and the API).

* ``prescore``: the fixed-batch loss of every checkpoint (``fixed_loss``), before any image exists.
* ``score``: CLIP-I/CLIP-T of the sweep's cells (``clip_scores``), drift (``drift``), the recommended
  step (``choose_step``) and the CSV beside the grid (``scores_csv``).

The sweep's grid PNG carries its checkpoints, prompts and seeds in its infotext ("Sweep
checkpoints", "Sweep prompts", "Sweep seeds", written by ``sweep_run.grid_infotext``); the cells
are the saved sample PNGs whose own infotext has one of those (prompt, seed) pairs.

The host must offer, where available: ``loss_host()`` → ``fixed_loss.LossHost``, ``token_table()``
→ ``drift.TokenTable``, optionally ``clip_embedder()``; otherwise CLIP is loaded with
``clip_model.load_clip`` from the settings ``clip_model``/``clip_pretrained``/``clip_device``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lib_textinv.kit.host import Unavailable
from lib_textinv.kit.progress import Progress
from lib_textinv.scores.choose_step import Candidate, Recommendation, choose, choose_from_loss
from lib_textinv.scores.clip_scores import Cell, ScoreResult, parse_infotext, score_cells, step_in_prompt
from lib_textinv.scores.drift import DriftResult, drift_for_checkpoints
from lib_textinv.scores.fixed_loss import (
    FixedBatchSpec,
    FixedLossResult,
    build_fixed_batch,
    checkpoint_losses,
    run_settings,
)
from lib_textinv.scores.grid_mark import is_marked, save_marked_grid

logger = logging.getLogger(__name__)

SWEEP_KEY = "Sweep checkpoints"


# -- the run -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunCheckpoint:
    step: int
    path: Path
    token: str


def run_checkpoints(
    run_folder: str, expected_width: int | None = None, chosen_json: str | None = None
) -> tuple[str, list[RunCheckpoint], list[str]]:
    """(embedding name, usable step checkpoints, problems). ``chosen_json`` (the Compare section's
    ``[{"token", "step", "path"}]``) narrows the list when given and non-empty."""
    from lib_textinv.compare.checkpoints import run_from_folder

    run = run_from_folder(run_folder, expected_width=expected_width)
    problems = [c.error for c in run.checkpoints if c.error]
    cps = [RunCheckpoint(c.step, c.path, c.token) for c in run.usable if c.step is not None and not c.final]
    chosen = _parse_chosen(chosen_json)
    if chosen:
        cps = [c for c in cps if c.token in chosen] or cps
    return run.name, cps, problems


def _parse_chosen(text: str | None) -> set[str]:
    if not text:
        return set()
    try:
        data = json.loads(text)
    except ValueError:
        return set()
    return (
        {d["token"] for d in data if isinstance(d, dict) and isinstance(d.get("token"), str)}
        if isinstance(data, list)
        else set()
    )


def training_inputs(
    run_folder: str, host: Any, training_folder: str | None = None
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


# -- host operations ---------------------------------------------------------------------------


def _host_op(host: Any, name: str, what: str) -> Any:
    op = getattr(host, name, None)
    if op is None:
        raise Unavailable(f"{what} needs the webui's loaded model (not available in standalone mode)")
    return op()


def clip_embedder(host: Any) -> Any:
    op = getattr(host, "clip_embedder", None)
    if op is not None:
        return op()
    from lib_textinv.kit.clip_loader import load_clip

    device = host.setting("clip_device", "auto")
    if device == "auto":
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    return load_clip(
        host.setting("clip_model", "ViT-L-14"), host.setting("clip_pretrained", "openai"), device
    )


# -- pre-score ---------------------------------------------------------------------------------


def prescore(
    host: Any,
    run_folder: str,
    chosen_json: str | None = None,
    training_folder: str | None = None,
    spec: FixedBatchSpec | None = None,
    images_per_checkpoint: int = 4,
    sampler_steps: int = 20,
    progress: Progress | None = None,
) -> FixedLossResult:
    progress = progress or Progress()
    width = host.model_facts().embedding_width
    _name, cps, problems = run_checkpoints(run_folder, width, chosen_json)
    if not cps:
        raise ValueError(f"{run_folder}: no usable checkpoints")
    images, lines, w, h = training_inputs(run_folder, host, training_folder)
    spec = spec or FixedBatchSpec(width=w, height=h)
    loss_host = _host_op(host, "loss_host", "the fixed-batch loss")
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
    host: Any,
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


# -- cells of the sweep ------------------------------------------------------------------------


@dataclass
class SweepGrid:
    path: Path
    checkpoints: dict[str, str]  # token → file, in column order
    prompts: list[str]
    seeds: list[int]
    cell_size: tuple[int, int] | None = None  # the "Size: WxH" of its cells

    @property
    def rows(self) -> int:
        return len(self.prompts) * len(self.seeds)


def _infotext(path: Path) -> str:
    from PIL import Image

    try:
        with Image.open(path) as im:
            return str(im.info.get("parameters") or "")
    except OSError:
        return ""


def _json_field(text: str, key: str) -> str | None:
    m = re.search(rf"{re.escape(key)}: (\"(?:[^\"\\]|\\.)*\")", text)
    return json.loads(m.group(1)) if m else None


def parse_sweep_grid(path: Path) -> SweepGrid | None:
    text = _infotext(path)
    ckpts = _json_field(text, SWEEP_KEY)
    if ckpts is None:
        return None
    pairs = dict(item.split("=", 1) for item in ckpts.split("; ") if "=" in item)
    prompts = (_json_field(text, "Sweep prompts") or "").split(" | ")
    seeds = [
        int(s) for s in (_json_field(text, "Sweep seeds") or "").split(",") if s.strip().lstrip("-").isdigit()
    ]
    size = re.search(r"\bSize: (\d+)x(\d+)", text)
    cell = (int(size.group(1)), int(size.group(2))) if size else None
    return SweepGrid(path, pairs, [p for p in prompts if p], seeds, cell)


def newest_sweep_grid(grid_dir: str) -> SweepGrid | None:
    """The newest PNG in ``grid_dir`` that is a sweep grid (by its infotext)."""
    folder = Path(grid_dir) if grid_dir else None
    if folder is None or not folder.is_dir():
        return None
    for p in sorted(folder.glob("*.png"), key=lambda q: q.stat().st_mtime, reverse=True):
        if is_marked(str(p)):  # our marked copy of a grid, not a sweep of its own
            continue
        grid = parse_sweep_grid(p)
        if grid is not None:
            return grid
    return None


def find_cells(folders: Sequence[str], name: str, grid: SweepGrid | None) -> tuple[list[Cell], list[str]]:
    """Saved cell images under ``folders`` (recursive): PNGs whose infotext names one ``<name>-<N>``
    token; with a grid, only its (prompt, seed) pairs and tokens count, newest file per pair."""
    from lib_textinv.compare.sweep_plan import place_trigger

    wanted = None
    if grid is not None:
        wanted = {
            (place_trigger(p, t), s) for t in grid.checkpoints for p in grid.prompts for s in grid.seeds
        }
    best: dict[tuple[str, int | None], tuple[float, Cell]] = {}
    notes: list[str] = []
    for folder in dict.fromkeys(f for f in folders if f and Path(f).is_dir()):
        for p in Path(folder).rglob("*.png"):
            text = _infotext(p)
            if not text or SWEEP_KEY in text:
                continue
            prompt, seed = parse_infotext(text)
            if wanted is not None and (prompt, seed) not in wanted:
                continue
            step = step_in_prompt(prompt, name)
            if step is None:
                continue
            mtime = p.stat().st_mtime
            key = (prompt, seed)
            if key not in best or mtime > best[key][0]:
                best[key] = (mtime, Cell(step, prompt, str(p), seed, f"{name}-{step}"))
    cells = sorted((c for _, c in best.values()), key=lambda c: (c.step, c.prompt, c.seed or 0))
    if wanted is not None and len(cells) < len(wanted):
        notes.append(f"found {len(cells)} of the grid's {len(wanted)} cell images")
    return cells, notes


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
                mean_norm=d.mean_norm, norm_ratio=d.norm_ratio, nearest_tokens=d.nearest_text()
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
            "fixed_loss": self.loss.to_dict() if self.loss else None,
            "recommendation": self.recommendation.to_dict() if self.recommendation else None,
            "csv": self.csv_path,
            "marked_grid": self.marked_grid_path,
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


def mark_grid(report: ScoreReport, grid: SweepGrid) -> None:
    """Save the grid with the recommended column framed and every column's scores under it
    (``report.marked_grid_path``); a grid that cannot be marked is a problem, not an error."""
    rec = report.recommendation
    tokens = list(grid.checkpoints)
    if rec is None or rec.checkpoint not in tokens:
        report.problems.append(
            f"the recommended {rec.checkpoint if rec else 'step'} is not a column of the grid"
        )
        return
    if grid.cell_size is None:
        report.problems.append(f"{grid.path.name}: no cell size in its infotext; the grid is not marked")
        return
    rows = {r["checkpoint"]: r for r in report.table()}
    notes = [column_note(rows[t]) if t in rows else "not scored" for t in tokens]
    try:
        report.marked_grid_path = save_marked_grid(
            str(grid.path),
            len(tokens),
            grid.rows,
            grid.cell_size,
            tokens.index(rec.checkpoint),
            notes,
            "recommended ·",
            f", Sweep recommended: {json.dumps(rec.checkpoint)}",
        )
    except (OSError, ValueError) as e:
        report.problems.append(f"{grid.path.name}: the grid is not marked ({e})")


def score(
    host: Any,
    run_folder: str,
    grid_dir: str = "",
    cells_folder: str = "",
    chosen_json: str | None = None,
    training_folder: str | None = None,
    tolerance: float = 0.05,
    loss: FixedLossResult | None = None,
    clip: bool = True,
    drift: bool = True,
    write_csv: bool = True,
    progress: Progress | None = None,
) -> ScoreReport:
    """CLIP scores of the sweep's cells, drift of every checkpoint, the recommendation and the CSV.
    Parts that the host cannot do are skipped with the reason in ``problems``."""
    from lib_textinv.scores.scores_csv import csv_path_for, write_scores_csv

    progress = progress or Progress()
    name, cps, problems = run_checkpoints(run_folder, host.model_facts().embedding_width, chosen_json)
    report = ScoreReport(
        name=name, run_folder=str(run_folder), loss=loss, tolerance=tolerance, problems=list(problems)
    )
    if drift:
        try:
            table = _host_op(host, "token_table", "drift (token norms and nearest tokens)")
            report.drift = drift_for_checkpoints([(c.step, c.path) for c in cps], table, progress=progress)
            report.problems += report.drift.problems
        except Unavailable as e:
            report.problems.append(f"drift skipped: {e}")
    grid = newest_sweep_grid(grid_dir)
    if clip:
        folders = [cells_folder] if cells_folder else [host.paths().outdir_samples or "", grid_dir]
        cells, notes = find_cells(folders, name, grid) if grid is not None or cells_folder else ([], [])
        report.problems += notes
        steps = {c.step for c in cps}
        cells = [c for c in cells if c.step in steps]
        if grid is None and not cells_folder:
            report.problems.append(
                "CLIP scores skipped: no sweep grid found"
                + (f" in {grid_dir}" if grid_dir else " (run a sweep first)")
            )
        elif not cells:
            report.problems.append(
                "CLIP scores skipped: no cell images of this sweep found "
                f"in {', '.join(f for f in folders if f) or 'no folder'}"
            )
        else:
            try:
                images, _lines, _w, _h = training_inputs(run_folder, host, training_folder)
                embedder = clip_embedder(host)
                batch = int(host.setting("clip_batch_size", 16) or 16)
                report.clip = score_cells(embedder, cells, images, name, progress, batch_size=batch)
                report.problems += report.clip.problems
            except (Unavailable, ValueError) as e:
                report.problems.append(f"CLIP scores skipped: {e}")
    report.recommendation = recommend(report)
    if grid is not None and report.recommendation is not None:
        mark_grid(report, grid)
    if write_csv:
        target = str(grid.path) if grid is not None else grid_dir
        if target:
            report.csv_path = write_scores_csv(
                csv_path_for(target),
                report.table(),
                report.clip.cells if report.clip else [],
                report.recommendation,
            )
    return report
