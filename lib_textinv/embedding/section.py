"""Section "Embedding": how many vectors per token and why, an initialization text from the
captions, and creating the embedding so it is usable at once (no restart)."""

from __future__ import annotations

import html
import logging

from lib_textinv.embedding.create import CreateResult, create
from lib_textinv.embedding.folder_advice import FolderAdvice, advise, token_counter
from lib_textinv.embedding.names import check_name
from lib_textinv.embedding.recommend import MAX_VECTORS, PROMPT_TOKENS
from lib_textinv.kit import longwork as ui_progress
from lib_textinv.kit.host import Host, Unavailable
from lib_textinv.kit.ids import elem_id
from lib_textinv.kit.progress import Cancelled
from lib_textinv.kit.tab_context import TabContext

logger = logging.getLogger(__name__)
DEFAULT_VECTORS = 2


def advice_html(advice: FolderAdvice) -> str:
    rec = advice.recommendation
    skipped = ""
    if advice.skipped:
        items = "".join(f"<li>{html.escape(s)}</li>" for s in advice.skipped[:20])
        skipped = (
            f"<details><summary>{len(advice.skipped)} image(s) skipped</summary><ul>{items}</ul></details>"
        )
    return (
        f'<div class="textinv-summary {"textinv-good" if rec.trainable else "textinv-warn"}" '
        f'data-vectors="{rec.vectors}" data-range="{rec.range_text}">'
        f"<b>Recommended: {rec.vectors} vector{'s' if rec.vectors != 1 else ''} per token</b> "
        f"(range {rec.range_text})<br>{html.escape(rec.explanation)}"
        f"<br><i>Initialization text:</i> {html.escape(advice.init_text.note)}{skipped}</div>"
    )


def variety_text(advice: FolderAdvice) -> str:
    d = advice.diversity
    if d is None:
        return f"not measured — {advice.clip_reason}"
    return d.describe()


def do_recommend(host: Host, folder: str, bar=None, loader=None) -> tuple[str, str, int, str, str]:
    """(recommendation html, variety, vectors to pre-fill, init text (or "" for none), its token count)."""
    folder = (folder or "").strip()
    advice = ui_progress.run(
        host,
        "embedding-recommend",
        f"Recommending vectors for {folder}",
        lambda p: advise(host, folder, p, loader=loader),
        bar,
    )
    rec, text = advice.recommendation, advice.init_text.text
    note = init_tokens_text(host, text, rec.vectors) if text else ""
    return advice_html(advice), variety_text(advice), rec.vectors, text, note


def init_tokens_text(host: Host, text: str, vectors: int | float | None) -> str:
    """Live token count of the initialization text under the model's tokenizer."""
    counter, how = token_counter(host)
    if counter is None:
        return "Token count unavailable (no tokenizer)."
    if not (text or "").strip():
        return "Empty: the vectors start at zero."
    n = counter.count_tokens(text)
    out = f"{n} token{'s' if n != 1 else ''} ({how})."
    v = int(vectors or 0)
    if v and n > v:
        out += f" More than the {v} vectors: SD1 starts from the first {v} tokens only."
    return out


def name_check_text(host: Host, name: str, overwrite: bool) -> str:
    if not (name or "").strip():
        return ""
    counter, _ = token_counter(host)
    check = check_name(name, host.embeddings(), bool(overwrite), counter, host.paths().embeddings_dir)
    return check.message() or f"✓ “{name}” is a good name ({check.file_name})."


def do_create(
    host: Host, name: str, vectors, init_text: str, overwrite: bool
) -> tuple[str, str | None, CreateResult]:
    """(message, value for the shared embedding-name box or None to leave it, result)."""
    try:
        v = int(vectors)
    except (TypeError, ValueError):
        v = -1
    ok, why = host.feature("create")
    if not ok:
        result = CreateResult(ok=False, name=name or "", errors=[why], message=f"Not created:\n✗ {why}")
        return result.message, None, result
    result = create(
        host,
        (name or ""),
        v,
        init_text or "",
        bool(overwrite),
        model=host.model_facts(),
        embeddings_dir=host.paths().embeddings_dir,
    )
    return result.message, (result.name if result.ok else None), result


def build(ctx: TabContext) -> None:
    import gradio as gr

    host = ctx.host
    create_reason = ctx.unavailable_reason("create")
    gr.Markdown(
        "How many **vectors per token** the new embedding gets, from the prepared folder's image count and "
        f"variety; every vector uses one of the prompt's {PROMPT_TOKENS} tokens.",
        elem_id=elem_id("emb-intro"),
    )
    with gr.Row():
        recommend_btn = gr.Button("Recommend", variant="primary", elem_id=elem_id("emb-recommend"))
        stop_btn = gr.Button("Stop", elem_id=elem_id("emb-recommend-stop"))
    advice = gr.HTML(elem_id=elem_id("emb-recommendation"))
    variety = gr.Textbox(
        label="Image variety (mean pairwise CLIP distance)", interactive=False, elem_id=elem_id("emb-variety")
    )
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
    create_btn = gr.Button(
        "Create embedding",
        variant="primary",
        interactive=create_reason is None,
        elem_id=elem_id("emb-create"),
    )
    result = gr.Markdown(elem_id=elem_id("emb-result"))
    ctx.gate("create", create_btn, note=create_note)

    def on_recommend(folder_v="", progress=gr.Progress()):
        try:
            h, var, v, text, note = do_recommend(host, folder_v, progress)
        except (ValueError, RuntimeError, Cancelled) as e:  # bad folder, already running, stopped
            return (
                f'<div class="textinv-summary textinv-bad">{html.escape(str(e))}</div>',
                "",
                gr.update(),
                gr.update(),
                gr.update(),
            )
        return h, var, v, (text or gr.update()), note

    def on_create(name_v, vectors_v, init_v, overwrite_v):
        try:
            msg, new_name, _ = do_create(host, name_v, vectors_v, init_v, overwrite_v)
        except Unavailable as e:
            return f"✗ {e}", gr.update()
        return msg, (new_name if new_name is not None else gr.update())

    folder_in = ctx.prepared_folder if ctx.prepared_folder is not None else ctx.source_folder
    recommend_btn.click(
        on_recommend,
        inputs=[folder_in] if folder_in is not None else [],
        outputs=[advice, variety, vectors, init_text, init_note],
    )
    stop_btn.click(lambda: ui_progress.stop(host, "embedding-recommend"), inputs=None, outputs=None)
    name.change(lambda n, o: name_check_text(host, n, o), inputs=[name, overwrite], outputs=name_check)
    overwrite.change(lambda n, o: name_check_text(host, n, o), inputs=[name, overwrite], outputs=name_check)
    init_text.change(
        lambda t, v: init_tokens_text(host, t, v), inputs=[init_text, vectors], outputs=init_note
    )
    vectors.change(lambda t, v: init_tokens_text(host, t, v), inputs=[init_text, vectors], outputs=init_note)
    outputs = [result, ctx.embedding_name] if ctx.embedding_name is not None else [result]
    create_btn.click(
        on_create if ctx.embedding_name is not None else (lambda *a: on_create(*a)[0]),
        inputs=[name, vectors, init_text, overwrite],
        outputs=outputs,
    )
