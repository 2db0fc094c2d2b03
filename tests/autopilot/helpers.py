"""Small helpers of the autopilot tests: a plan for a short run, a copy of a world."""

from __future__ import annotations

from lib_textinv.autopilot.decide import PlanRequest, make_plan
from lib_textinv.autopilot.plan import Plan, apply_edits

SHORT = {"steps": 20, "save_every": 5}  # four checkpoints: enough to choose between, quick to make


def short_plan(host, folder, name: str = "mystyle", kind: str = "style", **edits) -> Plan:
    plan = make_plan(host, PlanRequest(str(folder), name, kind))
    return apply_edits(plan, {**SHORT, **edits})


def end_of(outcome) -> tuple:
    """What a run ends with: the chosen step, the trigger, the candidates and the chosen scores."""
    r = outcome.report
    rec = next(row for row in r["scores"]["checkpoints"] if row["recommended"])
    return (
        r["choice"]["step"],
        r["promoted"]["token"],
        tuple(r["fixed_loss"]["candidates"]),
        round(rec["clip_i"], 6),
        round(rec["fixed_loss"], 6),
    )
