"""Running a plan: the stages in order, each skipped when the run folder's state says it finished
with the same inputs and its outputs are unchanged (Resume, a second Run, after a restart too),
each finished one recorded at once (a Stop or a failure keeps what is done). One job under the key
``autopilot``: one progress with the stage's name and the ETA, one Stop.

The job itself does not hold the webui's queue: the stages take it one at a time (``Context.in_queue``,
and Create and Train take it themselves), so a run never waits for a lock it holds."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lib_textinv.autopilot import estimates, report, stages_judge, stages_prepare, stages_train
from lib_textinv.autopilot.context import AutopilotError, Context, Failure, StageProgress
from lib_textinv.autopilot.decide import model_key, run_folder_for
from lib_textinv.autopilot.plan import Plan, plan_errors
from lib_textinv.autopilot.state import PLAN_FILE, RunState, fingerprint, load_state, save_state
from lib_textinv.dataset.work import checked_source
from lib_textinv.kit import longwork
from lib_textinv.kit.files import atomic_write_text
from lib_textinv.kit.host import Host
from lib_textinv.kit.jobs import Job
from lib_textinv.kit.progress import Progress

logger = logging.getLogger(__name__)
AUTOPILOT_KEY = "autopilot"
UNITS_PER_SECOND = 10  # the run's bar counts tenths of estimated seconds


@dataclass(frozen=True)
class Stage:
    name: str
    inputs: Callable[[Context], Any]
    run: Callable[[Context], dict]
    outputs: Callable[[Context, dict], Any]  # what the stage left, now (None: gone)


P, T, J = stages_prepare, stages_train, stages_judge
STAGES: tuple[Stage, ...] = (
    Stage("scan", P.scan_inputs, P.scan_run, P.scan_outputs),
    Stage("crop", P.crop_inputs, P.crop_run, P.crop_outputs),
    Stage("captions", P.captions_inputs, P.captions_run, P.captions_outputs),
    Stage("create", P.create_inputs, P.create_run, P.create_outputs),
    Stage("train", T.train_inputs, T.train_run, T.train_outputs),
    Stage("prescore", J.prescore_inputs, J.prescore_run, J.prescore_outputs),
    Stage("sweep", J.sweep_inputs, J.sweep_run, J.sweep_outputs),
    Stage("scores", J.scores_inputs, J.scores_run, J.scores_outputs),
    Stage("choose", J.choose_inputs, J.choose_run, J.choose_outputs),
    Stage("promote", J.promote_inputs, J.promote_run, J.promote_outputs),
)
assert tuple(s.name for s in STAGES) == estimates.STAGES


def checked_plan(host: Host, plan: Plan) -> Plan:
    """A plan that may run: its folder allowed and existing, its run folder the one of its folder
    and name (a request cannot make a run write elsewhere), no errors."""
    root = checked_source(host, plan.folder)
    expected = run_folder_for(root, plan.name)
    if Path(plan.run_folder).resolve() != expected.resolve():
        raise AutopilotError("plan", f"run_folder must be {expected}", Failure.REFUSED)
    errors = plan_errors(plan)
    if errors:
        raise AutopilotError("plan", "; ".join(errors), Failure.REFUSED)
    return plan


@dataclass
class Outcome:
    """What a run did: per stage "done" (ran now), "kept" (skipped: finished before), or the end."""

    stages: dict[str, str]
    seconds: dict[str, float]
    report: dict[str, Any]

    def to_dict(self) -> dict:
        return {"stages": self.stages, "seconds": self.seconds, **report.summary(self.report)}


def _units(plan: Plan) -> dict[str, int]:
    return {
        e.stage: max(1, round(e.seconds * UNITS_PER_SECOND))
        for e in plan.estimates or estimates.estimate(plan)
    }


def _one(ctx: Context, stage: Stage, outer: Progress, base: int, units: int) -> tuple[str, float]:
    """Run or skip ``stage``; ("kept" | "done", seconds it ran)."""
    inputs = fingerprint(stage.inputs(ctx))
    rec = ctx.state.stages.get(stage.name)
    if rec is not None and rec.inputs == inputs:
        now = stage.outputs(ctx, rec.result)
        if now is not None and ctx.state.finished(stage.name, inputs, fingerprint(now)):
            ctx.results[stage.name] = rec.result
            outer.total -= units  # the ETA counts only what is left to do
            return "kept", 0.0
    label = f"{estimates.LABELS[stage.name]} ({STAGES.index(stage) + 1}/{len(STAGES)})"
    ctx.progress = StageProgress(outer, base, units, label)
    outer.check()
    t0 = time.monotonic()
    result = stage.run(ctx)
    seconds = time.monotonic() - t0
    outputs = stage.outputs(ctx, result)
    ctx.results[stage.name] = result
    ctx.state.record(stage.name, inputs, fingerprint(outputs), result, seconds)
    save_state(ctx.plan.run_folder, ctx.state)
    return "done", seconds


def run_plan(host: Host, plan: Plan, progress: Progress | None = None) -> Outcome:
    """Every stage of ``plan`` in order (see the module). Raises ``Cancelled`` when stopped,
    ``AutopilotError`` when a stage fails; the report is written either way."""
    progress = progress or Progress()
    checked_plan(host, plan)
    Path(plan.run_folder).mkdir(parents=True, exist_ok=True)
    atomic_write_text(Path(plan.run_folder) / PLAN_FILE, report.to_json(plan.to_dict()))
    ctx = Context(host, plan, load_state(plan.run_folder))
    units = _units(plan)
    progress.begin(sum(units.values()), "Autopilot")
    done: dict[str, str] = {}
    seconds: dict[str, float] = {}
    base = 0
    try:
        for stage in STAGES:
            done[stage.name] = "running"
            status, took = _one(ctx, stage, progress, base, units[stage.name])
            done[stage.name], seconds[stage.name] = status, round(took, 2)
            if status == "done":
                base += units[stage.name]
            progress.done = base
    except BaseException as e:
        done[next(k for k, v in done.items() if v == "running")] = _ended(e)
        _finish(host, ctx, seconds)
        raise
    return Outcome(done, seconds, _finish(host, ctx, seconds))


def _ended(e: BaseException) -> str:
    from lib_textinv.kit.progress import Cancelled

    return "stopped" if isinstance(e, Cancelled) else "failed"


def _finish(host: Host, ctx: Context, seconds: dict[str, float]) -> dict:
    """Keep the measured rates for the next plan; write the report of what there is."""
    n = estimates.units(ctx.plan)
    rates = {s: t / n[s] for s, t in seconds.items() if t > 0 and n.get(s)}
    estimates.save_rates(host.state_file(estimates.RATES_FILE), model_key(host, ctx.plan), rates)
    return report.write(ctx.plan, ctx.state)


def start(host: Host, plan: Plan) -> Job:
    """The run as a job (key ``autopilot``); ``longwork.Busy`` while one runs. Checked first, so a
    plan that cannot run is refused before any job starts."""
    checked_plan(host, plan)
    title = f"Autopilot: {plan.name}"
    # Not in the host's queue: the stages take it themselves (see the module).
    return longwork.start(
        host, AUTOPILOT_KEY, title, lambda p: run_plan(host, plan, p).to_dict(), queued=False
    )


def stop(host: Host) -> str:
    return longwork.stop(host, AUTOPILOT_KEY)


def saved_plan(run_folder: str | Path) -> Plan | None:
    """The plan the last Run of ``run_folder`` used (what Resume runs again), or None."""
    import json

    try:
        return Plan.from_dict(json.loads((Path(run_folder) / PLAN_FILE).read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None


def finished_stages(run_folder: str | Path) -> list[str]:
    state: RunState = load_state(run_folder)
    return [s.name for s in STAGES if s.name in state.stages]
