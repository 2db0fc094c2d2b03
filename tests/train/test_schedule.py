"""Learning-rate schedule strings with the webui's rules (modules/textual_inversion/learn_schedule.py)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib_textinv.train.lr_schedule import Phase, ScheduleError, check_schedule, parse_phases, simulate


def oracle_rates(phases: list[Phase], start: int, limit: int = 100_000) -> tuple[list[float], int]:
    """Step-by-step emulation of the webui's training loop: ``scheduler.apply(opt, step)`` before
    each step, stop when ``finished``. Returns the rate used at each step and the final step."""
    it = iter(phases)
    rate, end = next(it).rate, phases[0].end_step
    finished = False
    rates = []
    step = start
    while step < limit:
        if step >= end:
            try:
                ph = next(it)
                rate, end = ph.rate, ph.end_step
            except StopIteration:
                finished = True
        if finished:
            break
        rates.append(rate)
        step += 1
    return rates, step


@pytest.mark.parametrize(
    "text,max_steps,cur,expected",
    [
        ("0.005", 1000, 0, [(0.005, 1000)]),
        ("0.005:100, 1e-3:1000, 1e-5", 3000, 0, [(0.005, 100), (1e-3, 1000), (1e-5, 3000)]),
        ("0.005:100, 1e-3:5000, 1e-5", 3000, 0, [(0.005, 100), (1e-3, 3000)]),  # stops after a step > max
        ("0.005:-1, 0.001:10", 500, 0, [(0.005, 500)]),
        ("0.005, 0.001:10", 500, 0, [(0.005, 500)]),  # bare rate: rest ignored
        (" , 0.005:100,, ", 500, 0, [(0.005, 100)]),  # blank pieces skipped
        ("0.01:100, 0.005:200, 0.001", 1000, 150, [(0.005, 200), (0.001, 1000)]),  # resume drops phases
        ("junk:50, 0.005", 500, 100, [(0.005, 500)]),  # skipped piece's rate is never parsed
        ("0.1:5:6", 500, 0, [(0.1, 500)]),  # a:b:c → bare rate a
    ],
)
def test_parse_like_the_webui(text, max_steps, cur, expected):
    phases, _notes = parse_phases(text, max_steps, cur)
    assert [(p.rate, p.end_step) for p in phases] == expected


@pytest.mark.parametrize("text", ["abc", "0.005:1e3", "0.005:100.0", "0.005:0", "x:100", "", " , "])
def test_invalid_like_the_webui(text):
    with pytest.raises(ScheduleError, match="Invalid learning rate schedule"):
        parse_phases(text, 1000, 0)


def test_check_schedule_empty_and_float_are_refused():
    with pytest.raises(ScheduleError, match="empty"):
        check_schedule("  ", 100)
    with pytest.raises(ScheduleError, match="must be text"):
        parse_phases(0.005, 100)  # type: ignore[arg-type]
    with pytest.raises(ScheduleError, match="already been trained"):
        check_schedule("0.005", 100, cur_step=100)


def test_explain_in_words_and_early_stop():
    s = check_schedule("0.005:100, 1e-3:1000, 1e-5", 3000)
    assert s.final_step == 3000
    assert s.explain() == (
        "learning rate 0.005 for steps 0–99 (100 steps); then learning rate 0.001 for steps 100–999 "
        "(900 steps); then learning rate 1e-05 for steps 1000–2999 (2000 steps)."
    )
    early = check_schedule("0.005:100", 1000)
    assert early.final_step == 100
    assert "stops at step 100, before max steps 1000" in early.explain()


def test_notes_for_ignored_parts():
    s = check_schedule("0.005, 0.001:500", 1000)
    assert any("ignores the rest" in w for w in s.warnings)
    s = check_schedule("0.005:200, 0.001:100, 1e-4", 1000)
    assert any("lasts one step" in w for w in s.warnings)
    assert s.segments[1].steps == 1  # the webui gives the expired phase exactly one step
    past = check_schedule("0.005:10, 0.001:10", 10)
    assert past.final_step == 11 and "past max steps 10" in past.explain()
    s = check_schedule("0", 10)
    assert any("not a positive number" in w for w in s.warnings)


def test_clip_schedule_keeps_last_value():
    s = check_schedule("0.1:50", 200, what="clip value")
    assert "then 0.1 until step 200" in s.explain("clip value", keeps_last=True)


piece = st.one_of(
    st.tuples(st.sampled_from(["0.005", "1e-3", "0.1", "2"]), st.integers(-2, 400)).map(
        lambda t: f"{t[0]}:{t[1]}"
    ),
    st.sampled_from(["0.002", "", " "]),
)


def has_phase(pieces: list[str], cur: int) -> bool:
    """Independently of parse_phases: some piece gives a phase (the webui refuses the rest)."""
    for piece in pieces:
        if not piece.strip():
            continue
        parts = piece.split(":")
        if len(parts) != 2 or int(parts[1]) > cur or int(parts[1]) == -1:
            return True
    return False


# max steps first, then a starting step below it: every example is a real resume point.
steps_and_start = st.integers(1, 300).flatmap(lambda m: st.tuples(st.just(m), st.integers(0, m - 1)))


@settings(max_examples=200, deadline=None)
@given(st.lists(piece, min_size=1, max_size=5), steps_and_start)
def test_simulation_matches_step_by_step_emulation(pieces, max_and_cur):
    max_steps, cur = max_and_cur
    text = ",".join(pieces)
    if not has_phase(pieces, cur):
        with pytest.raises(ScheduleError):
            parse_phases(text, max_steps, cur)
        return
    phases, _ = parse_phases(text, max_steps, cur)
    segments, final = simulate(phases, cur)
    rates, oracle_final = oracle_rates(phases, cur)
    assert final == oracle_final
    expanded = [seg.rate for seg in segments for _ in range(seg.steps)]
    assert expanded == rates
    # an expired phase still gets one step, so the webui may even run past max steps
    assert final <= max_steps + len(phases)
