"""The autopilot's actions, defined once for the tab and the API: make a plan (a job through
``kit.longwork``, key ``autopilot-plan``: it scans and analyses every picture, and may time one
image), apply the user's changes, run it (``runner.start``), resume a run folder's saved plan,
read its report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from lib_textinv.autopilot import report, runner
from lib_textinv.autopilot.context import AutopilotError, Failure
from lib_textinv.autopilot.decide import PLAN_KEY, PlanRequest, make_plan, refresh, run_folder_for
from lib_textinv.autopilot.plan import Plan, apply_edits
from lib_textinv.dataset.work import checked_source
from lib_textinv.embedding.names import file_name_errors
from lib_textinv.kit import longwork
from lib_textinv.kit.host import Host
from lib_textinv.kit.jobs import Job


def plan(
    host: Host, req: PlanRequest, edits: dict[str, Any] | None = None, bar: Callable | None = None
) -> Plan:
    """A new plan with ``edits`` applied; ValueError/Forbidden for an unusable folder or name."""
    made = longwork.run(
        host, PLAN_KEY, f"Autopilot plan for {req.name}", lambda p: make_plan(host, req, p), bar
    )
    return edited(host, made, edits)


def edited(host: Host, p: Plan, edits: dict[str, Any] | None) -> Plan:
    """``p`` with the user's changes, its estimates and disk worked out again."""
    return refresh(host, apply_edits(p, edits)) if edits else p


def run_folder(host: Host, folder: str, name: str) -> Path:
    """The run folder of ``name`` in ``folder`` (the folder checked as the scan checks it, the name
    as Create checks a file name: no way out of the folder)."""
    bad = file_name_errors(name)
    if bad:
        raise ValueError(f"name {name!r}: " + " ".join(bad))
    return run_folder_for(checked_source(host, folder), name)


def resume_plan(host: Host, folder: str, name: str) -> Plan:
    saved = runner.saved_plan(run_folder(host, folder, name))
    if saved is None:
        raise AutopilotError("resume", f"no run of {name!r} in {folder} to resume", Failure.REFUSED)
    return saved


def start(host: Host, p: Plan) -> Job:
    return runner.start(host, p)


def read_report(host: Host, folder: str, name: str) -> dict[str, Any] | None:
    return report.read(run_folder(host, folder, name))
