"""Which checkpoint to keep, by a rule that fits in one sentence.

Main rule (CLIP scores): among the checkpoints whose CLIP-T is within ``tolerance`` of the best
CLIP-T, take the one with the highest CLIP-I; ties go to the higher CLIP-T, then the earlier step.
This is the paper's trade-off read the practical way: keep as much likeness as possible without
losing the prompt. It never picks a *dominated* checkpoint (one another checkpoint beats or equals
on both scores and beats on one) and adding one never changes the choice: a dominated entry cannot
raise the best CLIP-T, and the checkpoint dominating it is eligible whenever it is and wins against it.

Fallback (no CLIP scores yet, only the fixed-batch loss): the first step where the loss curve has
flattened (``fixed_loss.flattening_steps``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Candidate:
    step: int
    clip_i: float
    clip_t: float
    checkpoint: str = ""


@dataclass(frozen=True)
class Recommendation:
    step: int
    checkpoint: str
    rule: str  # the rule, one sentence
    why: str  # the numbers behind this choice

    def to_dict(self) -> dict:
        return {"step": self.step, "checkpoint": self.checkpoint, "rule": self.rule, "why": self.why}


def _finite(c: Candidate) -> bool:
    return not (math.isnan(c.clip_i) or math.isnan(c.clip_t) or math.isinf(c.clip_i) or math.isinf(c.clip_t))


def clip_t_threshold(best: float, tolerance: float) -> float:
    """``best`` lowered by ``tolerance`` of its size (works for negative cosines too)."""
    return best - tolerance * abs(best)


def rule_sentence(tolerance: float) -> str:
    return (
        f"Highest CLIP-I among checkpoints whose CLIP-T is within {tolerance * 100:g}% of the best CLIP-T "
        "(ties: higher CLIP-T, then earlier step)."
    )


def dominates(a: Candidate, b: Candidate) -> bool:
    """``a`` is at least as good as ``b`` on both scores and better on one."""
    return a.clip_i >= b.clip_i and a.clip_t >= b.clip_t and (a.clip_i > b.clip_i or a.clip_t > b.clip_t)


def choose(candidates: Sequence[Candidate], tolerance: float = 0.05) -> Recommendation | None:
    """The recommended checkpoint by the main rule, or None when no checkpoint has both scores."""
    if not 0 <= tolerance < 1:
        raise ValueError(f"tolerance must be in [0, 1), got {tolerance}")
    usable = [c for c in candidates if _finite(c)]
    if not usable:
        return None
    best_t = max(c.clip_t for c in usable)
    floor = clip_t_threshold(best_t, tolerance)
    eligible = [c for c in usable if c.clip_t >= floor]
    pick = max(eligible, key=lambda c: (c.clip_i, c.clip_t, -c.step))
    why = (
        f"step {pick.step}: CLIP-I {pick.clip_i:.4f}, CLIP-T {pick.clip_t:.4f} "
        f"(best CLIP-T {best_t:.4f}, floor {floor:.4f}; "
        f"{len(eligible)} of {len(usable)} checkpoints eligible)"
    )
    return Recommendation(pick.step, pick.checkpoint, rule_sentence(tolerance), why)


def choose_from_loss(
    steps: Sequence[int], losses: Sequence[float], flat_steps: Sequence[int], remaining_fraction: float = 0.1
) -> Recommendation | None:
    """Fallback: the first step where the fixed-batch loss has flattened."""
    if not flat_steps:
        return None
    step = min(flat_steps)
    loss = dict(zip(steps, losses, strict=True)).get(step, math.nan)
    rule = (
        f"First step after which the fixed-batch loss falls by at most {remaining_fraction * 100:g}% of its "
        "total drop (no CLIP scores yet)."
    )
    return Recommendation(step, "", rule, f"step {step}: fixed-batch loss {loss:.5f}")
