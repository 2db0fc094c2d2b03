"""Section "Crop": target size, Auto (a focal-point box per image), the box editor
(javascript/textinv_crop.js) and the export with its summary.

Python and the editor talk through two hidden textboxes of JSON:
  ``#textinv-crop-state``  Python → JS: target, every image's size, Auto's box, the box in use
                           (restored from crops.json), exclusion and a preview (data URL);
  ``#textinv-crop-boxes``  JS → Python: {"target": [W, H], "images": {name: {"box": [...],
                           "excluded": bool}}}, set by the editor after each edit.
Handlers are module-level functions on plain values.
"""

from __future__ import annotations

import base64
import html
import io
import json
import logging
from typing import Any

from lib_textinv.crop import export as crop_export
from lib_textinv.crop.export import ExportOptions, ExportSummary
from lib_textinv.crop.focal import FocalWeights
from lib_textinv.kit import longwork as ui_progress
from lib_textinv.kit.ids import elem_id
from lib_textinv.kit.progress import Cancelled
from lib_textinv.kit.tab_context import TabContext

logger = logging.getLogger(__name__)

PREVIEW_SIDE = 640  # long side of the editor's preview images (JPEG data URLs)
FORMAT_CHOICES = ["PNG", "JPEG", "WEBP"]
AUTO_KEY, EXPORT_KEY = "crop-auto", "crop-export"

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
    if w % 64 or h % 64:
        raise ValueError(
            f"the target size must be a multiple of 64 (got {w}×{h}); try {round(w / 64) * 64}×"
            f"{round(h / 64) * 64}"
        )
    return crop_export.check_target(w, h)


def check_source(source: str | None) -> str:
    if not (source or "").strip():
        raise ValueError("no source folder: scan one in Dataset first, or type it in the workflow bar")
    return source.strip()


def destination_for(source: str, size: tuple[int, int], dest: str | None) -> str:
    return (dest or "").strip() or str(crop_export.default_destination(source, *size))


def data_url(image) -> str:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=82)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def message(text: str, bad: bool = False) -> str:
    cls = "textinv-summary textinv-bad" if bad else "textinv-summary"
    body = "<br>".join(html.escape(line) for line in text.splitlines())
    return f'<div class="{cls}">{body}</div>'


def parse_boxes(boxes_json: str | None, size: tuple[int, int]) -> tuple[dict | None, str | None]:
    """The editor's boxes, or (None, why) when there are none or they were drawn for another size."""
    if not (boxes_json or "").strip():
        return None, None
    try:
        data = json.loads(boxes_json)
    except json.JSONDecodeError as e:
        return None, f"ignored the editor's boxes: not JSON ({e})"
    if not isinstance(data, dict) or not isinstance(data.get("images"), dict):
        return None, "ignored the editor's boxes: unexpected layout"
    if list(data.get("target") or []) != list(size):
        return None, "the boxes were drawn for another size: press Auto again to edit them for this one"
    return data["images"], None


def state_json(source: str, size: tuple[int, int], dest: str, proposals, notes: list[str]) -> str:
    images = []
    for p in proposals:
        d = p.as_dict()
        if p.preview is not None:
            d["preview"] = data_url(p.preview)
            d["preview_size"] = list(p.preview.size)
        images.append(d)
    return json.dumps(
        {"source": source, "target": list(size), "destination": dest, "images": images, "notes": notes},
        ensure_ascii=False,
    )


