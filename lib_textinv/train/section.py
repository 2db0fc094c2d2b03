"""Section "Train": presets from the dataset, pre-flight, Train/Interrupt through the webui's own
``train_embedding`` in its queue, an honest outcome, and a live loss plot.

The form is drawn from the parameter table (``train.params``: label, row, default, bounds of each
parameter). Train is a generator handler: it starts the training job (``train.job``, the same job
``POST /train`` starts) and yields status, plot and files while the job runs. A "Show loss"
button redraws any run folder later.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from lib_textinv.kit.host import Host
from lib_textinv.kit.ids import elem_id
from lib_textinv.kit.tab_context import TabContext
from lib_textinv.train import handlers
from lib_textinv.train.display import unavailable_box
from lib_textinv.train.loss_csv import loss_chart
from lib_textinv.train.params import FORM, PRESET_FIELDS, ROWS, Param, host_default
from lib_textinv.train.presets import TEMPLATES


@dataclass
class TrainUI:
    form: dict[str, Any]  # parameter name → its input
    refresh: Any
    kind: Any
    presets: Any
    reasons: Any
    check: Any
    run: Any
    stop: Any
    preflight: Any
    crop: Any
    status: Any
    plot: Any
    show: Any
    files: Any
    run_folder: Any

    def inputs(self) -> list[Any]:
        return [self.form[k] for k in FORM]


def _widget(p: Param, **over: Any) -> Any:
    """The input of one parameter, from its table entry (``over`` replaces entries, e.g. choices)."""
    import gradio as gr

    kw: dict[str, Any] = {"label": p.label, "elem_id": elem_id(p.elem), "value": p.default}
    if p.scale is not None:
        kw["scale"] = p.scale
    kw.update(over)
    if p.widget == "dropdown":
        return gr.Dropdown(**kw)
    if p.widget == "slider":
        return gr.Slider(minimum=p.lo, maximum=p.hi, step=p.step, **kw)
    if p.choices:
        return gr.Radio(list(p.choices), **kw)
    if p.kind == "bool":
        return gr.Checkbox(**kw)
    if p.kind in ("int", "float"):
        return gr.Number(precision=0 if p.kind == "int" else None, **kw)
    return gr.Textbox(**kw)


def _overrides(host: Host) -> dict[str, dict[str, Any]]:
    """What the host decides about some inputs: choices, and defaults worked out at each start."""
    templates = sorted(host.templates()) or [TEMPLATES["style"][0]]
    template = TEMPLATES["style"][0] if TEMPLATES["style"][0] in templates else templates[0]
    return {
        "data_root": {"value": ""},
        "embedding_name": {
            "choices": handlers.embedding_choices(host),
            "value": None,
            "allow_custom_value": True,
        },
        "template_filename": {"choices": templates, "value": template},
        "log_directory": {"value": host_default(host, "log_directory")},
        "loss_csv_every": {"value": host_default(host, "loss_csv_every")},
    }


def _render_rows(rows: list[str], over: dict[str, dict[str, Any]], form: dict[str, Any]) -> None:
    import gradio as gr

    for row in rows:
        with gr.Row():
            for p in ROWS[row]:
                form[p.name] = _widget(p, **over.get(p.name, {}))


def _render_form(ctx: TabContext) -> tuple[dict[str, Any], Any, Any, Any, Any]:
    """The parameters' inputs, with the preset controls under the first row."""
    import gradio as gr

    over = _overrides(ctx.host)
    form: dict[str, Any] = {}
    with gr.Row():
        for p in ROWS["source"]:
            form[p.name] = _widget(p, **over.get(p.name, {}))
            if p.name == "embedding_name":
                refresh = gr.Button("🔄", elem_id=elem_id("train-refresh"), scale=0, min_width=40)
    with gr.Row():
        kind = gr.Radio(list(TEMPLATES), value="style", label="Preset", elem_id=elem_id("train-kind"))
        presets = gr.Button("Fill presets from the dataset", elem_id=elem_id("train-presets"))
    reasons = gr.Markdown(elem_id=elem_id("train-reasons"))
    main = [r for r, ps in ROWS.items() if r != "source" and not ps[0].advanced]
    _render_rows(main, over, form)
    with gr.Accordion("Advanced", open=False, elem_id=elem_id("train-advanced")):
        _render_rows([r for r, ps in ROWS.items() if ps[0].advanced], over, form)
    ctx.per_start += [form["log_directory"], form["loss_csv_every"]]
    return form, refresh, kind, presets, reasons


