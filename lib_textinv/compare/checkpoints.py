"""Find the step checkpoints of an embedding's training runs, in the webui's log layout.

Training writes ``<log>/<YYYY-MM-DD>/<name>/embeddings/<name>-<N>.pt`` every few steps and the
final ``<embeddings_dir>/<name>.pt`` (docs/webui-contract.md §14 "Files written by training");
SDXL embeddings are ``.safetensors`` (§25 SDXL embeddings), found the same way.
The step we show is the number in the FILE NAME: the file named ``-N`` stores ``step = N - 1``
(modules/textual_inversion/textual_inversion.py:566-583), so going by the stored value would
mislabel every column. The final file stores the plain count of optimizer steps ``S``, which in
file-name terms is ``S + 1``.

Every file is opened with ``embedding_file.load_embedding`` (pickles that would run code are
refused); a file whose width does not match the loaded model is listed with the reason and is
not usable. Nothing here writes anything.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from lib_textinv.kit.embedding_file import EmbeddingFileError, check_width, load_embedding
from lib_textinv.kit.host import Facts

logger = logging.getLogger(__name__)

DATE_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Preferred first when one step exists in two formats (same token: only one may be registered).
CHECKPOINT_EXTENSIONS = (".safetensors", ".pt", ".bin")
FINAL_SUFFIX = "final"


@dataclass(frozen=True)
class Checkpoint:
    """One embedding file of a run (or the final one), as found on disk."""

    path: Path
    token: str  # the trigger used while comparing: "<name>-<N>" (or "<name>-final")
    step: int | None  # the file-name step (what the user reads in "charcoalstyle-500")
    stored_step: int | None = None
    final: bool = False
    n_vectors: int | None = None
    width: int | None = None
    error: str | None = None  # why it cannot be used (refused, unreadable, wrong width, duplicate)

    @property
    def usable(self) -> bool:
        return self.error is None

    @property
    def label(self) -> str:
        if self.final:
            return f"final ({self.step} steps)" if self.step is not None else "final"
        return f"{self.step} steps"


@dataclass
class TrainingRun:
    """``<log>/<date>/<name>/`` and its checkpoints (ascending step; the final one last)."""

    name: str
    date: str
    folder: Path
    checkpoints: list[Checkpoint] = field(default_factory=list)

    @property
    def usable(self) -> list[Checkpoint]:
        return [c for c in self.checkpoints if c.usable]

    @property
    def label(self) -> str:
        n_ok = len(self.usable)
        bad = len(self.checkpoints) - n_ok
        extra = f", {bad} not usable" if bad else ""
        return f"{self.date} — {n_ok} checkpoints{extra} — {self.folder}"

    def by_token(self, token: str) -> Checkpoint | None:
        return next((c for c in self.checkpoints if c.token == token), None)

    def by_step(self, step: int) -> Checkpoint | None:
        same = [c for c in self.checkpoints if c.step == step and not c.final]
        return next((c for c in same if c.usable), same[0] if same else None)


def checkpoint_token(name: str, step: int) -> str:
    return f"{name}-{step}"


def _step_pattern(name: str) -> re.Pattern:
    exts = "|".join(re.escape(e[1:]) for e in CHECKPOINT_EXTENSIONS)
    return re.compile(rf"^{re.escape(name)}-(\d+)\.({exts})$", re.IGNORECASE)


def load_checkpoint(
    path: Path, token: str, step: int | None, expected_width: int | None, final: bool = False
) -> Checkpoint:
    """Open one file; problems become ``error`` (the listing continues past a bad file)."""
    try:
        emb = load_embedding(path)
    except EmbeddingFileError as e:
        logger.warning("checkpoint %s not usable: %s", path, e)
        return Checkpoint(path=path, token=token, step=step, final=final, error=str(e))
    # SDXL files ({"clip_l", "clip_g"}) are as wide as both parts together, what the webui expects
    # of an SDXL model (docs/webui-contract.md §25 SDXL embeddings)
    error = check_width(emb, expected_width)
    if final and step is None and emb.step is not None:
        step = emb.step + 1  # same convention as the file names of the checkpoints
    return Checkpoint(
        path=path,
        token=token,
        step=step,
        stored_step=emb.step,
        final=final,
        n_vectors=emb.n_vectors,
        width=emb.width,
        error=error,
    )


def scan_run(folder: Path, name: str, expected_width: int | None = None) -> list[Checkpoint]:
    """The step checkpoints in ``folder/embeddings``, ascending by step."""
    emb_dir = folder / "embeddings"
    if not emb_dir.is_dir():
        return []
    pattern = _step_pattern(name)
    found: dict[int, list[Path]] = {}
    for entry in sorted(emb_dir.iterdir()):
        m = pattern.match(entry.name)
        if m and entry.is_file():
            found.setdefault(int(m.group(1)), []).append(entry)
    out = []
    for step in sorted(found):
        files = sorted(found[step], key=lambda p: CHECKPOINT_EXTENSIONS.index(p.suffix.lower()))
        token = checkpoint_token(name, step)
        out.append(load_checkpoint(files[0], token, step, expected_width))
        for dup in files[1:]:
            out.append(
                Checkpoint(
                    path=dup,
                    token=token,
                    step=step,
                    error=f"{dup.name}: step {step} also exists as {files[0].name}; ignored",
                )
            )
    return out


def final_checkpoint(
    embeddings_dir: str | os.PathLike | None, name: str, expected_width: int | None = None
) -> Checkpoint | None:
    """``<embeddings_dir>/<name>.pt`` (or another embedding extension), if present."""
    if not embeddings_dir:
        return None
    for ext in CHECKPOINT_EXTENSIONS:
        path = Path(embeddings_dir) / f"{name}{ext}"
        if path.is_file():
            return load_checkpoint(path, f"{name}-{FINAL_SUFFIX}", None, expected_width, final=True)
    return None


def find_runs(
    log_dir: str | os.PathLike | None,
    name: str,
    expected_width: int | None = None,
    embeddings_dir: str | os.PathLike | None = None,
) -> list[TrainingRun]:
    """All runs of ``name`` under ``log_dir``, newest first. When ``embeddings_dir`` holds the
    final ``<name>.pt`` it is appended to every run (it is what the latest training left)."""
    if not name or not log_dir or not Path(log_dir).is_dir():
        return []
    final = final_checkpoint(embeddings_dir, name, expected_width)
    runs = []
    for date_dir in Path(log_dir).iterdir():
        folder = date_dir / name
        if not (DATE_DIR.match(date_dir.name) and folder.is_dir()):
            continue
        cps = scan_run(folder, name, expected_width)
        if not cps:
            continue
        runs.append(
            TrainingRun(
                name=name, date=date_dir.name, folder=folder, checkpoints=cps + ([final] if final else [])
            )
        )

    def newest(run: TrainingRun) -> tuple[str, float]:
        return run.date, max(
            (c.path.stat().st_mtime for c in run.checkpoints if c.path.exists()), default=0.0
        )

    runs.sort(key=newest, reverse=True)
    return runs


class RunNotFound(LookupError):
    """No training run of that name (and date) in the host's log folder."""


