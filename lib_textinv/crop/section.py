"""Section "Crop": target size, Auto (a focal-point box per image), the box editor
(javascript/textinv_crop.js, talking through ``editor_state``) and the export with its summary.
Auto and Export run as jobs (``crop.work``): a progress bar with an ETA and one Stop each.

``render`` lays the section out, ``wire`` connects its buttons to the handlers below, which are
module-level functions on plain values (tests call them directly)."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lib_textinv.crop import formats, plan, upscalers, work
from lib_textinv.crop.editor_state import parse_boxes, state_json
from lib_textinv.crop.export import ExportOptions, ExportSummary
from lib_textinv.crop.focal import FocalWeights
from lib_textinv.kit import longwork
from lib_textinv.kit.host import Host
from lib_textinv.kit.ids import elem_id
from lib_textinv.kit.progress import Cancelled
from lib_textinv.kit.tab_context import TabContext

logger = logging.getLogger(__name__)

PREVIEW_SIDE = 640  # long side of the editor's preview images (JPEG data URLs)

HIDE_CSS = (
    "<style>#textinv-crop-state, #textinv-crop-boxes { display: none !important; }</style>"
    '<div class="textinv-hint">Press <b>Auto</b> to propose a box for every image. Click a thumbnail '
    "to edit: drag to move, drag a corner or use the mouse wheel to resize, arrow keys nudge (Shift: 10×), "
    "Enter / PageDown / Ctrl+→ next, Shift+Enter / PageUp / Ctrl+← previous, R reset to Auto, "
    "Delete exclude/include, Esc close.</div>"
)


# -- plain helpers ------------------------------------------------------------------------------


def check_size(width: Any, height: Any) -> tuple[int, int]:
    """Target size from the UI: whole multiples of 64 within the export's limits."""
    try:
        w, h = int(float(width)), int(float(height))
    except (TypeError, ValueError) as e:
        raise ValueError(f"the target size must be numbers, got {width!r}×{height!r}") from e
    for name, side in (("width", w), ("height", h)):
        try:
            plan.check_side(side)
        except ValueError as e:
            raise ValueError(f"the target {name} {e}") from e
    return plan.check_target(w, h)


def check_source(source: str | None) -> str:
    if not source or not source.strip():
        raise ValueError("no source folder: scan one in Dataset first, or type it in the workflow bar")
    return source.strip()


def checked_target(host: Host, source: str | None, width: Any, height: Any, dest: str | None) -> work.Target:
    size = check_size(width, height)
    return work.check_target(host, check_source(source), *size, (dest or "").strip() or None)


def message(text: str, bad: bool = False) -> str:
    cls = "textinv-summary textinv-bad" if bad else "textinv-summary"
    body = "<br>".join(html.escape(line) for line in text.splitlines())
    return f'<div class="{cls}">{body}</div>'


def summary_html(summary: ExportSummary) -> str:
    s = summary
    head = (
        f'<div class="textinv-summary" data-written="{len(s.written)}" data-upscaled="{len(s.upscaled)}" '
        f'data-excluded="{len(s.excluded)}" data-failed="{len(s.failed)}" '
        f'data-removed="{len(s.removed)}" data-kept="{len(s.kept)}" '
        f'data-interrupted="{str(s.interrupted).lower()}">'
    )
    lines = [
        f"<b>{'Stopped — ' if s.interrupted else ''}{len(s.written)} written</b>, "
        f"{len(s.upscaled)} upscaled, "
        f"{len(s.excluded)} excluded, {len(s.failed)} failed → <code>{html.escape(s.destination)}</code>"
    ]
    if s.interrupted:
        lines.append("The files written before Stop are complete and kept.")
    if s.upscaled:
        lines.append("Upscaled (smaller than their box): " + html.escape(", ".join(s.upscaled)))
    lines += [f"Failed: {html.escape(n)} — {html.escape(r)}" for n, r in s.failed]
    if s.removed:
        lines.append(
            "Removed what an earlier export of this folder wrote: " + html.escape(", ".join(s.removed))
        )
    lines += [f"Kept: {html.escape(k.name)} — {html.escape(k.reason)}" for k in s.kept]
    lines += [html.escape(n) for n in s.notes]
    return head + "<br>".join(lines) + "</div>"


def auto_message(proposals, notes: list[str], size: tuple[int, int]) -> str:
    bad = [p for p in proposals if p.error]
    # Edits of an earlier export: a moved box or an exclusion. Not an unreadable file (excluded
    # because it cannot be exported), nor a box that is Auto's own (the editor sends every box).
    restored = sum(1 for p in proposals if not p.error and (p.excluded or p.edited))
    text = f"{len(proposals) - len(bad)} images ready for {size[0]}×{size[1]}"
    if restored:
        text += f"; {restored} edit{'' if restored == 1 else 's'} restored from crops.json"
    return text + "".join(f"\n{p.name}: {p.error}" for p in bad) + "".join(f"\n{n}" for n in notes)


