"""Section "Captions": caption the prepared folder with the webui's BLIP/DeepBooru (a job: progress
with an ETA and a Stop, ``captions.work``), edit the captions in a grid, bulk edits with undo,
token counts, and the training prompts the trainer will build from them.

``render`` lays the section out (small dataclasses of components), ``wire`` connects them to the
handlers, which live on plain values in ``grid_state`` and ``prompt_preview`` (tests call them)."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lib_textinv.captions import grid_state as grid
from lib_textinv.captions import work
from lib_textinv.captions.prompt_preview import preview_prompts, template_choices
from lib_textinv.kit import longwork
from lib_textinv.kit.folder_guard import Forbidden
from lib_textinv.kit.host import Host, PromptCounter
from lib_textinv.kit.ids import elem_id
from lib_textinv.kit.progress import Cancelled
from lib_textinv.kit.tab_context import TabContext

logger = logging.getLogger(__name__)

COLUMNS = 4
THUMB = 256
SOURCE_CHOICES = {"BLIP": "blip", "DeepBooru": "deepbooru", "BLIP + DeepBooru": "both"}
MODE_CHOICES = {
    "Skip images that have a caption": "skip",
    "Overwrite": "overwrite",
    "Append to the caption": "append",
}


# -- handlers that need the host or gradio ---------------------------------------------------------


def do_caption(
    folder: str, source_label: str, mode_label: str, batch_size: float, host: Host, bar=None
) -> str:
    """Caption as a job, waiting for it with the progress on ``bar``; returns the summary."""
    req = work.CaptionRequest(
        (folder or "").strip(),
        SOURCE_CHOICES.get(source_label, "blip"),
        MODE_CHOICES.get(mode_label, "skip"),
        int(batch_size or 1),
    )
    try:
        run = work.run_caption(host, req, bar)
    except Cancelled:
        return "Stopped before any caption was written"
    except (ValueError, RuntimeError, Forbidden) as e:  # Unavailable, Busy, a folder without images
        return f"Not captioned: {e}"
    return run.summary()


def _thumb(folder: str, name: str):
    from lib_textinv.kit.images import ImageRefused, load_rgb

    try:
        im = load_rgb(Path(folder) / name, draft=(THUMB, THUMB))
    except (ImageRefused, OSError, ValueError) as e:
        logger.warning("thumbnail of %s: %s", name, e)
        return None
    im.thumbnail((THUMB, THUMB))
    return im


def page_outputs(
    state: dict,
    status: str,
    tokenizer: PromptCounter | None,
    page_size: int = grid.PAGE_SIZE,
    with_images: bool = True,
) -> list[Any]:
    """[state, status, page info] then per slot [column, image]? [text, tokens], as ``GridUI``."""
    import gradio as gr

    out: list[Any] = [state, status, grid.page_info(state, page_size)]
    slots = grid.slot_texts(state, tokenizer, page_size)
    folder = (state or {}).get("folder") or ""
    for i in range(page_size):
        if i < len(slots):
            name, text, tokens = slots[i]
            if with_images:
                out += [gr.update(visible=True), _thumb(folder, name)]
            out += [gr.update(value=text, label=name), tokens]
        else:
            if with_images:
                out += [gr.update(visible=False), None]
            out += [gr.update(value="", label="—"), ""]
    return out


# -- layout -----------------------------------------------------------------------------------------


@dataclass
class CaptionerUI:
    source: Any
    mode: Any
    batch: Any
    caption: Any
    stop: Any


@dataclass
class GridUI:
    state: Any
    load: Any
    prev: Any
    page: Any
    next: Any
    save_all: Any
    status: Any
    cols: list[Any]
    images: list[Any]
    texts: list[Any]
    tokens: list[Any]
    saves: list[Any]

    def full_outputs(self) -> list[Any]:
        """What ``page_outputs(..., with_images=True)`` fills."""
        out = [self.state, self.status, self.page]
        for c, im, t, tk in zip(self.cols, self.images, self.texts, self.tokens, strict=True):
            out += [c, im, t, tk]
        return out

    def text_outputs(self) -> list[Any]:
        """What ``page_outputs(..., with_images=False)`` fills."""
        out = [self.state, self.status, self.page]
        for t, tk in zip(self.texts, self.tokens, strict=True):
            out += [t, tk]
        return out


@dataclass
class BulkUI:
    find: Any
    repl: Any
    regex: Any
    ignore_case: Any
    preview: Any
    replace: Any
    matches: Any
    tag: Any
    tag_start: Any
    add: Any
    remove: Any
    remove_word: Any
    affix: Any
    prepend: Any
    append: Any
    undo: Any


@dataclass
class PromptsUI:
    template: Any
    shuffle: Any
    drop_out: Any
    count: Any
    reroll: Any
    note: Any
    table: Any


@dataclass
class CaptionsUI:
    captioner: CaptionerUI
    grid: GridUI
    bulk: BulkUI
    prompts: PromptsUI
    page_size: int


def _render_captioner(ctx: TabContext) -> CaptionerUI:
    import gradio as gr

    cap_reason = ctx.unavailable_reason("caption")
    booru_ok = ctx.unavailable_reason("deepbooru") is None
    with gr.Accordion("Caption with BLIP / DeepBooru", open=True):
        with gr.Row():
            source = gr.Radio(
                list(SOURCE_CHOICES) if booru_ok else ["BLIP"],
                value="BLIP",
                label="Model",
                elem_id=elem_id("captions-source"),
            )
            mode = gr.Radio(
                list(MODE_CHOICES),
                value=next(iter(MODE_CHOICES)),
                label="Existing captions",
                elem_id=elem_id("captions-mode"),
            )
            batch_value = int(ctx.host.setting("caption_batch_size", 8) or 8)
            batch = gr.Slider(
                1, 64, step=1, value=batch_value, label="Batch size", elem_id=elem_id("captions-batch-size")
            )
        ctx.per_start.append(batch)
        with gr.Row():
            caption = gr.Button(
                "Caption the prepared folder",
                variant="primary",
                interactive=cap_reason is None,
                elem_id=elem_id("captions-caption"),
            )
            stop = gr.Button("Stop", elem_id=elem_id("captions-stop"))
        note = gr.Markdown(
            f"*{cap_reason}*" if cap_reason else "", elem_id=elem_id("captions-caption-reason")
        )
        ctx.gate("caption", caption, note=note, render=lambda why: f"*{why}*")
    return CaptionerUI(source, mode, batch, caption, stop)


def _render_slot(i: int) -> tuple[Any, Any, Any, Any, Any]:
    import gradio as gr

    with gr.Column(visible=False, min_width=200, elem_id=elem_id(f"captions-slot-{i}")) as col:
        image = gr.Image(
            type="pil",
            interactive=False,
            show_label=False,
            height=THUMB,
            elem_id=elem_id(f"captions-image-{i}"),
        )
        text = gr.Textbox(label="—", lines=3, elem_id=elem_id(f"captions-text-{i}"))
        tokens = gr.Markdown("", elem_id=elem_id(f"captions-tokens-{i}"))
        save = gr.Button("Save", size="sm", elem_id=elem_id(f"captions-save-{i}"))
    return col, image, text, tokens, save


def _render_grid(page_size: int) -> GridUI:
    import gradio as gr

    state = gr.State({})
    with gr.Row():
        load = gr.Button("Load captions", elem_id=elem_id("captions-load"))
        prev = gr.Button("◀ Previous", elem_id=elem_id("captions-prev"))
        page = gr.Markdown("No captions loaded", elem_id=elem_id("captions-page"))
        nxt = gr.Button("Next ▶", elem_id=elem_id("captions-next"))
        save_all = gr.Button("Save all changed", variant="primary", elem_id=elem_id("captions-save-all"))
    status = gr.Textbox(label="Status", interactive=False, lines=2, elem_id=elem_id("captions-status"))
    slots = []
    for row_start in range(0, page_size, COLUMNS):
        with gr.Row():
            slots += [_render_slot(i) for i in range(row_start, min(page_size, row_start + COLUMNS))]
    cols, images, texts, tokens, saves = (list(x) for x in zip(*slots, strict=True))
    return GridUI(state, load, prev, page, nxt, save_all, status, cols, images, texts, tokens, saves)


def _render_bulk() -> BulkUI:
    import gradio as gr

    with gr.Accordion("Edit all captions", open=True):
        with gr.Row():
            find = gr.Textbox(label="Find", elem_id=elem_id("captions-find"))
            repl = gr.Textbox(label="Replace with", elem_id=elem_id("captions-replace-with"))
            regex = gr.Checkbox(label="Regular expression", elem_id=elem_id("captions-regex"))
            ignore_case = gr.Checkbox(label="Ignore case", elem_id=elem_id("captions-ignore-case"))
        with gr.Row():
            preview = gr.Button("Preview matches", elem_id=elem_id("captions-replace-preview"))
            replace = gr.Button("Replace all", elem_id=elem_id("captions-replace-apply"))
        matches = gr.Dataframe(
            headers=["image", "matches", "before", "after"],
            interactive=False,
            elem_id=elem_id("captions-replace-matches"),
        )
        with gr.Row():
            tag = gr.Textbox(label="Tag or word", elem_id=elem_id("captions-tag"))
            tag_start = gr.Checkbox(label="Add at the start", elem_id=elem_id("captions-tag-start"))
            add = gr.Button("Add tag", elem_id=elem_id("captions-tag-add"))
            remove = gr.Button("Remove tag", elem_id=elem_id("captions-tag-remove"))
            remove_word = gr.Button("Remove word", elem_id=elem_id("captions-word-remove"))
        with gr.Row():
            affix = gr.Textbox(
                label="Text to prepend/append (as typed, include ', ')", elem_id=elem_id("captions-affix")
            )
            prepend = gr.Button("Prepend", elem_id=elem_id("captions-prepend"))
            append = gr.Button("Append", elem_id=elem_id("captions-append"))
            undo = gr.Button("Undo last bulk edit", elem_id=elem_id("captions-undo"))
    return BulkUI(
        find, repl, regex, ignore_case, preview, replace, matches,
        tag, tag_start, add, remove, remove_word, affix, prepend, append, undo,
    )  # fmt: skip


def _render_prompts(host: Host) -> PromptsUI:
    import gradio as gr

    with gr.Accordion("Training prompt preview", open=True):
        names, default = template_choices(host)
        with gr.Row():
            template = gr.Dropdown(
                names, value=default, label="Prompt template", elem_id=elem_id("captions-template")
            )
            shuffle = gr.Checkbox(label="Shuffle tags", elem_id=elem_id("captions-shuffle"))
            drop_out = gr.Slider(
                0, 1, step=0.05, value=0, label="Drop out tags", elem_id=elem_id("captions-dropout")
            )
            count = gr.Slider(
                1, 16, step=1, value=4, label="Images", elem_id=elem_id("captions-preview-count")
            )
            reroll = gr.Button("🎲 Re-roll", elem_id=elem_id("captions-reroll"))
        note = gr.Markdown(
            "" if names else "*No prompt templates found.*", elem_id=elem_id("captions-prompt-note")
        )
        table = gr.Dataframe(
            headers=["image", "training prompt"],
            interactive=False,
            wrap=True,
            elem_id=elem_id("captions-prompts"),
        )
    return PromptsUI(template, shuffle, drop_out, count, reroll, note, table)


def render(ctx: TabContext) -> CaptionsUI:
    page_size = int(ctx.host.setting("caption_page_size", grid.PAGE_SIZE) or grid.PAGE_SIZE)
    captioner = _render_captioner(ctx)
    grid_ui = _render_grid(page_size)
    return CaptionsUI(captioner, grid_ui, _render_bulk(), _render_prompts(ctx.host), page_size)


# -- wiring -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Pages:
    """Turns a handler's (state, status) into the grid's outputs, with or without thumbnails."""

    host: Host
    page_size: int

    def full(self, state: dict, status: str) -> list[Any]:
        return page_outputs(state, status, grid.tokenizer_of(self.host), self.page_size, True)

    def texts(self, state: dict, status: str) -> list[Any]:
        return page_outputs(state, status, grid.tokenizer_of(self.host), self.page_size, False)


def _wire_grid(ctx: TabContext, g: GridUI, pages: _Pages) -> None:
    size = pages.page_size

    def on_load(folder, emb_name):
        return pages.full(*grid.load_folder(folder, emb_name, ctx.host))

    def on_turn(delta, state_, *texts_):
        return pages.full(grid.turn_page(state_, delta, texts_, size), "")

    def on_save_one(slot, state_, *texts_):
        return pages.texts(*grid.save_one(state_, slot, texts_, size))

    def on_save_all(state_, *texts_):
        return pages.texts(*grid.save_all(state_, texts_, size))

    g.load.click(on_load, [ctx.prepared_folder, ctx.embedding_name], g.full_outputs())
    g.prev.click(functools.partial(on_turn, -1), [g.state, *g.texts], g.full_outputs())
    g.next.click(functools.partial(on_turn, 1), [g.state, *g.texts], g.full_outputs())
    for i, b in enumerate(g.saves):
        b.click(functools.partial(on_save_one, i), [g.state, *g.texts], g.text_outputs())
    g.save_all.click(on_save_all, [g.state, *g.texts], g.text_outputs())


def _wire_bulk(b: BulkUI, g: GridUI, pages: _Pages) -> None:
    size = pages.page_size

    def on_preview(state_, f, r, rx, ic, *texts_):
        return list(grid.preview_replace(state_, f, r, rx, ic, texts_, size))

    def on_bulk(op, n_args, state_, *rest):
        return pages.texts(*grid.bulk(state_, op, tuple(rest[:n_args]), rest[n_args:], size))

    def bulk_click(button: Any, op: str, args: list[Any]) -> None:
        on_op = functools.partial(on_bulk, op, len(args))
        button.click(on_op, [g.state, *args, *g.texts], g.text_outputs())

    b.preview.click(
        on_preview,
        [g.state, b.find, b.repl, b.regex, b.ignore_case, *g.texts],
        [g.state, b.matches, g.status],
    )
    bulk_click(b.replace, "replace", [b.find, b.repl, b.regex, b.ignore_case])
    bulk_click(b.add, "add_tag", [b.tag, b.tag_start])
    bulk_click(b.remove, "remove_tag", [b.tag])
    bulk_click(b.remove_word, "remove_word", [b.tag])
    bulk_click(b.prepend, "prepend", [b.affix])
    bulk_click(b.append, "append", [b.affix])
    b.undo.click(
        lambda state_, *t: pages.texts(*grid.undo(state_, t, size)), [g.state, *g.texts], g.text_outputs()
    )


def _wire_prompts(ctx: TabContext, p: PromptsUI, g: GridUI, page_size: int) -> None:
    def on_prompts(state_, tmpl, emb, sh, do, n, *texts_):
        return list(preview_prompts(state_, tmpl, emb, sh, do, n, None, texts_, ctx.host, page_size))

    inputs = [g.state, p.template, ctx.embedding_name, p.shuffle, p.drop_out, p.count, *g.texts]
    p.reroll.click(on_prompts, inputs, [g.state, p.table, p.note])


def _wire_captioner(ctx: TabContext, c: CaptionerUI, g: GridUI, pages: _Pages) -> None:
    import gradio as gr

    def on_caption(folder, src, md, bs, emb_name, progress=gr.Progress()):
        summary = do_caption(folder, src, md, bs, ctx.host, progress)
        st, msg = grid.load_folder(folder, emb_name, ctx.host)
        return pages.full(st, summary + ("" if st else "\n" + msg))

    inputs = [ctx.prepared_folder, c.source, c.mode, c.batch, ctx.embedding_name]
    c.caption.click(on_caption, inputs, g.full_outputs())

    def on_stop() -> str:
        return longwork.stop(ctx.host, work.CAPTION_KEY)

    # queue=False: a Stop must not wait in the queue behind the captioning it stops.
    c.stop.click(on_stop, inputs=None, outputs=None, queue=False)


def wire(ctx: TabContext, ui: CaptionsUI) -> None:
    pages = _Pages(ctx.host, ui.page_size)
    _wire_captioner(ctx, ui.captioner, ui.grid, pages)
    _wire_grid(ctx, ui.grid, pages)
    _wire_bulk(ui.bulk, ui.grid, pages)
    _wire_prompts(ctx, ui.prompts, ui.grid, ui.page_size)


def build(ctx: TabContext) -> None:
    wire(ctx, render(ctx))
