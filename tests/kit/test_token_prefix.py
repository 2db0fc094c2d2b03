"""Token-prefix clashes between embedding names, checked against CLIP's real tokenizer."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib_textinv.kit.token_prefix import Relation, check_trigger, clashes, clip_pieces, relation, suggest


@pytest.fixture(scope="module")
def clip_ids():
    """open_clip's SimpleTokenizer (its vocabulary ships with the package): SD2's tokenizer, with
    the same pre-tokenizer and merges as SD1's CLIPTokenizer."""
    tokenizer = pytest.importorskip("open_clip.tokenizer").SimpleTokenizer()
    return tokenizer.encode


def test_pieces_split_digits_one_by_one():
    assert clip_pieces("charcoalstyle-500") == ["charcoalstyle", "-", "5", "0", "0"]
    assert clip_pieces("  My  Style_v2.pt ") == ["my", "style", "_", "v", "2", ".", "pt"]
    assert clip_pieces("don't-_x") == ["don", "'t", "-_", "x"]


def test_relation_both_ways():
    assert relation([1, 2], [1, 2]) is Relation.SAME
    assert relation([1, 2, 3], [1, 2]) is Relation.SHORTER
    assert relation([1, 2], [1, 2, 3]) is Relation.LONGER
    assert relation([1, 2], [1, 3]) is None and relation([], [1]) is None


def test_the_longer_trigger_with_only_the_shorter_loaded(clip_ids):
    check = check_trigger("charcoalstyle-500", ["charcoalstyle-50", "other"])
    assert [(c.other, c.relation) for c in check.clashes] == [("charcoalstyle-50", Relation.SHORTER)]
    assert "typing 'charcoalstyle-500' silently uses 'charcoalstyle-50' plus a stray \"0\"" in check.warning
    assert check.suggestion == "charcoalstyle-s500"
    assert "'charcoalstyle-s500'" in check.warning
    assert not clashes(check.suggestion, ["charcoalstyle-50", "charcoalstyle-500"], clip_ids)


def test_the_shorter_trigger_with_the_longer_loaded():
    check = check_trigger("charcoalstyle-50", ["charcoalstyle-500"])
    assert [(c.other, c.relation) for c in check.clashes] == [("charcoalstyle-500", Relation.LONGER)]
    assert "typing 'charcoalstyle-500' silently uses 'charcoalstyle-50'" in check.warning
    assert check.suggestion == "charcoalstyle-s50"


def test_a_loaded_base_name_begins_every_step_name():
    """The final embedding ``charcoalstyle`` begins ``charcoalstyle-500`` and every ``-sN`` form: the
    suggestion changes the first word instead."""
    check = check_trigger("charcoalstyle-500", ["charcoalstyle", "charcoalstyle-500"])
    assert [c.other for c in check.clashes] == ["charcoalstyle"]  # itself is no clash
    assert check.suggestion == "charcoalstyles-500"
    assert not clashes(check.suggestion, ["charcoalstyle", "charcoalstyle-500"])


def test_same_tokens_under_another_spelling_and_no_clash():
    assert [c.relation for c in clashes("a5", ["A 5", "a-5"])] == [Relation.SAME]
    assert check_trigger("CharcoalStyle-500", ["charcoalstyle-500", "cat-5"]) == check_trigger(
        "CharcoalStyle-500", []
    )
    assert check_trigger("painter-500", ["painter-600", "painters"]).warning == ""


def test_no_suggestion_is_a_name_already_taken_or_clashes_with_the_trigger():
    assert suggest("x-50", ["x-5", "x-s50", "x-v50"]) == "x-step50"
    # "x-50a" would be free of the loaded names, but "x-50" begins it
    assert suggest("x-50", ["x-500", "x-s50", "x-v50", "x-step50"]) == "xs-50"


def test_any_tokenizer_can_be_given(clip_ids):
    names = ["charcoalstyle", "charcoalstyle-50", "charcoalstyle-5000", "cat"]
    by_ids = check_trigger("charcoalstyle-500", names, clip_ids)
    assert by_ids == check_trigger("charcoalstyle-500", names)
    assert len(by_ids.clashes) == 3


name = st.text(st.sampled_from("ab xyzé-_.'09ſΩ"), min_size=1, max_size=10).filter(lambda t: t.strip())


@settings(max_examples=400, deadline=None)
@given(name, name)
def test_pieces_decide_prefixes_as_clips_token_ids_do(clip_ids, a, b):
    assert relation(clip_pieces(a), clip_pieces(b)) == relation(clip_ids(a), clip_ids(b))


stepped = st.builds(lambda n, d: f"{n}-{d}", name, st.integers(0, 999))


@settings(max_examples=150, deadline=None)
@given(st.one_of(name, stepped), st.lists(st.one_of(name, stepped), max_size=6))
def test_a_suggestion_clashes_with_nothing_for_clip_itself(clip_ids, trigger, loaded):
    check = check_trigger(trigger, loaded)
    if check.suggestion is not None:
        assert not clashes(check.suggestion, [*loaded, trigger], clip_ids)
        assert check.suggestion.lower() not in {n.lower() for n in loaded}
