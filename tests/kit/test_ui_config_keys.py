"""The webui's saved UI defaults key our inputs by label alone (ui_loadsave.py:36-75, 127-139):
inputs that share a label must opt out, or one's default overwrites the other's."""

from __future__ import annotations

from collections import Counter

import gradio as gr

from lib_textinv.kit.host import StandaloneHost
from lib_textinv.kit.ids import elem_id
from lib_textinv.kit.ui_config_keys import colliding, config_key, opt_out
from lib_textinv.tab import build_tab


def test_every_shared_key_is_opted_out_and_unique_ones_are_kept():
    blocks = build_tab(StandaloneHost())
    comps = list(blocks.blocks.values())
    counts = Counter(k for k in map(config_key, comps) if k is not None)
    assert counts["Batch size"] >= 2  # Captions' slider and Train's number: the bug this prevents
    for c in comps:
        key = config_key(c)
        if key is None:
            continue
        if counts[key] > 1:  # (a section may also opt out a unique one on purpose)
            assert getattr(c, "do_not_save_to_config", False), (key, type(c).__name__)
    by_id = {b.elem_id: b for b in comps if getattr(b, "elem_id", None)}
    assert by_id[elem_id("train-batch")].do_not_save_to_config
    assert not getattr(by_id[elem_id("compare-seeds")], "do_not_save_to_config", False)


def test_collisions_by_label_and_button_text():
    with gr.Blocks():
        a = gr.Number(label="Batch size")
        b = gr.Slider(label="Batch size")
        c = gr.Textbox(label="Seeds")
        d = gr.Button("Stop")
        e = gr.Button("Stop")
        f = gr.HTML(label="Batch size")  # not saved by the webui: never a collision
    assert set(map(id, colliding([a, b, c, d, e, f]))) == {id(a), id(b), id(d), id(e)}
    assert opt_out([a, b, c]) == 2
    assert a.do_not_save_to_config and b.do_not_save_to_config
    assert not hasattr(c, "do_not_save_to_config")


def test_read_only_outputs_are_never_pinned():
    with gr.Blocks():
        status = gr.Textbox(label="Scoring", interactive=False)
        typed = gr.Textbox(label="Seeds")
    assert opt_out([status, typed]) == 1
    assert status.do_not_save_to_config and not hasattr(typed, "do_not_save_to_config")
    blocks = build_tab(StandaloneHost())
    by_id = {b.elem_id: b for b in blocks.blocks.values() if getattr(b, "elem_id", None)}
    assert by_id[elem_id("scores-status")].do_not_save_to_config
