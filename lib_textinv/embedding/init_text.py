"""Initialization text for a new embedding: the words most common across the captions.

The webui starts every vector from the token embeddings of the initialization text (spread or
repeated over the vectors, docs/webui-contract.md §11 Creating an embedding), so words that
describe what all images share ("charcoal drawing") are a better start than the default "*".
Words are ranked by how many captions contain them (not by raw count, so one long caption cannot
dominate), stop words and caption filler left out, and written in the order they usually appear in
the captions.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

# Function words plus the filler that captioners (BLIP, DeepDanbooru) put in every caption.
_STOP_TEXT = """
    a an the and or but nor of in on at to for from by with without into onto over under above below
    between behind beside near through during before after up down out off about against among
    around is are was were be been being am has have had having do does did this that these those
    there here it its it's he she they them their his her him we you your our i me my mine yours as
    than then so such very too also just only not no yes can will would should could may might must
    some any all each every both either neither other another more most much many few several lot
    lots one two three four five six seven eight nine ten first second who whom whose which what
    when where why how while image picture pic photo of close closeup view shot background front
    side top bottom left right arafed araffe arafly araf there's it's that's looking sitting
    standing holding wearing using
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())

WORD_RE = re.compile(r"[^\W\d_](?:[^\W_]|['’-](?=[^\W_]))*", re.UNICODE)


class TokenCounter(Protocol):
    def count_tokens(self, text: str) -> int:
        """Tokens the loaded model's tokenizer makes of ``text`` (no start/end tokens)."""
        ...


@dataclass(frozen=True)
class InitTextSuggestion:
    text: str  # "" when there is nothing to suggest (the webui then uses "*")
    tokens: int | None  # token count under the model's tokenizer; None when no tokenizer is available
    words: list[tuple[str, int]]  # (word, number of captions containing it), best first
    captions: int  # how many captions were read
    note: str  # plain-words explanation for the UI


def words_of(caption: str) -> list[str]:
    """Lower-cased words of a caption; DeepDanbooru-style underscores count as spaces."""
    return [m.group(0).lower() for m in WORD_RE.finditer(caption.replace("_", " "))]


def suggest_init_text(
    captions: Iterable[str | None],
    counter: TokenCounter | None = None,
    max_words: int = 3,
    min_share: float = 0.5,
) -> InitTextSuggestion:
    """The up to ``max_words`` non-stop words found in at least ``min_share`` of the captions (and
    in at least two, when there are two or more), most widespread first, then put in their usual
    caption order."""
    texts = [c for c in captions if c and c.strip()]
    doc_freq: Counter[str] = Counter()
    positions: dict[str, list[float]] = defaultdict(list)
    first_seen: dict[str, int] = {}
    for caption in texts:
        words = [w for w in words_of(caption) if w not in STOP_WORDS and len(w) > 1]
        for w in dict.fromkeys(words):
            doc_freq[w] += 1
            positions[w].append(words.index(w) / max(1, len(words)))
            first_seen.setdefault(w, len(first_seen))
    if not texts:
        return InitTextSuggestion(
            "", None, [], 0, 'No captions yet: the webui\'s default initialization text is "*".'
        )
    need = max(2 if len(texts) >= 2 else 1, min_share * len(texts))
    ranked = sorted(doc_freq.items(), key=lambda kv: (-kv[1], first_seen[kv[0]]))
    chosen = [(w, n) for w, n in ranked if n >= need][: max(1, max_words)]
    if not chosen:
        return InitTextSuggestion(
            "",
            None,
            ranked[:5],
            len(texts),
            "The captions share no word often enough to suggest one; write a word or two that describe "
            "what all images have in common.",
        )
    ordered = sorted(chosen, key=lambda wn: sum(positions[wn[0]]) / len(positions[wn[0]]))
    text = " ".join(w for w, _ in ordered)
    tokens = counter.count_tokens(text) if counter is not None else None
    shares = ", ".join(f"“{w}” in {n} of {len(texts)}" for w, n in chosen)
    token_txt = (
        f"; {tokens} token{'s' if tokens != 1 else ''} under the model's tokenizer"
        if tokens is not None
        else ""
    )
    return InitTextSuggestion(
        text, tokens, chosen, len(texts), f"Most common words across the captions: {shares}{token_txt}."
    )


class ClipBpeCounter:
    """Token counts with the CLIP BPE that ships inside open_clip: the same vocabulary as SD1's and
    SD2's tokenizers and both of SDXL's (OpenAI's ``bpe_simple_vocab_16e6``), for when no model is
    loaded."""

    def count_tokens(self, text: str) -> int:
        from open_clip.tokenizer import _tokenizer

        return len(_tokenizer.encode(text))
