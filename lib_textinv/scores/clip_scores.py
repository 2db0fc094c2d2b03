"""CLIP-I and CLIP-T for a sweep's cells, per cell and per checkpoint (the Textual Inversion paper's
reconstruction and editability measures).

* CLIP-I of an image: mean cosine similarity of its CLIP image embedding to the embeddings of the
  training images. Higher = closer to what was learnt.
* CLIP-T of an image: cosine similarity of its embedding to the CLIP text embedding of its prompt
  with the trigger removed (``trigger.clip_text``). Higher = the rest of the prompt still matters.

The math is plain numpy on ``[n, d]`` arrays; ``score_cells`` runs a ``ClipEmbedder``
(``lib_textinv.kit.clip_loader``) over the images and prompts.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lib_textinv.kit.progress import Progress
from lib_textinv.scores.trigger import clip_text

logger = logging.getLogger(__name__)


# -- math ---------------------------------------------------------------------------------------


def normalize_rows(x: Any) -> np.ndarray:
    """Rows scaled to unit length (float64); all-zero rows stay zero instead of becoming NaN."""
    a = np.atleast_2d(np.asarray(x, dtype=np.float64))
    norms = np.linalg.norm(a, axis=1, keepdims=True)
    return np.divide(a, norms, out=np.zeros_like(a), where=norms > 0)


def cosine_matrix(a: Any, b: Any) -> np.ndarray:
    """``[n, m]`` cosine similarities between the rows of ``a [n, d]`` and ``b [m, d]``."""
    a, b = normalize_rows(a), normalize_rows(b)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"embedding widths differ: {a.shape[1]} vs {b.shape[1]}")
    return a @ b.T


def clip_i_scores(image_embs: Any, reference_embs: Any) -> np.ndarray:
    """CLIP-I per image: mean cosine similarity to every reference (training) image."""
    ref = np.asarray(reference_embs)
    if ref.size == 0:
        raise ValueError("no training-image embeddings to compare with")
    return cosine_matrix(image_embs, ref).mean(axis=1)


def clip_t_scores(image_embs: Any, text_embs: Any) -> np.ndarray:
    """CLIP-T per image: cosine similarity of image ``i`` to text ``i`` (row-wise)."""
    a, b = normalize_rows(image_embs), normalize_rows(text_embs)
    if a.shape != b.shape:
        raise ValueError(f"need one text per image: {a.shape[0]} images, {b.shape[0]} texts")
    return (a * b).sum(axis=1)


# -- tables ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One generated image of the sweep: which checkpoint (step), which prompt and seed."""

    step: int
    prompt: str
    image: Any  # a path or a PIL image
    seed: int | None = None
    checkpoint: str = ""  # the checkpoint's token or file name, for display


@dataclass
class CellScore:
    step: int
    checkpoint: str
    prompt: str
    text: str  # the prompt as CLIP-T saw it (trigger removed)
    seed: int | None
    image: str  # path, or "" for in-memory images
    clip_i: float
    clip_t: float


@dataclass
class CheckpointScore:
    step: int
    checkpoint: str
    clip_i: float
    clip_t: float
    clip_i_std: float
    clip_t_std: float
    n: int


@dataclass
class ScoreResult:
    cells: list[CellScore] = field(default_factory=list)
    checkpoints: list[CheckpointScore] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # files skipped, with the reason
    n_training_images: int = 0


def _nanmean_std(values: Sequence[float]) -> tuple[float, float]:
    good = [v for v in values if not math.isnan(v)]
    if not good:
        return math.nan, math.nan
    arr = np.asarray(good, dtype=np.float64)
    return float(arr.mean()), float(arr.std())


def aggregate(cells: Iterable[CellScore]) -> list[CheckpointScore]:
    """Per checkpoint: mean (and spread) of its cells' CLIP-I and CLIP-T, ordered by step."""
    groups: dict[tuple[int, str], list[CellScore]] = {}
    for c in cells:
        groups.setdefault((c.step, c.checkpoint), []).append(c)
    out = []
    for (step, ckpt), group in sorted(groups.items()):
        ci, ci_sd = _nanmean_std([c.clip_i for c in group])
        ct, ct_sd = _nanmean_std([c.clip_t for c in group])
        out.append(CheckpointScore(step, ckpt, ci, ct, ci_sd, ct_sd, len(group)))
    return out


