"""Section "Train": presets from the dataset, pre-flight, Run/Interrupt through the webui's own
``train_embedding`` in its queue, an honest outcome, and a live loss plot.

The live plot: Run is a generator handler (works in gradio 3.41 and 4 with the queue the webui
enables): training runs in a thread through ``ui_progress.run`` → ``host.run_job``, and the
handler yields status, plot and files every few seconds until the thread ends. A "Show loss"
button redraws any run folder later.
"""

from __future__ import annotations

import functools
import html
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

from lib_textinv.kit.host import Host
from lib_textinv.kit.ids import elem_id
from lib_textinv.kit.tab_context import TabContext
from lib_textinv.train.call import TrainArgs, TrainOutcome, list_checkpoints, train_checked
from lib_textinv.train.loss_csv import FILENAME, LossReader, last_run, loss_chart, read_loss_csv
from lib_textinv.train.preflight import crop_copy_to_size, run_preflight
from lib_textinv.train.presets import scan_dataset, suggest_presets

logger = logging.getLogger(__name__)

JOB_KEY = "train"
DEFAULT_LOG_DIR = "textual_inversion"
# Form fields in the order build() passes their components to the handlers (TrainArgs names,
# plus the loss-plot period which is not a train_embedding parameter).
FORM = (
    "data_root",
    "embedding_name",
    "template_filename",
    "training_width",
    "training_height",
    "steps",
    "learn_rate",
    "batch_size",
    "gradient_step",
    "save_embedding_every",
    "create_image_every",
    "shuffle_tags",
    "tag_drop_out",
    "latent_sampling_method",
    # Advanced
    "log_directory",
    "varsize",
    "clip_grad_mode",
    "clip_grad_value",
    "use_weight",
    "save_image_with_stored_embedding",
    "preview_from_txt2img",
    "preview_prompt",
    "preview_negative_prompt",
    "preview_steps",
    "preview_sampler_name",
    "preview_cfg_scale",
    "preview_seed",
    "preview_width",
    "preview_height",
    "loss_csv_every",
)
PRESET_FIELDS = (
    "training_width",
    "training_height",
    "steps",
    "learn_rate",
    "batch_size",
    "gradient_step",
    "save_embedding_every",
    "create_image_every",
    "shuffle_tags",
    "tag_drop_out",
    "latent_sampling_method",
    "template_filename",
)


def _box(level: str, text: str) -> str:
    cls = {"ok": "textinv-good", "bad": "textinv-bad", "info": "textinv-info"}[level]
    return f'<div class="textinv-summary {cls}">{text}</div>'


# -- handlers (plain functions; build() binds the host) -------------------------------------------


def form_to_args(values: tuple) -> tuple[TrainArgs, int | None]:
    """Form values (in ``FORM`` order) → typed ``TrainArgs`` and the loss-plot period."""
    d = dict(zip(FORM, values, strict=True))
    csv_every = d.pop("loss_csv_every")
    csv_every = int(csv_every) if csv_every not in (None, "") and float(csv_every) > 0 else None
    d = {
        k: ("" if v is None and k in ("data_root", "embedding_name", "log_directory") else v)
        for k, v in d.items()
    }
    return TrainArgs.coerce(**d), csv_every


def embedding_choices(host: Host) -> list[str]:
    return sorted((e.name for e in host.embeddings() if e.loaded), key=str.lower)


def refresh_embeddings(host: Host, current: str | None):
    import gradio as gr

    choices = embedding_choices(host)
    value = current if current in choices else (choices[0] if choices else None)
    return gr.update(choices=choices, value=value)


def follow_embedding(host: Host, name: str | None):
    """The workflow's embedding changed (Embedding section created one): select it."""
    import gradio as gr

    choices = embedding_choices(host)
    if name and name not in choices:
        choices = [*choices, name]  # just created; the webui lists it after its next reload
    return gr.update(choices=choices, value=name or None)


def fill_presets(folder: str, kind: str) -> list:
    """Preset values (``PRESET_FIELDS`` order) and the reasons as Markdown."""
    if not folder or not Path(folder).is_dir():
        return [*[_no_change() for _ in PRESET_FIELDS], f"Dataset folder not found: `{folder}`"]
    facts = scan_dataset(folder)
    p = suggest_presets(facts, kind or "style")
    values = [p.values[k] for k in PRESET_FIELDS]
    return [*values, f"**Presets for {len(facts.readable)} images** ({kind} preset)\n\n" + p.explain()]


def _no_change():
    import gradio as gr

    return gr.update()


