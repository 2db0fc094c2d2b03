"""Everything the Embedding section says about a prepared folder: usable images, their variety
under CLIP, the vectors-per-token recommendation and an initialization text."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

from lib_textinv.captions.files import read_caption
from lib_textinv.dataset.scan import list_images
from lib_textinv.embedding.diversity import Diversity, ImageEmbedder, measure_images
from lib_textinv.embedding.init_text import InitTextSuggestion, suggest_init_text
from lib_textinv.embedding.recommend import Recommendation, recommend
from lib_textinv.embedding.tokens import token_counter
from lib_textinv.kit.files import resolve_existing_dir
from lib_textinv.kit.folder_guard import checked_folder
from lib_textinv.kit.host import Host, Unavailable
from lib_textinv.kit.progress import Progress

logger = logging.getLogger(__name__)
# The job key of a recommendation, tab and API alike: one at a time (it loads CLIP).
RECOMMEND_KEY = "embedding-recommend"

# (host) -> a context giving (embedder, batch size) for one job and releasing it at the end;
# raises Unavailable. Tests pass a tiny local model.
EmbedderLoader = Callable[[Host], AbstractContextManager[tuple[ImageEmbedder, int]]]


@dataclass
class FolderAdvice:
    folder: str
    recommendation: Recommendation
    diversity: Diversity | None
    clip_reason: str | None  # why variety was not measured
    init_text: InitTextSuggestion
    skipped: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        div = self.diversity
        return {
            "folder": self.folder,
            "vectors": self.recommendation.vectors,
            "range": self.recommendation.range_text,
            "explanation": self.recommendation.explanation,
            "images": self.recommendation.images,
            "diversity": None if div is None else {"value": round(div.value, 4), "word": div.word},
            "clip_unavailable": self.clip_reason,
            "family": self.recommendation.family,
            "trainable": self.recommendation.trainable,
            "tokens_left": self.recommendation.tokens_left,
            "init_text": self.init_text.text,
            "init_text_tokens": self.init_text.tokens,
            "init_text_note": self.init_text.note,
            "skipped": self.skipped,
        }


def recommend_folder(host: Host, folder: str) -> Path:
    """The folder to recommend for, as an absolute path the host allows (``kit.folder_guard``:
    ``BadFolder`` for a relative path, ``Forbidden`` outside the allowed folders)."""
    return checked_folder(folder, host.file_access(), "folder")


def recommend_title(folder: str) -> str:
    return f"Recommending vectors for {folder}"


def _usable_without_clip(paths: list, progress: Progress) -> tuple[int, list[str]]:
    """Count images whose header opens (cheap) when CLIP does not run."""
    from lib_textinv.dataset.reasons import reason_for
    from lib_textinv.kit.images import open_image

    ok, skipped = 0, []
    progress.begin(len(paths), "checking images")
    for p in paths:
        progress.check()
        try:
            with open_image(p):
                ok += 1
        except (OSError, ValueError, SyntaxError, EOFError) as e:
            skipped.append(f"{os.path.basename(p)}: {reason_for(e, p).message}")
        progress.step()
    return ok, skipped


def _default_loader(host: Host) -> AbstractContextManager[tuple[ImageEmbedder, int]]:
    """The configured CLIP for this recommendation only: a one-off job must not leave the webui's
    process holding the model (gigabytes for ViT-L-14) for good."""
    from lib_textinv.kit.clip_loader import clip_for_job

    return clip_for_job(host)


def _measure(
    host: Host, paths: list, progress: Progress, loader: EmbedderLoader | None
) -> tuple[Diversity | None, str | None, int, list[str]]:
    """(variety or None, why not measured, usable images, skipped "file: reason")."""
    if len(paths) < 2:
        usable, skipped = _usable_without_clip(paths, progress)
        return None, "fewer than two images: nothing to compare", usable, skipped
    try:
        with (loader or _default_loader)(host) as (embedder, batch):
            diversity = measure_images(paths, embedder, batch_size=batch, progress=progress)
    except Unavailable as e:  # raised on entering: no CLIP to measure with
        usable, skipped = _usable_without_clip(paths, progress)
        return None, str(e), usable, skipped
    return diversity, None, diversity.images, diversity.skipped


def advise(
    host: Host,
    folder: str,
    progress: Progress | None = None,
    loader: EmbedderLoader | None = None,
    max_init_words: int = 3,
) -> FolderAdvice:
    """Scan ``folder`` (read-only), measure its variety with CLIP when it can, and recommend.
    Raises ``ValueError`` for a folder that does not exist or is not an absolute path
    (``BadFolder``), ``Forbidden`` for one outside the allowed folders."""
    progress = progress or Progress()
    real = resolve_existing_dir(recommend_folder(host, folder))
    paths = list_images(real)
    diversity, clip_reason, usable, skipped = _measure(host, paths, progress, loader)
    facts = host.model_facts()
    family = facts.family if facts.loaded else "none"
    rec = recommend(
        usable, None if diversity is None else diversity.value, family, facts.embedding_width, clip_reason
    )
    counter, _how = token_counter(host)
    captions = [read_caption(p) for p in paths]
    init = suggest_init_text(captions, counter, max_words=max_init_words)
    return FolderAdvice(str(real), rec, diversity, clip_reason, init, skipped)