# -- running CLIP ------------------------------------------------------------------------------


def _load_images(items: Sequence[Any], problems: list[str]) -> tuple[list[Any], list[int]]:
    """PIL images for paths (or the images themselves) and the indices that loaded."""
    from lib_textinv.kit.images import ImageRefused, load_rgb

    out, ok = [], []
    for i, item in enumerate(items):
        if not isinstance(item, (str, os.PathLike)):
            out.append(item)
            ok.append(i)
            continue
        try:
            out.append(load_rgb(item))
            ok.append(i)
        except (OSError, ImageRefused, ValueError) as e:
            problems.append(f"{Path(item).name}: skipped ({e})")
    return out, ok


def _embed_in_batches(
    embedder: Any, images: Sequence[Any], batch_size: int, progress: Progress
) -> np.ndarray:
    parts = []
    for start in range(0, len(images), batch_size):
        progress.check()
        chunk = list(images[start : start + batch_size])
        parts.append(np.asarray(embedder.embed_images(chunk), dtype=np.float64))
        progress.step(len(chunk))
    return np.concatenate(parts) if parts else np.zeros((0, 0))


def _cell_scores(
    cells: Sequence[Cell], texts: Sequence[str], emb: np.ndarray, ref: np.ndarray, text_emb: dict
) -> list[CellScore]:
    """Scores of ``cells`` from their image embeddings ``emb`` (one row each, in order)."""
    ci = clip_i_scores(emb, ref)
    out = []
    for row, (cell, text) in enumerate(zip(cells, texts, strict=True)):
        ct = float(clip_t_scores(emb[row : row + 1], text_emb[text][None, :])[0]) if text else math.nan
        img = cell.image
        out.append(
            CellScore(
                step=cell.step,
                checkpoint=cell.checkpoint,
                prompt=cell.prompt,
                text=text,
                seed=cell.seed,
                image=os.fspath(img) if isinstance(img, (str, os.PathLike)) else "",
                clip_i=float(ci[row]),
                clip_t=ct,
            )
        )
    return out


def score_cells(
    embedder: Any,
    cells: Sequence[Cell],
    training_images: Sequence[Any],
    trigger_names: str | Iterable[str],
    progress: Progress | None = None,
    batch_size: int = 16,
) -> ScoreResult:
    """CLIP-I and CLIP-T for every cell (paths or PIL images), aggregated per checkpoint.

    ``embedder`` has ``embed_images(list[PIL]) -> [n, d]`` and ``embed_texts(list[str]) -> [n, d]``.
    Unreadable files are skipped and listed in ``problems``; a prompt that is nothing but the
    trigger has no text left to compare with, so its CLIP-T is NaN.
    """
    progress = progress or Progress()
    names = [trigger_names] if isinstance(trigger_names, str) else list(trigger_names)
    result = ScoreResult()
    progress.begin(len(training_images) + len(cells), "CLIP scores")

    ref_images, _ = _load_images(training_images, result.problems)
    if not ref_images:
        raise ValueError("no readable training images: CLIP-I needs them")
    ref = _embed_in_batches(embedder, ref_images, batch_size, progress)
    result.n_training_images = len(ref_images)
    del ref_images

    texts = [clip_text(c.prompt, names) for c in cells]
    unique = sorted({t for t in texts if t})
    text_emb = (
        dict(zip(unique, np.asarray(embedder.embed_texts(unique), dtype=np.float64), strict=True))
        if unique
        else {}
    )
    for start in range(0, len(cells), batch_size):
        progress.check()
        chunk = list(cells[start : start + batch_size])
        imgs, ok = _load_images([c.image for c in chunk], result.problems)
        progress.step(len(chunk) - len(ok))
        if imgs:
            emb = _embed_in_batches(embedder, imgs, batch_size, progress)
            chunk_texts = [texts[start + j] for j in ok]
            result.cells += _cell_scores([chunk[j] for j in ok], chunk_texts, emb, ref, text_emb)
    result.checkpoints = aggregate(result.cells)
    return result
