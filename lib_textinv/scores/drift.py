"""Drift signals per checkpoint: how long the learnt vectors are compared with ordinary word
embeddings, and which vocabulary tokens each vector is closest to.

Overtraining shows as vector norms far above those of the model's own token embeddings (the
vectors stop looking like words and start to overpower the prompt); the nearest tokens show what a
vector has drifted towards. Both need the loaded model's raw token matrix, reached through the
host's ``TokenTable`` (docs/webui-contract.md §9 "Text encoder"): cosine similarity of each row
against the normalised matrix, ``topk``, ids mapped back with the tokenizer; magnitude check
``vec.norm(dim=1)`` vs the mean row norm.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lib_textinv.kit.host import TokenTable
from lib_textinv.kit.progress import Progress

logger = logging.getLogger(__name__)

CHUNK_ROWS = 8192  # rows of the token matrix handled at once: bounded float32 copies of an fp16 table


@dataclass(frozen=True)
class Neighbour:
    token: str
    token_id: int
    similarity: float


@dataclass
class DriftRow:
    step: int
    checkpoint: str
    mean_norm: float
    norm_ratio: float  # mean_norm / ordinary token norm
    vector_norms: list[float]
    nearest: list[list[Neighbour]]  # per vector, best first

    def nearest_text(self, n: int = 3) -> str:
        """``"v0: cat, kitty, dog | v1: …"`` for tables and the CSV."""
        return " | ".join(
            f"v{i}: " + ", ".join(nb.token for nb in row[:n]) for i, row in enumerate(self.nearest)
        )


@dataclass
class DriftResult:
    ordinary_norm: float
    rows: list[DriftRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class PreparedTable:
    """The token matrix reduced once to what every checkpoint needs: unit rows and the mean norm."""

    def __init__(self, table: TokenTable) -> None:
        import torch

        self.table = table
        m = table.matrix()
        if m.dim() != 2 or m.shape[0] == 0:
            raise ValueError(f"token matrix has shape {tuple(m.shape)}, expected [vocabulary, width]")
        self.device = m.device
        self.width = int(m.shape[1])
        units, norms = [], []
        with torch.no_grad():
            for start in range(0, m.shape[0], CHUNK_ROWS):
                rows = m[start : start + CHUNK_ROWS].float()
                n = rows.norm(dim=1)
                norms.append(n)
                units.append(rows / n.clamp_min(1e-12)[:, None])
            self.units = torch.cat(units)
            all_norms = torch.cat(norms)
            nonzero = all_norms[all_norms > 0]  # unused (all-zero) rows are not "ordinary tokens"
            self.ordinary_norm = float(nonzero.mean()) if nonzero.numel() else 0.0


def vector_norms(vectors: Any) -> list[float]:
    """L2 norm of each row of ``[n, d]``."""
    import torch

    with torch.no_grad():
        return [float(x) for x in torch.as_tensor(vectors).float().norm(dim=1)]


def nearest_tokens(vectors: Any, prepared: PreparedTable, k: int = 5) -> list[list[Neighbour]]:
    """For each row of ``vectors [n, d]``: the ``k`` vocabulary tokens with the highest cosine similarity."""
    import torch

    vec = torch.as_tensor(vectors).float().to(prepared.device)
    if vec.dim() != 2 or vec.shape[1] != prepared.width:
        raise ValueError(f"vectors are {tuple(vec.shape)}, the model's tokens are {prepared.width} wide")
    k = max(1, min(int(k), prepared.units.shape[0]))
    with torch.no_grad():
        unit = vec / vec.norm(dim=1, keepdim=True).clamp_min(1e-12)
        sims = unit @ prepared.units.T  # [n, V]
        values, ids = sims.topk(k, dim=1)
    out = []
    for vals, row_ids in zip(values.cpu().tolist(), ids.cpu().tolist(), strict=True):
        tokens = prepared.table.id_to_token(row_ids)
        out.append([Neighbour(t, i, float(v)) for t, i, v in zip(tokens, row_ids, vals, strict=True)])
    return out


def _step_and_path(item: Any) -> tuple[int, Path]:
    """A checkpoint as ``(step, path)`` or any object with ``.step`` and ``.path``."""
    if isinstance(item, tuple):
        step, path = item
    else:
        step, path = item.step, item.path
    return int(step), Path(os.fspath(path))


def drift_for_checkpoints(
    checkpoints: Sequence[Any], table: TokenTable, k: int = 5, progress: Progress | None = None
) -> DriftResult:
    """Norms and nearest tokens for every checkpoint file (read with ``embedding_file.load_embedding``;
    files are never modified). A file that cannot be used is listed in ``problems``, the rest continue."""
    from lib_textinv.kit.embedding_file import EmbeddingFileError, load_embedding

    progress = progress or Progress()
    prepared = PreparedTable(table)
    result = DriftResult(ordinary_norm=prepared.ordinary_norm)
    items = sorted((_step_and_path(c) for c in checkpoints), key=lambda sp: sp[0])
    progress.begin(len(items), "drift")
    for step, path in items:
        progress.check()
        try:
            emb = load_embedding(path)
            if isinstance(emb.vectors, dict):
                raise EmbeddingFileError(f"{path.name}: SDXL (clip_l/clip_g) embeddings are not trained here")
            if emb.width != prepared.width:
                raise EmbeddingFileError(
                    f"{path.name}: vectors are {emb.width} wide, "
                    f"the loaded model's tokens are {prepared.width}"
                )
            norms = vector_norms(emb.vectors)
            mean = sum(norms) / len(norms)
            ratio = mean / prepared.ordinary_norm if prepared.ordinary_norm else float("nan")
            result.rows.append(
                DriftRow(step, path.name, mean, ratio, norms, nearest_tokens(emb.vectors, prepared, k))
            )
        except EmbeddingFileError as e:
            result.problems.append(str(e))
        progress.step(1, path.name)
    return result
