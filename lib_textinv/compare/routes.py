"""HTTP routes of the Compare section (mounted by the lead under ``/textinv/v1``).

``POST /sweep`` starts a step-sweep job (poll ``GET /jobs/{id}``, interrupt with ``DELETE``);
``POST /promote`` copies one checkpoint into the embeddings folder and reloads the database.
Runs are named by embedding name and date: the API only reads runs inside the webui's log folder.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from lib_textinv.compare.checkpoints import TrainingRun, find_runs
from lib_textinv.compare.promote import PromoteError, promote
from lib_textinv.compare.sweep_plan import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_PROMPTS,
    DEFAULT_SEEDS,
    PlanError,
    plan_sweep,
)
from lib_textinv.compare.sweep_run import GenParams, SweepResult, plan_checkpoints, run_sweep
from lib_textinv.kit.host import Unavailable
from lib_textinv.kit.jobs import JOBS

logger = logging.getLogger(__name__)

NAME_RE = r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,99}$"
DATE_RE = r"^\d{4}-\d{2}-\d{2}$"


class SweepRequest(BaseModel):
    name: str = Field(..., regex=NAME_RE, description="embedding name (the run folder's name)")
    run: str | None = Field(None, regex=DATE_RE, description="run date YYYY-MM-DD; newest when omitted")
    checkpoints: str = Field("all", regex="^(all|every|list)$")
    every: int = Field(2, ge=1, le=10000)
    steps: list[int] = Field(default_factory=list, max_items=1000)
    include_final: bool = False
    prompts: list[str] = Field(default_factory=lambda: list(DEFAULT_PROMPTS), min_items=1, max_items=64)
    seeds: list[int] = Field(default_factory=lambda: list(DEFAULT_SEEDS), min_items=1, max_items=16)
    negative_prompt: str = Field("", max_length=10000)
    sampler: str = Field("Euler a", min_length=1, max_length=100)
    sampling_steps: int = Field(20, ge=1, le=150)
    cfg_scale: float = Field(7.0, ge=1.0, le=30.0)
    width: int = Field(512, ge=64, le=2048)
    height: int = Field(512, ge=64, le=2048)
    batch_size: int = Field(DEFAULT_BATCH_SIZE, ge=1, le=64)


class PromoteRequest(BaseModel):
    name: str = Field(..., regex=NAME_RE)
    step: int | None = Field(None, ge=1, description="the checkpoint's file-name step; omit with final=true")
    final: bool = False
    run: str | None = Field(None, regex=DATE_RE)
    trigger: str | None = Field(
        None,
        max_length=100,
        description="file name in embeddings/; default <name>-<step> (final: <name>-final)",
    )
    overwrite: bool = False
    sample_prompt: str = Field(DEFAULT_PROMPTS[0], max_length=2000)


def _find_run(host, name: str, date: str | None) -> TrainingRun:
    paths = host.paths()
    runs = find_runs(paths.ti_log_dir, name, host.model_facts().embedding_width, paths.embeddings_dir)
    if date:
        runs = [r for r in runs if r.date == date]
    if not runs:
        where = paths.ti_log_dir or "(no log folder known)"
        raise HTTPException(
            404, detail=f"no training run of {name!r}{' on ' + date if date else ''} under {where}"
        )
    return runs[0]


def sweep_result_dict(res: SweepResult) -> dict:
    return {
        "done": res.done,
        "total": res.total,
        "interrupted": res.interrupted,
        "grid": res.grid_path,
        "grid_dir": res.grid_dir,
        "infotext": res.grid_infotext,
        "cells": [
            {"token": r.cell.token, "prompt": r.cell.text, "seed": r.cell.seed, "path": r.path}
            for r in res.cells
        ],
        "warnings": res.warnings,
    }


def add_routes(router: APIRouter, host) -> None:
    @router.post("/sweep")
    def start_sweep(req: SweepRequest) -> dict:
        try:
            host.require("generate")
        except Unavailable as e:
            raise HTTPException(503, detail=str(e)) from e
        run = _find_run(host, req.name, req.run)
        try:
            cps = plan_checkpoints(run, req.checkpoints, req.every, req.steps, req.include_final)
            prompts = [p.strip() for p in req.prompts if p.strip()]
            plan = plan_sweep(cps, prompts, req.seeds, req.batch_size)
        except PlanError as e:
            raise HTTPException(400, detail=str(e)) from e
        if any(s < 0 or s > 2**32 - 1 for s in req.seeds):
            raise HTTPException(400, detail="seeds must be fixed numbers from 0 to 4294967295")
        params = GenParams(
            negative_prompt=req.negative_prompt,
            sampler=req.sampler,
            steps=req.sampling_steps,
            cfg_scale=req.cfg_scale,
            width=req.width,
            height=req.height,
        )

        def work(progress):
            return sweep_result_dict(run_sweep(plan, host, params, progress))

        job = JOBS.start(f"Step sweep of {run.name} ({len(plan.cells)} cells)", work, runner=host.run_job)
        return {"job_id": job.id, "cells": len(plan.cells), "calls": len(plan.batches())}

    @router.post("/promote")
    def promote_checkpoint(req: PromoteRequest) -> dict:
        if req.final == (req.step is not None):
            raise HTTPException(400, detail="give either a step or final=true")
        run = _find_run(host, req.name, req.run)
        cp = next((c for c in run.checkpoints if c.final), None) if req.final else run.by_step(req.step)
        if cp is None:
            raise HTTPException(
                404, detail=f"{run.folder}: no {'final embedding' if req.final else f'step {req.step}'}"
            )
        if not cp.usable:
            raise HTTPException(400, detail=cp.error)
        emb_dir = host.paths().embeddings_dir
        if not emb_dir:
            raise HTTPException(503, detail="no embeddings folder known (standalone mode)")
        trigger = req.trigger or cp.token
        try:
            res = promote(
                host,
                cp.path,
                emb_dir,
                trigger,
                overwrite=req.overwrite,
                expected_width=host.model_facts().embedding_width,
                sample_prompt=req.sample_prompt,
            )
        except PromoteError as e:
            status = 409 if "already exists" in str(e) else 400
            raise HTTPException(status, detail=str(e)) from e
        return {
            "path": res.path,
            "token": res.token,
            "overwritten": res.overwritten,
            "text_to_type": res.text_to_type,
            "optimizer_copied": res.optimizer_copied,
        }
