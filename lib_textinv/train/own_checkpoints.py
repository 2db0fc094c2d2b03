"""Our trainer's files in the run folder, where the webui's trainer puts its own
(docs/webui-contract.md §14 files written by training), so Compare, Scores and Promote read them
unchanged: ``embeddings/<name>-<N>.pt`` (SDXL ``.safetensors``) storing step N, its optimizer state
next to it, the webui's loss CSV, our fixed-batch loss CSV and a settings file in the webui's keys.
Nothing with a NaN or an infinity is ever written."""

from __future__ import annotations

import datetime as _dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lib_textinv.kit.embedding_file import file_suffix, write_embedding, write_optimizer_state
from lib_textinv.kit.files import atomic_write_text
from lib_textinv.train.loss_csv import COLUMNS, FILENAME
from lib_textinv.train.run_files import list_checkpoints

FIXED_LOSS_CSV = "textinv_fixed_loss.csv"


class NonFiniteVectors(ValueError):
    """Refused to write vectors holding NaN or Inf."""


def all_finite(parts: dict[str, Any]) -> bool:
    import torch

    return all(bool(torch.isfinite(v.detach()).all()) for v in parts.values())


@dataclass
class RunFiles:
    folder: Path
    name: str  # the embedding's name; checkpoints are <name>-<N>
    sd_checkpoint: str | None = None  # the loaded model's short hash, stored like the webui does
    sd_checkpoint_name: str | None = None

    def checkpoint_path(self, step: int, parts: dict[str, Any]) -> Path:
        return self.folder / "embeddings" / f"{self.name}-{step}{file_suffix(parts)}"

    def save_checkpoint(self, step: int, parts: dict[str, Any], optimizer_state: dict | None) -> Path:
        """``<name>-<step>`` (storing ``step``, named as it is, unlike the webui's off-by-one)."""
        if not all_finite(parts):
            raise NonFiniteVectors(f"{self.name}-{step}: the vectors hold NaN or Inf; not saved")
        path = self.checkpoint_path(step, parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        cpu = {k: v.detach().float().cpu() for k, v in parts.items()}
        write_embedding(
            path,
            cpu,
            name=f"{self.name}-{step}",
            step=step,
            sd_checkpoint=self.sd_checkpoint,
            sd_checkpoint_name=self.sd_checkpoint_name,
        )
        if optimizer_state is not None:
            write_optimizer_state(path, cpu, optimizer_state)
        return path

    def append_loss(self, step: int, epoch: int, epoch_step: int, loss: float, lr: float) -> None:
        """A row of the webui's ``textual_inversion_loss.csv`` (its columns, so the loss plot reads it)."""
        self._append(FILENAME, ",".join(COLUMNS), f"{step},{epoch},{epoch_step},{loss:.7f},{lr!r}")

    def append_fixed(self, step: int, loss: float, norms: dict[str, float]) -> None:
        parts = sorted(norms)
        header = "step,fixed_loss," + ",".join(f"norm_{p}" for p in parts)
        row = f"{step},{loss:.7f}," + ",".join(f"{norms[p]:.6f}" for p in parts)
        self._append(FIXED_LOSS_CSV, header, row)

    def _append(self, filename: str, header: str, row: str) -> None:
        # A log we own, appended a row at a time like the webui's: a reader sees whole lines.
        path = self.folder / filename
        new = not path.exists()
        with open(path, "a", encoding="utf-8", newline="") as f:
            f.write((header + "\r\n" if new else "") + row + "\r\n")

    def write_settings(self, values: dict[str, Any], when: _dt.datetime) -> Path:
        """``settings-<stamp>.json`` in the webui's keys (its saving_settings), read by Scores."""
        path = self.folder / f"settings-{when.strftime('%Y-%m-%d-%H-%M-%S')}.json"
        atomic_write_text(
            path, json.dumps({"datetime": when.strftime("%Y-%m-%d %H:%M:%S"), **values}, indent=4)
        )
        return path


def newest_checkpoint(log_directory: str | os.PathLike, name: str) -> tuple[int, Path] | None:
    """The highest-step ``<name>-<N>`` checkpoint of any run of ``name`` under the log folder
    (``<log>/<date>/<name>/embeddings``), for "continue from the newest checkpoint"."""
    import glob

    root = Path(log_directory)
    found = [c for run in root.glob(f"*/{glob.escape(name)}") for c in list_checkpoints(run, name)]
    return max(found, default=None)
