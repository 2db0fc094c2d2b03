"""Reading and rewriting the "TI hashes" entry of an infotext, as the webui writes and parses it."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from lib_textinv.compare.ti_hashes import PARAM, entries, merged, quote, with_entries

BATCH = (
    "a photo of cs-10\nNegative prompt: blurry\n"
    "Steps: 4, Sampler: Euler a, Seed: 1, Size: 64x64, "
    'TI hashes: "cs-20: bbbbbbbbbbbb, cs-10: aaaaaaaaaaaa", Version: v1.10.1'
)


def params_of(infotext: str) -> dict[str, str]:
    """The parameters line as the webui's paste parser reads it (modules/infotext_utils.py:269)."""
    return {
        k.strip(): json.loads(v) if v.startswith('"') else v
        for k, v in PARAM.findall(infotext.splitlines()[-1])
    }


def test_entries_of_a_batch_infotext():
    assert entries(BATCH) == ["cs-20: bbbbbbbbbbbb", "cs-10: aaaaaaaaaaaa"]
    assert entries("a cat\nSteps: 4, Seed: 1") == []


def test_a_cell_keeps_only_its_own_entry_and_everything_else():
    own = with_entries(BATCH, ["cs-10: aaaaaaaaaaaa"])
    assert own.splitlines()[:2] == BATCH.splitlines()[:2]
    assert "TI hashes: cs-10: aaaaaaaaaaaa" not in own  # a value with ':' is quoted
    assert params_of(own) == {**params_of(BATCH), "TI hashes": "cs-10: aaaaaaaaaaaa"}


def test_no_entry_removes_the_key_wherever_it_stands():
    for line in (
        'TI hashes: "a: 1", Steps: 4, Seed: 1',
        'Steps: 4, TI hashes: "a: 1", Seed: 1',
        'Steps: 4, Seed: 1, TI hashes: "a: 1"',
    ):
        out = with_entries(f"p\n{line}", [])
        assert out == "p\nSteps: 4, Seed: 1", out


def test_an_infotext_without_the_key_gets_it_at_the_end():
    assert with_entries("p\nSteps: 4", ["a: 1", "b: 2"]) == 'p\nSteps: 4, TI hashes: "a: 1, b: 2"'


def test_merged_keeps_the_first_appearance_of_each_entry():
    cells = [with_entries(BATCH, [e]) for e in ("cs-10: a", "cs-20: b", "cs-10: a")]
    assert merged([*cells, "no params"]) == ["cs-10: a", "cs-20: b"]


def test_quote_is_the_webuis():
    assert quote("Euler a") == "Euler a"
    assert quote('a: "1"') == json.dumps('a: "1"')


names = st.text(st.sampled_from("abcXY-_.09 é"), min_size=1, max_size=12).map(str.strip).filter(bool)
hashes = st.text(st.sampled_from("0123456789abcdef"), min_size=12, max_size=12)
entry = st.builds(lambda n, h: f"{n.replace(':', '').replace(',', '')}: {h}", names, hashes)
other = st.dictionaries(
    st.sampled_from(["Steps", "Seed", "Sampler", "Size", "Model", "Version"]), names, min_size=1, max_size=5
)


@given(other, st.lists(entry, max_size=4), st.lists(entry, max_size=4), st.integers(0, 6))
def test_rewriting_changes_only_the_entry(params, old, new, at):
    keys = list(params.items())
    items = keys[:at] + ([("TI hashes", ", ".join(old))] if old else []) + keys[at:]
    line = ", ".join(f"{k}: {quote(v)}" for k, v in items)
    text = f"a prompt, {old[0] if old else 'x'}\n{line}"
    out = with_entries(text, new)
    assert out.splitlines()[0] == text.splitlines()[0]
    assert entries(out) == new
    expected = dict(params)
    if new:
        expected["TI hashes"] = ", ".join(new)
    assert params_of(out) == expected
