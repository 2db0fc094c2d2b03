"""What an embedding is for each model family: its parts (one per text encoder) and their widths,
its file type, and how the webui's rule turns an initialization text into vectors. One table, read
by Create, the recommendation and the token budget.

SD1/SD2 embeddings are one ``[n, width]`` tensor (part ``"*"``), written by the webui's own
``create_embedding`` as ``.pt``. SDXL embeddings hold one tensor per text encoder,
``{"clip_l": [n, 768], "clip_g": [n, 1280]}``, the ``.safetensors`` layout kohya's and diffusers'
SDXL scripts write; the webui loads it (expected width 768 + 1280 = 2048) but cannot create it,
so we write it ourselves (docs/webui-contract.md §25 SDXL embeddings, §11 Creating an embedding).
"""

from __future__ import annotations

from lib_textinv.kit.embedding_file import file_suffix

FAMILY_PARTS: dict[str, dict[str, int]] = {
    "SD1": {"*": 768},
    "SD2": {"*": 1024},
    "SD2-v": {"*": 1024},
    "SDXL": {"clip_l": 768, "clip_g": 1280},
}
# Families whose embeddings the webui's create_embedding cannot write (we write the file).
OWN_WRITER = ("SDXL",)
# Families whose init text goes through a tokenizer that keeps only the first ``n`` tokens
# (SD1's HF tokenizer is called with ``max_length=n``, sd_hijack_clip.py:362-367; our SDXL
# writer follows it so that clip_l and clip_g start from the same words); SD2's open_clip
# path keeps every token and spreads them (sd_hijack_open_clip.py:32-37).
FIRST_TOKENS_ONLY = ("SD1", "SDXL")

PART_NAMES = {"*": "the text encoder", "clip_l": "CLIP-L", "clip_g": "OpenCLIP-G"}


def parts(family: str) -> dict[str, int] | None:
    """Part → width of an embedding for ``family`` (None: not a family we create for)."""
    return FAMILY_PARTS.get(family)


def total_width(family: str) -> int | None:
    """What the webui compares with its expected shape (SDXL: both parts together)."""
    p = parts(family)
    return sum(p.values()) if p else None


def suffix(family: str) -> str:
    """The file type of a new embedding for ``family`` (``.pt`` when the family is unknown)."""
    return file_suffix(dict.fromkeys(parts(family) or {"*": 0}))


def width_words(family: str) -> str:
    """``"768 numbers"`` or ``"768 numbers for CLIP-L and 1280 numbers for OpenCLIP-G"``."""
    p = parts(family) or {}
    if len(p) == 1:
        return f"{next(iter(p.values()))} numbers"
    return " and ".join(f"{w} numbers for {PART_NAMES[k]}" for k, w in p.items()) or "an unknown width"


def init_text_note(family: str, tokens: int, vectors: int) -> str | None:
    """What becomes of an initialization text longer than the vectors, None when it fits."""
    if tokens <= vectors:
        return None
    first = "its first token" if vectors == 1 else f"its first {vectors} tokens"
    if family in FIRST_TOKENS_ONLY:
        return f"{family} starts from {first} only"
    if family in FAMILY_PARTS:
        return f"{family} spreads all {tokens} over the {vectors} vectors"
    return f"SD1 and SDXL start from {first} only, SD2 spreads all of them"
