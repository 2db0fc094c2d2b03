"""Caption editor operations: pure functions on a ``{image file name: caption}`` mapping.

Every bulk operation returns a new mapping and never mutates its input; ``Editor`` keeps the
current captions, what is on disk, and the one-step undo of the last bulk edit. Tags are the
comma-separated parts of a caption, as the trainer's shuffle/drop-out splits them
(modules/textual_inversion/dataset.py:152-161).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from lib_textinv.kit.host import PromptCounter

Captions = Mapping[str, str]
CLIP_CHUNK = 75  # tokens per CLIP chunk; an embedding's vectors take that many of them


class EditError(ValueError):
    """A bulk edit cannot be applied (bad regex, empty search text); the message says why."""


# -- search and replace -------------------------------------------------------------------------


def _pattern(find: str, regex: bool, ignore_case: bool) -> re.Pattern:
    if not find:
        raise EditError("nothing to search for")
    try:
        return re.compile(find if regex else re.escape(find), re.IGNORECASE if ignore_case else 0)
    except re.error as e:
        raise EditError(f"invalid regular expression {find!r}: {e}") from e


@dataclass(frozen=True)
class ReplacePreview:
    name: str
    count: int
    before: str
    after: str


def preview_replace(
    captions: Captions, find: str, repl: str, regex: bool = False, ignore_case: bool = False
) -> list[ReplacePreview]:
    """The captions a replace would change, with the number of matches and the result."""
    pat = _pattern(find, regex, ignore_case)
    out = []
    for name, text in captions.items():
        try:
            after, count = pat.subn(repl if regex else (lambda _m: repl), text)
        except (re.error, IndexError) as e:  # bad group reference in the replacement
            raise EditError(f"invalid replacement {repl!r}: {e}") from e
        if count:
            out.append(ReplacePreview(name, count, text, after))
    return out


def replace(captions: Captions, find: str, repl: str, regex: bool = False, ignore_case: bool = False) -> dict:
    """Replace every match in every caption (plain text, or a regex with ``\\1`` references)."""
    changed = {p.name: p.after for p in preview_replace(captions, find, repl, regex, ignore_case)}
    return {name: changed.get(name, text) for name, text in captions.items()}


# -- tags and words -----------------------------------------------------------------------------


def tags(caption: str) -> list[str]:
    """The caption's tags, stripped, blanks left out."""
    return [t.strip() for t in caption.split(",") if t.strip()]