def render(ctx: TabContext) -> TrainUI:
    import gradio as gr

    ok, why = ctx.host.feature("train")
    unavailable = gr.HTML(
        unavailable_box(why) if not ok else "", elem_id=elem_id("train-unavailable"), visible=not ok
    )
    form, refresh, kind, presets, reasons = _render_form(ctx)
    with gr.Row():
        check = gr.Button("Pre-flight check", elem_id=elem_id("train-preflight-btn"))
        run = gr.Button("Train", variant="primary", interactive=ok, elem_id=elem_id("train-run"))
        stop = gr.Button("Interrupt", interactive=ok, elem_id=elem_id("train-interrupt"))
    preflight = gr.Markdown(elem_id=elem_id("train-preflight"))
    crop = gr.Button("Crop them (into a new folder)", visible=False, elem_id=elem_id("train-crop"))
    status = gr.HTML(elem_id=elem_id("train-status"))
    plot = gr.HTML(loss_chart([], title="Training loss"), elem_id=elem_id("train-plot"))
    with gr.Row():
        show = gr.Button("Show loss of the run folder", elem_id=elem_id("train-show-loss"))
    files = gr.Markdown(elem_id=elem_id("train-files"))
    ctx.gate("train", run, stop, note=unavailable, render=unavailable_box)
    run_folder = ctx.run_folder if ctx.run_folder is not None else gr.Textbox(visible=False)
    return TrainUI(
        form, refresh, kind, presets, reasons, check, run, stop, preflight, crop, status, plot, show, files,
        run_folder,
    )  # fmt: skip


def _wire_workflow(ctx: TabContext, ui: TrainUI) -> None:
    """Follow the folder and the embedding the earlier sections hand over."""
    host = ctx.host
    if ctx.prepared_folder is not None:
        ctx.prepared_folder.change(lambda v: v, inputs=[ctx.prepared_folder], outputs=[ui.form["data_root"]])
    if ctx.embedding_name is not None:
        ctx.embedding_name.change(
            functools.partial(handlers.follow_embedding, host),
            inputs=[ctx.embedding_name],
            outputs=[ui.form["embedding_name"]],
        )
    ui.refresh.click(
        functools.partial(handlers.refresh_embeddings, host),
        inputs=[ui.form["embedding_name"]],
        outputs=[ui.form["embedding_name"]],
    )


def wire(ctx: TabContext, ui: TrainUI) -> None:
    host, form = ctx.host, ui.form
    poll = float(host.setting("train_poll_seconds", handlers.DEFAULT_POLL_SECONDS) or 2.0)
    _wire_workflow(ctx, ui)
    ui.presets.click(
        functools.partial(handlers.fill_presets, host),
        inputs=[form["data_root"], ui.kind],
        outputs=[*(form[k] for k in PRESET_FIELDS), ui.reasons],
    )
    ui.check.click(
        functools.partial(handlers.do_preflight, host), inputs=ui.inputs(), outputs=[ui.preflight, ui.crop]
    )
    ui.crop.click(
        functools.partial(handlers.do_crop, host),
        inputs=[form["data_root"], form["training_width"], form["training_height"]],
        outputs=[form["data_root"], ui.preflight],
    )
    ui.run.click(
        functools.partial(handlers.run_train, host, poll),
        inputs=ui.inputs(),
        outputs=[ui.preflight, ui.status, ui.plot, ui.files, ui.run_folder],
    )
    # queue=False: a Stop must not wait in the queue behind the run it stops.
    ui.stop.click(functools.partial(handlers.interrupt, host), outputs=[ui.status], queue=False)
    ui.show.click(
        functools.partial(handlers.show_loss, host),
        inputs=[ui.run_folder, form["embedding_name"]],
        outputs=[ui.plot, ui.files],
    )


def build(ctx: TabContext) -> None:
    wire(ctx, render(ctx))
