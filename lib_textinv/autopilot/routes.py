"""``POST /textinv/v1/autopilot``: the plan of a folder (``run: false``: every decision with its
reason, the time per stage and the disk, as JSON), or a run of it (``run: true``: ``{"job_id"}``
at once; ``GET``/``DELETE /jobs/{id}`` follow or stop it; ``resume: true`` runs the plan the run
folder saved). ``changes`` edits the plan (the same table as the tab's fields); ``plan`` runs a
plan given whole (as an earlier answer returned it, perhaps edited). ``GET /autopilot/report``
gives a run's report as JSON. Bad input is a 4xx naming the field and the reason."""

from __future__ import annotations

from typing import Any

from lib_textinv.autopilot import work
from lib_textinv.autopilot.context import AutopilotError, Failure
from lib_textinv.autopilot.decide import PlanRequest
from lib_textinv.autopilot.plan import KINDS, Plan, plan_errors
from lib_textinv.autopilot.runner import finished_stages
from lib_textinv.kit.api_models import Field, Model
from lib_textinv.kit.host import Host

KIND_PATTERN = "^(" + "|".join(KINDS) + ")$"
REFUSAL_STATUS = {Failure.REFUSED: 400, Failure.STAGE: 400, Failure.UNAVAILABLE: 503}


class AutopilotRequest(Model):
    folder: str = Field(..., min_length=1, max_length=4096, description="the folder of pictures (absolute)")
    name: str = Field(
        ..., min_length=1, max_length=200, description="the embedding's name (checked as Create)"
    )
    kind: str = Field("style", pattern=KIND_PATTERN, description="style or subject")
    budget_minutes: float | None = Field(None, ge=0, le=10_000, description="shorten training to fit")
    warmup: bool = Field(True, description="time one short image at the sweep's settings for the estimates")
    size: int | None = Field(
        None, ge=64, le=2048, description="training size, a multiple of 64 (default: the model's)"
    )
    changes: dict[str, Any] | None = Field(None, description="plan values to change (see the plan's keys)")
    plan: dict[str, Any] | None = Field(None, description="a whole plan to run, as a plan answer gave it")
    run: bool = Field(False, description="start the run (a job) instead of answering the plan")
    resume: bool = Field(False, description="run again the plan this run folder saved (Resume)")


def _http(e: Exception):
    from fastapi import HTTPException

    if isinstance(e, AutopilotError):
        return HTTPException(REFUSAL_STATUS[e.kind], detail=str(e))
    return HTTPException(400, detail=str(e))


def _plan_of(host: Host, req: AutopilotRequest) -> Plan:
    if req.resume:
        return work.edited(host, work.resume_plan(host, req.folder, req.name), req.changes)
    if req.plan is not None:
        given = Plan.from_dict(req.plan)
        if (given.folder, given.name) != (str(work.run_folder(host, req.folder, req.name).parent), req.name):
            raise ValueError("plan: its folder and name must be the request's")
        return work.edited(host, given, req.changes)
    preq = PlanRequest(req.folder, req.name, req.kind, req.budget_minutes, req.warmup, req.size)
    return work.plan(host, preq, req.changes)


def add_routes(router, host: Host) -> None:
    from fastapi import HTTPException, Query

    def autopilot(req: AutopilotRequest) -> dict:
        try:
            p = _plan_of(host, req)
            if req.run:
                job = work.start(host, p)  # Busy → 409
                return {"job_id": job.id, "run_folder": p.run_folder}
        except (ValueError, AutopilotError) as e:  # Forbidden (a PermissionError) → 403
            raise _http(e) from e
        return {"plan": p.to_dict(), "errors": plan_errors(p), "finished": finished_stages(p.run_folder)}

    def get_report(
        folder: str = Query(..., min_length=1, max_length=4096),
        name: str = Query(..., min_length=1, max_length=200),
    ) -> dict:
        try:
            data = work.read_report(host, folder, name)
        except ValueError as e:
            raise HTTPException(400, detail=str(e)) from e
        if data is None:
            raise HTTPException(404, detail=f"no autopilot report of {name!r} in {folder}")
        return data

    router.add_api_route(
        "/autopilot", autopilot, methods=["POST"], summary="Plan (or run) a folder to a promoted trigger"
    )
    router.add_api_route(
        "/autopilot/report", get_report, methods=["GET"], summary="An autopilot run's report"
    )
