"""``POST /score``: fixed-batch loss, CLIP scores, drift and the recommended step of a training run,
as a background job (poll ``GET /jobs/{id}``). Runs are named by embedding name and date (only runs
inside the webui's log folder); a grid folder must lie inside the webui's output folders."""

from __future__ import annotations

import json
import logging

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from lib_textinv.kit.files import is_same_or_inside
from lib_textinv.kit.jobs import JOBS

logger = logging.getLogger(__name__)

NAME_RE = r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,99}$"
DATE_RE = r"^\d{4}-\d{2}-\d{2}$"
PARTS = ("loss", "clip", "drift")


class ScoreRequest(BaseModel):
    name: str = Field(..., regex=NAME_RE, description="embedding name (the run folder's name)")
    run: str | None = Field(None, regex=DATE_RE, description="run date YYYY-MM-DD; newest when omitted")
    steps: list[int] = Field(
        default_factory=list, max_items=1000, description="only these steps; all if empty"
    )
    parts: list[str] = Field(default_factory=lambda: list(PARTS), min_items=1, max_items=3)
    tolerance: float = Field(0.05, ge=0.0, le=0.5, description="CLIP-T tolerance of the rule (0.05 = 5%)")
    grid_dir: str | None = Field(None, max_length=4096, description="folder of the saved sweep grid")
    seed: int = Field(1234, ge=0, le=2**32 - 1)
    max_images: int = Field(8, ge=1, le=64)
    repeats: int = Field(2, ge=1, le=16)
    loss_batch_size: int = Field(4, ge=1, le=64)
    images_per_checkpoint: int = Field(
        4, ge=1, le=1000, description="for the cost ratio: sweep images per checkpoint"
    )
    sampler_steps: int = Field(20, ge=1, le=150, description="for the cost ratio")


def _check(req: ScoreRequest, host) -> tuple[str, str, str]:
    """(run folder, grid dir, chosen JSON) or HTTPException."""
    from lib_textinv.compare.checkpoints import find_runs

    bad = [p for p in req.parts if p not in PARTS]
    if bad:
        raise HTTPException(422, detail=f"unknown part {bad[0]!r}; use {', '.join(PARTS)}")
    paths = host.paths()
    runs = find_runs(paths.ti_log_dir, req.name, host.model_facts().embedding_width)
    if req.run:
        runs = [r for r in runs if r.date == req.run]
    if not runs:
        raise HTTPException(
            404,
            detail=f"no training run of {req.name!r}{' on ' + req.run if req.run else ''} "
            f"under {paths.ti_log_dir or '(no log folder known)'}",
        )
    run = runs[0]
    grid_dir = ""
    if req.grid_dir:
        roots = [r for r in (paths.outdir_grids, paths.outdir_samples) if r]
        if not any(is_same_or_inside(req.grid_dir, r) for r in roots):
            raise HTTPException(
                400, detail=f"grid_dir {req.grid_dir} is not inside the webui's output folders"
            )
        grid_dir = req.grid_dir
    chosen = ""
    if req.steps:
        have = {c.step for c in run.usable if not c.final}
        missing = sorted(set(req.steps) - have)
        if missing:
            raise HTTPException(404, detail=f"run {run.folder} has no checkpoint for step(s) {missing}")
        chosen = json.dumps([{"token": f"{run.name}-{s}"} for s in req.steps])
    return str(run.folder), grid_dir, chosen


def add_routes(router: APIRouter, host) -> None:
    @router.post("/score")
    def score_route(req: ScoreRequest) -> dict:
        from lib_textinv.scores import scoring
        from lib_textinv.scores.fixed_loss import FixedBatchSpec

        folder, grid_dir, chosen = _check(req, host)

        def work(progress):
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
                    chosen,
                    spec=spec,
                    images_per_checkpoint=req.images_per_checkpoint,
                    sampler_steps=req.sampler_steps,
                    progress=progress,
                )
            report = scoring.score(
                host,
                folder,
                grid_dir=grid_dir,
                chosen_json=chosen,
                tolerance=req.tolerance,
                loss=loss,
                clip="clip" in req.parts,
                drift="drift" in req.parts,
                write_csv=bool(grid_dir),
                progress=progress,
            )
            return report.to_dict()

        job = JOBS.start(f"scores for {req.name}", work, runner=host.run_job)
        return {"job_id": job.id}
