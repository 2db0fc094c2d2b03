"""The Train section's handlers, as plain functions of the host and the form's values (``FORM``
order, from the parameter table); ``section.wire`` binds them to the components."""

from __future__ import annotations

import datetime as _dt
import html
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lib_textinv.kit import longwork
from lib_textinv.kit.folder_guard import BadFolder, Forbidden
from lib_textinv.kit.host import Host
from lib_textinv.train.call import Clock
from lib_textinv.train.display import box, ended_html, files_markdown, plot_for, running_html
from lib_textinv.train.folders import checked_crop_folder, checked_dataset_folder, checked_run_folder
from lib_textinv.train.job import JOB_KEY, PreflightFailed, outcome_of, start_training
from lib_textinv.train.loss_csv import FILENAME, LossReader, loss_chart
from lib_textinv.train.params import FORM, PRESET_FIELDS, TrainArgs
from lib_textinv.train.preflight import crop_copy_to_size, free_crop_folder, run_preflight
from lib_textinv.train.presets import is_folder, scan_dataset, suggest_presets

DEFAULT_POLL_SECONDS = 2.0  # how often a running training refreshes its status, plot and files


def _keep() -> Any:
    import gradio as gr

    return gr.update()


def form_to_args(values: tuple) -> TrainArgs:
    """Form values (in ``FORM`` order) → typed ``TrainArgs`` (raises ``TypeError``)."""
    d = dict(zip(FORM, values, strict=True))
    if d["loss_csv_every"] in (None, ""):
        d["loss_csv_every"] = 0
    return TrainArgs.coerce(**d)


def embedding_choices(host: Host) -> list[str]:
    return sorted((e.name for e in host.embeddings() if e.loaded), key=str.lower)


def refresh_embeddings(host: Host, current: str | None) -> Any:
    import gradio as gr

    choices = embedding_choices(host)
    value = current if current in choices else (choices[0] if choices else None)
    return gr.update(choices=choices, value=value)


def follow_embedding(host: Host, name: str | None) -> Any:
    """The workflow's embedding changed (Embedding section created one): select it."""
    import gradio as gr

    choices = embedding_choices(host)
    if name and name not in choices:
        choices = [*choices, name]  # just created; the webui lists it after its next reload
    return gr.update(choices=choices, value=name or None)


def fill_presets(host: Host, folder: str, kind: str) -> list:
    """Preset values (``PRESET_FIELDS`` order) and the reasons as Markdown."""
    keep = [_keep() for _ in PRESET_FIELDS]
    try:
        real = checked_dataset_folder(host, folder)
    except (BadFolder, Forbidden) as e:
        return [*keep, f"❌ {html.escape(str(e))}"]
    if not is_folder(real):
        return [*keep, f"Dataset folder not found: `{folder}`"]
    facts = scan_dataset(real)
    p = suggest_presets(facts, kind or "style")
    values = [p.values[k] for k in PRESET_FIELDS]
    return [*values, f"**Presets for {len(facts.readable)} images** ({kind} preset)\n\n" + p.explain()]


def do_preflight(host: Host, *values: Any) -> tuple:
    """Markdown report and the visibility of "Crop them"."""
    import gradio as gr

    try:
        args = form_to_args(values)
    except TypeError as e:
        return f"❌ {e}", gr.update(visible=False)
    rep = run_preflight(host, args)
    return rep.to_markdown(), gr.update(visible=bool(rep.offenders("size")))


def do_crop(host: Host, folder: str, width: Any, height: Any) -> tuple[str, str]:
    """Crop copies of the dataset to width×height into a new folder beside it (both allowed
    folders); the form switches to it."""
    try:
        src = checked_dataset_folder(host, folder)
        w, h = int(width), int(height)
        dest = checked_crop_folder(host, free_crop_folder(src, w, h))
        dst, problems = crop_copy_to_size(src, w, h, dest=dest)
    except (OSError, ValueError, TypeError) as e:  # Forbidden is an OSError, BadFolder a ValueError
        return folder, f"❌ crop failed: {html.escape(str(e))}"
    msg = f"✅ cropped copies written to `{dst}`; the dataset folder now points there (originals unchanged)."
    if problems:
        msg += "\n\n⚠️ " + "\n\n⚠️ ".join(problems)
    return str(dst), msg


def run_train(
    host: Host, poll_seconds: float, *values: Any, now: Clock = _dt.datetime.now
) -> Iterator[tuple]:
    """Generator: pre-flight, then start the training job and yield (pre-flight report, status,
    plot, files, run folder) every ``poll_seconds`` while it runs, and once when it has ended."""
    keep = _keep()
    try:
        args = form_to_args(values)
    except TypeError as e:
        yield f"❌ {html.escape(str(e))}", box("bad", "Not started."), keep, keep, keep
        return
    rep = run_preflight(host, args, now())
    report = rep.to_markdown()
    try:
        run = start_training(host, args, rep, now)
    except PreflightFailed as e:
        yield report, box("bad", "Not started — " + html.escape(str(e))), keep, keep, keep
        return
    except longwork.Busy:
        yield report, box("bad", "A training run is already going; interrupt it or wait."), keep, keep, keep
        return
    name = args.embedding_name
    reader = LossReader(str(Path(run.folder) / FILENAME))
    for job in longwork.watch(run.job, every=poll_seconds):
        folder = run.folder
        if job.active:
            status = running_html(name, job)
        else:
            outcome = outcome_of(job)
            status = ended_html(job, outcome)
            folder = (outcome.run_folder if outcome else None) or folder
        if reader.path != str(Path(folder) / FILENAME):
            reader = LossReader(str(Path(folder) / FILENAME))
        yield report, status, plot_for(folder, name, reader.read()), files_markdown(folder, name), folder


def interrupt(host: Host) -> str:
    return box("info", html.escape(longwork.stop(host, JOB_KEY)))


def show_loss(host: Host, folder: str, name: str) -> tuple[str, str]:
    try:
        real = checked_run_folder(host, folder)
    except (BadFolder, Forbidden) as e:
        return loss_chart([]), f"❌ {e}"
    if not is_folder(real):
        return loss_chart([]), f"No run folder `{folder}`"
    name = name or real.name
    return plot_for(str(real), name), files_markdown(str(real), name)
