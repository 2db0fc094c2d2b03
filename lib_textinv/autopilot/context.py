"""What every stage of a run receives: the host, the plan, the state of the run folder, the
results of the stages before it, and a progress that maps the stage's own progress onto the one
bar of the whole run (its share of the estimated time), with the stage's name and the run's ETA.

A stage that needs the webui's queue runs its step's own job function through ``in_queue``
(``host.run_job``): the run as a whole does not hold the queue, because two steps take it
themselves (Create writes through ``host.run_job``; Train starts its own job). A Stop of the run
reaches the stage through ``StageProgress.cancelled`` and the host's Interrupt."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from lib_textinv.autopilot.plan import Plan
from lib_textinv.autopilot.state import RunState
from lib_textinv.kit.host import Host
from lib_textinv.kit.progress import Progress

T = TypeVar("T")


class Failure(str, enum.Enum):
    """Why a run stopped before its end (besides a Stop: ``Cancelled``)."""

    REFUSED = "refused"  # the plan cannot run (its errors say why)
    STAGE = "stage failed"  # a stage's step reported a failure
    UNAVAILABLE = "unavailable"  # the host cannot do what a stage needs


class AutopilotError(RuntimeError):
    def __init__(self, stage: str, message: str, kind: Failure = Failure.STAGE) -> None:
        super().__init__(f"{stage}: {message}")
        self.stage, self.kind = stage, kind


class StageProgress(Progress):
    """A stage's progress, shown on the run's bar as ``units`` of it starting at ``base``;
    cancelled when the run is."""

    def __init__(self, outer: Progress, base: int, units: int, label: str) -> None:
        super().__init__(text=label)
        self.outer, self.base, self.units, self.label = outer, base, units, label
        self._show()

    def _show(self) -> None:
        self.outer.done = self.base + int(self.units * self.fraction)
        self.outer.text = (
            f"{self.label}: {self.text}" if self.text and self.text != self.label else self.label
        )

    def begin(self, total: int, text: str = "") -> None:
        super().begin(total, text)
        self._show()

    def step(self, n: int = 1, text: str | None = None) -> None:
        super().step(n, text)
        self._show()

    def set_text(self, text: str) -> None:
        super().set_text(text)
        self._show()

    def mirror(self, other: Progress) -> None:
        """Show another job's progress (Train's) as this stage's."""
        self.total, self.done, self.text = other.total, other.done, other.text
        self._show()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set() or self.outer.cancelled


@dataclass
class Context:
    host: Host
    plan: Plan
    state: RunState
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    progress: StageProgress | None = None

    @property
    def root(self) -> Path:
        return Path(self.plan.folder)

    @property
    def dest(self) -> Path:
        return Path(self.plan.run_folder) / f"{self.plan.width}x{self.plan.height}"

    @property
    def stage_progress(self) -> StageProgress:
        assert self.progress is not None, "a stage runs with its progress set"
        return self.progress

    def output_fp(self, stage: str) -> str:
        rec = self.state.stages.get(stage)
        return rec.outputs if rec else ""

    def input_fp(self, stage: str) -> str:
        rec = self.state.stages.get(stage)
        return rec.inputs if rec else ""

    def in_queue(self, title: str, fn: Callable[[Progress], T]) -> T:
        """``fn`` inside the host's queue (the webui's lock, progress bar and Interrupt)."""
        return self.host.run_job(f"Autopilot: {title}", fn, self.stage_progress)
