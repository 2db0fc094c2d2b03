"""How varied a folder of images is: the spread of their CLIP image embeddings.

The number is the mean pairwise cosine distance (1 − cosine similarity, averaged over every pair
of images). 0 means identical pictures; unrelated photographs under OpenAI CLIP ViT-L/14 sit
around 0.4–0.6 (CLIP image embeddings fill a narrow cone, so even unrelated images keep a cosine
similarity near 0.5).

Words (thresholds calibrated for CLIP ViT-L/14, the default; other models give similar orders of
magnitude but are not calibrated):

* below 0.15: **very similar** — near-duplicates, crops of one photo, one object on one background
  (cosine similarity above 0.85 is what CLIP gives for re-crops and re-shoots of the same scene);
* 0.15 to 0.35: **moderate** — one subject in different poses, lighting and backgrounds, the
  typical Textual Inversion set the tutorial's rule of thumb was written for;
* above 0.35: **diverse** — a style or a concept over many different subjects, approaching the
  spread of unrelated photographs.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from lib_textinv.kit.progress import Progress

logger = logging.getLogger(__name__)

VERY_SIMILAR_BELOW = 0.15
DIVERSE_ABOVE = 0.35


class ImageEmbedder(Protocol):
    """Images to L2-normalised ``[n, d]`` embeddings. Where its weights live and for how long is
    its loader's business (``kit.clip_loader.clip_for_job``)."""

    def embed_images(self, images: list, batch_size: int = 16) -> Any: ...


@dataclass(frozen=True)
class Diversity:
    value: float  # mean pairwise cosine distance, 0..2 (in practice 0..~0.7)
    word: str  # very similar | moderate | diverse
    images: int  # how many images were measured
    skipped: list[str] = field(default_factory=list)  # "file: reason" for images that could not be read

    def describe(self) -> str:
        return f"{self.value:.2f} ({self.word}, {self.images} images)"


def diversity_word(value: float) -> str:
    if value < VERY_SIMILAR_BELOW:
        return "very similar"
    if value <= DIVERSE_ABOVE:
        return "moderate"
    return "diverse"


def mean_pairwise_distance(embeddings) -> float:
    """Mean of 1 − cos over all unordered pairs of rows (rows need not be normalised); 0.0 for
    fewer than two rows."""
    import numpy as np

    e = np.asarray(embeddings, dtype=np.float64)
    n = e.shape[0]
    if n < 2:
        return 0.0
    norms = np.linalg.norm(e, axis=1, keepdims=True)
    e = e / np.maximum(norms, 1e-12)
    # Sum over pairs from the sum vector: |Σe|² = n + 2·Σ_{i<j} cos_ij (each row has norm 1).
    s = e.sum(axis=0)
    pair_cos = (float(s @ s) - n) / 2.0
    mean_cos = pair_cos / (n * (n - 1) / 2)
    return float(min(2.0, max(0.0, 1.0 - mean_cos)))


def measure_images(
    paths: Sequence[str | os.PathLike],
    embedder: ImageEmbedder,
    batch_size: int = 16,
    progress: Progress | None = None,
) -> Diversity:
    """Load and embed ``paths`` in batches (cancellable between batches); unreadable images are
    skipped with their reason (the Dataset report's words) and the rest are measured."""
    import numpy as np

    from lib_textinv.dataset.reasons import reason_for
    from lib_textinv.kit.images import load_rgb

    progress = progress or Progress()
    progress.begin(len(paths), "measuring image variety with CLIP")
    batch_size = max(1, int(batch_size))
    skipped: list[str] = []
    parts = []
    for start in range(0, len(paths), batch_size):
        progress.check()
        chunk = paths[start : start + batch_size]
        images = []
        for p in chunk:
            try:
                # CLIP looks at 224 px: let JPEG decode at a fraction of full size.
                images.append(load_rgb(p, draft=(448, 448)))
            except (OSError, ValueError, SyntaxError, EOFError) as e:  # ImageRefused is a ValueError;
                # PIL raises SyntaxError for some corrupt PNG chunks, EOFError for some cut-off files
                skipped.append(f"{os.path.basename(p)}: {reason_for(e, p).message}")
                logger.warning("diversity: skipping %s: %s", p, e)
        if images:
            parts.append(embedder.embed_images(images, batch_size=batch_size))
        progress.step(len(chunk))
    emb = np.concatenate(parts) if parts else np.zeros((0, 1), dtype=np.float32)
    value = mean_pairwise_distance(emb)
    return Diversity(value=value, word=diversity_word(value), images=int(emb.shape[0]), skipped=skipped)
