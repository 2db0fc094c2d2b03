"""The Autopilot section's handlers, as plain functions of the host and the components' values;
``section.wire`` binds them. The plan travels between them as its JSON (a ``gr.State``); the form's
fields and the JSON box are the user's changes to it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from lib_textinv.autopilot import report, runner, work
from lib_textinv.autopilot.context import AutopilotError
from lib_textinv.autopilot.decide import PlanRequest
from lib_textinv.autopilot.plan import Plan, plan_errors
from lib_textinv.autopilot.report_html import render_body
from lib_textinv.autopilot.view import boxed_thumbnails, message_html, plan_html, status_html
from lib_textinv.kit import longwork
from lib_textinv.kit.host import Host, Unavailable
from lib_textinv.kit.jobs import Job
from lib_textinv.kit.progress import Cancelled

# The plan's values the form shows as fields, in the form's order (the rest: the JSON box).
FIELDS = (
    "vectors",
    "steps",
    "save_every",
    "learn_rate",
    "trainer",
    "captions",
    "init_text",
    "trigger",
    "prompts",
    "seeds",
)
# What ends a click with a message: a bad value or folder (ValueError; OSError, also Forbidden:
# outside the allowed folders), a refused plan, the host unable, a run already going, a Stop.
REFUSED = (ValueError, OSError, AutopilotError, Unavailable, longwork.Busy, Cancelled)
WATCH_SECONDS = 1.0


def field_values(plan: Plan) -> list[Any]:
    shown = {"prompts": "\n".join(plan.prompts), "seeds": ", ".join(map(str, plan.seeds))}
    return [shown.get(k, getattr(plan, k)) for k in FIELDS]


def _parsed(key: str, value: Any) -> Any:
    if key == "prompts":
        return [line for line in str(value or "").splitlines() if line.strip()]
    if key == "seeds":
        try:
            return [int(s) for s in str(value or "").replace(",", " ").split()]
        except ValueError as e:
            raise ValueError(f"seeds: whole numbers separated by commas ({e})") from e
    if key in ("vectors", "steps", "save_every") and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def edits_from(plan: Plan, values: tuple, left_out: list[str] | None) -> dict[str, Any]:
    """The fields that differ from ``plan``, and the pictures left out or taken back."""
    edits = {k: _parsed(k, v) for k, v in zip(FIELDS, values, strict=True)}
    edits = {k: v for k, v in edits.items() if v != getattr(plan, k)}
    out = set(left_out or [])
    images = {
        i.name: {"excluded": i.name in out} for i in plan.images if i.usable and i.excluded != (i.name in out)
    }
    return {**edits, **({"images": images} if images else {})}


def current_plan(host: Host, state: dict | None, text: str, left_out: list[str] | None, *values: Any) -> Plan:
    """The plan as the user left it: the JSON box when it was edited, then the fields."""
    if not state:
        raise ValueError("make a plan first (Plan)")
    base = Plan.from_dict(state)
    if text and text.strip() and json.loads(text) != state:
        base = Plan.from_dict(json.loads(text))
    return work.edited(host, base, edits_from(base, values, left_out))


def shown(plan: Plan) -> list[Any]:
    """Everything the plan fills: state, HTML, boxes, fields, left-out choices, JSON."""
    import gradio as gr

    usable = [i.name for i in plan.images if i.usable]
    left = gr.update(choices=usable, value=[i.name for i in plan.images if i.usable and i.excluded])
    d = plan.to_dict()
    page = plan_html(plan, plan_errors(plan), runner.finished_stages(plan.run_folder))
    return [d, page, boxed_thumbnails(plan), *field_values(plan), left, report.to_json(d)]


def do_plan(
    host: Host, folder: str, name: str, kind: str, budget: Any, size: Any, bar: Callable | None = None
) -> list:
    import gradio as gr

    try:
        minutes, side = float(budget or 0) or None, int(size or 0) or None
        req = PlanRequest(folder or "", (name or "").strip(), kind or "style", minutes, size=side)
        return [
            *shown(work.plan(host, req, bar=bar)),
            message_html("Plan ready: change what you like, then Run.", "good"),
        ]
    except REFUSED as e:
        return [gr.update() for _ in range(5 + len(FIELDS))] + [message_html(str(e))]


def _outputs(job: Job, plan: Plan) -> tuple[str, str, str, str]:
    """(status, report HTML, text to type, report file) once the job has ended."""
    data = report.read(plan.run_folder)
    if data is None:
        return status_html(job), "", "", ""
    return status_html(job), render_body(data), data["txt2img"]["prompt"], report.summary(data)["report_html"]


def watch_run(start: Callable[[], tuple[Job, Plan]]) -> Iterator[tuple]:
    import gradio as gr

    keep = gr.update()
    try:
        job, plan = start()
    except REFUSED as e:  # a JSON box that is not JSON is a ValueError too
        yield message_html(str(e)), keep, keep, keep
        return
    for j in longwork.watch(job, every=WATCH_SECONDS):
        yield (status_html(j), keep, keep, keep) if j.active else _outputs(j, plan)


def do_run(
    host: Host, state: dict | None, text: str, left_out: list[str] | None, *values: Any
) -> Iterator[tuple]:
    def start() -> tuple[Job, Plan]:
        plan = current_plan(host, state, text, left_out, *values)
        return work.start(host, plan), plan

    yield from watch_run(start)


def do_resume(host: Host, folder: str, name: str) -> Iterator[tuple]:
    def start() -> tuple[Job, Plan]:
        plan = work.resume_plan(host, folder or "", (name or "").strip())
        return work.start(host, plan), plan

    yield from watch_run(start)


def do_stop(host: Host) -> str:
    return message_html(runner.stop(host), "warn")
