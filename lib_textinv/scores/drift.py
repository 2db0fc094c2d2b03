"""Drift signals per checkpoint: how long the learnt vectors are compared with ordinary word
embeddings, and which vocabulary tokens each vector is closest to.

Overtraining shows as vector norms far above those of the model's own token embeddings (the
vectors stop looking like words and start to overpower the prompt); the nearest tokens show what a
vector has drifted towards. Both need the loaded model's raw token matrix, reached through the
host's ``TokenTable`` (docs/webui-contract.md §9 "Text encoder"): cosine similarity of each row
against the normalised matrix, ``topk``, ids mapped back with the tokenizer; magnitude check
``vec.norm(dim=1)`` vs the mean row norm.

An embedding has one part per text encoder: ``"*"`` on SD1/SD2, ``"clip_l"`` and ``"clip_g"`` on
SDXL, each measured against its own encoder's table (§25 SDXL embeddings). A checkpoint's summary
numbers are those of the part furthest from ordinary words (the highest norm ratio): that encoder
overpowers the prompt first.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lib_textinv.kit.embedding_file import SDXL_PARTS
from lib_textinv.kit.host import Host, TokenTable
from lib_textinv.kit.progress import Progress

logger = logging.getLogger(__name__)

CHUNK_ROWS = 8192  # rows of the token matrix handled at once: bounded float32 copies of an fp16 table


@dataclass(frozen=True)
class Neighbour:
    token: str
    token_id: int
    similarity: float


@dataclass
class PartDrift:
    """One part of a checkpoint's vectors against its own text encoder's tokens."""

    part: str
    mean_norm: float
    norm_ratio: float  # mean_norm / that encoder's ordinary token norm
    vector_norms: list[float]
    nearest: list[list[Neighbour]]  # per vector, best first


@dataclass
class DriftRow:
    step: int
    checkpoint: str
    parts: dict[str, PartDrift]

    @property
    def furthest(self) -> PartDrift:
        """The part with the highest norm ratio (NaN ratios count as lowest)."""
        return max(self.parts.values(), key=lambda p: -math.inf if math.isnan(p.norm_ratio) else p.norm_ratio)

    @property
    def mean_norm(self) -> float:
        return self.furthest.mean_norm

    @property
    def norm_ratio(self) -> float:
        return self.furthest.norm_ratio

    @property
    def vector_norms(self) -> list[float]:
        return self.furthest.vector_norms

    @property
    def nearest(self) -> list[list[Neighbour]]:
        return self.furthest.nearest

    def vector_rows(self) -> list[tuple[str, float, list[Neighbour]]]:
        """``(label, norm, neighbours)`` for every vector of every part: ``"0"`` on SD1/SD2,
        ``"clip_l 0"`` on SDXL."""
        return [
            (self._label(p.part, i), norm, nbs)
            for p in self.parts.values()
            for i, (norm, nbs) in enumerate(zip(p.vector_norms, p.nearest, strict=True))
        ]

    def _label(self, part: str, i: int) -> str:
        return str(i) if len(self.parts) == 1 else f"{part} {i}"

    def nearest_text(self, n: int = 3) -> str:
        """``"v0: cat, kitty, dog | v1: …"`` (SDXL: ``"clip_l v0: … | clip_g v0: …"``) for tables
        and the CSV."""
        return " | ".join(
            ("" if len(self.parts) == 1 else f"{p.part} ") + f"v{i}: " + ", ".join(nb.token for nb in row[:n])
            for p in self.parts.values()
            for i, row in enumerate(p.nearest)
        )

    def summary(self) -> dict[str, dict[str, float]]:
        """Part → mean norm and norm ratio (what the API lists per encoder)."""
        return {k: {"mean_norm": p.mean_norm, "norm_ratio": p.norm_ratio} for k, p in self.parts.items()}


@dataclass
class DriftResult:
    ordinary_norms: dict[str, float]  # part → mean norm of its encoder's ordinary tokens
    rows: list[DriftRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ordinary_norm(self) -> float | None:
        """The one encoder's ordinary token norm (SD1/SD2); None with several (see ``ordinary_norms``)."""
        return next(iter(self.ordinary_norms.values())) if len(self.ordinary_norms) == 1 else None


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


def token_tables(host: Host) -> dict[str, TokenTable]:
    """Part → the loaded model's token table for it: SDXL's two encoders, else the one
    (``host.token_table()``). Raises ``Unavailable`` when there is none."""
    if host.model_facts().family == "SDXL":
        return {part: host.token_table(part) for part in SDXL_PARTS}
    return {"*": host.token_table()}


def _part_drift(part: str, vectors: Any, prepared: PreparedTable, k: int) -> PartDrift:
    norms = vector_norms(vectors)
    mean = sum(norms) / len(norms)
    ratio = mean / prepared.ordinary_norm if prepared.ordinary_norm else float("nan")
    return PartDrift(part, mean, ratio, norms, nearest_tokens(vectors, prepared, k))


def _parts_words(parts: Mapping[str, Any]) -> str:
    if list(parts) == ["*"]:
        return "one text encoder's vectors"
    order = {p: i for i, p in enumerate(SDXL_PARTS)}
    return " and ".join(sorted(parts, key=lambda p: order.get(p, len(order)))) + " vectors"


def _row(step: int, path: Path, prepared: dict[str, PreparedTable], k: int) -> DriftRow:
    """One checkpoint, each of its parts against its own table; ``EmbeddingFileError`` when the
    file does not fit the loaded model."""
    from lib_textinv.kit.embedding_file import EmbeddingFileError, as_parts, load_embedding

    vectors = as_parts(load_embedding(path).vectors)
    if set(vectors) != set(prepared):
        raise EmbeddingFileError(
            f"{path.name}: holds {_parts_words(vectors)}, the loaded model needs {_parts_words(prepared)}"
        )
    for part, vec in vectors.items():
        if int(vec.shape[-1]) != prepared[part].width:
            raise EmbeddingFileError(
                f"{path.name}: vectors{'' if part == '*' else ' ' + part} are {int(vec.shape[-1])} wide, "
                f"the loaded model's tokens are {prepared[part].width}"
            )
    # in the tables' order (clip_l, clip_g), whatever the file's key order
    return DriftRow(step, path.name, {p: _part_drift(p, vectors[p], prepared[p], k) for p in prepared})


def drift_for_checkpoints(
    checkpoints: Sequence[Any],
    tables: TokenTable | Mapping[str, TokenTable],
    k: int = 5,
    progress: Progress | None = None,
) -> DriftResult:
    """Norms and nearest tokens for every checkpoint file (read with ``embedding_file.load_embedding``;
    files are never modified), each part against its table (one ``TokenTable`` = the part ``"*"``).
    A file that cannot be used is listed in ``problems``, the rest continue."""
    from lib_textinv.kit.embedding_file import EmbeddingFileError

    progress = progress or Progress()
    by_part = dict(tables) if isinstance(tables, Mapping) else {"*": tables}
    prepared = {part: PreparedTable(t) for part, t in by_part.items()}
    result = DriftResult(ordinary_norms={part: p.ordinary_norm for part, p in prepared.items()})
    items = sorted((_step_and_path(c) for c in checkpoints), key=lambda sp: sp[0])
    progress.begin(len(items), "drift")
    for step, path in items:
        progress.check()
        try:
            result.rows.append(_row(step, path, prepared, k))
        except EmbeddingFileError as e:
            result.problems.append(str(e))
        progress.step(1, path.name)
    return result
