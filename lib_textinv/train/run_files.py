"""The files of one training run: ``<log>/<YYYY-MM-DD>/<name>/`` with ``embeddings/<name>-<N>.pt``
checkpoints, ``images/`` previews and the loss CSV (docs/webui-contract.md §13 Training run folder).

The webui takes the date when its call starts, and writes its settings file (and the loss CSV)
into the run folder without creating it when neither checkpoints nor previews are saved, so we
create it first (``ensure_run_folder``).
"""

from __future__ import annotations

import datetime as _dt
import glob
import json
import logging
import os
import re
from pathlib import Path

logger = logging.getLogger(__name__)

_CKPT = re.compile(r"^(?P<name>.+)-(?P<n>\d+)\.(pt|safetensors)$")
FileState = tuple[int, int] | None  # (mtime_ns, size), None: absent


def run_folder(log_directory: str | os.PathLike, embedding_name: str, when: _dt.datetime) -> Path:
    """``<log>/<YYYY-MM-DD>/<name>`` for a run the webui starts at ``when``."""
    return Path(log_directory) / when.strftime("%Y-%m-%d") / embedding_name


def ensure_run_folder(log_directory: str | os.PathLike, embedding_name: str, when: _dt.datetime) -> Path:
    """Create the run folder of a run started at ``when`` (idempotent)."""
    folder = run_folder(log_directory, embedding_name, when)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def planned_checkpoint_steps(initial_step: int, final_step: int, every: int) -> list[int]:
    """The N of ``<name>-<N>.pt`` a run writes: after each optimizer step ``steps_done =
    embedding.step + 1`` (so N = step + 1, and ``-N`` stores step N-1) and a file when
    ``steps_done % every == 0``."""
    if every <= 0:
        return []
    return [n for n in range(initial_step + 2, final_step + 2) if n % every == 0]


def own_checkpoint_steps(initial_step: int, final_step: int, every: int) -> list[int]:
    """The N of ``<name>-<N>`` our trainer writes: after each step that is a multiple of
    ``every``, and the step it ends at."""
    steps = [n for n in range(initial_step + 1, final_step + 1) if every > 0 and n % every == 0]
    return steps if final_step in steps or final_step <= initial_step else [*steps, final_step]


def list_checkpoints(folder: str | os.PathLike, embedding_name: str) -> list[tuple[int, Path]]:
    """``(N, path)`` of ``<folder>/embeddings/<name>-<N>.pt``, sorted by N."""
    d = Path(folder) / "embeddings"
    out = []
    if d.is_dir():
        for p in d.iterdir():
            m = _CKPT.match(p.name)
            if m and m.group("name") == embedding_name and p.is_file():
                out.append((int(m.group("n")), p))
    return sorted(out)


def file_state(path: Path) -> FileState:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_mtime_ns, st.st_size)


def checkpoint_states(folder: Path, name: str) -> dict[str, FileState]:
    return {str(p): file_state(p) for _n, p in list_checkpoints(folder, name)}


def written_since(folder: Path, name: str, before: dict[str, FileState]) -> list[str]:
    """Checkpoints in ``folder`` that are new or changed since ``before`` was taken."""
    return [str(p) for _n, p in list_checkpoints(folder, name) if before.get(str(p)) != file_state(p)]


def run_settings(run_folder: str | os.PathLike) -> dict:
    """The newest ``settings-*.json`` the trainer wrote into the run folder (docs/webui-contract.md
    §14 "Files written by training"; ours writes the same keys plus ``trainer``), or {}."""
    files = sorted(glob.glob(os.path.join(glob.escape(os.fspath(run_folder)), "settings-*.json")))
    for path in reversed(files):
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError) as e:
            logger.warning("%s: not readable (%s)", path, e)
            continue
        if isinstance(data, dict):
            return data
    return {}


def checkpoint_step_offset(folder: str | os.PathLike) -> int:
    """What to add to the N of ``<name>-<N>`` for the step it holds: 0 from our trainer, -1 from
    the webui's (it names a file after the step it is about to start; docs/webui-contract.md §12)."""
    return 0 if run_settings(folder).get("trainer") == "own" else -1