def weights_of(face: Any, corners: Any, entropy: Any) -> FocalWeights:
    return FocalWeights.from_dict({"face": face, "corners": corners, "entropy": entropy})


# -- handlers -----------------------------------------------------------------------------------


def do_auto(host: Host, source, width, height, dest, face, corners, entropy, bar=None) -> tuple[str, str]:
    """Auto: (state JSON for the editor, message HTML)."""
    try:
        target = checked_target(host, source, width, height, dest)
        req = work.AutoRequest(target, weights_of(face, corners, entropy), PREVIEW_SIDE)
        proposals, notes = work.run_auto(host, req, bar)
    except Cancelled:
        return "", message("Auto was stopped", bad=True)
    except (ValueError, RuntimeError, OSError) as e:
        return "", message(str(e), bad=True)
    t = req.target
    return (
        state_json(str(t.source), t.size, str(t.destination), proposals, notes),
        message(auto_message(proposals, notes, t.size)),
    )


def export_options(
    fmt, quality, flip, captions, upscaler, background, overwrite_captions=False
) -> ExportOptions:
    return ExportOptions(
        fmt or formats.DEFAULT,
        int(quality or 95),
        bool(flip),
        bool(captions),
        upscaler or upscalers.LOCAL_UPSCALER,
        background or "#ffffff",
        bool(overwrite_captions),
    ).validated()


def do_export(
    host: Host,
    source,
    width,
    height,
    dest,
    boxes_json,
    fmt,
    quality,
    flip,
    captions,
    upscaler,
    background,
    face,
    corners,
    entropy,
    bar=None,
    *,
    overwrite_captions: bool = False,
) -> tuple[str, Any]:
    """Export: (summary HTML, the destination for the workflow bar's prepared folder, or None).
    ``overwrite_captions``: replace captions edited in the destination since the last export."""
    try:
        target = checked_target(host, source, width, height, dest)
        options = export_options(fmt, quality, flip, captions, upscaler, background, overwrite_captions)
        boxes, note = parse_boxes(boxes_json, target.size)
        req = work.ExportRequest(target, options, weights_of(face, corners, entropy), boxes)
        summary = work.run_export(host, req, bar)
    except Cancelled:
        return message("Export was stopped; the files already written are complete", bad=True), None
    except (ValueError, RuntimeError, OSError) as e:
        return message(str(e), bad=True), None
    if note:
        summary.notes.append(note)
    return summary_html(summary), summary.destination


def upscaler_choices(host: Host) -> list[str]:
    return upscalers.choices(upscalers.upscaler_for(host))


# -- layout -------------------------------------------------------------------------------------


@dataclass
class OptionsUI:
    """Export options, in ``export_options``'s order."""

    fmt: Any
    quality: Any
    flip: Any
    captions: Any
    upscaler: Any
    background: Any
    overwrite_captions: Any  # passed by keyword (``do_export``'s last)

    def inputs(self) -> list[Any]:
        return [self.fmt, self.quality, self.flip, self.captions, self.upscaler, self.background]


@dataclass
class CropUI:
    width: Any
    height: Any
    dest: Any
    weights: tuple[Any, Any, Any]  # face, corners, entropy sliders
    auto: Any
    auto_stop: Any
    auto_msg: Any
    state: Any  # the editor's input (editor_state.state_json)
    boxes: Any  # the editor's output (editor_state.parse_boxes)
    options: OptionsUI
    export: Any
    export_stop: Any
    summary: Any


def _render_weights(host: Host) -> tuple[Any, Any, Any]:
    import gradio as gr

    face = float(host.setting("crop_face_weight", 0.9))
    corners = float(host.setting("crop_corners_weight", 0.5))
    entropy = float(host.setting("crop_entropy_weight", 0.15))
    with gr.Accordion("Focal point weights", open=False), gr.Row():
        return (
            gr.Slider(0, 2, value=face, step=0.05, label="Faces", elem_id=elem_id("crop-w-face")),
            gr.Slider(
                0, 2, value=corners, step=0.05, label="Corners / edges", elem_id=elem_id("crop-w-corners")
            ),
            gr.Slider(0, 2, value=entropy, step=0.05, label="Entropy", elem_id=elem_id("crop-w-entropy")),
        )


