"""The prompt templates webui 1.10.1 ships (``textual_inversion_templates/``), as facts in our own
words: each file's name, how many prompt lines it has, and which placeholders every line uses. All
six are UTF-8 with LF line ends, one prompt per line, a final newline, no blank line and no
surrounding spaces. ``write_shipped_templates`` writes files of exactly that shape (our wording,
their layout), so the tests read what a webui install holds without needing one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Shipped:
    name: str
    lines: int
    name_token: bool  # every line has [name]
    filewords: bool  # every line has [filewords]


SHIPPED = (
    Shipped("hypernetwork.txt", 27, name_token=False, filewords=True),
    Shipped("none.txt", 1, name_token=False, filewords=False),  # the single word "picture"
    Shipped("style.txt", 19, name_token=True, filewords=False),
    Shipped("style_filewords.txt", 19, name_token=True, filewords=True),
    Shipped("subject.txt", 27, name_token=True, filewords=False),
    Shipped("subject_filewords.txt", 27, name_token=True, filewords=True),
)

_KINDS = ("photo", "drawing", "sketch", "render", "painting", "print", "snapshot", "study", "picture")
_MOODS = ("", "bright ", "dark ", "close-up ", "blurry ")


def prompt_line(t: Shipped, i: int) -> str:
    """Line ``i`` of ``t`` in our own wording, with the placeholders the shipped line has."""
    if not (t.name_token or t.filewords):
        return "picture"
    what = f"a {_MOODS[i % len(_MOODS)]}{_KINDS[i % len(_KINDS)]}"
    parts = [what]
    if t.filewords:
        parts.append("of [filewords]")
    if t.name_token:
        parts.append("in the style of [name]" if t.name.startswith("style") else "showing [name]")
    return " ".join(parts)


def write_shipped_templates(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for t in SHIPPED:
        text = "".join(prompt_line(t, i) + "\n" for i in range(t.lines))
        (folder / t.name).write_bytes(text.encode("utf-8"))
    return folder
