"""Caption editor operations: pure functions, checked with properties."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lib_textinv.captions import edit as ed

word = st.text(alphabet="abcdefgh xyz-éü", min_size=1, max_size=8).map(str.strip).filter(bool)
tag_list = st.lists(word, min_size=0, max_size=6)
caption = tag_list.map(", ".join)
captions_st = st.dictionaries(st.sampled_from([f"img{i}.png" for i in range(8)]), caption, max_size=8)
free_text = st.dictionaries(st.sampled_from(["a.png", "b.png", "c.png"]), st.text(max_size=20), max_size=3)

PROP = settings(max_examples=120, deadline=None)


# -- replace ------------------------------------------------------------------------------------


def test_replace_plain_and_preview():
    caps = {"a.png": "a cat, a hat", "b.png": "a dog"}
    rows = ed.preview_replace(caps, "at", "AT")
    assert [(r.name, r.count, r.after) for r in rows] == [("a.png", 2, "a cAT, a hAT")]
    assert ed.replace(caps, "at", "AT") == {"a.png": "a cAT, a hAT", "b.png": "a dog"}
    assert caps == {"a.png": "a cat, a hat", "b.png": "a dog"}  # input untouched


def test_replace_plain_takes_backslashes_literally():
    assert ed.replace({"a": "x"}, "x", r"\1 \g<0>") == {"a": r"\1 \g<0>"}


def test_replace_regex_groups_and_case():
    caps = {"a": "Red car, blue car"}
    assert ed.replace(caps, r"(\w+) car", r"car \1", regex=True) == {"a": "car Red, car blue"}
    assert ed.replace(caps, "red", "green") == caps
    assert ed.replace(caps, "red", "green", ignore_case=True) == {"a": "green car, blue car"}


@pytest.mark.parametrize(
    "find,repl,msg", [("(", "x", "invalid regular"), ("", "x", "nothing"), ("(a)", r"\2", "invalid repl")]
)
def test_replace_errors(find, repl, msg):
    with pytest.raises(ed.EditError, match=msg):
        ed.replace({"a": "abc"}, find, repl, regex=True)


@PROP
@given(captions_st, word, st.text(max_size=5))
def test_regex_of_escaped_equals_plain(caps, find, repl):
    assume("\\" not in repl)
    assert ed.replace(caps, re.escape(find), repl, regex=True) == ed.replace(caps, find, repl)


@PROP
@given(free_text, word, st.text(max_size=5))
def test_preview_counts_match_replace(caps, find, repl):
    rows = ed.preview_replace(caps, find, repl)
    out = ed.replace(caps, find, repl)
    assert {r.name for r in rows} == {n for n in caps if find in caps[n]}
    assert all(r.count == caps[r.name].count(find) for r in rows)
    assert all(out[r.name] == r.after for r in rows)
    assert set(out) == set(caps)


# -- tags ---------------------------------------------------------------------------------------


def test_add_and_remove_tag_examples():
    caps = {"a": "a cat, sofa", "b": "", "c": "Sofa,cat", "d": "a cat,"}
    assert ed.add_tag(caps, "sofa") == {"a": "a cat, sofa", "b": "sofa", "c": "Sofa,cat", "d": "a cat, sofa"}
    assert ed.add_tag({"a": "x"}, "new", at_start=True) == {"a": "new, x"}
    assert ed.remove_tag(caps, "SOFA") == {"a": "a cat", "b": "", "c": "cat", "d": "a cat,"}
    with pytest.raises(ed.EditError, match="comma"):
        ed.add_tag(caps, "a, b")
    with pytest.raises(ed.EditError, match="empty"):
        ed.remove_tag(caps, "  ")


@PROP
@given(captions_st, word)
def test_remove_tag_undoes_add_tag(caps, tag):
    assume(all(not any(t.casefold() == tag.casefold() for t in ed.tags(c)) for c in caps.values()))
    assert ed.remove_tag(ed.add_tag(caps, tag), tag) == caps
    assert ed.remove_tag(ed.add_tag(caps, tag, at_start=True), tag) == caps


@PROP
@given(captions_st, word)
def test_add_tag_idempotent_and_present(caps, tag):
    once = ed.add_tag(caps, tag)
    assert ed.add_tag(once, tag) == once
    assert all(any(t.casefold() == tag.casefold() for t in ed.tags(c)) for c in once.values())


@PROP
@given(captions_st, word)
def test_remove_tag_idempotent_and_absent(caps, tag):
    once = ed.remove_tag(caps, tag)
    assert ed.remove_tag(once, tag) == once
    assert all(t.casefold() != tag.casefold() for c in once.values() for t in ed.tags(c))
    # other tags survive, in order
    for n, c in caps.items():
        assert ed.tags(once[n]) == [t for t in ed.tags(c) if t.casefold() != tag.casefold()]


def test_remove_word():
    caps = {"a": "a red car, red, redness", "b": "blue"}
    assert ed.remove_word(caps, "red") == {"a": "a car, redness", "b": "blue"}


@PROP
@given(free_text, st.text(min_size=1, max_size=5))
def test_prepend_append(caps, text):
    pre, post = ed.prepend(caps, text), ed.append(caps, text)
    assert all(v.startswith(text) for v in pre.values())
    assert all(v.endswith(text) for v in post.values())
    assert ed.prepend(pre, text) == pre and ed.append(post, text) == post


# -- undo ---------------------------------------------------------------------------------------

OPS = [
    ("replace", ed.replace, ("a", "Z")),
    ("add_tag", ed.add_tag, ("new",)),
    ("remove_tag", ed.remove_tag, ("a",)),
    ("remove_word", ed.remove_word, ("b",)),
    ("prepend", ed.prepend, ("pre, ",)),
    ("append", ed.append, (", post",)),
]


@PROP
@given(captions_st, st.sampled_from(OPS))
def test_undo_restores_any_bulk_edit(caps, op):
    e = ed.Editor.from_disk(caps)
    label, fn, args = op
    n = e.bulk(label, fn, *args)
    assert e.captions == fn(caps, *args)
    assert n == sum(1 for k in caps if e.captions[k] != caps[k])
    e.undo()
    assert e.captions == caps
    assert not e.can_undo


def test_undo_keeps_hand_edits_made_after_the_bulk_edit():
    e = ed.Editor.from_disk({"a": "cat", "b": "cat, dog"})
    assert e.bulk("add_tag", ed.add_tag, "sofa") == 2
    e.set("a", "my own words")
    assert e.undo() == 1
    assert e.captions == {"a": "my own words", "b": "cat, dog"}


def test_only_the_last_bulk_edit_is_undone_and_state_roundtrips():
    e = ed.Editor.from_disk({"a": "x"})
    e.bulk("append", ed.append, "1")
    e.bulk("append", ed.append, "2")
    e2 = ed.Editor.from_dict(e.to_dict())
    e2.undo()
    assert e2.captions == {"a": "x1"}
    assert e2.undo() == 0


def test_dirty_and_mark_saved():
    e = ed.Editor.from_disk({"a": "x", "b": "y\r\n"})
    e.set("a", "x2")
    e.set("b", "y")
    assert e.dirty() == {"a": "x2"}
    e.mark_saved(["a"])
    assert e.dirty() == {}


# -- tokens -------------------------------------------------------------------------------------


class WordTokenizer:
    def count_tokens(self, text: str) -> int:
        return len(re.findall(r"\w+|[^\w\s]", text))


def test_token_counts_and_warning():
    assert ed.token_limit(1) == 74 and ed.token_limit(8) == 67 and ed.token_limit(100) == 0
    assert ed.count_tokens(None, "x", 1) is None
    ok = ed.count_tokens(WordTokenizer(), "a cat, sofa", 4)
    assert (ok.count, ok.limit, ok.over) == (4, 71, False)
    assert "of 71" in ok.describe()
    long = ed.count_tokens(WordTokenizer(), " ".join(["w"] * 72), 4)
    assert long.over and "past 71" in long.describe()
