"""The Captions section: build() constructs, handlers work as plain functions, and captioning from
the tab is the one captioning job (progress, Stop)."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import gradio as gr
import pytest

from lib_textinv.captions import files as cf
from lib_textinv.captions import grid_state as ui
from lib_textinv.captions import section, work
from lib_textinv.captions.prompt_preview import preview_prompts
from lib_textinv.kit import longwork
from lib_textinv.kit.host import BaseHost, EmbeddingInfo, StandaloneHost
from lib_textinv.kit.tab_context import TabContext
from tests.captions.fakes import BOUND, GatedCaptionHost
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
        section.build(ctx)
    cfg = demo.get_config_file()
    ids = {c.get("props", {}).get("elem_id"): c for c in cfg["components"]}
    assert ids["textinv-captions-caption"]["props"]["interactive"] is False
    assert "needs the webui" in ids["textinv-captions-caption-reason"]["props"]["value"]
    assert ids["textinv-captions-template"]["props"]["value"] == "style_filewords.txt"
    assert "textinv-captions-text-11" in ids and "textinv-captions-save-all" in ids
    assert "textinv-captions-stop" in ids


def test_load_edit_save_one(folder):
    state, status = ui.load_folder(str(folder), "", StandaloneHost())
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
    state, _ = ui.load_folder(str(folder), "", StandaloneHost())
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
    state, _ = ui.load_folder(str(d), "", StandaloneHost())
    state = ui.turn_page(state, 1, ["edited"] * 2, page_size=2)
    assert [s[0] for s in ui.slot_texts(state, page_size=2)] == ["chelsea.jpg", "coffee.jpg"]
    assert ui.slot_texts(state, page_size=2)[0][1] == ""
    assert ui.editor_of(state).captions["brick.jpg"] == "edited"  # page 0's typing kept
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
    slots = ui.slot_texts(state, ui.tokenizer_of(host))
    assert slots[0][2].startswith("⚠ 3 tokens: past 2")
    assert slots[2][2] == "0 tokens of 2"
    assert ui.slot_texts(state, None)[0][2] == "tokens: counted inside the webui"


def webui_prompt(rng: random.Random, lines: list[str], name: str, caption: str) -> str:
    """The trainer's create_text with shuffle on and no drop-out (dataset.py:152-161), restated."""
    line = rng.choice(lines)
    tags = caption.split(",")
    rng.shuffle(tags)
    return line.replace("[filewords]", ",".join(tags)).replace("[name]", name)


def test_prompt_preview_follows_webui_rules(folder, templates_dir):
    host = StandaloneHost(templates_dir=str(templates_dir))
    state, _ = ui.load_folder(str(folder), "", StandaloneHost())
    texts = [c for _, c, _ in ui.slot_texts(state)]
    state, rows, note = preview_prompts(state, "style_filewords.txt", "my-emb", True, 0.0, 3, 7, texts, host)
    assert "seed 7" in note
    # The handler's promise, restated here: pick the images with the seed, then one prompt each in
    # the trainer's order; coffee.jpg has no caption file, so its file name stands in.
    rng = random.Random(7)
    picked = rng.sample(["astronaut.jpg", "chelsea.jpg", "coffee.jpg"], 3)
    caps = {"astronaut.jpg": "an astronaut, flag", "chelsea.jpg": "a cat, orange", "coffee.jpg": "coffee"}
    lines = ["a painting of [filewords], art by [name]"]
    assert rows == [[n, webui_prompt(rng, lines, "my-emb", caps[n])] for n in picked]
    assert all(p.startswith("a painting of ") and p.endswith(", art by my-emb") for _, p in rows)
    prompts = dict(rows)
    assert set(prompts["chelsea.jpg"][len("a painting of ") : -len(", art by my-emb")].split(",")) == {
        "a cat",
        " orange",
    }  # shuffled tags keep their spaces and are joined without one
    _, rows2, note2 = preview_prompts(state, "none.txt", "", False, 0, 2, 1, texts, host)
    assert [r[1] for r in rows2] == ["picture", "picture"] and "no [filewords]" in note2
    _, rows3, note3 = preview_prompts(state, "missing.txt", "", False, 0, 2, 1, texts, host)
    assert rows3 == [] and "Pick a template" in note3


def test_caption_button_handler_standalone_says_why(folder):
    msg = section.do_caption(str(folder), "BLIP", "Overwrite", 4, StandaloneHost())
    assert msg.startswith("Not captioned:") and "needs the webui" in msg


def test_page_outputs_shape(folder):
    state, status = ui.load_folder(str(folder), "", StandaloneHost())
    out = section.page_outputs(state, status, None, page_size=4)
    assert len(out) == 3 + 4 * 4
    assert out[4] is not None and out[4].size[0] <= section.THUMB  # first thumbnail
    assert out[3 + 3 * 4]["visible"] is False  # 4th slot hidden


class Bar:
    """A stand-in for gr.Progress: records what the section shows."""

    def __init__(self):
        self.shown: list[tuple[tuple[int, int], str]] = []

    def __call__(self, progress, desc=None):
        self.shown.append((progress, desc))


def test_tab_caption_is_the_one_job_with_progress_and_stop(tmp_path):
    folder = tmp_path / "prepared"
    write_photos(folder, ("astronaut", "chelsea", "coffee"), size=(48, 40))
    host = GatedCaptionHost()
    bar = Bar()
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(section.do_caption, str(folder), "BLIP", "Overwrite", 1, host, bar)
        host.wait_for_second_batch()
        assert longwork.is_running(work.CAPTION_KEY)  # the same job the API would stop or refuse
        assert longwork.stop(host, work.CAPTION_KEY) == "stopping…"
        host.model.release.set()
        summary = pending.result(BOUND)
    assert summary.startswith("interrupted — the captions written so far are kept: 1 written"), summary
    assert [p.name for p in folder.glob("*.txt")] == ["astronaut.txt"]
    assert host.interrupts == 1 and not longwork.is_running(work.CAPTION_KEY)
    # the bar showed the count and an ETA once the first image was done
    assert any(done == (1, 3) and "ETA" in desc for done, desc in bar.shown), bar.shown


def test_tab_caption_refused_while_one_runs(tmp_path):
    folder = tmp_path / "prepared"
    write_photos(folder, ("astronaut", "chelsea"), size=(48, 40))
    host = GatedCaptionHost()
    first = work.start_caption(host, work.CaptionRequest(str(folder), mode="overwrite", batch_size=1))
    host.wait_for_second_batch()
    msg = section.do_caption(str(folder), "BLIP", "Overwrite", 1, host)
    host.model.release.set()
    assert first.ended.wait(BOUND) and first.status == "done"
    assert msg.startswith("Not captioned:") and "already running" in msg
