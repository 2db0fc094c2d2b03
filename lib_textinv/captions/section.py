"""Section "Captions": caption the prepared folder with the webui's BLIP/DeepBooru, edit the
captions in a grid, bulk edits with undo, token counts, and the training prompts the trainer
will build from them.

Handlers are module-level functions on plain values (the editor's state is a plain dict in a
``gr.State``); ``build`` wires them with ``functools.partial`` for the host.
"""

from __future__ import annotations

import functools
import logging
import random
from pathlib import Path
from typing import Any

from lib_textinv.captions import edit as ed
from lib_textinv.captions import files as capfiles
from lib_textinv.kit import templates as tpl
from lib_textinv.kit.host import Unavailable
from lib_textinv.kit.ids import elem_id
from lib_textinv.kit.tab_context import TabContext

logger = logging.getLogger(__name__)

PAGE_SIZE = 12
COLUMNS = 4
THUMB = 256
SOURCE_CHOICES = {"BLIP": "blip", "DeepBooru": "deepbooru", "BLIP + DeepBooru": "both"}
MODE_CHOICES = {
    "Skip images that have a caption": "skip",
    "Overwrite": "overwrite",
    "Append to the caption": "append",
}


# -- state helpers ------------------------------------------------------------------------------


def _editor(state: dict | None) -> ed.Editor:
    return ed.Editor.from_dict((state or {}).get("editor"))


def _with_editor(state: dict | None, editor: ed.Editor, **changes) -> dict:
    out = dict(state or {})
    out["editor"] = editor.to_dict()
    out.update(changes)
    return out


def _names(state: dict | None) -> list[str]:
    return list((state or {}).get("names") or [])


def _page_names(state: dict | None, page_size: int = PAGE_SIZE) -> list[str]:
    page = int((state or {}).get("page") or 0)
    return _names(state)[page * page_size : (page + 1) * page_size]


def merge_slots(state: dict | None, texts, page_size: int = PAGE_SIZE) -> dict:
    """Take the grid's textboxes (current page) into the editor, so typing is never lost when a
    bulk edit, save or page change happens before an explicit save."""
    editor = _editor(state)
    for name, text in zip(_page_names(state, page_size), texts, strict=False):
        if name in editor.captions and text is not None:
            editor.set(name, text)
    return _with_editor(state, editor)


def _tokenizer(host) -> ed.Tokenizer | None:
    if host is None or not host.feature("tokenizer")[0] or not hasattr(host, "tokenizer"):
        return None
    try:
        return host.tokenizer()
    except Unavailable:
        return None


def _vectors_of(host, name: str) -> int:
    for e in host.embeddings() if host is not None else []:
        if e.name == (name or "").strip() and e.vectors:
            return int(e.vectors)
    return 1


def _token_text(tokenizer, caption: str, vectors: int) -> str:
    try:
        tc = ed.count_tokens(tokenizer, caption, vectors)
    except Exception as e:  # noqa: BLE001 — a tokenizer hiccup must not break the editor
        return f"tokens: unavailable ({e})"
    return tc.describe() if tc else "tokens: counted inside the webui"


def _thumb(folder: str, name: str):
    from lib_textinv.kit.images import ImageRefused, load_rgb

    try:
        im = load_rgb(Path(folder) / name, draft=(THUMB, THUMB))
    except (ImageRefused, OSError, ValueError) as e:
        logger.warning("thumbnail of %s: %s", name, e)
        return None
    im.thumbnail((THUMB, THUMB))
    return im


# -- handlers (plain values in, lists of values/updates out) -----------------------------------


def load_folder(folder: str, embedding_name: str = "", host=None) -> tuple[dict, str]:
    """Read the captions of ``folder``; returns (state, status)."""
    try:
        fc = capfiles.load_folder_captions(folder)
    except ValueError as e:
        return {}, f"Cannot load captions: {e}"
    names = list(fc.captions)
    editor = ed.Editor.from_disk(fc.captions)
    missing = sum(1 for n in names if not fc.has_file[n])
    state = {
        "folder": str(fc.folder),
        "names": names,
        "has_file": fc.has_file,
        "page": 0,
        "vectors": _vectors_of(host, embedding_name),
        "editor": editor.to_dict(),
    }
    status = f"{len(names)} images in {fc.folder}"
    if missing:
        status += f"; {missing} without a caption file (the trainer uses their file name instead)"
    shared = capfiles.shared_caption_files(fc.folder / n for n in names)
    for txt, ims in shared.items():
        status += f"\n⚠ {', '.join(p.name for p in ims)} all use {txt.name}"
    return state, status


