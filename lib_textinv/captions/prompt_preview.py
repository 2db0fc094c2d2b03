"""The training prompts the trainer will build from the captions, previewed: a prompt template's
lines, ``[name]`` and ``[filewords]`` filled the webui's way (``kit.templates``), for a few images
picked with a seed."""

from __future__ import annotations

import random
from pathlib import Path

from lib_textinv.captions import files as capfiles
from lib_textinv.captions.grid_state import PAGE_SIZE, Texts, editor_of, merge_slots
from lib_textinv.kit import templates as tpl
from lib_textinv.kit.host import Host


def template_choices(host: Host | None) -> tuple[list[str], str | None]:
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
    texts: Texts,
    host: Host | None = None,
    page_size: int = PAGE_SIZE,
) -> tuple[dict, list[list], str]:
    """Rows of (image, prompt) for ``count`` images picked with ``seed`` (None: a new seed)."""
    state = merge_slots(state, texts, page_size)
    editor = editor_of(state)
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
