"""The flattening rule on recorded-shape curves: it fires on a curve that fell and then only
wobbles, never on one still falling steadily, never with too few points."""

from __future__ import annotations

import math
import random

from lib_textinv.train.flatten import DEFAULT_WINDOW, judge


def _decay(n, noise=0.002, seed=0):
    rng = random.Random(seed)
    return [0.2 + 0.3 * math.exp(-i / 4) + rng.uniform(-noise, noise) for i in range(n)]


def test_flat_after_the_drop():
    v = judge(_decay(30), threshold=0.1)
    assert v.flat, v.reason
    assert v.ratio is not None and v.ratio < 0.1


def test_still_falling_is_not_flat():
    falling = [0.5 - 0.01 * i for i in range(30)]  # the ratio alone would call this flat
    v = judge(falling, threshold=0.1)
    assert v.ratio is not None and v.ratio < 0.1
    assert not v.flat and v.recent_fall is not None and v.recent_fall > 0.1


def test_too_few_points():
    v = judge(_decay(2 * DEFAULT_WINDOW - 1), threshold=0.5)
    assert not v.flat and v.ratio is None and "evaluations" in v.reason


def test_early_part_of_a_decay_is_not_flat():
    assert not judge(_decay(12), threshold=0.1).flat


def test_threshold_matters():
    curve = _decay(30, noise=0.01, seed=3)
    ratio = judge(curve, threshold=1.0).ratio
    assert ratio is not None and judge(curve, threshold=1.0).flat
    assert judge(curve, threshold=ratio * 1.01).flat != judge(curve, threshold=ratio * 0.99).flat


def test_nan_points_are_ignored():
    curve = _decay(30)
    curve[5] = float("nan")
    assert judge(curve, threshold=0.1).flat