def do_preflight(host: Host, *values) -> tuple:
    """Markdown report and the visibility of "Crop them"."""
    import gradio as gr

    try:
        args, csv_every = form_to_args(values)
    except (TypeError, ValueError) as e:
        return f"❌ {e}", gr.update(visible=False)
    rep = run_preflight(host, args, csv_every)
    return rep.to_markdown(), gr.update(visible=bool(rep.offenders("size")))


def do_crop(folder: str, width, height) -> tuple[str, str]:
    """Crop copies of the dataset to width×height into a new folder; the form switches to it."""
    try:
        dst, problems = crop_copy_to_size(folder, int(width), int(height))
    except (OSError, ValueError) as e:
        return folder, f"❌ crop failed: {html.escape(str(e))}"
    msg = f"✅ cropped copies written to `{dst}`; the dataset folder now points there (originals unchanged)."
    if problems:
        msg += "\n\n⚠️ " + "\n\n⚠️ ".join(problems)
    return str(dst), msg


def files_markdown(folder: str | None, name: str) -> str:
    if not folder:
        return ""
    ck = list_checkpoints(folder, name)
    lines = [f"**Run folder:** `{folder}`"]
    if ck:
        lines.append(f"**Checkpoints ({len(ck)}):** " + ", ".join(f"`{p.name}`" for _n, p in ck))
    images = (
        sorted((Path(folder) / "images").glob(f"{name}-*.*")) if (Path(folder) / "images").is_dir() else []
    )
    if images:
        lines.append(f"**Previews:** {len(images)} in `{Path(folder) / 'images'}`")
    return "\n\n".join(lines)


def plot_for(folder: str | None, name: str, rows=None) -> str:
    if not folder:
        return loss_chart([], title="Training loss")
    rows = last_run(rows if rows is not None else read_loss_csv(Path(folder) / FILENAME))
    marks = [n - 1 for n, _p in list_checkpoints(folder, name)]  # name-N holds step N-1
    return loss_chart(rows, title=f"Training loss — {name}", highlight_steps=marks)


def outcome_html(out: TrainOutcome) -> str:
    level = {"finished": "ok", "interrupted": "info", "failed": "bad"}[out.status]
    head = {
        "finished": "Training finished",
        "interrupted": "Training interrupted",
        "failed": "Training failed",
    }
    body = f"<b>{head[out.status]}</b>: {html.escape(out.message)}"
    if out.error and out.status != "finished":
        body += (
            f"<pre style='white-space:pre-wrap;max-height:20em;overflow:auto'>{html.escape(out.error)}</pre>"
        )
    return _box(level, body)


def run_train(host: Host, poll_seconds: float, *values) -> Iterator[tuple]:
    """Generator: pre-flight, then train in a thread and yield (pre-flight report, status, plot,
    files, run folder) every ``poll_seconds`` until it ends."""
    import gradio as gr

    from lib_textinv.kit import longwork as ui_progress

    keep = gr.update()
    try:
        args, csv_every = form_to_args(values)
    except (TypeError, ValueError) as e:
        yield f"❌ {html.escape(str(e))}", _box("bad", "Not started."), keep, keep, keep
        return
    rep = run_preflight(host, args, csv_every)
    report = rep.to_markdown()
    if not rep.ok:
        yield report, _box("bad", "Not started — " + html.escape(rep.summary())), keep, keep, keep
        return
    if ui_progress.is_running(JOB_KEY):
        yield report, _box("bad", "A training run is already going; interrupt it or wait."), keep, keep, keep
        return
    box: dict = {}
    done = threading.Event()

    def job(progress):
        box["progress"] = progress
        return train_checked(
            host, args, rep, progress, csv_every, on_start=lambda f: box.__setitem__("folder", str(f))
        )

    def work():
        try:
            box["outcome"] = ui_progress.run(host, JOB_KEY, f"Train {args.embedding_name}", job)
        except Exception as e:  # shown to the user below; the thread must not die silently
            logger.exception("training %s", args.embedding_name)
            box["error"] = f"{type(e).__name__}: {e}"
        finally:
            done.set()

    threading.Thread(target=work, name="textinv-train", daemon=True).start()
    folder = rep.run_folder
    reader = LossReader(str(Path(folder) / FILENAME))
    name = args.embedding_name
    while not done.wait(poll_seconds):
        folder = box.get("folder", folder)
        p = box.get("progress")
        text = html.escape(p.describe()) if p else "waiting for the webui's queue…"
        status = _box("info", f"Training <b>{html.escape(name)}</b>: {text}")
        yield report, status, plot_for(folder, name, reader.read()), files_markdown(folder, name), folder
    if "error" in box:
        status = _box("bad", f"<b>Training failed</b>: {html.escape(box['error'])}")
    else:
        status = outcome_html(box["outcome"])
        folder = box["outcome"].run_folder or folder
    yield report, status, plot_for(folder, name, reader.read()), files_markdown(folder, name), folder


