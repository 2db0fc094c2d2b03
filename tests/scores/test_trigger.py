"""Trigger removal for CLIP-T: every way a sweep or template prompt can name the trigger."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib_textinv.scores.trigger import clip_text, plain_text, remove_trigger, tidy

NAME = "charcoalstyle"


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("drawing of a cat, {}", "drawing of a cat"),
        ("{}, drawing of a cat", "drawing of a cat"),
        ("a photo of [name], snow", "a photo of, snow"),
        ("drawing of a cat, charcoalstyle", "drawing of a cat"),
        ("drawing of a cat, charcoalstyle-500", "drawing of a cat"),
        ("drawing of a cat, CharcoalStyle-1500", "drawing of a cat"),
        ("(charcoalstyle-500:1.2), a dog", "a dog"),
        ("a dog, (charcoalstyle:0.8)", "a dog"),
        ("a dog, ((charcoalstyle))", "a dog"),
        ("a [charcoalstyle] portrait", "a portrait"),
        ("a [[charcoalstyle-20]] portrait , x", "a portrait, x"),
        ("charcoalstyle", ""),
        ("charcoalstyle-500", ""),
        ("in the style of charcoalstyle-500 , , a cat ,", "in the style of, a cat"),
    ],
)
def test_remove_trigger(prompt, expected):
    assert remove_trigger(prompt, NAME) == expected


@pytest.mark.parametrize(
    "prompt",
    [
        "charcoalstyles drawing",  # longer word
        "charcoalstyle-extra drawing",  # hyphenated longer word
        "mycharcoalstyle drawing",
        "charcoalstyle_v2 drawing",
    ],
)
def test_other_words_are_kept(prompt):
    assert remove_trigger(prompt, NAME) == prompt


def test_weights_stay_on_other_words_but_brackets_of_the_trigger_go():
    assert remove_trigger("(charcoalstyle, red hat:1.3), sky", NAME) == "(red hat:1.3), sky"


def test_several_names_and_names_with_dots_and_dashes():
    assert remove_trigger("a cat, my.style-v1-30, other-7", ["my.style-v1", "other"]) == "a cat"
    # the dot is literal, not a regex wildcard
    assert remove_trigger("myXstyle-v1", "my.style-v1") == "myXstyle-v1"


def test_plain_text_drops_prompt_syntax():
    assert plain_text("(red hat:1.2), [blue], <lora:foo:0.7> sky BREAK sea") == "red hat, blue, sky, sea"
    assert plain_text(r"a \(literal\) bracket") == "a (literal) bracket"
    assert plain_text("BREAKFAST") == "BREAKFAST"


def test_clip_text_combines_both():
    assert clip_text("(charcoalstyle-500:1.2), drawing of a (cat:1.1)", NAME) == "drawing of a cat"


def test_tidy():
    assert tidy("  a cat ,  , in snow ,") == "a cat, in snow"
    assert tidy("a,b") == "a, b"


# Every form a sweep or template prompt names the trigger in (the module docstring's list).
TRIGGER_FORMS = (
    "{}",
    "[name]",
    "{n}",
    "{n}-{s}",
    "{N}-{s}",
    "({n}:1.2)",
    "({n}-{s}:0.8)",
    "(({n}))",
    "[{n}]",
    "[[{n}-{s}]]",
)
other_part = st.sampled_from(["drawing of a cat", "(red hat:1.3)", "in snow", "a [blue] sky", "x-7"])


@given(
    before=st.lists(other_part, max_size=3),
    after=st.lists(other_part, max_size=3),
    form=st.sampled_from(TRIGGER_FORMS),
    step=st.integers(0, 99999),
    sep=st.sampled_from([", ", " ", ",", " , "]),
    noise=st.text(alphabet="abc ,()[]:.0123456789-", max_size=12),
)
def test_every_form_of_the_trigger_anywhere_is_removed_and_the_rest_kept(
    before, after, form, step, sep, noise
):
    trigger = form.replace("{n}", NAME).replace("{N}", NAME.title()).replace("{s}", str(step))
    prompt = sep.join([*before, trigger, *after, noise])
    once = remove_trigger(prompt, NAME)
    assert NAME not in once.lower() and "{}" not in once and "[name]" not in once
    assert remove_trigger(once, NAME) == once  # idempotent
    for part in (*before, *after):  # the rest of the prompt is still there, word for word
        for word in part.replace("(", " ").replace(")", " ").replace(":1.3", " ").split():
            assert word.strip("[]") in once, (prompt, once)
