"""The caption grid's state and its handlers, on plain values: the state is a dict kept in a
``gr.State`` (folder, image names, page, the ``edit.Editor``), the grid's textboxes come in as a
list; every handler first takes the typed texts into the editor, so typing is never lost when a
bulk edit, save or page change happens before an explicit save."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from lib_textinv.captions import edit as ed
from lib_textinv.captions import files as capfiles
from lib_textinv.captions.folder import captions_folder
from lib_textinv.kit.folder_guard import Forbidden
from lib_textinv.kit.host import Host, PromptCounter, Unavailable

logger = logging.getLogger(__name__)

PAGE_SIZE = 12
Texts = Sequence[str | None]


def editor_of(state: dict | None) -> ed.Editor:
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


def merge_slots(state: dict | None, texts: Texts, page_size: int = PAGE_SIZE) -> dict:
    """Take the grid's textboxes (current page) into the editor, so typing is never lost when a
    bulk edit, save or page change happens before an explicit save."""
    editor = editor_of(state)
    for name, text in zip(_page_names(state, page_size), texts, strict=False):
        if name in editor.captions and text is not None:
            editor.set(name, text)
    return _with_editor(state, editor)


def tokenizer_of(host: Host | None) -> PromptCounter | None:
    """The loaded model's tokenizer, or None (standalone, no model): counts are then left out."""
    if host is None or not host.feature("tokenizer")[0]:
        return None
    try:
        return host.tokenizer()
    except Unavailable:
        return None


def _vectors_of(host: Host | None, name: str) -> int:
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


def load_folder(folder: str, embedding_name: str, host: Host) -> tuple[dict, str]:
    """Read the captions of ``folder`` (checked: ``captions.folder``); returns (state, status)."""
    try:
        fc = capfiles.load_folder_captions(captions_folder(host, folder))
    except (ValueError, Forbidden) as e:
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


def slot_texts(
    state: dict | None, tokenizer: PromptCounter | None = None, page_size: int = PAGE_SIZE
) -> list[tuple[str, str, str]]:
    """(name, caption, token text) for each slot of the current page."""
    editor = editor_of(state)
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
    dirty = len(editor_of(state).dirty())
    return f"Page {page + 1} of {pages} · {n} images" + (f" · {dirty} unsaved" if dirty else "")


def turn_page(state: dict | None, delta: int, texts: Texts, page_size: int = PAGE_SIZE) -> dict:
    state = merge_slots(state, texts, page_size)
    n = len(_names(state))
    pages = max(1, (n + page_size - 1) // page_size)
    state["page"] = max(0, min(pages - 1, int(state.get("page") or 0) + delta))
    return state


def save_one(state: dict | None, slot: int, texts: Texts, page_size: int = PAGE_SIZE) -> tuple[dict, str]:
    state = merge_slots(state, texts, page_size)
    names = _page_names(state, page_size)
    if slot >= len(names):
        return state, "Nothing in this slot"
    return _save(state, [names[slot]])


def save_all(state: dict | None, texts: Texts, page_size: int = PAGE_SIZE) -> tuple[dict, str]:
    state = merge_slots(state, texts, page_size)
    return _save(state, list(editor_of(state).dirty()))


def _save(state: dict, names: list[str]) -> tuple[dict, str]:
    editor = editor_of(state)
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
    texts: Texts,
    page_size: int = PAGE_SIZE,
) -> tuple[dict, list[list], str]:
    state = merge_slots(state, texts, page_size)
    try:
        rows = ed.preview_replace(editor_of(state).captions, find, repl, regex, ignore_case)
    except ed.EditError as e:
        return state, [], str(e)
    table = [[p.name, p.count, p.before, p.after] for p in rows]
    total = sum(p.count for p in rows)
    return state, table, f"{total} match(es) in {len(rows)} caption(s)"


BULK_OPS: dict[str, Callable[..., dict]] = {
    "replace": ed.replace,
    "add_tag": ed.add_tag,
    "remove_tag": ed.remove_tag,
    "remove_word": ed.remove_word,
    "prepend": ed.prepend,
    "append": ed.append,
}


def bulk(
    state: dict | None, op: str, args: tuple, texts: Texts, page_size: int = PAGE_SIZE
) -> tuple[dict, str]:
    state = merge_slots(state, texts, page_size)
    editor = editor_of(state)
    if not editor.captions:
        return state, "Load a folder first"
    try:
        n = editor.bulk(op, BULK_OPS[op], *args)
    except ed.EditError as e:
        return state, str(e)
    msg = f"{op.replace('_', ' ')}: changed {n} caption(s)"
    return _with_editor(state, editor), msg + (" — not saved yet; Undo reverts it" if n else "")


def undo(state: dict | None, texts: Texts, page_size: int = PAGE_SIZE) -> tuple[dict, str]:
    state = merge_slots(state, texts, page_size)
    editor = editor_of(state)
    label = editor.undo_label
    if not editor.can_undo:
        return state, "Nothing to undo"
    n = editor.undo()
    return _with_editor(state, editor), f"Undid {label.replace('_', ' ')}: restored {n} caption(s)"
