"""The training prompt matches the webui's rules (modules/textual_inversion/dataset.py:42-43 reads
a template, :152-161 ``create_text`` builds a prompt)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib_textinv.captions.prompt_preview import template_choices
from lib_textinv.kit import templates as tpl
from lib_textinv.kit.host import StandaloneHost
from tests.captions.shipped_templates import SHIPPED, write_shipped_templates


def webui_read_lines(template_file):
    """webui 1.10.1 modules/textual_inversion/dataset.py:42-43, verbatim logic."""
    with open(template_file) as file:
        return [x.strip() for x in file.readlines()]


def webui_create_text(lines, placeholder_token, filename_text, shuffle_tags, tag_drop_out):
    """webui 1.10.1 PersonalizedBase.create_text (dataset.py:152-161), on the global ``random``."""
    text = random.choice(lines)
    tags = filename_text.split(",")
    if tag_drop_out != 0:
        tags = [t for t in tags if random.random() > tag_drop_out]
    if shuffle_tags:
        random.shuffle(tags)
    text = text.replace("[filewords]", ",".join(tags))
    text = text.replace("[name]", placeholder_token)
    return text


@pytest.mark.parametrize(
    "content",
    [
        "a photo of [name]\nart by [name], [filewords]\n",
        "  padded [name]  \n\nafter blank\n",
        "crlf [name]\r\nsecond [filewords]\r\n",
        "no trailing newline",
        "trailing blank\n\n",
        "",
    ],
)
def test_read_template_like_webui(tmp_path, content):
    p = tmp_path / "t.txt"
    p.write_bytes(content.encode())
    assert tpl.read_template(p) == webui_read_lines(p)


def test_read_template_shipped_files(tmp_path):
    """Files shaped like the six the webui ships: one prompt per line, read as the webui reads them."""
    folder = write_shipped_templates(tmp_path / "textual_inversion_templates")
    for t in SHIPPED:
        lines = tpl.read_template(folder / t.name)
        assert lines == webui_read_lines(folder / t.name), t.name
        assert len(lines) == t.lines and all(lines), t.name  # no blank prompt among them
        assert tpl.uses_filewords(lines) == t.filewords, t.name
        assert all((tpl.NAME in line) == t.name_token for line in lines), t.name
    assert len(tpl.read_template(folder / "style_filewords.txt")) == 19
    assert tpl.read_template(folder / "none.txt") == ["picture"]


def test_the_shipped_set_offers_style_filewords_first(tmp_path):
    folder = write_shipped_templates(tmp_path / "textual_inversion_templates")
    names, default = template_choices(StandaloneHost(templates_dir=str(folder)))
    assert names == sorted(t.name for t in SHIPPED)
    assert default == tpl.DEFAULT_TEMPLATE == "style_filewords.txt"


def test_read_template_missing(tmp_path):
    with pytest.raises(tpl.TemplateError, match="not found"):
        tpl.read_template(tmp_path / "nope.txt")


def test_fill_template_order_filewords_first():
    assert (
        tpl.fill_template("a [filewords] by [name]", "xyz", "cat, [name] style") == "a cat, xyz style by xyz"
    )
    assert tpl.fill_template("picture", "xyz", "cat") == "picture"


def test_shuffle_and_drop_keeps_spaces_and_joins_without_space():
    rng = random.Random(3)
    out = tpl.shuffle_and_drop("a, b, c", rng, shuffle=True, drop_out=0)
    assert sorted(out.split(",")) == sorted(["a", " b", " c"])
    assert tpl.shuffle_and_drop("a, b, c", random.Random(1), shuffle=False, drop_out=0) == "a, b, c"
    assert tpl.shuffle_and_drop("a, b, c", random.Random(1), shuffle=False, drop_out=1.0) == ""


caption_st = st.lists(st.text(alphabet="abc xyz-", min_size=0, max_size=6), min_size=1, max_size=8).map(
    ",".join
)


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    caption=caption_st,
    shuffle=st.booleans(),
    drop=st.sampled_from([0, 0.1, 0.5, 0.9]),
    lines=st.lists(
        st.sampled_from(["[name] of [filewords]", "a [filewords]", "[name]", "", "plain"]),
        min_size=1,
        max_size=5,
    ),
)
def test_training_prompt_equals_webui_create_text(seed, caption, shuffle, drop, lines):
    state = random.getstate()
    try:
        random.seed(seed)
        expected = webui_create_text(lines, "tok", caption, shuffle, drop)
    finally:
        random.setstate(state)
    assert tpl.training_prompt(lines, "tok", caption, random.Random(seed), shuffle, drop) == expected


def test_preview_prompts_matches_webui_sequence(tmp_path):
    p = tmp_path / "t.txt"
    p.write_text("a photo of [filewords], by [name]\n[name], [filewords]\n", encoding="utf-8")
    lines = tpl.read_template(p)
    caps = ["red car, street, night", "cat, sofa", "moon"]
    random.seed(42)
    expected = [webui_create_text(lines, "my-emb", c, True, 0.25) for c in caps]
    got = tpl.preview_prompts(lines, "my-emb", caps, random.Random(42), True, 0.25, 3)
    assert got == expected
    assert len(tpl.preview_prompts(lines, "e", caps, random.Random(0), n=2)) == 2


def test_empty_template_refused():
    with pytest.raises(tpl.TemplateError, match="no lines"):
        tpl.training_prompt([], "x", "y", random.Random(0))


def test_uses_filewords():
    assert tpl.uses_filewords(["a [filewords]"])
    assert not tpl.uses_filewords(["[name] style"])
