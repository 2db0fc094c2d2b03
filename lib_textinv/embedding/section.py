"""Section "Embedding": how many vectors per token and why, an initialization text from the
captions, and creating the embedding so it is usable at once (no restart).

Recommend runs as a long-work job (the same one ``POST /textinv/v1/recommend`` starts), with a
progress bar and ETA, and Stop ends it between CLIP batches."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from lib_textinv.embedding import handlers
from lib_textinv.embedding.folder_advice import RECOMMEND_KEY
from lib_textinv.embedding.recommend import MAX_VECTORS, PROMPT_TOKENS
from lib_textinv.kit import longwork
from lib_textinv.kit.host import Unavailable
from lib_textinv.kit.ids import elem_id
from lib_textinv.kit.tab_context import TabContext

DEFAULT_VECTORS = 2


@dataclass
class EmbeddingUI:
    recommend: Any
    stop: Any
    advice: Any
    variety: Any
    name: Any
    vectors: Any
    name_check: Any
    init_text: Any
    init_note: Any
    overwrite: Any
    create: Any
    result: Any


def _render_recommend() -> tuple[Any, Any, Any, Any]:
    import gradio as gr

    gr.Markdown(
        "How many **vectors per token** the new embedding gets, from the prepared folder's image count and "
        f"variety; every vector uses one of the prompt's {PROMPT_TOKENS} tokens.",
        elem_id=elem_id("emb-intro"),
    )
    with gr.Row():
        recommend = gr.Button("Recommend", variant="primary", elem_id=elem_id("emb-recommend"))
        stop = gr.Button("Stop", elem_id=elem_id("emb-recommend-stop"))
    advice = gr.HTML(elem_id=elem_id("emb-recommendation"))
    variety = gr.Textbox(
        label="Image variety (mean pairwise CLIP distance)", interactive=False, elem_id=elem_id("emb-variety")
    )
    return recommend, stop, advice, variety


def render(ctx: TabContext) -> EmbeddingUI:
    import gradio as gr

    recommend, stop, advice, variety = _render_recommend()
    create_reason = ctx.unavailable_reason("create")
    gr.Markdown("### Create", elem_id=elem_id("emb-create-title"))
    create_note = gr.Markdown(
        f"⚠ {html.escape(create_reason)}" if create_reason else "",
        visible=create_reason is not None,
        elem_id=elem_id("emb-create-unavailable"),
    )
    with gr.Row():
        name = gr.Textbox(
            label="Name (the prompt token)", placeholder="my-style", scale=2, elem_id=elem_id("emb-name")
        )
        vectors = gr.Slider(
            label="Vectors per token",
            minimum=1,
            maximum=MAX_VECTORS * 2,
            step=1,
            value=DEFAULT_VECTORS,
            elem_id=elem_id("emb-vectors"),
        )
    name_check = gr.Markdown(elem_id=elem_id("emb-name-check"))
    init_text = gr.Textbox(label="Initialization text", value="*", elem_id=elem_id("emb-init-text"))
    init_note = gr.Markdown(elem_id=elem_id("emb-init-note"))
    overwrite = gr.Checkbox(
        label="Overwrite an existing embedding of this name", value=False, elem_id=elem_id("emb-overwrite")
    )
    create = gr.Button(
        "Create embedding",
        variant="primary",
        interactive=create_reason is None,
        elem_id=elem_id("emb-create"),
    )
    result = gr.Markdown(elem_id=elem_id("emb-result"))
    ctx.gate("create", create, note=create_note)
    return EmbeddingUI(
        recommend, stop, advice, variety, name, vectors, name_check, init_text, init_note, overwrite, create,
        result,
    )  # fmt: skip


def _wire_recommend(ctx: TabContext, ui: EmbeddingUI) -> None:
    import gradio as gr

    host = ctx.host

    def on_recommend(folder_v: str = "", progress: Any = gr.Progress()) -> tuple:
        try:
            h, var, v, text, note = handlers.do_recommend(host, folder_v, progress)
        except handlers.RECOMMEND_REFUSED as e:
            return handlers.refused_html(e), "", gr.update(), gr.update(), gr.update()
        return h, var, v, (text or gr.update()), note

    folder_in = ctx.prepared_folder if ctx.prepared_folder is not None else ctx.source_folder
    ui.recommend.click(
        on_recommend,
        inputs=[folder_in] if folder_in is not None else [],
        outputs=[ui.advice, ui.variety, ui.vectors, ui.init_text, ui.init_note],
    )
    # queue=False: a Stop must not wait in the queue behind the job it stops.
    ui.stop.click(lambda: longwork.stop(host, RECOMMEND_KEY), inputs=None, outputs=None, queue=False)


def _wire_create(ctx: TabContext, ui: EmbeddingUI) -> None:
    import gradio as gr

    host = ctx.host

    def on_create(name_v: str, vectors_v: Any, init_v: str, overwrite_v: bool) -> tuple:
        try:
            msg, new_name, _ = handlers.do_create(host, name_v, vectors_v, init_v, overwrite_v)
        except Unavailable as e:
            return f"✗ {e}", gr.update()
        return msg, (new_name if new_name is not None else gr.update())

    outputs = [ui.result, ctx.embedding_name] if ctx.embedding_name is not None else [ui.result]
    ui.create.click(
        on_create if ctx.embedding_name is not None else (lambda *a: on_create(*a)[0]),
        inputs=[ui.name, ui.vectors, ui.init_text, ui.overwrite],
        outputs=outputs,
    )


def wire(ctx: TabContext, ui: EmbeddingUI) -> None:
    host = ctx.host
    _wire_recommend(ctx, ui)
    _wire_create(ctx, ui)
    named = [ui.name, ui.overwrite]
    ui.name.change(lambda n, o: handlers.name_check_text(host, n, o), inputs=named, outputs=ui.name_check)
    ui.overwrite.change(
        lambda n, o: handlers.name_check_text(host, n, o), inputs=named, outputs=ui.name_check
    )
    counted = [ui.init_text, ui.vectors]
    ui.init_text.change(
        lambda t, v: handlers.init_tokens_text(host, t, v), inputs=counted, outputs=ui.init_note
    )
    ui.vectors.change(
        lambda t, v: handlers.init_tokens_text(host, t, v), inputs=counted, outputs=ui.init_note
    )


def build(ctx: TabContext) -> None:
    wire(ctx, render(ctx))
