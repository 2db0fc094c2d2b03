"""What the Autopilot section shows, as plain values: the plan's decisions with their reasons, the
pictures with their crop boxes drawn, the time per stage and the disk, and the run's status line
(the stage and the ETA)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from lib_textinv.autopilot.estimates import LABELS, seconds_text
from lib_textinv.autopilot.plan import Plan
from lib_textinv.kit.jobs import Job, JobStatus

THUMB = 192
BOX_COLOUR = (255, 122, 0)


def _e(v: Any) -> str:
    return html.escape("" if v is None else str(v))


def _rows(rows: list[tuple[Any, ...]]) -> str:
    return "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>" for r in rows)


def decisions(plan: Plan) -> list[tuple[str, Any, str]]:
    """(decision, value, reason), in the order the run takes them."""
    r = plan.reasons
    refused = [i for i in plan.images if not i.usable]
    left_out = [i for i in plan.images if i.usable and i.excluded]
    return [
        (
            "images",
            f"{len(plan.kept)} used, {len(refused)} refused, {len(left_out)} left out",
            "see the table",
        ),
        ("size", f"{plan.width}×{plan.height}", r.get("size", "")),
        ("captions", plan.captions, r.get("captions", "")),
        ("vectors", plan.vectors, r.get("vectors", "")),
        ("initialization text", plan.init_text or "(from the captions)", r.get("init_text", "")),
        ("trainer", plan.trainer, r.get("trainer", "")),
        ("steps", plan.steps, r.get("steps", "")),
        ("checkpoint every", plan.save_every, r.get("save_every", "")),
        ("learning rate", plan.learn_rate, r.get("learn_rate", "")),
        ("template", plan.template, r.get("template", "")),
        ("shuffle tags / drop-out", f"{plan.shuffle_tags} / {plan.tag_drop_out}", r.get("tag_drop_out", "")),
        ("comparison prompts", " | ".join(plan.prompts), r.get("prompts", "")),
        ("seeds", ", ".join(map(str, plan.seeds)), "fixed: every column differs only by its checkpoint"),
        (
            "sampling",
            f"{plan.sampler}, {plan.sampling_steps} steps, CFG {plan.cfg_scale:g}",
            r.get("sampling", ""),
        ),
        ("checkpoints compared", f"up to {plan.candidates}", r.get("candidates", "")),
        ("trigger", plan.trigger or f"{plan.name}-<step>", r.get("trigger", "")),
    ]


def plan_html(plan: Plan, errors: list[str], finished: list[str]) -> str:
    images = [
        (i.name, "used" if i.usable and not i.excluded else "left out" if i.usable else "refused", i.why)
        for i in plan.images
    ]
    times = [(LABELS[e.stage], seconds_text(e.seconds), e.how) for e in plan.estimates]
    head = (
        f"<b>Plan for “{_e(plan.name)}”</b> ({_e(plan.kind)}) — about {seconds_text(plan.total_seconds)} "
        f"and {plan.disk_bytes / 2**20:.1f} MB of disk; files go to {_e(plan.run_folder)}"
    )
    notes = "".join(f'<li class="textinv-bad">✗ {_e(x)}</li>' for x in errors)
    notes += "".join(f"<li>⚠ {_e(w)}</li>" for w in plan.warnings)
    if finished:
        notes += f"<li>Finished earlier: {_e(', '.join(finished))} — Run keeps what is unchanged.</li>"
    return (
        f'<div class="textinv-autopilot-plan" data-errors="{len(errors)}"><p>{head}</p>'
        f"{f'<ul>{notes}</ul>' if notes else ''}"
        f"<table><tr><th>decision</th><th>value</th><th>why</th></tr>{_rows(decisions(plan))}</table>"
        f"<details open><summary>Pictures</summary><table><tr><th>file</th><th></th><th>why</th></tr>"
        f"{_rows(images)}</table></details>"
        "<details open><summary>Time per stage</summary>"
        f"<table><tr><th>stage</th><th>time</th><th>from</th></tr>"
        f"{_rows(times)}</table></details></div>"
    )


def boxed_thumbnails(plan: Plan) -> list[tuple[Any, str]]:
    """Each usable picture, small, with its crop box drawn (what Crop's editor would show)."""
    from PIL import ImageDraw

    from lib_textinv.dataset.scan import thumbnail

    out = []
    for img in plan.images:
        if not img.usable or not img.box or not img.size:
            continue
        im = thumbnail(Path(plan.folder) / img.name, THUMB)
        if im is None:
            continue
        s = im.width / img.size[0]
        x, y, w, h = (v * s for v in img.box)
        ImageDraw.Draw(im).rectangle([x, y, x + w - 1, y + h - 1], outline=BOX_COLOUR, width=3)
        out.append((im, f"{img.name}{' (left out)' if img.excluded else ''}"))
    return out


def status_html(job: Job) -> str:
    p = job.progress
    if job.active:
        eta = p.eta_seconds()
        left = f" — about {seconds_text(eta)} left" if eta is not None else ""
        return (
            f'<div class="textinv-summary" data-status="running">{_e(p.text)} ({p.fraction:.0%}{left})</div>'
        )
    if job.status is JobStatus.DONE:
        return '<div class="textinv-summary textinv-good" data-status="done">Done: the report is below.</div>'
    if job.status is JobStatus.INTERRUPTED:
        return (
            '<div class="textinv-summary textinv-warn" data-status="interrupted">Stopped: finished '
            "stages are kept; Resume continues from the next one.</div>"
        )
    return f'<div class="textinv-summary textinv-bad" data-status="failed">{_e(job.error)}</div>'


def message_html(text: str, level: str = "bad") -> str:
    return f'<div class="textinv-summary textinv-{level}">{_e(text)}</div>'
