"""How many vectors per token to give a new embedding, and why, in plain words.

Baseline: the tutorial's rule of thumb, "2-3 is a good number for up to 10 images, since we have
25 we should try 5 or 6". Between 10 and 25 images it is interpolated linearly; above 25 it grows
only logarithmically and stops at ``MAX_VECTORS``, because the Textual Inversion paper (Gal et al.
2022) found that more vectors do not improve reconstruction but cost editability, and every
vector uses one of the prompt's 75 tokens.

The image variety (``lib_textinv.embedding.diversity``) scales the baseline: inside the "moderate" band —
the typical set the rule was written for — it is left as it is; near-identical sets get down to
``LOW_FACTOR`` of it, diverse sets up to ``HIGH_FACTOR``. The pre-filled number is the lower end of
the range (fewer vectors keep the embedding easier to steer with the rest of the prompt).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lib_textinv.embedding import families
from lib_textinv.embedding.diversity import DIVERSE_ABOVE, VERY_SIMILAR_BELOW, diversity_word

PROMPT_TOKENS = 75
MAX_VECTORS = 8
MIN_VECTORS = 1
LOW_FACTOR = 0.6  # near-identical images (distance 0)
HIGH_FACTOR = 1.4  # very diverse images (distance ≥ FULLY_DIVERSE)
FULLY_DIVERSE = 0.55  # about the spread of unrelated photographs under CLIP ViT-L/14


@dataclass(frozen=True)
class Recommendation:
    vectors: int  # the number to pre-fill
    low: int
    high: int
    raw: float  # the unrounded value (for tests and curious users)
    images: int
    diversity: float | None
    diversity_word: str | None
    family: str
    width: int | None
    trainable: bool
    tokens_left: int  # of the prompt's 75, with ``vectors`` used by the embedding
    explanation: str

    @property
    def range_text(self) -> str:
        return f"{self.low}" if self.low == self.high else f"{self.low}-{self.high}"


def count_baseline(images: int) -> float:
    """The tutorial's rule as a continuous, non-decreasing curve: 2.5 up to 10 images, 5.5 at 25,
    then +1.5 for every doubling (before the cap)."""
    n = max(0, int(images))
    if n <= 10:
        return 2.5
    if n <= 25:
        return 2.5 + (n - 10) * (5.5 - 2.5) / 15
    return 5.5 + 1.5 * math.log2(n / 25)


def diversity_factor(distance: float | None) -> float:
    """1 inside the moderate band (and when unmeasured); linear to LOW_FACTOR at distance 0 and to
    HIGH_FACTOR at FULLY_DIVERSE; non-decreasing."""
    if distance is None:
        return 1.0
    d = max(0.0, float(distance))
    if d < VERY_SIMILAR_BELOW:
        return LOW_FACTOR + (1.0 - LOW_FACTOR) * d / VERY_SIMILAR_BELOW
    if d <= DIVERSE_ABOVE:
        return 1.0
    return 1.0 + (HIGH_FACTOR - 1.0) * min(1.0, (d - DIVERSE_ABOVE) / (FULLY_DIVERSE - DIVERSE_ABOVE))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def recommend(
    images: int,
    diversity: float | None = None,
    family: str = "SD1",
    width: int | None = None,
    clip_reason: str | None = None,
) -> Recommendation:
    """Recommend vectors per token for ``images`` usable images with mean pairwise CLIP distance
    ``diversity`` (None when CLIP could not run; ``clip_reason`` says why) on a ``family`` model."""
    images = max(0, int(images))
    base = count_baseline(images)
    factor = diversity_factor(diversity)
    raw = min(float(MAX_VECTORS), max(float(MIN_VECTORS), base * factor))
    low = max(MIN_VECTORS, math.floor(raw))
    high = min(MAX_VECTORS, low + 1) if raw > low else low
    vectors = low
    width = width or families.total_width(family)
    trainable = families.parts(family) is not None
    tokens_left = PROMPT_TOKENS - vectors
    parts = [
        _count_words(images, base),
        _variety_words(diversity, factor, clip_reason),
        *(
            [f"Capped at {MAX_VECTORS}: beyond that the embedding gets hard to steer with the prompt."]
            if raw >= MAX_VECTORS and base * factor > MAX_VECTORS
            else []
        ),
        f"{_plural(vectors, 'vector')} leave {tokens_left} of the prompt's {PROMPT_TOKENS} tokens for the "
        "rest of the prompt; fewer vectors also keep the embedding easier to combine with other words.",
        _family_words(family, trainable),
    ]
    return Recommendation(
        vectors=vectors,
        low=low,
        high=high,
        raw=raw,
        images=images,
        diversity=None if diversity is None else float(diversity),
        diversity_word=None if diversity is None else diversity_word(diversity),
        family=family or "none",
        width=width,
        trainable=trainable,
        tokens_left=tokens_left,
        explanation=" ".join(parts),
    )


def _count_words(images: int, base: float) -> str:
    """Factor 1: the number of images."""
    if images == 0:
        return "No usable images were found yet, so this is the tutorial's starting point for a small set."
    if images <= 10:
        rule = "the tutorial's rule of thumb is 2-3 vectors for up to 10 images"
        return f"{_plural(images, 'usable image')}: {rule}."
    if images < 25:
        return (
            f"{images} usable images: between the tutorial's 2-3 vectors for 10 images and 5-6 for 25, "
            f"that is about {base:.1f}."
        )
    if images == 25:
        return "25 usable images: the tutorial's rule of thumb is 5-6 vectors."
    return (
        f"{images} usable images: more than the tutorial's 25 (5-6 vectors); more images allow a few "
        f"more vectors, about {base:.1f}, but more vectors do not make the likeness better "
        "(Gal et al. 2022)."
    )


def _variety_words(diversity: float | None, factor: float, clip_reason: str | None) -> str:
    """Factor 2: how varied the images are."""
    if diversity is None:
        why = f" ({clip_reason})" if clip_reason else ""
        return f"Image variety was not measured{why}, so the number follows the image count only."
    if factor < 1.0:
        effect = "fewer vectors are enough to capture what they share"
    elif factor > 1.0:
        effect = "a few more vectors help to cover what they have in common"
    else:
        effect = "the image count rule applies as it is"
    return f"Image variety {diversity:.2f} ({diversity_word(diversity)}, CLIP image similarity): {effect}."


def _family_words(family: str, trainable: bool) -> str:
    """Factor 4: the model family (factor 3, the prompt budget, is one sentence)."""
    if family == "SDXL":
        # both encoders read the prompt with the same 75-token chunks, counted by CLIP-L's
        # tokenizer (modules/sd_models_xl.py:65-87), so each vector costs one token in both
        return (
            f"The loaded model is SDXL: each vector holds {families.width_words(family)} (one part per "
            "text encoder), and counts as one prompt token in both."
        )
    if trainable:
        return f"The loaded model is {family}: each vector holds {families.width_words(family)}."
    if family in ("none", "", None):
        return (
            "No model is loaded: the vector width (SD1 768, SD2 1024, SDXL 768 + 1280) is known once one is."
        )
    return f"The loaded model is {family}: embeddings can be made for SD1, SD2 and SDXL only."
