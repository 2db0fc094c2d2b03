"""The run state file: which stages of an autopilot run have finished, with a fingerprint of what
each one read and of what it left, so Resume (and a second Run on the same folder) skips a stage
whose inputs are the same and whose outputs are still there unchanged, after a restart too.

A fingerprint is a short hash of plain values: file lists as (name, size, mtime) and the decisions
a stage used. A downstream stage's inputs include its upstream stage's output fingerprint, so a
change anywhere redoes everything after it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lib_textinv.kit.files import atomic_write_text

logger = logging.getLogger(__name__)

STATE_FILE = "autopilot-state.json"
PLAN_FILE = "autopilot-plan.json"
VERSION = 1


def fingerprint(value: Any) -> str:
    """A stable hash of JSON-able ``value`` (dict keys sorted)."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def file_facts(paths: Iterable[str | os.PathLike]) -> list[list[Any]]:
    """(name, size, mtime_ns) of each path that exists, sorted by name: a file that changed,
    appeared or went away changes the list."""
    out = []
    for p in paths:
        try:
            st = os.stat(p)
        except OSError:
            continue
        out.append([os.fspath(p), st.st_size, st.st_mtime_ns])
    return sorted(out)


def folder_facts(folder: str | os.PathLike, suffixes: tuple[str, ...] | None = None) -> list[list[Any]]:
    """``file_facts`` of the files directly in ``folder`` (those ending in ``suffixes`` only)."""
    d = Path(folder)
    if not d.is_dir():
        return []
    names = [p for p in d.iterdir() if p.is_file() and not p.name.startswith(".")]
    if suffixes is not None:
        names = [p for p in names if p.suffix.lower() in suffixes]
    return file_facts(names)


@dataclass
class StageRecord:
    """One finished stage: what it read, what it left, what it found, how long it took."""

    inputs: str
    outputs: str
    result: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    finished: float = 0.0


@dataclass
class RunState:
    stages: dict[str, StageRecord] = field(default_factory=dict)

    def finished(self, stage: str, inputs: str, outputs_now: str | None) -> StageRecord | None:
        """The record of ``stage`` when it ran with these inputs and its outputs are unchanged."""
        rec = self.stages.get(stage)
        if rec is None or rec.inputs != inputs or outputs_now is None or rec.outputs != outputs_now:
            return None
        return rec

    def record(self, stage: str, inputs: str, outputs: str, result: dict, seconds: float) -> StageRecord:
        rec = StageRecord(inputs, outputs, result, round(seconds, 3), time.time())
        self.stages[stage] = rec
        return rec

    def to_dict(self) -> dict[str, Any]:
        return {"version": VERSION, "stages": {k: asdict(v) for k, v in self.stages.items()}}


def state_path(run_folder: str | os.PathLike) -> Path:
    return Path(run_folder) / STATE_FILE


def load_state(run_folder: str | os.PathLike) -> RunState:
    """The state of ``run_folder``; an empty one when there is none or it cannot be read (then
    every stage runs again: nothing is lost, only time)."""
    path = state_path(run_folder)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != VERSION:
            raise ValueError(f"version {data.get('version')!r}")
        stages = {k: StageRecord(**v) for k, v in data["stages"].items()}
    except FileNotFoundError:
        return RunState()
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as e:
        logger.warning("%s: not usable (%s); every stage runs again", path, e)
        return RunState()
    return RunState(stages)


def save_state(run_folder: str | os.PathLike, state: RunState) -> None:
    Path(run_folder).mkdir(parents=True, exist_ok=True)
    atomic_write_text(state_path(run_folder), json.dumps(state.to_dict(), indent=1, ensure_ascii=False))
