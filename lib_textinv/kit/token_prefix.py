"""Triggers that can silently stand in for each other: token prefixes.

The webui finds an embedding in a prompt by token ids: at each position it takes the loaded name
with the longest id list that matches there (modules/textual_inversion/textual_inversion.py:245-256,
the lookup sorted longest first at :129-150; docs/webui-contract.md §10 "Embedding database").
CLIP's tokenizer first cuts text into pieces (a run of letters, ONE digit, a run of other symbols;
whitespace only separates) and merges byte pairs inside each piece, marking the last token of a
piece as a word end; so one name's tokens begin another's exactly when its pieces begin the other's
pieces. ``charcoalstyle-50`` (charcoalstyle, -, 5, 0) begins ``charcoalstyle-500`` (…, 5, 0, 0): with
only the shorter loaded, typing the longer gives the shorter's vectors and a stray "0"; with both
loaded the longer wins where it is typed, but a prompt or an infotext carried to another webui
without it silently changes meaning.

Everything here is pure: ``tokenize`` is any function from text to a token list (token ids from a
real tokenizer, or ``clip_pieces``, which gives the same answers for CLIP without loading one).
Use ``check_trigger(name, loaded_names)`` before saving an embedding under ``name``.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass

Tokenize = Callable[[str], Sequence[Hashable]]

# CLIP's pre-tokenizer (open_clip tokenizer.py and transformers' CLIPTokenizer share it):
# 's|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+ on the lower-cased, whitespace-cleaned text.
_CONTRACTIONS = ("'s", "'t", "'re", "'ve", "'m", "'ll", "'d")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _kind(ch: str) -> str:
    """L (letter), N (number) or S (any other non-space symbol), by Unicode category."""
    first = unicodedata.category(ch)[0]
    return first if first in "LN" else "S"


def clip_pieces(text: str) -> list[str]:
    """The pieces CLIP's tokenizer merges separately; two names share a token prefix exactly when
    their pieces do."""
    text = " ".join(unicodedata.normalize("NFC", text).split()).lower()
    pieces: list[str] = []
    i = 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        contraction = next((c for c in _CONTRACTIONS if text.startswith(c, i)), None)
        if contraction is not None:
            pieces.append(contraction)
            i += len(contraction)
            continue
        kind, j = _kind(text[i]), i + 1
        if kind != "N":  # each digit is a piece of its own
            while j < len(text) and not text[j].isspace() and _kind(text[j]) == kind:
                j += 1
        pieces.append(text[i:j])
        i = j
    return pieces


class Relation(enum.Enum):
    SAME = "the same tokens"
    SHORTER = "the other name's tokens begin the trigger's"
    LONGER = "the trigger's tokens begin the other name's"


def relation(trigger: Sequence[Hashable], other: Sequence[Hashable]) -> Relation | None:
    """How two token lists clash, or None when neither begins the other."""
    if not trigger or not other:
        return None
    if list(trigger) == list(other):
        return Relation.SAME
    if len(other) < len(trigger) and list(trigger[: len(other)]) == list(other):
        return Relation.SHORTER
    if len(trigger) < len(other) and list(other[: len(trigger)]) == list(trigger):
        return Relation.LONGER
    return None


@dataclass(frozen=True)
class Clash:
    trigger: str
    other: str
    relation: Relation

    def sentence(self) -> str:
        t, o = self.trigger, self.other
        if self.relation is Relation.SAME:
            return f"'{t}' and the loaded '{o}' are the same tokens: the webui uses one of them for both"
        short, long = (o, t) if self.relation is Relation.SHORTER else (t, o)
        rest = long[len(short) :] if long.lower().startswith(short.lower()) else "the rest"
        return (
            f"'{short}' is a token prefix of '{long}': wherever '{short}' is loaded and '{long}' is "
            f"not, typing '{long}' silently uses '{short}' plus a stray \"{rest.strip()}\""
        )


@dataclass(frozen=True)
class PrefixCheck:
    trigger: str
    clashes: tuple[Clash, ...]
    suggestion: str | None  # a name that clashes with none of the names checked

    @property
    def warning(self) -> str:
        """One line for the user ("" when nothing clashes)."""
        if not self.clashes:
            return ""
        text = "Token clash: " + "; ".join(c.sentence() for c in self.clashes) + "."
        if self.suggestion:
            text += f" A name that clashes with none of the loaded embeddings: '{self.suggestion}'."
        return text


def clashes(trigger: str, names: Iterable[str], tokenize: Tokenize = clip_pieces) -> list[Clash]:
    """Every name of ``names`` (the loaded embeddings) that clashes with ``trigger``; the trigger's
    own name (any letter case: the tokenizer lower-cases) is not a clash."""
    own = tokenize(trigger)
    out = []
    for name in dict.fromkeys(names):
        if name.lower() == trigger.lower():
            continue
        how = relation(own, tokenize(name))
        if how is not None:
            out.append(Clash(trigger, name, how))
    return out


def candidates(trigger: str) -> list[str]:
    """Names close to ``trigger`` in the order we offer them: a letter before a trailing step number
    (``charcoalstyle-s500``), a letter after the name, a letter ending its first word."""
    out = []
    m = re.fullmatch(r"(.*?)([-_. ]?)(\d+)", trigger)
    if m and m.group(1):
        stem, sep, digits = m.groups()
        out += [f"{stem}{sep}{p}{digits}" for p in ("s", "v", "step")]
    out += [f"{trigger}{c}" for c in _LETTERS]
    first = re.match(r"[^\W\d_]+", trigger)
    if first:
        head, tail = trigger[: first.end()], trigger[first.end() :]
        out += [f"{head}{c}{tail}" for c in "s" + _LETTERS]
    return list(dict.fromkeys(out))


def suggest(trigger: str, names: Iterable[str], tokenize: Tokenize = clip_pieces) -> str | None:
    """The first candidate that clashes with none of ``names`` nor with ``trigger`` (both may end
    up loaded) and is none of them."""
    names = [*names, trigger]
    taken = {n.lower() for n in names}
    for name in candidates(trigger):
        if name.lower() not in taken and not clashes(name, names, tokenize):
            return name
    return None


def check_trigger(trigger: str, names: Iterable[str], tokenize: Tokenize = clip_pieces) -> PrefixCheck:
    """Clashes of ``trigger`` with ``names`` (the loaded embeddings' names) and, when there are
    any, a suggested name that has none."""
    names = list(names)
    found = tuple(clashes(trigger, names, tokenize))
    return PrefixCheck(trigger, found, suggest(trigger, names, tokenize) if found else None)
