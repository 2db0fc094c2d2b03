"""The recommendation rule on hand-made score tables, and its dominance property."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib_textinv.scores.choose_step import Candidate, choose, choose_from_loss, dominates, rule_sentence


def table(*rows):
    return [Candidate(step, ci, ct, f"cat-{step}") for step, ci, ct in rows]


def test_highest_clip_i_within_tolerance_of_best_clip_t():
    rows = table((100, 0.60, 0.300), (200, 0.70, 0.290), (300, 0.80, 0.280), (400, 0.90, 0.200))
    rec = choose(rows, tolerance=0.05)
    # best CLIP-T 0.300 → floor 0.285: steps 100 and 200 are eligible, 200 has the higher CLIP-I
    assert rec.step == 200
    assert rec.checkpoint == "cat-200"
    assert rec.rule == rule_sentence(0.05)
    assert "within 5% of the best CLIP-T" in rec.rule
    assert "0.2850" in rec.why


def test_tolerance_zero_takes_the_best_clip_t_and_wide_tolerance_the_best_clip_i():
    rows = table((100, 0.60, 0.300), (200, 0.70, 0.290), (400, 0.90, 0.200))
    assert choose(rows, tolerance=0.0).step == 100
    assert choose(rows, tolerance=0.5).step == 400


def test_negative_cosines_lower_the_floor():
    rows = table((10, 0.1, -0.20), (20, 0.3, -0.205), (30, 0.5, -0.30))
    # floor = -0.20 - 0.05 * 0.20 = -0.21
    assert choose(rows, tolerance=0.05).step == 20


def test_ties_go_to_higher_clip_t_then_earlier_step():
    assert choose(table((100, 0.8, 0.29), (200, 0.8, 0.30))).step == 200
    assert choose(table((300, 0.8, 0.30), (200, 0.8, 0.30))).step == 200


def test_nan_rows_are_ignored_and_empty_gives_none():
    rows = table((100, math.nan, 0.3), (200, 0.5, 0.29))
    assert choose(rows).step == 200
    assert choose(table((100, math.nan, 0.3))) is None
    assert choose([]) is None


def test_bad_tolerance():
    with pytest.raises(ValueError, match="tolerance"):
        choose(table((1, 0.1, 0.1)), tolerance=1.5)


def test_loss_fallback():
    rec = choose_from_loss([100, 200, 300], [0.5, 0.3, 0.29], [200, 300])
    assert rec.step == 200
    assert "fixed-batch loss" in rec.rule
    assert choose_from_loss([], [], []) is None


score = st.floats(min_value=-1, max_value=1, allow_nan=False).map(lambda v: round(v, 3))
rows_strategy = st.lists(st.tuples(score, score), min_size=1, max_size=8)


@given(rows_strategy, st.data(), st.sampled_from([0.0, 0.05, 0.1, 0.3]))
def test_adding_a_dominated_checkpoint_never_changes_the_choice(rows, data, tol):
    cands = [Candidate(100 * (i + 1), ci, ct) for i, (ci, ct) in enumerate(rows)]
    before = choose(cands, tol)
    dominator = data.draw(st.sampled_from(cands))
    # strictly worse on at least one score, never better on either
    di = data.draw(st.floats(min_value=0, max_value=0.5).map(lambda v: round(v, 3)))
    dt = data.draw(st.floats(min_value=0, max_value=0.5).map(lambda v: round(v, 3)))
    if di == 0 and dt == 0:
        dt = 0.001
    step = data.draw(
        st.integers(min_value=0, max_value=10_000).filter(lambda s: all(s != c.step for c in cands))
    )
    extra = Candidate(step, dominator.clip_i - di, dominator.clip_t - dt)
    assert dominates(dominator, extra)
    position = data.draw(st.integers(min_value=0, max_value=len(cands)))
    after = choose([*cands[:position], extra, *cands[position:]], tol)
    assert after.step == before.step


@given(rows_strategy, st.sampled_from([0.0, 0.05, 0.2]))
def test_the_choice_is_never_dominated(rows, tol):
    cands = [Candidate(100 * (i + 1), ci, ct) for i, (ci, ct) in enumerate(rows)]
    pick = next(c for c in cands if c.step == choose(cands, tol).step)
    assert not any(dominates(c, pick) for c in cands)
