"""What the Train section shows: status boxes, a run's files and its loss plot (HTML/Markdown)."""

from __future__ import annotations

import html
from pathlib import Path

from lib_textinv.kit.jobs import Job, JobStatus
from lib_textinv.train.loss_csv import (
    FILENAME,
    LossRow,
    fixed_series,
    last_run,
    loss_chart,
    read_fixed_loss,
    read_loss_csv,
)
from lib_textinv.train.outcome import RunStatus, TrainOutcome
from lib_textinv.train.own_checkpoints import FIXED_LOSS_CSV
from lib_textinv.train.run_files import checkpoint_step_offset, list_checkpoints

_CLASS = {"ok": "textinv-good", "bad": "textinv-bad", "info": "textinv-info"}
_LEVEL = {RunStatus.FINISHED: "ok", RunStatus.INTERRUPTED: "info", RunStatus.FAILED: "bad"}
_HEAD = {
    RunStatus.FINISHED: "Training finished",
    RunStatus.INTERRUPTED: "Training interrupted",
    RunStatus.FAILED: "Training failed",
}


def box(level: str, text: str) -> str:
    """``text`` (HTML) in a summary box: ``ok`` | ``bad`` | ``info``."""
    return f'<div class="textinv-summary {_CLASS[level]}">{text}</div>'


def unavailable_box(why: str) -> str:
    return box("bad", "Training is not available here: " + html.escape(why))


def files_markdown(folder: str | None, name: str) -> str:
    if not folder:
        return ""
    ck = list_checkpoints(folder, name)
    lines = [f"**Run folder:** `{folder}`"]
    if ck:
        lines.append(f"**Checkpoints ({len(ck)}):** " + ", ".join(f"`{p.name}`" for _n, p in ck))
    images_dir = Path(folder) / "images"
    images = sorted(images_dir.glob(f"{name}-*.*")) if images_dir.is_dir() else []
    if images:
        lines.append(f"**Previews:** {len(images)} in `{images_dir}`")
    return "\n\n".join(lines)


def plot_for(folder: str | None, name: str, rows: list[LossRow] | None = None) -> str:
    """The per-step loss; with our trainer also the fixed-batch loss and the vectors' mean norm
    per part (the drift), on the same steps; checkpoints as markers."""
    if not folder:
        return loss_chart([], title="Training loss")
    rows = last_run(rows if rows is not None else read_loss_csv(Path(folder) / FILENAME))
    offset = checkpoint_step_offset(folder)
    marks = [n + offset for n, _p in list_checkpoints(folder, name)]
    extra = fixed_series(read_fixed_loss(Path(folder) / FIXED_LOSS_CSV))
    return loss_chart(rows, title=f"Training loss — {name}", highlight_steps=marks, extra=extra)


def outcome_html(out: TrainOutcome) -> str:
    body = f"<b>{_HEAD[out.status]}</b>: {html.escape(out.message)}"
    if out.error and out.status is not RunStatus.FINISHED:
        body += (
            f"<pre style='white-space:pre-wrap;max-height:20em;overflow:auto'>{html.escape(out.error)}</pre>"
        )
    return box(_LEVEL[out.status], body)


def running_html(name: str, job: Job) -> str:
    """A running job's progress with its ETA (or that it waits for the webui's queue)."""
    text = "waiting for the webui's queue…" if job.status is JobStatus.QUEUED else job.progress.describe()
    return box("info", f"Training <b>{html.escape(name)}</b>: {html.escape(text)}")


def ended_html(job: Job, outcome: TrainOutcome | None) -> str:
    """An ended job: its outcome, or why it ended before training."""
    if outcome is not None:
        return outcome_html(outcome)
    if job.status is JobStatus.INTERRUPTED:
        return box("info", "<b>Training interrupted</b> before it started; nothing was trained")
    return box("bad", f"<b>Training failed</b>: {html.escape(job.error or 'unknown error')}")
