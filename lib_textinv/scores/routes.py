"""``POST /score``: fixed-batch loss, CLIP scores, drift and the recommended step of a training run,
as a background job (``GET /jobs/{id}`` reports it, ``DELETE`` stops it). The run is named by
embedding name and date (only runs inside the webui's log folder); the sweep to score is the one
``POST /sweep`` made, named by its grid or record path (inside the webui's output folders)."""

from __future__ import annotations

import logging
from typing import Literal

from fastapi import APIRouter, HTTPException

from lib_textinv.compare.checkpoints import RunNotFound, TrainingRun, find_run
from lib_textinv.compare.routes import DATE_RE, NAME_RE, count_between, run_for
from lib_textinv.compare.sweep_plan import SEED_MAX
from lib_textinv.compare.sweep_record import SweepRecord, SweepRecordError, SweepRecordMissing, read_record
from lib_textinv.kit import longwork
from lib_textinv.kit.api_models import Field, Model, field_check
from lib_textinv.kit.files import is_same_or_inside
from lib_textinv.kit.folder_guard import BadFolder, checked_folder
from lib_textinv.kit.host import Host
from lib_textinv.kit.progress import Progress
from lib_textinv.scores import scoring
from lib_textinv.scores.fixed_loss import FixedBatchSpec

logger = logging.getLogger(__name__)

Part = Literal["loss", "clip", "drift"]


class ScoreRequest(Model):
    name: str = Field(..., pattern=NAME_RE, description="embedding name (the run folder's name)")
    run: str | None = Field(None, pattern=DATE_RE, description="run date YYYY-MM-DD; newest when omitted")
    sweep: str | None = Field(
        None,
        min_length=1,
        max_length=4096,
        description="the sweep to score: its grid or record path, as POST /sweep's job result names them",
    )
    steps: list[int] = Field([], description="only these steps; default: the sweep's columns")
    parts: list[Part] = Field(["loss", "clip", "drift"], description="what to compute")
    tolerance: float = Field(0.05, ge=0.0, le=0.5, description="CLIP-T tolerance of the rule (0.05 = 5%)")
    seed: int = Field(1234, ge=0, le=SEED_MAX)
    max_images: int = Field(8, ge=1, le=64)
    repeats: int = Field(2, ge=1, le=16)
    loss_batch_size: int = Field(4, ge=1, le=64)
    images_per_checkpoint: int = Field(
        4, ge=1, le=1000, description="for the cost ratio: sweep images per checkpoint"
    )
    sampler_steps: int = Field(20, ge=1, le=150, description="for the cost ratio")

    @field_check("steps")
    def _steps(cls, value: list[int]) -> list[int]:
        return count_between("steps", value, 0, 1000)

    @field_check("parts")
    def _parts(cls, value: list[str]) -> list[str]:
        return count_between("parts", value, 1, 3)


def _sweep_of(req: ScoreRequest, host: Host) -> SweepRecord | None:
    """The record ``req.sweep`` names: an absolute path (400), one the host allows (``Forbidden``:
    403), inside the webui's output folders (400)."""
    if not req.sweep:
        return None
    try:
        sweep = checked_folder(req.sweep, host.file_access(), "sweep")
    except BadFolder as e:
        raise HTTPException(400, detail=str(e)) from e
    paths = host.paths()
    roots = [r for r in (paths.outdir_grids, paths.outdir_samples) if r]
    if not any(is_same_or_inside(sweep, r) for r in roots):
        raise HTTPException(400, detail=f"sweep {req.sweep} is not inside the webui's output folders")
    try:
        return read_record(sweep)
    except SweepRecordMissing as e:
        raise HTTPException(404, detail=str(e)) from e
    except SweepRecordError as e:
        raise HTTPException(400, detail=str(e)) from e


def _run_of(req: ScoreRequest, host: Host, sweep: SweepRecord | None) -> TrainingRun:
    """The run to score; with a sweep, the sweep's own run (refused when it is another's)."""
    if sweep is None:
        return run_for(host, req.name, req.run)
    if sweep.name != req.name:
        raise HTTPException(400, detail=f"the sweep {sweep.grid} is of {sweep.name!r}, not of {req.name!r}")
    try:
        return find_run(host, req.name, req.run, folder=sweep.run_folder)
    except RunNotFound as e:
        raise HTTPException(
            400, detail=f"the sweep {sweep.grid} is of the run {sweep.run_folder}: {e}"
        ) from e


def _missing_steps(req: ScoreRequest, run: TrainingRun) -> list[int]:
    have = {c.step for c in run.usable if not c.final}
    return sorted(set(req.steps) - have)


def add_routes(router: APIRouter, host: Host) -> None:
    @router.post("/score")
    def score(req: ScoreRequest) -> dict:
        sweep = _sweep_of(req, host)
        run = _run_of(req, host, sweep)
        missing = _missing_steps(req, run)
        if missing:
            raise HTTPException(404, detail=f"run {run.folder} has no checkpoint for step(s) {missing}")
        folder, steps = str(run.folder), req.steps or None

        def work(progress: Progress) -> dict:
            loss = None
            if "loss" in req.parts:
                _imgs, _lines, w, h = scoring.training_inputs(folder, host)
                spec = FixedBatchSpec(
                    seed=req.seed,
                    max_images=req.max_images,
                    repeats=req.repeats,
                    batch_size=req.loss_batch_size,
                    width=w,
                    height=h,
                )
                loss = scoring.prescore(
                    host,
                    folder,
                    steps or _sweep_steps(sweep),
                    spec=spec,
                    images_per_checkpoint=req.images_per_checkpoint,
                    sampler_steps=req.sampler_steps,
                    progress=progress,
                )
            report = scoring.score(
                host,
                folder,
                sweep,
                steps,
                tolerance=req.tolerance,
                loss=loss,
                clip="clip" in req.parts,
                drift="drift" in req.parts,
                progress=progress,
            )
            return report.to_dict()

        job = longwork.start(host, scoring.SCORES_KEY, f"scores for {req.name}", work)  # Busy → 409
        return {"job_id": job.id}


def _sweep_steps(sweep: SweepRecord | None) -> set[int] | None:
    if sweep is None:
        return None
    return {c.step for c in sweep.checkpoints if c.step is not None and not c.final}
