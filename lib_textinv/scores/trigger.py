"""Removing the trigger from a prompt, so CLIP-T measures the rest of the prompt ("editability").

The Textual Inversion paper scores a generated image against its prompt *without* the learnt word:
"drawing of a cat, charcoalstyle-500" is scored against "drawing of a cat". A sweep prompt can name
the trigger in several ways, all removed here:

* the sweep's placeholder ``{}`` and the template placeholder ``[name]``;
* the bare name (``charcoalstyle``) or a checkpoint token ``charcoalstyle-500``;
* inside the webui's attention syntax: ``(charcoalstyle-500:1.2)``, ``((charcoalstyle))``,
  ``[charcoalstyle]`` — brackets left empty by the removal go too;

then leftover commas and spaces are tidied. ``clip_text`` additionally turns the webui's prompt
syntax into the plain text CLIP was trained on (weights, brackets and ``<lora:…>`` tags dropped).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

PLACEHOLDERS = ("{}", "[name]")

# ``(…:1.2)`` weight suffix, empty brackets (possibly holding only a weight, commas or spaces).
_EMPTY_PAREN = re.compile(r"\(\s*[,\s]*(?::\s*-?[\d.]*\s*)?\)")
_EMPTY_SQUARE = re.compile(r"\[\s*[,\s]*(?::\s*-?[\d.]*\s*)?\]")
_WEIGHT = re.compile(r":\s*-?\d*\.?\d+\s*(?=\))")
_EXTRA_NETWORK = re.compile(r"<[^<>]*>")
_ESCAPED_BRACKET = re.compile(r"\\([()\[\]])")


def _name_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    """One regex for every name, with an optional ``-<N>`` step suffix, not inside a longer word."""
    alts = sorted({n.strip() for n in names if n and n.strip()}, key=len, reverse=True)
    if not alts:
        return None
    body = "|".join(re.escape(a) for a in alts)
    return re.compile(rf"(?<![\w-])(?:{body})(?:-\d+)?(?![\w-])", re.IGNORECASE)


def tidy(prompt: str) -> str:
    """Collapse the commas and spaces a removal leaves behind:
    ``"a cat, , in snow ,"`` → ``"a cat, in snow"``."""
    s = re.sub(r"\s+", " ", prompt)
    s = re.sub(r"\s+,", ",", s)
    s = re.sub(r",(\s*,)+", ",", s)
    s = re.sub(r"([(\[])\s*,\s*", r"\1", s)  # "(, red" → "(red"
    s = re.sub(r"\s*,\s*([)\]])", r"\1", s)  # "red ,)" → "red)"
    s = re.sub(r",(?=\S)", ", ", s)
    s = re.sub(r"\s+", " ", s)
    return s.strip(" ,")


def _drop_empty_brackets(prompt: str) -> str:
    prev = None
    while prev != prompt:  # "((x))" empties from the inside out
        prev = prompt
        prompt = _EMPTY_PAREN.sub("", prompt)
        prompt = _EMPTY_SQUARE.sub("", prompt)
    return prompt


def remove_trigger(prompt: str, names: str | Iterable[str]) -> str:
    """The prompt without the trigger (``{}``, ``[name]``, the names with or without ``-N``, also
    when weighted or bracketed), tidied. Names match case-insensitively, as CLIP lower-cases."""
    if isinstance(names, str):
        names = [names]
    s = prompt
    for ph in PLACEHOLDERS:
        s = s.replace(ph, " ")
    pat = _name_pattern(names)
    if pat is not None:
        s = pat.sub(" ", s)
    s = _drop_empty_brackets(s)
    return tidy(s)


def plain_text(prompt: str) -> str:
    """The webui's prompt syntax turned into plain words: ``(red hat:1.2), [blue]`` → ``red hat, blue``;
    ``<lora:x:1>`` tags removed; escaped brackets ``\\(`` kept as text."""
    s = _EXTRA_NETWORK.sub(" ", prompt)
    keep: dict[str, str] = {}

    def _stash(m: re.Match[str]) -> str:
        key = f"\x00{len(keep)}\x00"
        keep[key] = m.group(1)
        return key

    s = _ESCAPED_BRACKET.sub(_stash, s)
    s = _WEIGHT.sub("", s)
    s = re.sub(r"[()\[\]]", " ", s)
    for key, ch in keep.items():
        s = s.replace(key, ch)
    s = re.sub(r"\bBREAK\b", ",", s)
    return tidy(s)


def clip_text(prompt: str, names: str | Iterable[str]) -> str:
    """What CLIP-T compares an image with: the prompt without its trigger, as plain text."""
    return plain_text(remove_trigger(prompt, names))