def find_run(host: Facts, name: str, date: str | None = None, folder: str | None = None) -> TrainingRun:
    """The newest run of ``name`` (on ``date``, in ``folder`` when given) in the host's log folder,
    with the final embedding when there is one: how the API names a run. Raises ``RunNotFound``."""
    paths = host.paths()
    runs = find_runs(paths.ti_log_dir, name, host.model_facts().embedding_width, paths.embeddings_dir)
    if date:
        runs = [r for r in runs if r.date == date]
    if folder is not None:
        runs = [r for r in runs if os.path.realpath(r.folder) == os.path.realpath(folder)]
    if not runs:
        where = paths.ti_log_dir or "(no log folder known)"
        on = (f" on {date}" if date else "") + (f" in {folder}" if folder is not None else "")
        raise RunNotFound(f"no training run of {name!r}{on} under {where}")
    return runs[0]


def run_from_folder(
    folder: str | os.PathLike,
    expected_width: int | None = None,
    embeddings_dir: str | os.PathLike | None = None,
) -> TrainingRun:
    """A run given by its folder ``<log>/<date>/<name>`` (what the Train section reports)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"run folder not found: {folder}")
    name = folder.name
    cps = scan_run(folder, name, expected_width)
    if not cps:
        raise ValueError(
            f"{folder}: no checkpoints named {name}-<N>.pt or .safetensors in its embeddings/ folder"
        )
    final = final_checkpoint(embeddings_dir, name, expected_width)
    return TrainingRun(
        name=name, date=folder.parent.name, folder=folder, checkpoints=cps + ([final] if final else [])
    )


def names_with_runs(log_dir: str | os.PathLike | None) -> list[str]:
    """Embedding names that have at least one run folder under ``log_dir`` (sorted)."""
    if not log_dir or not Path(log_dir).is_dir():
        return []
    names: set[str] = set()
    for date_dir in Path(log_dir).iterdir():
        if DATE_DIR.match(date_dir.name) and date_dir.is_dir():
            names.update(p.name for p in date_dir.iterdir() if (p / "embeddings").is_dir())
    return sorted(names, key=str.lower)
