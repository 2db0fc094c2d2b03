"""The Captions section: build() constructs, handlers work as plain functions."""

from __future__ import annotations

import random
from pathlib import Path

import gradio as gr
import pytest

from lib_textinv.captions import files as cf
from lib_textinv.captions import section as ui
from lib_textinv.kit import templates as tpl
from lib_textinv.kit.host import BaseHost, EmbeddingInfo, StandaloneHost
from lib_textinv.kit.tab_context import TabContext
from tests.photos import write_photos

NAMES = ("astronaut", "chelsea", "coffee")


@pytest.fixture
def folder(tmp_path) -> Path:
    d = tmp_path / "prepared"
    write_photos(d, NAMES, size=(64, 64))
    cf.write_caption(d / "astronaut.jpg", "an astronaut, flag", "overwrite")
    cf.write_caption(d / "chelsea.jpg", "a cat, orange", "overwrite")
    return d


@pytest.fixture
def templates_dir(tmp_path) -> Path:
    d = tmp_path / "templates"
    d.mkdir()
    (d / "style_filewords.txt").write_text("a painting of [filewords], art by [name]\n", encoding="utf-8")
    (d / "none.txt").write_text("picture\n", encoding="utf-8")
    return d


def test_build_constructs_standalone(templates_dir):
    host = StandaloneHost(templates_dir=str(templates_dir))
    with gr.Blocks() as demo:
        ctx = TabContext(host, gr.Textbox(), gr.Textbox(), gr.Textbox(), gr.Textbox())
        ui.build(ctx)
    cfg = demo.get_config_file()
    ids = {c.get("props", {}).get("elem_id"): c for c in cfg["components"]}
    assert ids["textinv-captions-caption"]["props"]["interactive"] is False
    assert "needs the webui" in ids["textinv-captions-caption-reason"]["props"]["value"]
    assert ids["textinv-captions-template"]["props"]["value"] == "style_filewords.txt"
    assert "textinv-captions-text-11" in ids and "textinv-captions-save-all" in ids


def test_load_edit_save_one(folder):
    state, status = ui.load_folder(str(folder))
    assert "3 images" in status and "1 without a caption file" in status
    assert [s[0] for s in ui.slot_texts(state)] == ["astronaut.jpg", "chelsea.jpg", "coffee.jpg"]
    texts = ["an astronaut, flag", "a tabby cat", "a cup of coffee"] + [""] * 9
    state, msg = ui.save_one(state, 1, texts)
    assert msg == "Saved 1 caption file(s)"
    assert cf.read_caption(folder / "chelsea.jpg") == "a tabby cat"
    assert cf.read_caption(folder / "coffee.jpg") is None  # typed, not saved yet
    assert "1 unsaved" in ui.page_info(state)
    state, msg = ui.save_all(state, texts)
    assert msg == "Saved 1 caption file(s)"
    assert cf.read_caption(folder / "coffee.jpg") == "a cup of coffee"
    state, msg = ui.save_all(state, texts)
    assert msg.startswith("Nothing to save")


def test_bulk_replace_preview_undo_and_save(folder):
    state, _ = ui.load_folder(str(folder))
    texts = [c for _, c, _ in ui.slot_texts(state)]
    state, table, msg = ui.preview_replace(state, "a ", "the ", False, False, texts)
    assert [r[0] for r in table] == ["chelsea.jpg"] and "1 match" in msg
    state, msg = ui.bulk(state, "replace", ("a ", "the ", False, False), texts)
    assert "changed 1" in msg
    assert ui.slot_texts(state)[1][1] == "the cat, orange"
    state, msg = ui.undo(state, [c for _, c, _ in ui.slot_texts(state)])
    assert "restored 1" in msg and ui.slot_texts(state)[1][1] == "a cat, orange"
    state, _ = ui.bulk(state, "add_tag", ("sks", True), [c for _, c, _ in ui.slot_texts(state)])
    state, msg = ui.save_all(state, [c for _, c, _ in ui.slot_texts(state)])
    assert msg == "Saved 3 caption file(s)"
    assert cf.read_caption(folder / "coffee.jpg") == "sks"
    assert cf.read_caption(folder / "astronaut.jpg") == "sks, an astronaut, flag"
    state, msg = ui.bulk(state, "replace", ("(", "x", True, False), [])
    assert "invalid regular expression" in msg


