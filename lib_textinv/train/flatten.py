"""When the fixed-batch loss has flattened: the stopping rule of "Stop when it flattens".

The fixed-batch loss (the same images, noise and timesteps at every evaluation; Voronov et al.,
NeurIPS 2023, "Is This Loss Informative?") falls while the embedding still learns and then only
wobbles. The paper's criterion compares how much the loss still moves lately with how much it
moved over the whole run: the **variance of the last ``window`` evaluations over the variance of
all of them**. When that ratio is under ``threshold`` the curve is flat.

A steady straight descent also has a falling ratio (``(W²-1)/(k²-1)`` after ``k`` points), so a
second condition guards it: over the window the loss must not fall by more than ``threshold`` of
everything it fell so far. Both are shown to the user, with the numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_WINDOW = 6  # evaluations
MIN_POINTS = 2  # × window: a ratio over fewer points says nothing


@dataclass(frozen=True)
class FlatVerdict:
    flat: bool
    ratio: float | None  # recent / overall variance (None: too few points yet)
    recent_fall: float | None  # fall over the window / total fall so far
    reason: str


def _var(xs: Sequence[float]) -> float:
    m = sum(xs) / len(xs)
    return sum((x - m) ** 2 for x in xs) / len(xs)


def judge(losses: Sequence[float], threshold: float, window: int = DEFAULT_WINDOW) -> FlatVerdict:
    """Whether the fixed-batch ``losses`` (one per evaluation, in order) have flattened."""
    pts = [x for x in losses if math.isfinite(x)]
    need = MIN_POINTS * window
    if len(pts) < need:
        return FlatVerdict(False, None, None, f"{len(pts)} of the {need} evaluations the rule needs")
    overall = _var(pts)
    recent = pts[-window:]
    ratio = _var(recent) / overall if overall > 0 else 0.0
    total_fall = max(pts[0] - min(pts), 0.0)
    fall = (recent[0] - recent[-1]) / total_fall if total_fall > 0 else 0.0
    flat = ratio < threshold and fall <= threshold
    reason = (
        f"variance of the last {window} evaluations is {ratio:.3f} of the whole run's "
        f"({'under' if ratio < threshold else 'not under'} {threshold:g}), and the loss fell "
        f"{max(fall, 0.0):.0%} of its total drop over them"
    )
    return FlatVerdict(flat, ratio, fall, reason)


def steps_saved(stopped_at: int, max_steps: int) -> int:
    return max(0, max_steps - stopped_at)
