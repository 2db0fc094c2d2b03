"""All scores in one CSV beside the saved grid: one row per checkpoint, then one per cell.

Column ``level`` says which (``checkpoint`` or ``cell``); empty fields mean "not measured". Written
atomically (kit.files), so a spreadsheet open on the old file never sees half a table. The file is ours
(``<grid stem>-scores.csv``): scoring the same grid again replaces it.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lib_textinv.kit.files import atomic_write_text

COLUMNS = [
    "level",
    "step",
    "checkpoint",
    "fixed_loss",
    "clip_i",
    "clip_t",
    "cells",
    "mean_norm",
    "norm_ratio",
    "nearest_tokens",
    "recommended",
    "prompt",
    "clip_text",
    "seed",
    "image",
]


def csv_path_for(grid: str | os.PathLike) -> Path:
    """``<grid stem>-scores.csv`` beside the sweep's grid file."""
    p = Path(grid)
    return p.with_name(f"{p.stem}-scores.csv")


def _cell(v: Any) -> Any:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, bool):
        return "yes" if v else ""
    if isinstance(v, float):
        return f"{v:.6g}"
    return v


def scores_csv_text(checkpoint_rows: Sequence[dict], cells: Sequence[Any], recommendation: Any = None) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in checkpoint_rows:
        w.writerow({k: _cell(v) for k, v in {"level": "checkpoint", **r}.items()})
    for c in cells:
        w.writerow(
            {
                k: _cell(v)
                for k, v in {
                    "level": "cell",
                    "step": c.step,
                    "checkpoint": c.checkpoint,
                    "clip_i": c.clip_i,
                    "clip_t": c.clip_t,
                    "prompt": c.prompt,
                    "clip_text": c.text,
                    "seed": c.seed,
                    "image": c.image,
                }.items()
            }
        )
    if recommendation is not None:
        w.writerow(
            {
                "level": "rule",
                "step": recommendation.step,
                "checkpoint": recommendation.checkpoint,
                "prompt": recommendation.rule,
                "clip_text": recommendation.why,
            }
        )
    return buf.getvalue()


def write_scores_csv(
    path: str | os.PathLike, checkpoint_rows: Sequence[dict], cells: Sequence[Any], recommendation: Any = None
) -> str:
    atomic_write_text(path, scores_csv_text(checkpoint_rows, cells, recommendation))
    return str(path)


def read_scores_csv(path: str | os.PathLike) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))