def test_paging(tmp_path):
    d = tmp_path / "many"
    write_photos(d, ("astronaut", "chelsea", "coffee", "rocket", "brick"), size=(32, 32))
    state, _ = ui.load_folder(str(d))
    state = ui.turn_page(state, 1, ["edited"] * 2, page_size=2)
    assert [s[0] for s in ui.slot_texts(state, page_size=2)] == ["chelsea.jpg", "coffee.jpg"]
    assert ui.slot_texts(state, page_size=2)[0][1] == ""
    assert ui._editor(state).captions["brick.jpg"] == "edited"  # page 0's typing kept
    state = ui.turn_page(state, 10, [], page_size=2)
    assert [s[0] for s in ui.slot_texts(state, page_size=2)] == ["rocket.jpg"]
    assert "Page 3 of 3" in ui.page_info(state, page_size=2)


def test_token_counts_with_host_tokenizer(folder):
    class Tok:
        def count_tokens(self, text):
            return len(text.split())

    class TokHost(BaseHost):
        def feature(self, name):
            return name == "tokenizer", "no"

        def tokenizer(self):
            return Tok()

        def embeddings(self):
            return [EmbeddingInfo("my-emb", None, vectors=73, width=768)]

    host = TokHost()
    state, _ = ui.load_folder(str(folder), "my-emb", host)
    assert state["vectors"] == 73
    slots = ui.slot_texts(state, ui._tokenizer(host))
    assert slots[0][2].startswith("⚠ 3 tokens: past 2")
    assert slots[2][2] == "0 tokens of 2"
    assert ui.slot_texts(state, None)[0][2] == "tokens: counted inside the webui"


def test_prompt_preview_follows_webui_rules(folder, templates_dir):
    host = StandaloneHost(templates_dir=str(templates_dir))
    state, _ = ui.load_folder(str(folder))
    texts = [c for _, c, _ in ui.slot_texts(state)]
    state, rows, note = ui.preview_prompts(
        state, "style_filewords.txt", "my-emb", True, 0.0, 3, 7, texts, host
    )
    assert "seed 7" in note
    # Recompute with the same seed the way the handler promises: sample, then webui create_text order.
    rng = random.Random(7)
    picked = rng.sample(sorted(NAMES_JPG), 3)
    caps = {"astronaut.jpg": "an astronaut, flag", "chelsea.jpg": "a cat, orange", "coffee.jpg": "coffee"}
    lines = tpl.read_template(templates_dir / "style_filewords.txt")
    expected = tpl.preview_prompts(lines, "my-emb", [caps[n] for n in picked], rng, True, 0.0, 3)
    assert rows == [[n, p] for n, p in zip(picked, expected, strict=True)]
    assert all(p.startswith("a painting of ") and p.endswith("art by my-emb") for _, p in rows)
    _, rows2, note2 = ui.preview_prompts(state, "none.txt", "", False, 0, 2, 1, texts, host)
    assert [r[1] for r in rows2] == ["picture", "picture"] and "no [filewords]" in note2
    _, rows3, note3 = ui.preview_prompts(state, "missing.txt", "", False, 0, 2, 1, texts, host)
    assert rows3 == [] and "Pick a template" in note3


NAMES_JPG = [f"{n}.jpg" for n in NAMES]


def test_caption_button_handler_standalone_says_why(folder):
    msg = ui.caption_folder(str(folder), "BLIP", "Overwrite", 4, StandaloneHost())
    assert msg.startswith("Not captioned:") and "needs the webui" in msg


def test_page_outputs_shape(folder):
    state, status = ui.load_folder(str(folder))
    out = ui._page_outputs(state, status, None, page_size=4)
    assert len(out) == 3 + 4 * 4
    assert out[4] is not None and out[4].size[0] <= ui.THUMB  # first thumbnail
    assert out[3 + 3 * 4]["visible"] is False  # 4th slot hidden
