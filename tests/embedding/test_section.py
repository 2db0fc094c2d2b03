"""The Embedding section: built inside Blocks (through the real wiring), and its handlers as
plain functions; Recommend runs as a long-work job with progress, ETA and Stop."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext

import pytest

from lib_textinv.embedding import handlers, section
from lib_textinv.embedding.folder_advice import RECOMMEND_KEY
from lib_textinv.kit import longwork
from lib_textinv.kit.host import StandaloneHost
from lib_textinv.kit.progress import Cancelled
from lib_textinv.kit.tab_context import TabContext
from tests.embedding.held_clip import HOLD_SECONDS, HeldClip
from tests.tinyclip import tiny_clip


def test_ui_handlers(fake):
    msg, new_name, result = handlers.do_create(fake, "zq-ui", 3, "charcoal", False)
    assert result.ok and new_name == "zq-ui" and "Created" in msg
    msg2, new2, _ = handlers.do_create(fake, "zq-ui", 3, "charcoal", False)
    assert new2 is None and "already exists" in msg2
    assert "good name" in handlers.name_check_text(fake, "zq-fresh", False)
    assert "already exists" in handlers.name_check_text(fake, "zq-ui", False)
    assert handlers.name_check_text(fake, "", False) == ""
    assert "2 tokens" in handlers.init_tokens_text(fake, "charcoal drawing", 2)
    assert "SD1 starts from its first token only" in handlers.init_tokens_text(fake, "charcoal drawing", 1)


def test_token_counts_fall_back_to_the_clip_bpe_without_a_model():
    note = handlers.init_tokens_text(StandaloneHost(), "charcoal drawing", 2)
    assert note == "2 tokens (the CLIP tokenizer (no model loaded))."


def test_ui_create_refused_in_standalone():
    msg, new_name, result = handlers.do_create(StandaloneHost(), "zq", 2, "*", False)
    assert not result.ok and new_name is None and "needs the webui" in msg


def test_ui_recommend_handler_shows_progress_with_eta(photo_dir):
    tiny = tiny_clip(0)
    for p, subject in zip(sorted(photo_dir.iterdir()), ("man", "cat", "cup", "rocket"), strict=True):
        p.with_suffix(".txt").write_text(f"a charcoal drawing of a {subject}")
    shown: list[str] = []
    html_out, variety, vectors, text, note = handlers.do_recommend(
        StandaloneHost(),
        str(photo_dir),
        bar=lambda frac, desc: shown.append(desc),
        loader=lambda h: nullcontext((tiny, 1)),
    )
    assert vectors == 2 and "Recommended: 2 vectors" in html_out and 'data-range="2-3"' in html_out
    assert "4 images" in variety
    assert text == "charcoal drawing" and "2 tokens" in note
    assert shown and shown[-1].startswith("4/4, ETA")  # the bar's last word: all done, with the ETA


def test_stop_ends_a_running_recommendation(photo_dir):
    held, host = HeldClip(), StandaloneHost()
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(handlers.do_recommend, host, str(photo_dir), None, held.loader)
        assert held.holding.wait(HOLD_SECONDS), "the recommendation never reached its second batch"
        assert longwork.is_running(RECOMMEND_KEY)
        with pytest.raises(longwork.Busy):  # one at a time, tab and API alike
            handlers.do_recommend(host, str(photo_dir), None, held.loader)
        assert longwork.stop(host, RECOMMEND_KEY) == "stopping…"
        held.release.set()
        with pytest.raises(Cancelled):
            pending.result(timeout=HOLD_SECONDS)
    assert held.batches == 2  # stopped before the third batch
    assert "Stopped" in handlers.refused_html(Cancelled())


def _built(host, shared=()):
    import gradio as gr

    with gr.Blocks() as demo:
        ctx = TabContext(host=host, **{k: gr.Textbox() for k in shared})
        section.build(ctx)
    blocks = {b.elem_id: b for b in demo.blocks.values() if getattr(b, "elem_id", None)}
    wired = {}
    for dep in demo.dependencies:
        for target in dep["targets"]:
            block_id = target[0] if isinstance(target, list | tuple) else target
            wired[demo.blocks[block_id].elem_id] = dep
    return blocks, wired, ctx


def test_build_wires_recommend_create_and_stop(fake):
    shared = ("source_folder", "prepared_folder", "embedding_name", "run_folder")
    blocks, wired, ctx = _built(fake, shared)
    assert blocks["textinv-emb-create"].interactive is not False  # the fake can create
    assert blocks["textinv-emb-create-unavailable"].visible is False
    for elem in ("recommend", "recommend-stop", "create", "name", "overwrite", "init-text", "vectors"):
        assert f"textinv-emb-{elem}" in wired, elem
    assert wired["textinv-emb-recommend-stop"]["queue"] is False  # Stop never waits behind the job
    assert wired["textinv-emb-recommend"]["inputs"] == [ctx.prepared_folder._id]
    created = wired["textinv-emb-create"]["outputs"]
    assert created == [blocks["textinv-emb-result"]._id, ctx.embedding_name._id]  # hands the name on


def test_build_standalone_disables_create_with_the_reason():
    blocks, wired, _ctx = _built(StandaloneHost())
    assert blocks["textinv-emb-create"].interactive is False
    note = blocks["textinv-emb-create-unavailable"]
    assert note.visible is True and "needs the webui" in note.value
    assert wired["textinv-emb-recommend"]["inputs"] == []  # no folder box to read from


def test_name_check_and_create_warn_of_a_token_prefix_clash_before_and_after_writing(fake):
    """CLIP splits digits: with charcoalstyle-500 loaded, charcoalstyle-50 begins its tokens. The
    live name check warns before anything is written, and the Create message says it again."""
    assert handlers.do_create(fake, "charcoalstyle-500", 2, "charcoal", False)[2].ok
    live = handlers.name_check_text(fake, "charcoalstyle-50", False)
    assert "'charcoalstyle-50' is a token prefix of 'charcoalstyle-500'" in live and 'stray "0"' in live
    assert "'charcoalstyle-s50'" in live and not (fake.emb_dir / "charcoalstyle-50.pt").exists()
    msg, new_name, result = handlers.do_create(fake, "charcoalstyle-50", 2, "charcoal", False)
    assert result.ok and new_name == "charcoalstyle-50"  # a warning, not a refusal
    assert "Created" in msg and "⚠ Token clash" in msg and result.suggested_name == "charcoalstyle-s50"
    longer = handlers.name_check_text(fake, "charcoalstyle-5000", False)  # begins with both loaded
    assert "'charcoalstyle-50' is a token prefix" in longer and "'charcoalstyle-500' is a token" in longer
    assert "good name" in handlers.name_check_text(fake, "charcoal-ti", False)  # no clash: no warning