def _same_tag(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


def _clean_tag(tag: str) -> str:
    tag = tag.strip()
    if not tag:
        raise EditError("the tag is empty")
    if "," in tag:
        raise EditError(f"a tag cannot contain a comma: {tag!r} (add the tags one at a time)")
    return tag


def add_tag(captions: Captions, tag: str, at_start: bool = False, separator: str = ", ") -> dict:
    """Add ``tag`` to every caption that does not have it yet (compared without case)."""
    tag = _clean_tag(tag)
    out = {}
    for name, text in captions.items():
        if any(_same_tag(t, tag) for t in text.split(",")):
            out[name] = text
        elif not text.strip():
            out[name] = tag
        elif at_start:
            out[name] = tag + separator + text
        else:
            body = text.rstrip()
            out[name] = body + (" " if body.endswith(",") else separator) + tag
    return out


def remove_tag(captions: Captions, tag: str) -> dict:
    """Remove the tag (a whole comma-separated part, compared without case) from every caption;
    the other parts keep their text and spacing."""
    tag = _clean_tag(tag)
    out = {}
    for name, text in captions.items():
        parts = text.split(",")
        kept = [p for p in parts if not _same_tag(p, tag)]
        out[name] = text if len(kept) == len(parts) else ",".join(kept).strip()
    return out


def remove_word(captions: Captions, word: str, ignore_case: bool = True) -> dict:
    """Remove a whole word (or phrase) wherever it stands, tidying the spaces it leaves; a tag
    left empty is removed with its comma."""
    word = word.strip()
    if not word:
        raise EditError("the word is empty")
    pat = re.compile(r"(?<!\w)" + re.escape(word) + r"(?!\w)", re.IGNORECASE if ignore_case else 0)
    out = {}
    for name, text in captions.items():
        new, n = pat.subn("", text)
        if not n:
            out[name] = text
            continue
        parts = [re.sub(r"\s{2,}", " ", p).strip() for p in new.split(",")]
        out[name] = ", ".join(p for p in parts if p)
    return out


def prepend(captions: Captions, text: str) -> dict:
    """Put ``text`` in front of every caption that does not already start with it (pressing the
    button twice does not double it). The text is used as typed: include ", " yourself."""
    if not text:
        raise EditError("nothing to prepend")
    return {n: c if c.startswith(text) else text + c for n, c in captions.items()}


def append(captions: Captions, text: str) -> dict:
    """Put ``text`` after every caption that does not already end with it."""
    if not text:
        raise EditError("nothing to append")
    return {n: c if c.endswith(text) else c + text for n, c in captions.items()}


def changed(captions: Captions, saved: Captions) -> dict:
    """The captions that differ from ``saved`` (line endings and outer whitespace ignored)."""

    def norm(s: str) -> str:
        return s.replace("\r\n", "\n").replace("\r", "\n").strip()

    return {n: c for n, c in captions.items() if norm(c) != norm(saved.get(n, ""))}


# -- the editor's state with one-step undo ------------------------------------------------------


@dataclass
class Editor:
    """Current captions, the captions on disk, and the undo of the last bulk edit.

    Undo restores, for the captions the last bulk edit changed, the text they had before it; a
    caption edited by hand after the bulk edit keeps the hand edit.
    """

    captions: dict[str, str] = field(default_factory=dict)
    saved: dict[str, str] = field(default_factory=dict)
    undo_before: dict[str, str] | None = None  # name → text before the bulk edit
    undo_after: dict[str, str] | None = None  # name → text the bulk edit made
    undo_label: str = ""

    @classmethod
    def from_disk(cls, captions: Captions) -> Editor:
        return cls(dict(captions), dict(captions))

    def set(self, name: str, text: str) -> None:
        if name not in self.captions:
            raise KeyError(name)
        self.captions[name] = text

    def bulk(self, label: str, op: Callable[..., dict], *args, **kwargs) -> int:
        """Apply a bulk operation; returns how many captions it changed. Undo then restores them."""
        new = op(self.captions, *args, **kwargs)
        diff = {n for n in self.captions if new[n] != self.captions[n]}
        if diff:
            self.undo_before = {n: self.captions[n] for n in diff}
            self.undo_after = {n: new[n] for n in diff}
            self.undo_label = label
            self.captions = dict(new)
        return len(diff)

    @property
    def can_undo(self) -> bool:
        return self.undo_before is not None

    def undo(self) -> int:
        """Undo the last bulk edit; returns how many captions were restored."""
        if self.undo_before is None or self.undo_after is None:
            return 0
        restored = 0
        for n, before in self.undo_before.items():
            if n in self.captions and self.captions[n] == self.undo_after[n]:
                self.captions[n] = before
                restored += 1
        self.undo_before = self.undo_after = None
        self.undo_label = ""
        return restored

    def dirty(self) -> dict[str, str]:
        return changed(self.captions, self.saved)

    def mark_saved(self, names) -> None:
        for n in names:
            self.saved[n] = self.captions[n]

    def to_dict(self) -> dict:
        return {
            "captions": dict(self.captions),
            "saved": dict(self.saved),
            "undo_before": self.undo_before,
            "undo_after": self.undo_after,
            "undo_label": self.undo_label,
        }

    @classmethod
    def from_dict(cls, d: Mapping | None) -> Editor:
        d = d or {}
        return cls(
            dict(d.get("captions") or {}),
            dict(d.get("saved") or {}),
            d.get("undo_before"),
            d.get("undo_after"),
            d.get("undo_label") or "",
        )


# -- token counts -------------------------------------------------------------------------------


def token_limit(vectors: int) -> int:
    """Tokens a caption may use before the prompt with the embedding spills past one CLIP chunk."""
    return max(0, CLIP_CHUNK - max(0, vectors))


@dataclass(frozen=True)
class TokenCount:
    count: int
    limit: int

    @property
    def over(self) -> bool:
        return self.count > self.limit

    def describe(self) -> str:
        base = f"{self.count} tokens"
        if self.over:
            return (
                f"⚠ {base}: past {self.limit} (75 − the embedding's vectors); "
                "the rest spills into a second chunk"
            )
        return f"{base} of {self.limit}"


def count_tokens(tokenizer: PromptCounter | None, caption: str, vectors: int) -> TokenCount | None:
    """The caption's tokens against its limit (None without the loaded model's tokenizer)."""
    if tokenizer is None:
        return None
    return TokenCount(int(tokenizer.count_tokens(caption)), token_limit(vectors))
