"""HTTP routes of the Compare step (mounted under ``/textinv/v1``).

``POST /sweep`` starts a step-sweep job (``GET /jobs/{id}`` reports it, ``DELETE`` stops it; its
result names the grid and the sweep's record, which ``POST /score`` takes); ``POST /promote``
copies one checkpoint into the embeddings folder and reloads the database. Runs are named by
embedding name and date: the API only reads runs inside the webui's log folder.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from fastapi import APIRouter, HTTPException

from lib_textinv.compare.checkpoints import RunNotFound, TrainingRun, find_run
from lib_textinv.compare.promote import PromoteError, Refusal, promote_checkpoint
from lib_textinv.compare.sweep_plan import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_PROMPTS,
    DEFAULT_SEEDS,
    PlanError,
    check_seeds,
    clean_prompts,
    plan_sweep,
)
from lib_textinv.compare.sweep_run import GenParams, plan_checkpoints, start_sweep
from lib_textinv.kit.api_models import Field, Model, field_check
from lib_textinv.kit.host import Host

logger = logging.getLogger(__name__)

NAME_RE = r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,99}$"
DATE_RE = r"^\d{4}-\d{2}-\d{2}$"
# How each refusal of a promotion answers over HTTP.
PROMOTE_STATUS = {
    Refusal.NOT_FOUND: 404,
    Refusal.NOT_USABLE: 400,
    Refusal.NO_FOLDER: 503,
    Refusal.BAD_NAME: 400,
    Refusal.EXISTS: 409,
    Refusal.BAD_FILE: 400,
}


def count_between(name: str, value: list[Any], low: int, high: int) -> list[Any]:
    """List sizes, checked the same under pydantic 1 and 2."""
    if not low <= len(value) <= high:
        raise ValueError(f"{name}: give {low} to {high} items (got {len(value)})")
    return value


class SweepRequest(Model):
    name: str = Field(..., pattern=NAME_RE, description="embedding name (the run folder's name)")
    run: str | None = Field(None, pattern=DATE_RE, description="run date YYYY-MM-DD; newest when omitted")
    checkpoints: Literal["all", "every", "list"] = "all"
    every: int = Field(2, ge=1, le=10000)
    steps: list[int] = Field([], description="the steps of checkpoints=list")
    include_final: bool = False
    prompts: list[str] = Field(list(DEFAULT_PROMPTS), description="{} marks the trigger, else appended")
    seeds: list[int] = Field(list(DEFAULT_SEEDS), description="fixed seeds, 0 to 4294967295")
    negative_prompt: str = Field("", max_length=10000)
    sampler: str = Field("Euler a", min_length=1, max_length=100)
    sampling_steps: int = Field(20, ge=1, le=150)
    cfg_scale: float = Field(7.0, ge=1.0, le=30.0)
    width: int = Field(512, ge=64, le=2048)
    height: int = Field(512, ge=64, le=2048)
    batch_size: int = Field(DEFAULT_BATCH_SIZE, ge=1, le=64)

    @field_check("steps")
    def _steps(cls, value: list[int]) -> list[int]:
        return count_between("steps", value, 0, 1000)

    @field_check("prompts")
    def _prompts(cls, value: list[str]) -> list[str]:
        return count_between("prompts", value, 1, 64)

    @field_check("seeds")
    def _seeds(cls, value: list[int]) -> list[int]:
        return count_between("seeds", value, 1, 16)


class PromoteRequest(Model):
    name: str = Field(..., pattern=NAME_RE)
    step: int | None = Field(None, ge=1, description="the checkpoint's file-name step; omit with final=true")
    final: bool = False
    run: str | None = Field(None, pattern=DATE_RE)
    trigger: str | None = Field(
        None,
        max_length=100,
        description="file name in embeddings/; default <name>-<step> (final: <name>-final)",
    )
    overwrite: bool = False
    sample_prompt: str = Field(DEFAULT_PROMPTS[0], max_length=2000)


def run_for(host: Host, name: str, date: str | None) -> TrainingRun:
    try:
        return find_run(host, name, date)
    except RunNotFound as e:
        raise HTTPException(404, detail=str(e)) from e


def add_routes(router: APIRouter, host: Host) -> None:
    @router.post("/sweep")
    def sweep(req: SweepRequest) -> dict:
        host.require("generate")  # Unavailable → 503
        run = run_for(host, req.name, req.run)
        try:
            cps = plan_checkpoints(run, req.checkpoints, req.every, req.steps, req.include_final)
            plan = plan_sweep(
                cps,
                clean_prompts(req.prompts),
                check_seeds(req.seeds),
                req.batch_size,
                name=run.name,
                run_folder=str(run.folder),
            )
        except PlanError as e:
            raise HTTPException(400, detail=str(e)) from e
        params = GenParams(
            negative_prompt=req.negative_prompt,
            sampler=req.sampler,
            steps=req.sampling_steps,
            cfg_scale=req.cfg_scale,
            width=req.width,
            height=req.height,
        )
        job = start_sweep(host, plan, params)  # Busy → 409
        return {"job_id": job.id, "cells": len(plan.cells), "calls": len(plan.batches())}

    @router.post("/promote")
    def promote(req: PromoteRequest) -> dict:
        if req.final == (req.step is not None):
            raise HTTPException(400, detail="give either a step or final=true")
        run = run_for(host, req.name, req.run)
        cp = next((c for c in run.checkpoints if c.final), None) if req.final else run.by_step(req.step or 0)
        wanted = "final embedding" if req.final else f"step {req.step}"
        try:
            res = promote_checkpoint(
                host,
                cp,
                req.trigger or "",
                missing=f"{run.folder}: no {wanted}",
                overwrite=req.overwrite,
                sample_prompt=req.sample_prompt,
            )
        except PromoteError as e:
            raise HTTPException(PROMOTE_STATUS[e.kind], detail=str(e)) from e
        return {
            "path": res.path,
            "token": res.token,
            "overwritten": res.overwritten,
            "text_to_type": res.text_to_type,
            "optimizer_copied": res.optimizer_copied,
            "warning": res.warning,
            "suggested_trigger": res.suggested_trigger,
        }
