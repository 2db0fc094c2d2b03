"""Section "Dataset": pick a folder, scan it, see every file's problems before anything else.
The scan is a job (``dataset.work``): a progress bar with an ETA and a Stop.

``render`` lays the section out, ``wire`` connects it to the handler ``do_scan`` (plain values)."""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from typing import Any

from lib_textinv.dataset.recent import RecentFolders
from lib_textinv.dataset.scan import REFUSED, WARNING, Outcome, ScanOptions, ScanReport, thumbnail
from lib_textinv.dataset.work import SCAN_KEY, run_scan
from lib_textinv.kit import longwork
from lib_textinv.kit.folder_guard import Forbidden
from lib_textinv.kit.ids import elem_id
from lib_textinv.kit.images import Background
from lib_textinv.kit.tab_context import TabContext

logger = logging.getLogger(__name__)

TABLE_HEADERS = ["File", "Format", "Pixels", "Status", "What will happen", "Problems / notes"]
OTHER_STATUS = "not an image"  # the Status of an entry that is not one of the folder's images
MAX_THUMBNAILS = 200  # the gallery is a preview; the table lists every file


def table_rows(report: ScanReport) -> list[list[str]]:
    rows = []
    for f in report.files:
        pixels = f"{f.width}×{f.height}" if f.width else ""
        problems = "; ".join(p.message for p in f.problems)
        rows.append([f.name, f.format, pixels, f.status, f.action, problems])
    for e in report.others:
        rows.append([e.name, e.kind.value, "", OTHER_STATUS, e.ours, f"the webui's trainer {e.trainer}"])
    return rows


# The summary's colour follows the outcome, not the mere presence of a refused file.
OUTCOME_CLASS = {
    Outcome.OK: "textinv-good",
    Outcome.SOME_REFUSED: "textinv-warn",
    Outcome.MOST_REFUSED: "textinv-bad",
}


def summary_html(report: ScanReport) -> str:
    c = report.counts
    cls = OUTCOME_CLASS[report.outcome]
    return (
        f'<div class="textinv-summary {cls}" data-outcome="{report.outcome.value}" '
        f'data-usable="{c["ok"] + c[WARNING]}" '
        f'data-warnings="{c[WARNING]}" data-refused="{c[REFUSED]}" '
        f'data-interrupted="{str(report.cancelled).lower()}">{html.escape(report.summary)}</div>'
    )


def error_html(e: BaseException) -> str:
    return f'<div class="textinv-summary textinv-bad">{html.escape(str(e))}</div>'


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
    report = run_scan(ctx.host, folder, opts, bar)
    recent = recent_store(ctx).add(report.folder)
    return summary_html(report), table_rows(report), gallery_items(report, bg), recent, report.folder


@dataclass
class DatasetUI:
    folder: Any
    recent: Any
    width: Any
    height: Any
    background: Any
    max_mp: Any
    scan: Any
    stop: Any
    summary: Any
    table: Any
    gallery: Any


def _render_options(ctx: TabContext) -> tuple[Any, Any, Any, Any]:
    import gradio as gr

    size = ctx.host.model_facts().native_resolution or 512
    with gr.Accordion("Scan options", open=False), gr.Row():
        width = gr.Number(label="Training width", value=size, precision=0, elem_id=elem_id("dataset-width"))
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
    return width, height, background, max_mp


def render(ctx: TabContext) -> DatasetUI:
    import gradio as gr

    with gr.Row():
        folder = gr.Textbox(
            label="Image folder",
            placeholder="/path/to/your/images",
            scale=4,
            elem_id=elem_id("dataset-folder"),
        )
        recent = gr.Dropdown(
            label="Recent folders",
            choices=recent_store(ctx).load(),
            value=None,
            scale=2,
            elem_id=elem_id("dataset-recent"),
        )
    width, height, background, max_mp = _render_options(ctx)
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
    return DatasetUI(folder, recent, width, height, background, max_mp, scan, stop, summary, table, gallery)


def wire(ctx: TabContext, ui: DatasetUI) -> None:
    import gradio as gr

    def on_scan(folder_v, w, h, bg, mp, progress=gr.Progress()):
        try:
            s, rows, items, rec, real = do_scan(ctx, folder_v, w, h, bg, mp, progress)
        except (ValueError, RuntimeError, Forbidden) as e:  # an unusable or forbidden folder, a scan running
            return error_html(e), [], [], gr.update(), gr.update()
        return s, rows, items, gr.update(choices=rec), real

    ui.scan.click(
        on_scan,
        inputs=[ui.folder, ui.width, ui.height, ui.background, ui.max_mp],
        outputs=[ui.summary, ui.table, ui.gallery, ui.recent, ctx.source_folder],
    )
    # queue=False: a Stop must not wait in the queue behind the scan it stops.
    ui.stop.click(lambda: longwork.stop(ctx.host, SCAN_KEY), inputs=None, outputs=None, queue=False)
    ui.recent.change(lambda v: v or gr.update(), inputs=ui.recent, outputs=ui.folder)


def build(ctx: TabContext) -> None:
    wire(ctx, render(ctx))
