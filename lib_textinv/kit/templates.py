"""Prompt templates and the training prompt exactly as the webui's trainer builds it.

Mirrors ``modules/textual_inversion/dataset.py`` of webui 1.10.1 (lines read at ``:43``, the prompt
built by ``create_text`` at ``:152-161``; docs/webui-contract.md §15):
template lines are read with ``readlines()`` and stripped; a prompt is a random line with
``[filewords]`` replaced by the caption first and ``[name]`` by the embedding name second; with
shuffle or drop-out the caption is split on ``,`` (tags keep their spaces), each tag is kept when
``random() > drop_out``, the rest shuffled and re-joined with ``,`` (no space).

The random calls happen in the webui's order (``choice`` for the line, one ``random()`` per tag
when drop-out is on, then ``shuffle``), so the same seed gives the same prompt as the trainer.
"""

from __future__ import annotations

import os
import random
from collections.abc import Sequence

DEFAULT_TEMPLATE = "style_filewords.txt"
NAME = "[name]"
FILEWORDS = "[filewords]"


class TemplateError(ValueError):
    """The template file cannot be used; the message names the file and the reason."""


def read_template(path: str | os.PathLike) -> list[str]:
    """The template's prompt lines as the webui reads them: every line of the file, stripped.

    Blank lines stay (the trainer may pick an empty prompt from them); a trailing newline adds no
    line, but an extra blank line at the end does. The webui opens the file in text mode with the
    platform encoding; we read UTF-8 (the encoding of every Linux/macOS install and of the
    shipped templates) with universal newlines, so CRLF files give the same lines.
    """
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = [x.strip() for x in f.readlines()]
    except FileNotFoundError as e:
        raise TemplateError(f"template not found: {path}") from e
    except IsADirectoryError as e:
        raise TemplateError(f"template is a folder, not a file: {path}") from e
    return lines


def fill_template(line: str, name: str, filewords: str) -> str:
    """``[filewords]`` → caption, then ``[name]`` → embedding name (the webui's order: a caption
    that itself contains ``[name]`` gets the name too)."""
    return line.replace(FILEWORDS, filewords).replace(NAME, name)


def shuffle_and_drop(caption: str, rng: random.Random, shuffle: bool, drop_out: float) -> str:
    """The caption after the trainer's tag shuffling and drop-out (``create_text``)."""
    tags = caption.split(",")
    if drop_out != 0:
        tags = [t for t in tags if rng.random() > drop_out]
    if shuffle:
        rng.shuffle(tags)
    return ",".join(tags)


def training_prompt(
    template_lines: Sequence[str],
    name: str,
    caption: str,
    rng: random.Random,
    shuffle: bool = False,
    drop_out: float = 0.0,
) -> str:
    """One prompt as ``PersonalizedBase.create_text`` makes it (same random-call order)."""
    if not template_lines:
        raise TemplateError("the template has no lines: the trainer cannot pick a prompt from it")
    line = rng.choice(list(template_lines))
    return fill_template(line, name, shuffle_and_drop(caption, rng, shuffle, drop_out))


def preview_prompts(
    template_lines: Sequence[str],
    name: str,
    captions: Sequence[str],
    rng: random.Random,
    shuffle: bool = False,
    drop_out: float = 0.0,
    n: int = 4,
) -> list[str]:
    """Prompts the trainer could use for the first ``n`` captions (one each, in order)."""
    return [
        training_prompt(template_lines, name, caption, rng, shuffle, drop_out)
        for caption in list(captions)[:n]
    ]


def uses_filewords(template_lines: Sequence[str]) -> bool:
    """Whether captions matter for this template at all (e.g. ``style.txt`` ignores them)."""
    return any(FILEWORDS in line for line in template_lines)
