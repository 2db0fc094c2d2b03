"""Section "Autopilot" (the first one): from a folder of pictures to a chosen, promoted trigger
word in one click. Plan shows every decision with its reason, the time per stage and the disk;
any value can be changed (the fields, the pictures left out, or the whole plan as JSON); Run
executes every step through the other sections' own code as one job (stage and ETA, Stop);
Resume continues a stopped run; the report shows how the embedding was made, with the text to
type in txt2img and a button that sends it there.

``render`` lays the section out, ``wire`` connects it to ``handlers`` (plain values)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from lib_textinv.autopilot import handlers
from lib_textinv.autopilot.plan import CAPTION_SOURCES, EDITABLE, KINDS
from lib_textinv.compare.section import SEND_TO_TXT2IMG_JS, js_kwargs
from lib_textinv.kit.tab_context import TabContext

INTRO = (
    "From a folder of pictures to a promoted trigger word: **Plan** shows every decision and why; "
    "change any value; **Run** does scan → crop → captions → create → train → fixed-batch loss → "
    "images of the candidate steps → scores → choice → promotion. Every step is the one of its "
    "own section, which stays there to do it by hand."
)


@dataclass
class AutopilotView:
    folder: Any
    name: Any
    kind: Any
    budget: tuple[Any, Any]  # the time budget and the training size
    plan_button: Any
    resume: Any
    message: Any
    plan_page: Any
    boxes: Any
    fields: list[Any]
    left_out: Any
    json_box: Any
    run: Any
    stop: Any
    status: Any
    report: Any
    to_type: Any
    send: Any
    report_file: Any
    state: Any


def render_inputs(ctx: TabContext) -> tuple[Any, ...]:
    import gradio as gr

    eid = ctx.elem_id
    gr.Markdown(INTRO)
    with gr.Row():
        folder = gr.Textbox(label="Folder of pictures", scale=3, elem_id=eid("autopilot-folder"))
        name = gr.Textbox(label="Embedding name", scale=2, elem_id=eid("autopilot-name"))
        kind = gr.Radio(list(KINDS), value="style", label="What it is", elem_id=eid("autopilot-kind"))
        budget = gr.Number(value=0, label="Time budget (minutes, 0 = none)", elem_id=eid("autopilot-budget"))
        size = gr.Number(
            value=0, precision=0, label="Training size (px, 0 = the model's)", elem_id=eid("autopilot-size")
        )
    with gr.Row():
        plan_button = gr.Button("Plan", variant="primary", elem_id=eid("autopilot-plan-button"))
        resume = gr.Button("Resume", elem_id=eid("autopilot-resume"))
    message = gr.HTML(elem_id=eid("autopilot-message"))
    return folder, name, kind, (budget, size), plan_button, resume, message


def _field(ctx: TabContext, key: str) -> Any:
    import gradio as gr

    spec, eid = EDITABLE[key], ctx.elem_id(f"autopilot-{key.replace('_', '-')}")
    if key == "trainer":
        return gr.Radio(list(spec.choices), label=spec.label, elem_id=eid)
    if key == "captions":
        return gr.Radio(list(CAPTION_SOURCES), label=spec.label, elem_id=eid)
    if key in ("prompts", "seeds"):
        return gr.Textbox(label=spec.label, lines=4 if key == "prompts" else 1, elem_id=eid)
    if spec.kind is int:
        return gr.Number(label=spec.label, precision=0, elem_id=eid)
    return gr.Textbox(label=spec.label, elem_id=eid)


def render_plan(ctx: TabContext) -> tuple[Any, ...]:
    import gradio as gr

    eid = ctx.elem_id
    plan_page = gr.HTML(elem_id=eid("autopilot-plan"))
    boxes = gr.Gallery(label="Crop boxes", columns=8, height=220, elem_id=eid("autopilot-boxes"))
    with gr.Accordion("Change the plan", open=True):
        with gr.Row():
            fields = [_field(ctx, k) for k in handlers.FIELDS[:5]]
        with gr.Row():
            fields += [_field(ctx, k) for k in handlers.FIELDS[5:8]]
        with gr.Row():
            fields += [_field(ctx, k) for k in handlers.FIELDS[8:]]
        left_out = gr.CheckboxGroup(label="Leave out", choices=[], elem_id=eid("autopilot-left-out"))
        with gr.Accordion("Every value (JSON)", open=False):
            json_box = gr.Code(language="json", label="Plan", elem_id=eid("autopilot-json"))
    return plan_page, boxes, fields, left_out, json_box


def render_run(ctx: TabContext) -> tuple[Any, ...]:
    import gradio as gr

    eid, reason = ctx.elem_id, ctx.unavailable_reason("train")
    with gr.Row():
        run = gr.Button("Run", variant="primary", interactive=reason is None, elem_id=eid("autopilot-run"))
        stop = gr.Button("Stop", elem_id=eid("autopilot-stop"))
    note = gr.Markdown(f"⚠ {reason}" if reason else "", visible=reason is not None)
    ctx.gate("train", run, note=note)
    status = gr.HTML(elem_id=eid("autopilot-status"))
    with gr.Row():
        to_type = gr.Textbox(
            label="Text for txt2img", interactive=False, scale=4, elem_id=eid("autopilot-text")
        )
        send = gr.Button("Send it to txt2img", scale=1, elem_id=eid("autopilot-send"))
        report_file = gr.Textbox(
            label="Report file", interactive=False, scale=3, elem_id=eid("autopilot-file")
        )
    report = gr.HTML(elem_id=eid("autopilot-report"))
    return run, stop, status, report, to_type, send, report_file


def render(ctx: TabContext) -> AutopilotView:
    import gradio as gr

    folder, name, kind, budget, plan_button, resume, message = render_inputs(ctx)
    plan_page, boxes, fields, left_out, json_box = render_plan(ctx)
    run, stop, status, report, to_type, send, report_file = render_run(ctx)
    return AutopilotView(
        folder, name, kind, budget, plan_button, resume, message, plan_page, boxes, fields, left_out,
        json_box, run, stop, status, report, to_type, send, report_file, gr.State(None),
    )  # fmt: skip


def wire(ctx: TabContext, view: AutopilotView) -> None:
    import gradio as gr

    host, v = ctx.host, view

    def on_plan(folder, name, kind, budget, size, progress=gr.Progress()):
        return handlers.do_plan(host, folder, name, kind, budget, size, progress)

    plan_outputs = [v.state, v.plan_page, v.boxes, *v.fields, v.left_out, v.json_box, v.message]
    v.plan_button.click(on_plan, inputs=[v.folder, v.name, v.kind, *v.budget], outputs=plan_outputs)
    run_outputs = [v.status, v.report, v.to_type, v.report_file]
    v.run.click(
        partial(handlers.do_run, host),
        inputs=[v.state, v.json_box, v.left_out, *v.fields],
        outputs=run_outputs,
    )
    v.resume.click(partial(handlers.do_resume, host), inputs=[v.folder, v.name], outputs=run_outputs)
    v.stop.click(lambda: handlers.do_stop(host), inputs=[], outputs=[v.status], queue=False)
    v.send.click(None, inputs=[v.to_type], outputs=[v.to_type], **js_kwargs(v.send.click, SEND_TO_TXT2IMG_JS))
    if ctx.source_folder is not None:
        ctx.source_folder.change(lambda f: f or gr.update(), inputs=[ctx.source_folder], outputs=[v.folder])


def build(ctx: TabContext) -> AutopilotView:
    view = render(ctx)
    wire(ctx, view)
    return view