def slot_texts(state: dict | None, tokenizer=None, page_size: int = PAGE_SIZE) -> list[tuple[str, str, str]]:
    """(name, caption, token text) for each slot of the current page."""
    editor = _editor(state)
    vectors = int((state or {}).get("vectors") or 1)
    return [
        (n, editor.captions.get(n, ""), _token_text(tokenizer, editor.captions.get(n, ""), vectors))
        for n in _page_names(state, page_size)
    ]


def page_info(state: dict | None, page_size: int = PAGE_SIZE) -> str:
    n = len(_names(state))
    if not n:
        return "No captions loaded"
    pages = (n + page_size - 1) // page_size
    page = int((state or {}).get("page") or 0)
    dirty = len(_editor(state).dirty())
    return f"Page {page + 1} of {pages} · {n} images" + (f" · {dirty} unsaved" if dirty else "")


def turn_page(state: dict | None, delta: int, texts, page_size: int = PAGE_SIZE) -> dict:
    state = merge_slots(state, texts, page_size)
    n = len(_names(state))
    pages = max(1, (n + page_size - 1) // page_size)
    state["page"] = max(0, min(pages - 1, int(state.get("page") or 0) + delta))
    return state


def save_one(state: dict | None, slot: int, texts, page_size: int = PAGE_SIZE) -> tuple[dict, str]:
    state = merge_slots(state, texts, page_size)
    names = _page_names(state, page_size)
    if slot >= len(names):
        return state, "Nothing in this slot"
    return _save(state, [names[slot]])


def save_all(state: dict | None, texts, page_size: int = PAGE_SIZE) -> tuple[dict, str]:
    state = merge_slots(state, texts, page_size)
    return _save(state, list(_editor(state).dirty()))


def _save(state: dict, names: list[str]) -> tuple[dict, str]:
    editor = _editor(state)
    if not state.get("folder"):
        return state, "Load a folder first"
    todo = {n: editor.captions[n] for n in names if n in editor.dirty()}
    if not todo:
        return state, "Nothing to save: no caption changed"
    try:
        written = capfiles.save_changed(state["folder"], todo, {n: editor.saved.get(n, "") for n in todo})
    except (ValueError, OSError) as e:
        return state, f"Not saved: {e}"
    editor.mark_saved(todo)
    has_file = dict(state.get("has_file") or {})
    has_file.update(dict.fromkeys(written, True))
    return _with_editor(state, editor, has_file=has_file), f"Saved {len(written)} caption file(s)"


def preview_replace(
    state: dict | None,
    find: str,
    repl: str,
    regex: bool,
    ignore_case: bool,
    texts,
    page_size: int = PAGE_SIZE,
) -> tuple[dict, list[list], str]:
    state = merge_slots(state, texts, page_size)
    try:
        rows = ed.preview_replace(_editor(state).captions, find, repl, regex, ignore_case)
    except ed.EditError as e:
        return state, [], str(e)
    table = [[p.name, p.count, p.before, p.after] for p in rows]
    total = sum(p.count for p in rows)
    return state, table, f"{total} match(es) in {len(rows)} caption(s)"


BULK_OPS = {
    "replace": ed.replace,
    "add_tag": ed.add_tag,
    "remove_tag": ed.remove_tag,
    "remove_word": ed.remove_word,
    "prepend": ed.prepend,
    "append": ed.append,
}


def bulk(state: dict | None, op: str, args: tuple, texts, page_size: int = PAGE_SIZE) -> tuple[dict, str]:
    state = merge_slots(state, texts, page_size)
    editor = _editor(state)
    if not editor.captions:
        return state, "Load a folder first"
    try:
        n = editor.bulk(op, BULK_OPS[op], *args)
    except ed.EditError as e:
        return state, str(e)
    msg = f"{op.replace('_', ' ')}: changed {n} caption(s)"
    return _with_editor(state, editor), msg + (" — not saved yet; Undo reverts it" if n else "")


def undo(state: dict | None, texts, page_size: int = PAGE_SIZE) -> tuple[dict, str]:
    state = merge_slots(state, texts, page_size)
    editor = _editor(state)
    label = editor.undo_label
    if not editor.can_undo:
        return state, "Nothing to undo"
    n = editor.undo()
    return _with_editor(state, editor), f"Undid {label.replace('_', ' ')}: restored {n} caption(s)"


def template_choices(host) -> tuple[list[str], str | None]:
    names = sorted(host.templates()) if host is not None else []
    default = tpl.DEFAULT_TEMPLATE if tpl.DEFAULT_TEMPLATE in names else (names[0] if names else None)
    return names, default


def preview_prompts(
    state: dict | None,
    template: str,
    name: str,
    shuffle: bool,
    drop_out: float,
    count: int,
    seed: int | None,
    texts,
    host=None,
    page_size: int = PAGE_SIZE,
) -> tuple[dict, list[list], str]:
    """Rows of (image, prompt) for ``count`` images picked with ``seed`` (None: a new seed)."""
    state = merge_slots(state, texts, page_size)
    editor = _editor(state)
    if not editor.captions:
        return state, [], "Load a folder first"
    path = (host.templates() if host is not None else {}).get(template or "")
    if not path:
        return state, [], "Pick a template (the webui's textual_inversion_templates folder)"
    try:
        lines = tpl.read_template(path)
        seed = random.randrange(2**31) if seed is None else int(seed)
        rng = random.Random(seed)
        names = sorted(editor.captions)
        picked = rng.sample(names, min(max(1, int(count)), len(names)))
        has_file = (state or {}).get("has_file") or {}
        filewords = [_filewords(state, n, editor.captions[n], has_file.get(n, True)) for n in picked]
        prompts = tpl.preview_prompts(
            lines,
            (name or "").strip() or "[name]",
            filewords,
            rng,
            bool(shuffle),
            float(drop_out or 0),
            len(picked),
        )
    except tpl.TemplateError as e:
        return state, [], str(e)
    note = f"Template {template}, seed {seed}"
    if not tpl.uses_filewords(lines):
        note += " — this template has no [filewords]: captions are not used in training"
    return state, [[n, p] for n, p in zip(picked, prompts, strict=True)], note


def _filewords(state: dict | None, name: str, text: str, has_file: bool) -> str:
    """The editor's text, or the trainer's file-name fallback for images without a caption."""
    if text or has_file:
        return text
    return capfiles.trainer_caption(Path((state or {}).get("folder") or ".") / name)


def caption_folder(folder: str, source_label: str, mode_label: str, batch_size: float, host) -> str:
    """Run captioning through the host's job runner; returns the summary for the status box."""
    from lib_textinv.captions import captioning

    source = SOURCE_CHOICES.get(source_label, "blip")
    mode = MODE_CHOICES.get(mode_label, "skip")
    try:
        run = host.run_job(
            "Captioning",
            lambda progress: captioning.run_captioning(
                host, folder, source=source, mode=mode, batch_size=int(batch_size or 1), progress=progress
            ),
        )
    except (Unavailable, ValueError) as e:
        return f"Not captioned: {e}"
    return run.summary()


# -- UI -----------------------------------------------------------------------------------------


def _page_outputs(state: dict, status: str, tokenizer, page_size: int = PAGE_SIZE, with_images: bool = True):
    import gradio as gr

    out: list[Any] = [state, status, page_info(state, page_size)]
    slots = slot_texts(state, tokenizer, page_size)
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


def build(ctx: TabContext) -> None:
    import gradio as gr

    host = ctx.host
    page_size = int(host.setting("caption_page_size", PAGE_SIZE) or PAGE_SIZE)
    cap_reason = ctx.unavailable_reason("caption")
    booru_ok = ctx.unavailable_reason("deepbooru") is None
    tokenizer_fn = functools.partial(_tokenizer, host)

    state = gr.State({})
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
            batch = gr.Slider(
                1,
                64,
                step=1,
                value=int(host.setting("caption_batch_size", 8) or 8),
                label="Batch size",
                elem_id=elem_id("captions-batch-size"),
            )
        ctx.per_start.append(batch)
        caption_btn = gr.Button(
            "Caption the prepared folder",
            variant="primary",
            interactive=cap_reason is None,
            elem_id=elem_id("captions-caption"),
        )
        cap_note = gr.Markdown(
            f"*{cap_reason}*" if cap_reason else "", elem_id=elem_id("captions-caption-reason")
        )
        ctx.gate("caption", caption_btn, note=cap_note, render=lambda why: f"*{why}*")

    with gr.Row():
        load_btn = gr.Button("Load captions", elem_id=elem_id("captions-load"))
        prev_btn = gr.Button("◀ Previous", elem_id=elem_id("captions-prev"))
        page_md = gr.Markdown("No captions loaded", elem_id=elem_id("captions-page"))
        next_btn = gr.Button("Next ▶", elem_id=elem_id("captions-next"))
        save_all_btn = gr.Button("Save all changed", variant="primary", elem_id=elem_id("captions-save-all"))
    status = gr.Textbox(label="Status", interactive=False, lines=2, elem_id=elem_id("captions-status"))

    cols, images, texts, tokens, save_btns = [], [], [], [], []
    for row_start in range(0, page_size, COLUMNS):
        with gr.Row():
            for i in range(row_start, min(page_size, row_start + COLUMNS)):
                with gr.Column(visible=False, min_width=200, elem_id=elem_id(f"captions-slot-{i}")) as col:
                    images.append(
                        gr.Image(
                            type="pil",
                            interactive=False,
                            show_label=False,
                            height=THUMB,
                            elem_id=elem_id(f"captions-image-{i}"),
                        )
                    )
                    texts.append(gr.Textbox(label="—", lines=3, elem_id=elem_id(f"captions-text-{i}")))
                    tokens.append(gr.Markdown("", elem_id=elem_id(f"captions-tokens-{i}")))
                    save_btns.append(gr.Button("Save", size="sm", elem_id=elem_id(f"captions-save-{i}")))
                cols.append(col)

    with gr.Accordion("Edit all captions", open=True):
        with gr.Row():
            find = gr.Textbox(label="Find", elem_id=elem_id("captions-find"))
            repl = gr.Textbox(label="Replace with", elem_id=elem_id("captions-replace-with"))
            regex = gr.Checkbox(label="Regular expression", elem_id=elem_id("captions-regex"))
            ignore_case = gr.Checkbox(label="Ignore case", elem_id=elem_id("captions-ignore-case"))
        with gr.Row():
            preview_btn = gr.Button("Preview matches", elem_id=elem_id("captions-replace-preview"))
            replace_btn = gr.Button("Replace all", elem_id=elem_id("captions-replace-apply"))
        matches = gr.Dataframe(
            headers=["image", "matches", "before", "after"],
            interactive=False,
            elem_id=elem_id("captions-replace-matches"),
        )
        with gr.Row():
            tag = gr.Textbox(label="Tag or word", elem_id=elem_id("captions-tag"))
            tag_start = gr.Checkbox(label="Add at the start", elem_id=elem_id("captions-tag-start"))
            add_btn = gr.Button("Add tag", elem_id=elem_id("captions-tag-add"))
            remove_btn = gr.Button("Remove tag", elem_id=elem_id("captions-tag-remove"))
            remove_word_btn = gr.Button("Remove word", elem_id=elem_id("captions-word-remove"))
        with gr.Row():
            affix = gr.Textbox(
                label="Text to prepend/append (as typed, include ', ')", elem_id=elem_id("captions-affix")
            )
            prepend_btn = gr.Button("Prepend", elem_id=elem_id("captions-prepend"))
            append_btn = gr.Button("Append", elem_id=elem_id("captions-append"))
            undo_btn = gr.Button("Undo last bulk edit", elem_id=elem_id("captions-undo"))

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
            reroll_btn = gr.Button("🎲 Re-roll", elem_id=elem_id("captions-reroll"))
        prompt_note = gr.Markdown(
            "" if names else "*No prompt templates found.*", elem_id=elem_id("captions-prompt-note")
        )
        prompts = gr.Dataframe(
            headers=["image", "training prompt"],
            interactive=False,
            wrap=True,
            elem_id=elem_id("captions-prompts"),
        )

    full_outputs = [state, status, page_md]
    for c, im, t, tk in zip(cols, images, texts, tokens, strict=True):
        full_outputs += [c, im, t, tk]
    text_outputs = [state, status, page_md]
    for t, tk in zip(texts, tokens, strict=True):
        text_outputs += [t, tk]

    def full(state_, status_):
        return _page_outputs(state_, status_, tokenizer_fn(), page_size, True)

    def text_only(state_, status_):
        return _page_outputs(state_, status_, tokenizer_fn(), page_size, False)

    def on_load(folder, emb_name):
        return full(*load_folder(folder, emb_name, host))

    load_btn.click(on_load, [ctx.prepared_folder, ctx.embedding_name], full_outputs)

    def on_turn(delta, state_, *texts_):
        return full(turn_page(state_, delta, texts_, page_size), "")

    prev_btn.click(functools.partial(on_turn, -1), [state, *texts], full_outputs)
    next_btn.click(functools.partial(on_turn, 1), [state, *texts], full_outputs)

    def on_save_one(slot, state_, *texts_):
        return text_only(*save_one(state_, slot, texts_, page_size))

    for i, b in enumerate(save_btns):
        b.click(functools.partial(on_save_one, i), [state, *texts], text_outputs)

    save_all_btn.click(
        lambda state_, *t: text_only(*save_all(state_, t, page_size)), [state, *texts], text_outputs
    )

    def on_preview(state_, f, r, rx, ic, *texts_):
        s, table, msg = preview_replace(state_, f, r, rx, ic, texts_, page_size)
        return [s, table, msg]

    preview_btn.click(on_preview, [state, find, repl, regex, ignore_case, *texts], [state, matches, status])

    def on_bulk(op, n_args, state_, *rest):
        return text_only(*bulk(state_, op, tuple(rest[:n_args]), rest[n_args:], page_size))

    replace_btn.click(
        functools.partial(on_bulk, "replace", 4),
        [state, find, repl, regex, ignore_case, *texts],
        text_outputs,
    )
    add_btn.click(functools.partial(on_bulk, "add_tag", 2), [state, tag, tag_start, *texts], text_outputs)
    remove_btn.click(functools.partial(on_bulk, "remove_tag", 1), [state, tag, *texts], text_outputs)
    remove_word_btn.click(functools.partial(on_bulk, "remove_word", 1), [state, tag, *texts], text_outputs)
    prepend_btn.click(functools.partial(on_bulk, "prepend", 1), [state, affix, *texts], text_outputs)
    append_btn.click(functools.partial(on_bulk, "append", 1), [state, affix, *texts], text_outputs)
    undo_btn.click(lambda state_, *t: text_only(*undo(state_, t, page_size)), [state, *texts], text_outputs)

    def on_prompts(state_, tmpl, emb, sh, do, n, *texts_):
        return list(preview_prompts(state_, tmpl, emb, sh, do, n, None, texts_, host, page_size))

    reroll_btn.click(
        on_prompts,
        [state, template, ctx.embedding_name, shuffle, drop_out, count, *texts],
        [state, prompts, prompt_note],
    )

    def on_caption(folder, src, md, bs, emb_name):
        summary = caption_folder(folder, src, md, bs, host)
        st, msg = load_folder(folder, emb_name, host)
        return full(st, summary + ("" if st else "\n" + msg))

    caption_btn.click(
        on_caption, [ctx.prepared_folder, source, mode, batch, ctx.embedding_name], full_outputs
    )