def _render_export_options(host: Host) -> OptionsUI:
    import gradio as gr

    with gr.Accordion("Export options", open=True):
        with gr.Row():
            fmt = gr.Radio(
                list(formats.NAMES), value=formats.DEFAULT, label="Format", elem_id=elem_id("crop-format")
            )
            quality = gr.Slider(
                50, 100, value=95, step=1, label="JPEG/WebP quality", elem_id=elem_id("crop-quality")
            )
            upscaler = gr.Dropdown(
                upscaler_choices(host),
                value=upscalers.LOCAL_UPSCALER,
                label="Upscaler for images smaller than their box",
                elem_id=elem_id("crop-upscaler"),
            )
        with gr.Row():
            flip = gr.Checkbox(label="Also write horizontally flipped copies", elem_id=elem_id("crop-flip"))
            captions = gr.Checkbox(
                value=True, label="Copy caption .txt files along", elem_id=elem_id("crop-captions")
            )
            overwrite_captions = gr.Checkbox(
                value=False,
                label="Overwrite captions edited since the last export",
                elem_id=elem_id("crop-overwrite-captions"),
            )
            background = gr.ColorPicker(
                value=host.setting("background", "#ffffff"),
                label="Background for transparent images",
                elem_id=elem_id("crop-background"),
            )
    return OptionsUI(fmt, quality, flip, captions, upscaler, background, overwrite_captions)


def render(ctx: TabContext) -> CropUI:
    import gradio as gr

    native = ctx.host.model_facts().native_resolution or 512
    gr.HTML(HIDE_CSS)
    with gr.Row():
        width = gr.Number(label="Width", value=native, precision=0, step=64, elem_id=elem_id("crop-width"))
        height = gr.Number(label="Height", value=native, precision=0, step=64, elem_id=elem_id("crop-height"))
        dest = gr.Textbox(
            label="Destination folder",
            placeholder="default: <source folder>/<W>x<H>",
            scale=3,
            elem_id=elem_id("crop-destination"),
        )
    ctx.model_sized += [width, height]
    weights = _render_weights(ctx.host)
    with gr.Row():
        auto = gr.Button("Auto", variant="primary", elem_id=elem_id("crop-auto"))
        auto_stop = gr.Button("Stop", elem_id=elem_id("crop-auto-stop"))
    auto_msg = gr.HTML(elem_id=elem_id("crop-message"))
    gr.HTML('<div class="textinv-crop-mount"></div>', elem_id=elem_id("crop-editor"))
    state = gr.Textbox(value="", label="crop state", elem_id=elem_id("crop-state"), interactive=True)
    boxes = gr.Textbox(value="", label="crop boxes", elem_id=elem_id("crop-boxes"), interactive=True)
    options = _render_export_options(ctx.host)
    with gr.Row():
        export = gr.Button("Export", variant="primary", elem_id=elem_id("crop-export"))
        export_stop = gr.Button("Stop", elem_id=elem_id("crop-export-stop"))
    summary = gr.HTML(elem_id=elem_id("crop-summary"))
    return CropUI(
        width,
        height,
        dest,
        weights,
        auto,
        auto_stop,
        auto_msg,
        state,
        boxes,
        options,
        export,
        export_stop,
        summary,
    )


# -- wiring -------------------------------------------------------------------------------------


def _stopper(host: Host, key: str) -> Callable[[], str]:
    return lambda: longwork.stop(host, key)


def wire(ctx: TabContext, ui: CropUI) -> None:
    import gradio as gr

    host = ctx.host

    def on_auto(source_v, w, h, dest_v, fw, cw, ew, progress=gr.Progress()):
        return do_auto(host, source_v, w, h, dest_v, fw, cw, ew, progress)

    def on_export(
        source_v, w, h, dest_v, boxes_v, fmt_v, q, fl, cap, up, bg, fw, cw, ew, ow, progress=gr.Progress()
    ):
        html_out, destination = do_export(
            host,
            source_v,
            w,
            h,
            dest_v,
            boxes_v,
            fmt_v,
            q,
            fl,
            cap,
            up,
            bg,
            fw,
            cw,
            ew,
            progress,
            overwrite_captions=ow,
        )
        return html_out, destination if destination else gr.update()

    target = [ctx.source_folder, ui.width, ui.height, ui.dest]
    auto_inputs = [*target, *ui.weights]
    ui.auto.click(on_auto, inputs=auto_inputs, outputs=[ui.state, ui.auto_msg])
    export_inputs = [*target, ui.boxes, *ui.options.inputs(), *ui.weights, ui.options.overwrite_captions]
    ui.export.click(on_export, inputs=export_inputs, outputs=[ui.summary, ctx.prepared_folder])
    # queue=False: a Stop must not wait in the queue behind the job it stops.
    ui.auto_stop.click(_stopper(host, work.AUTO_KEY), inputs=None, outputs=None, queue=False)
    ui.export_stop.click(_stopper(host, work.EXPORT_KEY), inputs=None, outputs=None, queue=False)


def build(ctx: TabContext) -> None:
    wire(ctx, render(ctx))
