"""The record a sweep leaves beside its grid: ``<grid stem>.sweep.json``.

It says which embedding and which training run were swept, where the grid is, and every cell's
file, token, step, prompt and seed, plus the generation settings. Scores reads exactly this (the
tab hands it over as a value, the API takes its path), so it never scans a folder for images and
never mistakes another embedding's sweep for this one. Written atomically; read back strictly.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lib_textinv.compare.sweep_plan import GridShape
from lib_textinv.kit.files import atomic_write_text

RECORD_SUFFIX = ".sweep.json"
VERSION = 1


class SweepRecordError(ValueError):
    """The file is not a readable sweep record; the message names it and says why."""


class SweepRecordMissing(SweepRecordError):
    """No record where one was expected (the grid was not made by a sweep of this version)."""


@dataclass(frozen=True)
class RecordedCheckpoint:
    token: str  # "<name>-<N>" or "<name>-final": the column's trigger
    label: str  # the column heading
    path: str
    step: int | None = None
    final: bool = False


@dataclass(frozen=True)
class RecordedCell:
    path: str  # the saved image
    token: str
    step: int | None
    final: bool
    prompt: str  # the full prompt, trigger placed
    seed: int
    column: int
    row: int


@dataclass(frozen=True)
class SweepRecord(GridShape):
    name: str
    run_folder: str
    grid: str
    checkpoints: tuple[RecordedCheckpoint, ...]
    prompts: tuple[str, ...]  # as typed ("{}" marks the trigger)
    seeds: tuple[int, ...]
    cells: tuple[RecordedCell, ...]
    cell_size: tuple[int, int]  # one cell of the grid, in pixels
    total: int  # cells planned (``len(cells)`` is fewer after an interrupt)
    interrupted: bool = False
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return record_path(self.grid)

    @property
    def tokens(self) -> list[str]:
        return [c.token for c in self.checkpoints]

    def to_dict(self) -> dict[str, Any]:
        return {"version": VERSION, **asdict(self)}


def run_key(run_folder: str | Path) -> str:
    """How the tab keys "the latest sweep of each run" (one run folder, however it was typed)."""
    return os.path.realpath(os.fspath(run_folder).strip())


def record_path(grid: str | Path) -> str:
    """``…/00012-textinv-sweep-1234.png`` → ``…/00012-textinv-sweep-1234.sweep.json``."""
    p = Path(grid)
    return str(p.with_name(p.stem + RECORD_SUFFIX))


def write_record(record: SweepRecord) -> str:
    path = record.path
    atomic_write_text(path, json.dumps(record.to_dict(), ensure_ascii=False, indent=1) + "\n")
    return path


def read_record(path: str | Path) -> SweepRecord:
    """The record at ``path``, or of the grid at ``path``; raises ``SweepRecordError``."""
    p = Path(path)
    where = p if p.name.endswith(RECORD_SUFFIX) else Path(record_path(p))
    try:
        text = where.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SweepRecordMissing(f"{where}: no sweep record (run the sweep with this version)") from None
    except (OSError, UnicodeDecodeError) as e:
        raise SweepRecordError(f"{where}: not readable ({e})") from e
    try:
        return _from_dict(json.loads(text))
    except (ValueError, TypeError, KeyError) as e:
        raise SweepRecordError(f"{where}: not a sweep record ({type(e).__name__}: {e})") from e


def _from_dict(d: Any) -> SweepRecord:
    if not isinstance(d, dict):
        raise TypeError(f"a JSON {type(d).__name__}, not an object")
    if d.get("version") != VERSION:
        raise ValueError(f"version {d.get('version')!r}, expected {VERSION}")
    w, h = d["cell_size"]
    return SweepRecord(
        name=str(d["name"]),
        run_folder=str(d["run_folder"]),
        grid=str(d["grid"]),
        checkpoints=tuple(RecordedCheckpoint(**c) for c in d["checkpoints"]),
        prompts=tuple(str(p) for p in d["prompts"]),
        seeds=tuple(int(s) for s in d["seeds"]),
        cells=tuple(RecordedCell(**c) for c in d["cells"]),
        cell_size=(int(w), int(h)),
        total=int(d["total"]),
        interrupted=bool(d["interrupted"]),
        params=dict(d.get("params") or {}),
    )