def summary_html(summary: ExportSummary) -> str:
    s = summary
    head = (
        f'<div class="textinv-summary" data-written="{len(s.written)}" data-upscaled="{len(s.upscaled)}" '
        f'data-excluded="{len(s.excluded)}" data-failed="{len(s.failed)}" '
        f'data-interrupted="{str(s.interrupted).lower()}">'
    )
    lines = [
        f"<b>{'Interrupted — ' if s.interrupted else ''}{len(s.written)} written</b>, "
        f"{len(s.upscaled)} upscaled, "
        f"{len(s.excluded)} excluded, {len(s.failed)} failed → <code>{html.escape(s.destination)}</code>"
    ]
    if s.upscaled:
        lines.append("Upscaled (smaller than their box): " + html.escape(", ".join(s.upscaled)))
    lines += [f"Failed: {html.escape(n)} — {html.escape(r)}" for n, r in s.failed]
    if s.removed:
        lines.append("Removed outputs of an earlier export: " + html.escape(", ".join(s.removed)))
    lines += [html.escape(n) for n in s.notes]
    return head + "<br>".join(lines) + "</div>"


# -- handlers -----------------------------------------------------------------------------------


def do_auto(host, source, width, height, dest, face, corners, entropy, bar=None) -> tuple[str, str]:
    """Auto: (state JSON for the editor, message HTML)."""
    try:
        size = check_size(width, height)
        source = check_source(source)
        weights = FocalWeights.from_dict({"face": face, "corners": corners, "entropy": entropy})
        destination = destination_for(source, size, dest)
        proposals, notes = ui_progress.run(
            host,
            AUTO_KEY,
            "Crop: finding focal points",
            lambda p: crop_export.propose_boxes(
                source, size, destination, weights, p, preview_side=PREVIEW_SIDE
            ),
            bar,
        )
    except Cancelled:
        return "", message("Auto was stopped", bad=True)
    except (ValueError, RuntimeError, OSError) as e:
        return "", message(str(e), bad=True)
    bad = [p for p in proposals if p.error]
    # Edits of an earlier export: a moved box or an exclusion. Not an unreadable file (excluded
    # because it cannot be exported), nor a box that is Auto's own (the editor sends every box).
    restored = sum(
        1 for p in proposals if not p.error and (p.excluded or (p.box is not None and p.box != p.auto))
    )
    text = f"{len(proposals) - len(bad)} images ready for {size[0]}×{size[1]}"
    if restored:
        text += f"; {restored} edit{'' if restored == 1 else 's'} restored from crops.json"
    text += "".join(f"\n{p.name}: {p.error}" for p in bad) + "".join(f"\n{n}" for n in notes)
    return state_json(source, size, destination, proposals, notes), message(text)


def do_export(
    host,
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
) -> tuple[str, Any]:
    """Export: (summary HTML, the destination for the workflow bar's prepared folder, or None)."""
    try:
        size = check_size(width, height)
        source = check_source(source)
        weights = FocalWeights.from_dict({"face": face, "corners": corners, "entropy": entropy})
        options = ExportOptions(
            fmt or "PNG",
            int(quality or 95),
            bool(flip),
            bool(captions),
            upscaler or crop_export.LOCAL_UPSCALER,
            background or "#ffffff",
        ).validated()
        boxes, note = parse_boxes(boxes_json, size)
        destination = destination_for(source, size, dest)
        summary = ui_progress.run(
            host,
            EXPORT_KEY,
            "Crop: exporting",
            lambda p: crop_export.export_folder(
                source, size, destination, boxes, options, weights, p, crop_export.upscaler_for(host)
            ),
            bar,
        )
    except Cancelled:
        return message("Export was stopped; files already written are complete", bad=True), None
    except (ValueError, RuntimeError, OSError) as e:
        return message(str(e), bad=True), None
    if note:
        summary.notes.append(note)
    return summary_html(summary), summary.destination


def upscaler_choices(host) -> list[str]:
    names = list(crop_export.upscaler_for(host).list_upscalers())
    return [crop_export.LOCAL_UPSCALER] + [n for n in names if n != crop_export.LOCAL_UPSCALER]


# -- layout -------------------------------------------------------------------------------------


