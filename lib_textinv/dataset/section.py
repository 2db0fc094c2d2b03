"""Section "Dataset": pick a folder, scan it, see every file's problems before anything else."""

from __future__ import annotations

import html
import logging

from lib_textinv.dataset.recent import RecentFolders
from lib_textinv.dataset.scan import REFUSED, WARNING, ScanOptions, ScanReport, scan_folder, thumbnail
from lib_textinv.kit import longwork as ui_progress
from lib_textinv.kit.ids import elem_id
from lib_textinv.kit.images import Background
from lib_textinv.kit.tab_context import TabContext

logger = logging.getLogger(__name__)

TABLE_HEADERS = ["File", "Format", "Pixels", "Status", "What will happen", "Problems"]
MAX_THUMBNAILS = 200  # the gallery is a preview; the table lists every file


def table_rows(report: ScanReport) -> list[list[str]]:
    rows = []
    for f in report.files:
        pixels = f"{f.width}×{f.height}" if f.width else ""
        problems = "; ".join(p.message for p in f.problems)
        rows.append([f.name, f.format, pixels, f.status, f.action, problems])
    return rows


def summary_html(report: ScanReport) -> str:
    c = report.counts
    cls = "textinv-bad" if c[REFUSED] else ("textinv-warn" if c[WARNING] else "textinv-good")
    return (
        f'<div class="textinv-summary {cls}" data-usable="{c["ok"] + c[WARNING]}" '
        f'data-warnings="{c[WARNING]}" data-refused="{c[REFUSED]}">{html.escape(report.summary)}</div>'
    )


def gallery_items(report: ScanReport, background: Background) -> list[tuple]:
    items = []
    for f in report.files[:MAX_THUMBNAILS]:
        if f.status == REFUSED:
            continue
        im = thumbnail(f.path, background=background)
        if im is not None:
            items.append((im, f"{f.name} — {f.status}"))
    return items


def recent_store(ctx: TabContext) -> RecentFolders:
    limit = int(ctx.host.setting("recent_folders", 10) or 0)
    return RecentFolders(ctx.host.state_file("recent-folders.json"), limit)


def do_scan(ctx: TabContext, folder: str, width: int, height: int, background: str, max_mp: float, bar=None):
    """Scan handler: (summary html, table rows, gallery items, recent choices, source folder)."""
    folder = (folder or "").strip()
    bg = Background.parse(background or "#ffffff")
    opts = ScanOptions(
        width=int(width), height=int(height), background=bg, max_pixels=int(float(max_mp) * 1_000_000)
    )
    report = ui_progress.run(
        ctx.host, "dataset-scan", f"Scanning {folder}", lambda p: scan_folder(folder, opts, p), bar
    )
    recent = recent_store(ctx).add(report.folder)
    return summary_html(report), table_rows(report), gallery_items(report, bg), recent, report.folder


def build(ctx: TabContext) -> None:
    import gradio as gr

    facts = ctx.host.model_facts()
    size = facts.native_resolution or 512
    recent = recent_store(ctx).load()
    with gr.Row():
        folder = gr.Textbox(
            label="Image folder",
            placeholder="/path/to/your/images",
            scale=4,
            elem_id=elem_id("dataset-folder"),
        )
        recent_dd = gr.Dropdown(
            label="Recent folders", choices=recent, value=None, scale=2, elem_id=elem_id("dataset-recent")
        )
    with gr.Accordion("Scan options", open=False):
        with gr.Row():
            width = gr.Number(
                label="Training width", value=size, precision=0, elem_id=elem_id("dataset-width")
            )
            height = gr.Number(
                label="Training height", value=size, precision=0, elem_id=elem_id("dataset-height")
            )
            background = gr.ColorPicker(
                label="Background for transparent images",
                value=ctx.host.setting("background", "#ffffff"),
                elem_id=elem_id("dataset-background"),
            )
            max_mp = gr.Number(
                label="Pixel limit (megapixels)",
                value=ctx.host.setting("max_megapixels", 100),
                elem_id=elem_id("dataset-max-mp"),
            )
    ctx.model_sized += [width, height]
    ctx.per_start.append(max_mp)
    with gr.Row():
        scan = gr.Button("Scan", variant="primary", elem_id=elem_id("dataset-scan"))
        stop = gr.Button("Stop", elem_id=elem_id("dataset-stop"))
    summary = gr.HTML(elem_id=elem_id("dataset-summary"))
    table = gr.Dataframe(
        headers=TABLE_HEADERS,
        datatype=["str"] * len(TABLE_HEADERS),
        interactive=False,
        wrap=True,
        elem_id=elem_id("dataset-table"),
    )
    gallery = gr.Gallery(label="Usable images", columns=8, height="auto", elem_id=elem_id("dataset-gallery"))

    def on_scan(folder_v, w, h, bg, mp, progress=gr.Progress()):
        try:
            s, rows, items, rec, real = do_scan(ctx, folder_v, w, h, bg, mp, progress)
        except (ValueError, RuntimeError) as e:
            msg = f'<div class="textinv-summary textinv-bad">{html.escape(str(e))}</div>'
            return msg, [], [], gr.update(), gr.update()
        return s, rows, items, gr.update(choices=rec), real

    scan.click(
        on_scan,
        inputs=[folder, width, height, background, max_mp],
        outputs=[summary, table, gallery, recent_dd, ctx.source_folder],
    )
    stop.click(lambda: ui_progress.stop(ctx.host, "dataset-scan"), inputs=None, outputs=None)
    recent_dd.change(lambda v: v or gr.update(), inputs=recent_dd, outputs=folder)
