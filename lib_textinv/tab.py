"""The tab: a status line, the workflow bar (folders and embedding carried between sections), and
one sub-tab per step of the workflow, each built by its step's ``section.build``."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable

from lib_textinv.autopilot import section as autopilot_section
from lib_textinv.captions import section as captions_section
from lib_textinv.compare import section as compare_section
from lib_textinv.crop import section as crop_section
from lib_textinv.dataset import section as dataset_section
from lib_textinv.embedding import section as embedding_section
from lib_textinv.kit import gates as ui_gates
from lib_textinv.kit import ui_config_keys
from lib_textinv.kit.host import Host
from lib_textinv.kit.ids import elem_id
from lib_textinv.kit.tab_context import TabContext
from lib_textinv.scores import section as scores_section
from lib_textinv.train import section as train_section

logger = logging.getLogger(__name__)

Builder = Callable[[TabContext], object]  # a section may return its view

# (label, key, what builds it) in the workflow's order.
SECTIONS: list[tuple[str, str, tuple[Builder, ...]]] = [
    ("Autopilot", "autopilot", (autopilot_section.build,)),
    ("Dataset", "dataset", (dataset_section.build,)),
    ("Crop", "crop", (crop_section.build,)),
    ("Captions", "captions", (captions_section.build,)),
    ("Embedding", "embedding", (embedding_section.build,)),
    ("Train", "train", (train_section.build,)),
    ("Compare", "compare", (compare_section.build, scores_section.build)),
]


def status_html(host: Host) -> str:
    facts = host.model_facts()
    if host.kind == "standalone":
        text = (
            "Standalone mode: dataset, crop and caption editing work here; captioning, training and "
            "comparing need the webui."
        )
    elif facts.loaded:
        text = f"Model: {facts.name} [{facts.short_hash}] — {facts.family}, {facts.native_resolution} px"
        if not facts.trainable:
            text += f" — {facts.reason}"
    else:
        text = f"No model loaded: {facts.reason}"
    return f'<div class="textinv-status" data-host="{html.escape(host.kind)}">{html.escape(text)}</div>'


def model_size(host: Host):
    """The loaded model's training size for the model-sized inputs (kept as they are without one)."""
    import gradio as gr

    facts = host.model_facts()
    return (
        gr.update(value=facts.native_resolution) if facts.loaded and facts.native_resolution else gr.update()
    )


def _build_section(ctx: TabContext, builders: tuple[Builder, ...]) -> None:
    import gradio as gr

    for build in builders:
        try:
            build(ctx)
        # One broken section must not take the whole tab (and the webui's UI) down with it.
        except Exception as e:
            logger.exception("textinv: building %s failed", build.__module__)
            gr.HTML(
                f'<div class="textinv-summary textinv-bad">This section failed to load: '
                f"{html.escape(type(e).__name__)}: {html.escape(str(e))}</div>"
            )


def build_tab(host: Host):
    """The whole tab as a ``gr.Blocks`` (the webui wraps it in its own tab; standalone serves it)."""
    import gradio as gr

    with gr.Blocks(analytics_enabled=False, title="Textual Inversion Helper") as blocks:
        with gr.Column(elem_id=elem_id("root")):
            status = gr.HTML(status_html(host), elem_id=elem_id("status"))
            with gr.Row(elem_id=elem_id("workflow")):
                source = gr.Textbox(label="Source folder", elem_id=elem_id("source-folder"), scale=3)
                prepared = gr.Textbox(
                    label="Prepared folder (training size)", scale=3, elem_id=elem_id("prepared-folder")
                )
                embedding = gr.Textbox(label="Embedding", elem_id=elem_id("embedding-name"), scale=2)
                run = gr.Textbox(label="Training run", elem_id=elem_id("run-folder"), scale=3)
            ctx = TabContext(
                host=host,
                source_folder=source,
                prepared_folder=prepared,
                embedding_name=embedding,
                run_folder=run,
            )
            tabs = []
            with gr.Tabs(elem_id=elem_id("sections")):
                for label, key, builders in SECTIONS:
                    with gr.Tab(label, id=key, elem_id=elem_id(f"section-{key}")) as tab:
                        _build_section(ctx, builders)
                    tabs.append(tab)
        # The webui builds the tab before its checkpoint has loaded, and checkpoints change: the
        # status line and the feature-gated buttons are refreshed per page load and section switch.
        gated = ui_gates.outputs(ctx.gates)

        def refresh():
            return [status_html(host), *ui_gates.updates(host, ctx.gates)]

        blocks.load(refresh, inputs=None, outputs=[status, *gated])
        if ctx.model_sized:  # on page load only: a section switch must not undo the user's edit
            blocks.load(
                lambda: [model_size(host)] * len(ctx.model_sized), inputs=None, outputs=ctx.model_sized
            )
        for tab in tabs:
            tab.select(refresh, inputs=None, outputs=[status, *gated])
    ui_config_keys.opt_out(blocks.blocks.values(), always=[*ctx.model_sized, *ctx.per_start])
    return blocks