def build(ctx: TabContext) -> None:
    import gradio as gr

    host = ctx.host
    native = ctx.host.model_facts().native_resolution or 512
    weights = FocalWeights(
        face=float(host.setting("crop_face_weight", 0.9)),
        corners=float(host.setting("crop_corners_weight", 0.5)),
        entropy=float(host.setting("crop_entropy_weight", 0.15)),
    )
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
    with gr.Accordion("Focal point weights", open=False):
        with gr.Row():
            face = gr.Slider(
                0, 2, value=weights.face, step=0.05, label="Faces", elem_id=elem_id("crop-w-face")
            )
            corners = gr.Slider(
                0,
                2,
                value=weights.corners,
                step=0.05,
                label="Corners / edges",
                elem_id=elem_id("crop-w-corners"),
            )
            entropy = gr.Slider(
                0, 2, value=weights.entropy, step=0.05, label="Entropy", elem_id=elem_id("crop-w-entropy")
            )
    with gr.Row():
        auto = gr.Button("Auto", variant="primary", elem_id=elem_id("crop-auto"))
        auto_stop = gr.Button("Stop", elem_id=elem_id("crop-auto-stop"))
    auto_msg = gr.HTML(elem_id=elem_id("crop-message"))
    gr.HTML('<div class="textinv-crop-mount"></div>', elem_id=elem_id("crop-editor"))
    state = gr.Textbox(value="", label="crop state", elem_id=elem_id("crop-state"), interactive=True)
    boxes = gr.Textbox(value="", label="crop boxes", elem_id=elem_id("crop-boxes"), interactive=True)
    with gr.Accordion("Export options", open=True):
        with gr.Row():
            fmt = gr.Radio(FORMAT_CHOICES, value="PNG", label="Format", elem_id=elem_id("crop-format"))
            quality = gr.Slider(
                50, 100, value=95, step=1, label="JPEG/WebP quality", elem_id=elem_id("crop-quality")
            )
            upscaler = gr.Dropdown(
                upscaler_choices(host),
                value=crop_export.LOCAL_UPSCALER,
                label="Upscaler for images smaller than their box",
                elem_id=elem_id("crop-upscaler"),
            )
        with gr.Row():
            flip = gr.Checkbox(label="Also write horizontally flipped copies", elem_id=elem_id("crop-flip"))
            captions = gr.Checkbox(
                value=True, label="Copy caption .txt files along", elem_id=elem_id("crop-captions")
            )
            background = gr.ColorPicker(
                value=host.setting("background", "#ffffff"),
                label="Background for transparent images",
                elem_id=elem_id("crop-background"),
            )
    with gr.Row():
        export = gr.Button("Export", variant="primary", elem_id=elem_id("crop-export"))
        export_stop = gr.Button("Stop", elem_id=elem_id("crop-export-stop"))
    summary = gr.HTML(elem_id=elem_id("crop-summary"))

    def on_auto(source_v, w, h, dest_v, fw, cw, ew, progress=gr.Progress()):
        return do_auto(host, source_v, w, h, dest_v, fw, cw, ew, progress)

    def on_export(
        source_v, w, h, dest_v, boxes_v, fmt_v, q, fl, cap, up, bg, fw, cw, ew, progress=gr.Progress()
    ):
        html_out, destination = do_export(
            host, source_v, w, h, dest_v, boxes_v, fmt_v, q, fl, cap, up, bg, fw, cw, ew, progress
        )
        return html_out, destination if destination else gr.update()

    auto.click(
        on_auto,
        inputs=[ctx.source_folder, width, height, dest, face, corners, entropy],
        outputs=[state, auto_msg],
    )
    auto_stop.click(lambda: ui_progress.stop(host, AUTO_KEY), inputs=None, outputs=None)
    export.click(
        on_export,
        inputs=[
            ctx.source_folder,
            width,
            height,
            dest,
            boxes,
            fmt,
            quality,
            flip,
            captions,
            upscaler,
            background,
            face,
            corners,
            entropy,
        ],
        outputs=[summary, ctx.prepared_folder],
    )
    export_stop.click(lambda: ui_progress.stop(host, EXPORT_KEY), inputs=None, outputs=None)