def interrupt(host: Host) -> str:
    from lib_textinv.kit import longwork as ui_progress

    msg = ui_progress.stop(host, JOB_KEY)
    return _box("info", html.escape(msg))


def show_loss(folder: str, name: str) -> tuple[str, str]:
    if not folder or not Path(folder).is_dir():
        return loss_chart([]), f"No run folder `{folder}`"
    name = name or Path(folder).name
    return plot_for(folder, name), files_markdown(folder, name)


# -- layout -----------------------------------------------------------------------------------------


def _unavailable_box(why: str) -> str:
    return _box("bad", "Training is not available here: " + html.escape(why))


def build(ctx: TabContext) -> None:
    import gradio as gr

    host = ctx.host
    ok, why = host.feature("train")
    templates = sorted(host.templates()) or ["style_filewords.txt"]
    default_template = "style_filewords.txt" if "style_filewords.txt" in templates else templates[0]
    log_default = host.paths().ti_log_dir or DEFAULT_LOG_DIR
    poll = float(host.setting("train_poll_seconds", 2.0) or 2.0)
    csv_default = int(host.setting("train_loss_csv_every", 10) or 0)

    unavailable = gr.HTML(
        _unavailable_box(why) if not ok else "",
        elem_id=elem_id("train-unavailable"),
        visible=not ok,
    )
    c: dict = {}
    with gr.Row():
        c["data_root"] = gr.Textbox(
            label="Dataset folder (training-size images)", scale=3, elem_id=elem_id("train-dataset")
        )
        c["embedding_name"] = gr.Dropdown(
            label="Embedding",
            choices=embedding_choices(host),
            scale=2,
            allow_custom_value=True,
            elem_id=elem_id("train-embedding"),
        )
        refresh = gr.Button("🔄", elem_id=elem_id("train-refresh"), scale=0, min_width=40)
        c["template_filename"] = gr.Dropdown(
            label="Prompt template",
            choices=templates,
            value=default_template,
            elem_id=elem_id("train-template"),
            scale=2,
        )
    with gr.Row():
        kind = gr.Radio(["style", "subject"], value="style", label="Preset", elem_id=elem_id("train-kind"))
        presets_btn = gr.Button("Fill presets from the dataset", elem_id=elem_id("train-presets"))
    reasons = gr.Markdown(elem_id=elem_id("train-reasons"))
    with gr.Row():
        c["training_width"] = gr.Number(label="Width", value=512, precision=0, elem_id=elem_id("train-width"))
        c["training_height"] = gr.Number(
            label="Height", value=512, precision=0, elem_id=elem_id("train-height")
        )
        c["steps"] = gr.Number(label="Max steps", value=1500, precision=0, elem_id=elem_id("train-steps"))
        c["learn_rate"] = gr.Textbox(
            label="Learning rate (or schedule, e.g. 0.005:500, 0.001)",
            value="0.005",
            elem_id=elem_id("train-lr"),
        )
    with gr.Row():
        c["batch_size"] = gr.Number(label="Batch size", value=1, precision=0, elem_id=elem_id("train-batch"))
        c["gradient_step"] = gr.Number(
            label="Gradient accumulation", value=1, precision=0, elem_id=elem_id("train-accum")
        )
        c["save_embedding_every"] = gr.Number(
            label="Save embedding every N steps", value=50, precision=0, elem_id=elem_id("train-save-every")
        )
        c["create_image_every"] = gr.Number(
            label="Save image every N steps", value=50, precision=0, elem_id=elem_id("train-image-every")
        )
    with gr.Row():
        c["shuffle_tags"] = gr.Checkbox(label="Shuffle tags", value=True, elem_id=elem_id("train-shuffle"))
        c["tag_drop_out"] = gr.Slider(
            0, 1, value=0.1, step=0.05, label="Tag drop-out", elem_id=elem_id("train-dropout")
        )
        c["latent_sampling_method"] = gr.Radio(
            ["once", "deterministic", "random"],
            value="deterministic",
            label="Latent sampling",
            elem_id=elem_id("train-latent"),
        )
    with gr.Accordion("Advanced", open=False, elem_id=elem_id("train-advanced")):
        with gr.Row():
            c["log_directory"] = gr.Textbox(
                label="Log folder", value=log_default, elem_id=elem_id("train-log")
            )
            c["loss_csv_every"] = gr.Number(
                label="Loss plot: a point every N steps (the webui's CSV period for this run; 0 = leave it)",
                value=csv_default,
                precision=0,
                elem_id=elem_id("train-csv-every"),
            )
        with gr.Row():
            c["varsize"] = gr.Checkbox(
                label="Do not resize images", value=False, elem_id=elem_id("train-varsize")
            )
            c["use_weight"] = gr.Checkbox(
                label="Use PNG alpha as loss weight", value=False, elem_id=elem_id("train-weight")
            )
            c["save_image_with_stored_embedding"] = gr.Checkbox(
                label="Save images with embedding in PNG chunks",
                value=True,
                elem_id=elem_id("train-png-embed"),
            )
        with gr.Row():
            c["clip_grad_mode"] = gr.Radio(
                ["disabled", "value", "norm"],
                value="disabled",
                label="Gradient clipping",
                elem_id=elem_id("train-clip-mode"),
            )
            c["clip_grad_value"] = gr.Textbox(
                label="Clip value (or schedule)", value="0.1", elem_id=elem_id("train-clip")
            )
        c["preview_from_txt2img"] = gr.Checkbox(
            label="Previews use these txt2img settings", value=False, elem_id=elem_id("train-preview-txt2img")
        )
        with gr.Row():
            c["preview_prompt"] = gr.Textbox(label="Preview prompt", elem_id=elem_id("train-preview-prompt"))
            c["preview_negative_prompt"] = gr.Textbox(
                label="Negative prompt", elem_id=elem_id("train-preview-neg")
            )
        with gr.Row():
            c["preview_steps"] = gr.Number(
                label="Steps", value=20, precision=0, elem_id=elem_id("train-pv-steps")
            )
            c["preview_sampler_name"] = gr.Textbox(
                label="Sampler", value="Euler a", elem_id=elem_id("train-pv-sampler")
            )
            c["preview_cfg_scale"] = gr.Number(label="CFG scale", value=7.0, elem_id=elem_id("train-pv-cfg"))
            c["preview_seed"] = gr.Number(
                label="Seed", value=-1, precision=0, elem_id=elem_id("train-pv-seed")
            )
            c["preview_width"] = gr.Number(
                label="Width", value=512, precision=0, elem_id=elem_id("train-pv-w")
            )
            c["preview_height"] = gr.Number(
                label="Height", value=512, precision=0, elem_id=elem_id("train-pv-h")
            )
    with gr.Row():
        check_btn = gr.Button("Pre-flight check", elem_id=elem_id("train-preflight-btn"))
        run_btn = gr.Button("Train", variant="primary", interactive=ok, elem_id=elem_id("train-run"))
        stop_btn = gr.Button("Interrupt", interactive=ok, elem_id=elem_id("train-interrupt"))
    preflight_md = gr.Markdown(elem_id=elem_id("train-preflight"))
    crop_btn = gr.Button("Crop them (into a new folder)", visible=False, elem_id=elem_id("train-crop"))
    status = gr.HTML(elem_id=elem_id("train-status"))
    plot = gr.HTML(loss_chart([], title="Training loss"), elem_id=elem_id("train-plot"))
    with gr.Row():
        show_btn = gr.Button("Show loss of the run folder", elem_id=elem_id("train-show-loss"))
    files = gr.Markdown(elem_id=elem_id("train-files"))
    ctx.gate("train", run_btn, stop_btn, note=unavailable, render=_unavailable_box)

    form = [c[k] for k in FORM]
    run_folder = ctx.run_folder if ctx.run_folder is not None else gr.Textbox(visible=False)

    if ctx.prepared_folder is not None:
        ctx.prepared_folder.change(lambda v: v, inputs=[ctx.prepared_folder], outputs=[c["data_root"]])
    if ctx.embedding_name is not None:
        ctx.embedding_name.change(
            functools.partial(follow_embedding, host),
            inputs=[ctx.embedding_name],
            outputs=[c["embedding_name"]],
        )
    refresh.click(
        functools.partial(refresh_embeddings, host),
        inputs=[c["embedding_name"]],
        outputs=[c["embedding_name"]],
    )
    presets_btn.click(
        fill_presets, inputs=[c["data_root"], kind], outputs=[*(c[k] for k in PRESET_FIELDS), reasons]
    )
    check_btn.click(functools.partial(do_preflight, host), inputs=form, outputs=[preflight_md, crop_btn])
    crop_btn.click(
        do_crop,
        inputs=[c["data_root"], c["training_width"], c["training_height"]],
        outputs=[c["data_root"], preflight_md],
    )
    run_btn.click(
        functools.partial(run_train, host, poll),
        inputs=form,
        outputs=[preflight_md, status, plot, files, run_folder],
    )
    stop_btn.click(functools.partial(interrupt, host), outputs=[status])
    show_btn.click(show_loss, inputs=[run_folder, c["embedding_name"]], outputs=[plot, files])
