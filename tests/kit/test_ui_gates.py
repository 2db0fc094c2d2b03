"""The webui builds our tab before its checkpoint has loaded: buttons that need the model must not
stay disabled for good. Page load and section switches re-check the features."""

from __future__ import annotations

import pytest

from lib_textinv.kit.host import BaseHost, ModelFacts
from lib_textinv.kit.ids import elem_id
from lib_textinv.tab import SECTIONS, build_tab

GATED = {
    "create": ["emb-create"],
    "train": ["train-run", "train-interrupt"],
    "generate": [
        "compare-generate",
        "compare-interrupt",
        "scores-prescore",
        "scores-score",
        "scores-promote",
    ],
}
NOTES = ["emb-create-unavailable", "train-unavailable", "compare-unavailable", "scores-unavailable"]


class LateModelHost(BaseHost):
    """Like the webui at start-up: no model yet, then one loads."""

    def __init__(self):
        super().__init__(kind="webui")
        self.loaded = False

    def model_facts(self):
        if not self.loaded:
            return ModelFacts(loaded=False, reason="the webui is still loading its checkpoint")
        return ModelFacts(
            loaded=True,
            family="SD2-v",
            native_resolution=768,
            embedding_width=1024,
            trainable=True,
            reason="",
        )

    def feature(self, name):
        if name in ("create", "train", "generate", "tokenizer"):
            facts = self.model_facts()
            return facts.loaded, facts.reason
        return super().feature(name)


@pytest.fixture(scope="module")
def tab():
    host = LateModelHost()
    blocks = build_tab(host)
    ids = {b.elem_id: i for i, b in blocks.blocks.items() if getattr(b, "elem_id", None)}
    return host, blocks, ids


@pytest.fixture(autouse=True)
def no_model_yet(tab):
    """Each test starts, and ends even when it fails, with the model not loaded: the tab is built
    once per module, so its host's state would otherwise leak into the next test."""
    host = tab[0]
    host.loaded = False
    yield
    host.loaded = False


def refresh_results(blocks, index: int) -> dict[int, object]:
    dep = blocks.dependencies[index]
    return dict(zip(dep["outputs"], blocks.fns[index].fn(), strict=True))


def load_index(blocks) -> int:
    return next(i for i, d in enumerate(blocks.dependencies) if d["trigger"] == "load")


def test_buttons_follow_the_model_on_page_load(tab):
    host, blocks, ids = tab
    for name in (n for names in GATED.values() for n in names):
        assert blocks.blocks[ids[elem_id(name)]].interactive is False, name
    host.loaded = False
    before = refresh_results(blocks, load_index(blocks))
    for name in (n for names in GATED.values() for n in names):
        assert before[ids[elem_id(name)]]["interactive"] is False, name
    for note in NOTES:
        assert before[ids[elem_id(note)]]["visible"] is True, note
        assert "still loading" in before[ids[elem_id(note)]]["value"], note

    host.loaded = True
    after = refresh_results(blocks, load_index(blocks))
    for name in (n for names in GATED.values() for n in names):
        assert after[ids[elem_id(name)]]["interactive"] is True, name
    for note in NOTES:
        upd = after[ids[elem_id(note)]]
        assert (upd["value"], upd["visible"]) == ("", False), note
    assert "Model:" in after[ids[elem_id("status")]]  # the status line too


def test_opening_any_section_refreshes_too(tab):
    host, blocks, ids = tab
    section_ids = {ids[elem_id(f"section-{key}")] for _label, key, _m in SECTIONS}
    selects = [
        i
        for i, d in enumerate(blocks.dependencies)
        if d["trigger"] == "select" and set(d["targets"]) & section_ids
    ]
    assert len(selects) == len(SECTIONS)
    host.loaded = True
    out = refresh_results(blocks, selects[-1])
    assert out[ids[elem_id("compare-generate")]]["interactive"] is True


def test_model_sized_inputs_take_the_models_size_on_page_load(tab):
    host, blocks, ids = tab
    sized = {ids[elem_id(n)] for n in ("dataset-width", "dataset-height", "crop-width", "crop-height")}
    index = next(
        i for i, d in enumerate(blocks.dependencies) if d["trigger"] == "load" and set(d["outputs"]) == sized
    )
    assert blocks.blocks[ids[elem_id("crop-width")]].value == 512  # built before the model loaded
    host.loaded = False
    assert all("value" not in u for u in refresh_results(blocks, index).values())
    host.loaded = True
    assert {u["value"] for u in refresh_results(blocks, index).values()} == {768}
    host.loaded = False
    # switching sections does not touch them (the user's edits stay)
    assert not any(sized & set(d["outputs"]) for d in blocks.dependencies if d["trigger"] == "select")
