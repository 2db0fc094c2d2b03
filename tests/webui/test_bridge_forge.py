"""The bridge with Forge detected (a ``modules_forge`` package beside ``modules``): the tab loads,
and what Forge removed is unavailable with the reason (docs/webui-contract.md §1, §22)."""

from __future__ import annotations

import types

import pytest

from lib_textinv.kit.host import Unavailable

NO_TRAINING = "Forge removed Textual Inversion training; use AUTOMATIC1111 to train"
NO_TOKENS = "token counts need the A1111 text encoder wrapper (not in Forge)"


@pytest.fixture
def forge(bridge, webui, tmp_path, monkeypatch):
    """The bridge's host in a webui that has Forge's ``modules_forge`` (a namespace package)."""
    root = tmp_path / "forge"
    (root / "modules_forge").mkdir(parents=True)
    monkeypatch.syspath_prepend(str(root))
    bridge.HOST = None
    return bridge.host()


def test_forge_is_detected(forge):
    assert forge.kind == "forge"


def test_without_modules_forge_it_is_the_webui(host):
    assert host.kind == "webui"
    assert host.feature("train") == (True, "") and host.feature("tokenizer") == (True, "")


def test_training_and_creating_are_unavailable_with_the_reason(forge):
    facts = forge.model_facts()
    assert (facts.loaded, facts.family, facts.trainable, facts.reason) == (True, "SD1", False, NO_TRAINING)
    assert forge.feature("train") == (False, NO_TRAINING)
    assert forge.feature("create") == (False, NO_TRAINING)
    with pytest.raises(Unavailable, match="Forge removed Textual Inversion training"):
        forge.require("create")


def test_token_counts_are_unavailable_with_the_reason(forge):
    assert forge.feature("tokenizer") == (False, NO_TOKENS)


def test_what_forge_keeps_stays_available(forge):
    assert [forge.feature(n) for n in ("caption", "upscale", "generate")] == [(True, "")] * 3


def test_before_forges_first_generation_no_model_is_loaded(forge, webui):
    # Forge's placeholder model until the first generation: only cond_stage_model = None
    webui.sd_models.model_data.sd_model = types.SimpleNamespace(cond_stage_model=None, chunk_length=75)
    facts = forge.model_facts()
    assert not facts.loaded and "no model is loaded yet" in facts.reason
    assert forge.feature("train") == (False, facts.reason)


def test_forge_has_no_embedding_database_to_list_or_reload(forge, webui, monkeypatch):
    monkeypatch.delattr(webui.sd_hijack.model_hijack, "embedding_db")
    assert forge.embeddings() == []
    forge.reload_embeddings(True)  # nothing to reload, no error


def test_the_tab_in_forge_loads_and_says_why_training_is_off(forge, bridge):
    ((blocks, _label, _elem),) = bridge.on_ui_tabs()
    texts = [c.value for c in blocks.blocks.values() if isinstance(getattr(c, "value", None), str)]
    assert not [t for t in texts if "This section failed to load" in t]
    (status,) = [t for t in texts if 'class="textinv-status"' in t]
    assert 'data-host="forge"' in status and NO_TRAINING in status
