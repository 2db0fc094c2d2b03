"""Sweep planning: pure functions, property tests."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib_textinv.compare.sweep_plan import (
    DEFAULT_PROMPTS,
    SEED_MAX,
    PlanCheckpoint,
    PlanError,
    check_seeds,
    choose_steps,
    clean_prompts,
    cost,
    parse_int_list,
    parse_prompts,
    parse_seeds,
    place_trigger,
    plan_cost,
    plan_sweep,
)


def cps(steps):
    return [PlanCheckpoint(token=f"cat-{s}", label=f"{s} steps", path=f"/log/cat-{s}.pt") for s in steps]


def test_place_trigger():
    assert place_trigger("drawing of a cat, {}", "cs-500") == "drawing of a cat, cs-500"
    assert place_trigger("{} in the style of {}", "cs-5") == "cs-5 in the style of cs-5"
    assert place_trigger("a landscape", "cs-5") == "a landscape, cs-5"
    assert place_trigger("a landscape, ", "cs-5") == "a landscape, cs-5"
    assert place_trigger("", "cs-5") == "cs-5"


def test_parse_prompts_and_seeds():
    assert parse_prompts("") == list(DEFAULT_PROMPTS)
    assert parse_prompts("a\n\n  b, {}  \n") == ["a", "b, {}"]
    assert parse_seeds("1, 2 3;2") == [1, 2, 3]
    assert parse_seeds("") == [1234]
    with pytest.raises(PlanError, match="-1"):
        parse_seeds("-1")
    with pytest.raises(PlanError, match="'x'"):
        parse_int_list("1, x", "step")


def test_one_seed_rule_and_one_prompt_rule():
    assert check_seeds([5, 0, 5, SEED_MAX]) == [5, 0, SEED_MAX]
    for bad in (-1, SEED_MAX + 1):
        with pytest.raises(PlanError, match="4294967295"):
            check_seeds([1, bad])
    assert check_seeds([]) == []  # the tab's parse_seeds puts the default in
    assert clean_prompts([" a, {} ", "", "  ", "b"]) == ["a, {}", "b"]


def test_choose_steps():
    steps = [50, 100, 150, 200, 250]
    assert choose_steps(steps, "all") == steps
    assert choose_steps(steps, "every", every=2) == [100, 200, 250]
    assert choose_steps(steps, "every", every=5) == [250]
    assert choose_steps(steps, "list", wanted=[200, 50]) == [50, 200]
    with pytest.raises(PlanError, match="300"):
        choose_steps(steps, "list", wanted=[300])
    with pytest.raises(PlanError):
        choose_steps(steps, "every", every=0)
    with pytest.raises(PlanError):
        choose_steps(steps, "some")


def test_plan_rejects_empty_and_duplicates():
    with pytest.raises(PlanError):
        plan_sweep([], ["a"], [1])
    with pytest.raises(PlanError, match="share a token"):
        plan_sweep(cps([5, 5]), ["a"], [1])
    with pytest.raises(PlanError):
        plan_sweep(cps([5]), ["a"], [1], batch_size=0)


def test_batches_mix_checkpoints_and_cost():
    plan = plan_sweep(cps(range(50, 550, 50)), list(DEFAULT_PROMPTS), [7], batch_size=8)
    assert (plan.cols, plan.rows, len(plan.cells)) == (10, 4, 40)
    batches = plan.batches()
    assert len(batches) == 5
    assert len({c.token for c in batches[0]}) == 8  # one batch, eight checkpoints
    ours, per_cell = plan_cost(plan, sampling_steps=20)
    assert (ours.calls, per_cell.calls) == (5, 40)
    assert (ours.unet_passes, per_cell.unet_passes) == (100, 800)
    assert cost(0, 8, 20).calls == 0


steps_st = st.lists(st.integers(1, 5000), min_size=1, max_size=12, unique=True)
# Prompts built from parts so that about half carry the "{}" mark (once or more, anywhere) and
# half get the trigger appended; a plain text strategy almost never wrote "{}".
prompt_st = st.lists(
    st.sampled_from(["{}", "drawing", " of a cat", ", ", "(red:1.2)", " ", "{}, "]), max_size=6
).map("".join)
prompts_st = st.lists(prompt_st, min_size=1, max_size=5)
seeds_st = st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=4, unique=True)


@settings(max_examples=150, deadline=None)
@given(steps_st, prompts_st, seeds_st, st.integers(1, 64))
def test_every_cell_exactly_once(steps, prompts, seeds, batch_size):
    plan = plan_sweep(cps(steps), prompts, seeds, batch_size)
    flat = [c for b in plan.batches() for c in b]
    keys = [(c.checkpoint, c.prompt, c.seed_index) for c in flat]
    assert len(keys) == len(set(keys)) == len(steps) * len(prompts) * len(seeds)
    assert all(1 <= len(b) <= batch_size for b in plan.batches())
    assert sorted(plan.grid_index(c) for c in flat) == list(range(plan.cols * plan.rows))
    for c in flat:
        prompt = prompts[c.prompt]
        assert c.seed == seeds[c.seed_index]
        if "{}" in prompt:  # every mark becomes the token, nothing else changes
            assert c.text == prompt.replace("{}", c.token)
            assert c.text.count(c.token) == prompt.count("{}")
        else:  # appended once, after the prompt without its trailing comma
            base = prompt.rstrip().rstrip(",").rstrip()
            assert c.text == (f"{base}, {c.token}" if base else c.token)


@settings(max_examples=150, deadline=None)
@given(steps_st, prompts_st, seeds_st, st.integers(1, 64), st.integers(1, 64))
def test_same_cell_same_prompt_and_seed_whatever_the_batch_size(steps, prompts, seeds, b1, b2):
    def cells(bs):
        plan = plan_sweep(cps(steps), prompts, seeds, bs)
        return {
            (c.checkpoint, c.prompt, c.seed_index): (c.text, c.seed, c.token)
            for b in plan.batches()
            for c in b
        }

    assert cells(b1) == cells(b2)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 500), st.integers(1, 64), st.integers(1, 150))
def test_cost_never_more_calls_than_one_per_cell(n, batch, steps):
    ours, per_cell = cost(n, batch, steps), cost(n, 1, steps)
    assert ours.calls * batch >= n > (ours.calls - 1) * batch
    assert ours.calls <= per_cell.calls == n
    assert ours.unet_passes == ours.calls * steps
