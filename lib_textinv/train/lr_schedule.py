"""Learning-rate (and clip-grad) schedule strings, checked with the webui's own rules before a run.

The webui parses ``"0.005:100, 1e-3:1000, 1e-5"`` in ``LearnScheduleIterator``
(modules/textual_inversion/learn_schedule.py, v1.6.0–v1.10.1 identical):

* split on ``,``; blank pieces are skipped;
* ``rate:step`` → a phase ``(rate, min(step, max_steps))`` kept only when ``step > cur_step``
  (phases that ended before the resume point are dropped); parsing stops after a step beyond
  ``max_steps``; ``rate:-1`` → until ``max_steps``, parsing stops;
* a piece that is not exactly ``a:b`` (a bare rate, or ``a:b:c``) → ``rate`` until ``max_steps``,
  parsing stops and **anything after it is ignored**;
* ``int(step)`` / ``float(rate)`` failures or no phase left → the webui raises
  ``Exception("Invalid learning rate schedule...")`` — before the training loop, so it propagates.

``LearnRateScheduler.step(n)`` moves to the next phase once ``n >= end_step``; after the last
phase it is ``finished`` and the training loop stops — so ``"0.005:100"`` with 1000 max steps
trains 100 steps. ``simulate`` reproduces that exactly (including a phase whose end is not after
the previous one, which then lasts a single step), so the tab can say in words what will happen
and ``train.preflight`` knows at which step a successful run ends.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

WEBUI_ERROR = (
    'Invalid learning rate schedule. It should be a number or, for example, like "0.001:100, 0.00001:1000, '
    '1e-5:10000" to have lr of 0.001 until step 100, 0.00001 until 1000, and 1e-5 until 10000.'
)


class ScheduleError(ValueError):
    """The webui would refuse this schedule string; the message says why and how to write it."""


@dataclass(frozen=True)
class Phase:
    rate: float
    end_step: int  # the webui's end (already capped at max_steps)


@dataclass(frozen=True)
class Segment:
    """Steps ``start`` … ``end - 1`` run at ``rate``."""

    rate: float
    start: int
    end: int

    @property
    def steps(self) -> int:
        return self.end - self.start


@dataclass
class Schedule:
    text: str
    max_steps: int
    cur_step: int
    phases: list[Phase]
    segments: list[Segment]
    final_step: int  # the value of embedding.step when the webui's loop stops (no interrupt)
    warnings: list[str] = field(default_factory=list)

    def explain(self, what: str = "learning rate", keeps_last: bool = False) -> str:
        """The phases in words, e.g. "learning rate 0.005 for steps 0–99 (100 steps); then …"."""
        parts = [
            f"{what} {_num(s.rate)} for steps {s.start}–{s.end - 1} ({s.steps} {_plural(s.steps)})"
            for s in self.segments
        ]
        text = "; then ".join(parts) if parts else f"no {what} phase"
        if keeps_last and self.final_step < self.max_steps and self.segments:
            text += f"; then {_num(self.segments[-1].rate)} until step {self.max_steps}"
        elif self.final_step > self.max_steps:
            text += f". Training runs to step {self.final_step}, past max steps {self.max_steps}"
        elif self.final_step < self.max_steps:
            text += (
                f". Training stops at step {self.final_step}, before max steps {self.max_steps}, "
                "because the schedule ends there"
            )
        return text + "."


def _plural(n: int) -> str:
    return "step" if n == 1 else "steps"


def _num(v: float) -> str:
    return f"{v:g}"


def parse_phases(text: str, max_steps: int, cur_step: int = 0) -> tuple[list[Phase], list[str]]:
    """The webui's ``LearnScheduleIterator`` as a pure function; raises ``ScheduleError`` where
    the webui raises. Returns the phases and notes on parts the webui silently ignores."""
    if not isinstance(text, str):
        raise ScheduleError(
            f"the schedule must be text, got {type(text).__name__} (the webui calls .split on it)"
        )
    notes: list[str] = []
    phases: list[Phase] = []
    pieces = text.split(",")
    try:
        for i, piece in enumerate(pieces):
            if not piece.strip():
                continue
            rest = [p for p in pieces[i + 1 :] if p.strip()]
            tmp = piece.split(":")
            if len(tmp) == 2:
                step = int(tmp[1])
                if step > cur_step:
                    phases.append(Phase(float(tmp[0]), min(step, max_steps)))
                    if step > max_steps:
                        if rest:
                            notes.append(
                                f"“{piece.strip()}” reaches past max steps {max_steps}; "
                                f"the webui ignores the rest: “{','.join(rest).strip()}”"
                            )
                        return phases, notes
                elif step == -1:
                    phases.append(Phase(float(tmp[0]), max_steps))
                    if rest:
                        notes.append(
                            f"“{piece.strip()}” runs to the end; the webui ignores “{','.join(rest).strip()}”"
                        )
                    return phases, notes
                else:
                    # The webui skips this piece without reading its rate.
                    notes.append(
                        f"“{piece.strip()}” ends at step {step}, not after the starting step {cur_step}: "
                        "the webui skips it"
                    )
            else:
                phases.append(Phase(float(tmp[0]), max_steps))
                if len(tmp) > 2:
                    notes.append(
                        f"“{piece.strip()}” has more than one ':'; the webui uses only {tmp[0].strip()}"
                    )
                if rest:
                    notes.append(
                        f"“{piece.strip()}” has no end step, so it runs to max steps; "
                        f"the webui ignores the rest: “{','.join(rest).strip()}”"
                    )
                return phases, notes
    except ValueError as e:
        raise ScheduleError(f"{WEBUI_ERROR} ({e})") from e
    if not phases:
        raise ScheduleError(f"{WEBUI_ERROR} (no phase ends after step {cur_step})")
    return phases, notes


def simulate(phases: list[Phase], start: int) -> tuple[list[Segment], int]:
    """Which rate each step gets, following ``LearnRateScheduler.apply(optimizer, embedding.step)``:
    at step ``s`` the scheduler advances one phase if ``s >= end_step``; after the last phase the
    loop stops. Returns the segments and the step at which training stops."""
    segments: list[Segment] = []
    idx, s = 0, start
    rate, end = phases[0].rate, phases[0].end_step
    while True:
        if s >= end:
            idx += 1
            if idx >= len(phases):
                return segments, s
            rate, end = phases[idx].rate, phases[idx].end_step
        nxt = max(end, s + 1)  # an already-expired phase still gets one step
        if segments and segments[-1].rate == rate and segments[-1].end == s:
            segments[-1] = Segment(rate, segments[-1].start, nxt)
        else:
            segments.append(Segment(rate, s, nxt))
        s = nxt


def check_schedule(text: str, max_steps: int, cur_step: int = 0, what: str = "learning rate") -> Schedule:
    """Parse and simulate; raises ``ScheduleError``. Warnings: rates that are not positive and
    finite, phases that last one step because their end is not after the previous one, a schedule
    that stops before max steps."""
    if not isinstance(max_steps, int) or max_steps <= 0:
        raise ScheduleError(f"max steps must be a positive whole number, got {max_steps!r}")
    if not str(text).strip():
        raise ScheduleError(
            f"the {what} is empty; write a number like 0.005 or a schedule like 0.005:500, 0.001"
        )
    if cur_step >= max_steps:
        raise ScheduleError(
            f"the embedding has already been trained {cur_step} steps and max steps is {max_steps}: "
            "max steps counts from zero, so raise it above the steps already trained"
        )
    phases, warnings = parse_phases(text, max_steps, cur_step)
    segments, final = simulate(phases, cur_step)
    for ph in phases:
        if not math.isfinite(ph.rate) or ph.rate <= 0:
            warnings.append(
                f"{what} {_num(ph.rate)} is not a positive number: nothing will be learned in that phase"
            )
    ends = [p.end_step for p in phases]
    for a, b in itertools.pairwise(ends):
        if b <= a:
            warnings.append(
                f"a phase ends at step {b}, not after the previous phase's end {a}: it lasts one step"
            )
    return Schedule(text, max_steps, cur_step, phases, segments, final, warnings)
