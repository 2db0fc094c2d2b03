"""The tab as the webui gets it from scripts/textinv.py's callback, built through the real bridge
over the contract double: every section loads, and a too-old webui gets the reason in the tab."""

from __future__ import annotations

import logging

import pytest

from lib_textinv.kit.ids import elem_id
from lib_textinv.tab import SECTIONS

FAILED = "This section failed to load"
SECTION_IDS = {elem_id(f"section-{key}") for _label, key, _builders in SECTIONS}


def _components(blocks) -> list:
    return list(blocks.blocks.values())


def _failed_sections(blocks) -> list[str]:
    """The text of every "failed to load" box (class textinv-bad) the tab put in place of a section."""
    return [
        c.value
        for c in _components(blocks)
        if isinstance(getattr(c, "value", None), str) and FAILED in c.value
    ]


def _ids(blocks) -> set[str]:
    return {c.elem_id for c in _components(blocks) if getattr(c, "elem_id", None)}


def test_every_section_of_the_tab_loads(bridge, webui, caplog):
    caplog.set_level(logging.ERROR)
    ((blocks, label, elem),) = bridge.on_ui_tabs()

    assert (label, elem) == ("TI Helper", "textinv")
    assert _failed_sections(blocks) == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert _ids(blocks) >= SECTION_IDS
    # Compare offers the webui's own samplers (modules.sd_samplers), not its fallback list
    offered = [c.choices for c in _components(blocks) if type(c).__name__ == "Dropdown"]
    assert any("DPM++ 3M SDE" in choices for choices in offered)


def test_a_section_that_fails_is_seen_by_this_check(bridge, webui, monkeypatch):
    """The check above can fail: a section whose build raises is replaced by the failure box."""
    from lib_textinv import tab

    def broken(ctx):
        raise ImportError("cannot import name 'sd_samplers' from 'modules'")

    sections = [(lbl, key, (broken,) if key == "compare" else builders) for lbl, key, builders in SECTIONS]
    monkeypatch.setattr(tab, "SECTIONS", sections)
    ((blocks, _label, _elem),) = bridge.on_ui_tabs()

    (shown,) = _failed_sections(blocks)
    assert "textinv-bad" in shown and "ImportError" in shown and "sd_samplers" in shown


@pytest.mark.parametrize(("tag", "version"), [("v1.5.2", "1.5.2"), ("v1.2-RC", "1.2.0")])
def test_a_too_old_webui_shows_why_in_the_tab(bridge, webui, monkeypatch, caplog, tag, version):
    from modules import launch_utils

    monkeypatch.setattr(launch_utils, "TAG", tag)

    ((blocks, label, elem),) = bridge.on_ui_tabs()

    assert (label, elem) == ("TI Helper", "textinv")
    shown = [c.value for c in _components(blocks) if getattr(c, "elem_id", None) == elem_id("version-error")]
    assert len(shown) == 1
    assert f"needs AUTOMATIC1111 webui 1.6 or newer; this is {version}" in shown[0]
    assert "Update the webui" in shown[0]
    assert not SECTION_IDS & _ids(blocks)  # nothing else is built on a webui that cannot run it
    assert f"this is {version}" in caplog.text  # and the console says it too


@pytest.mark.parametrize(
    "tag", ["v1.6.0", "v1.10.1-1-g4448045", "<none>", "f2.0.1v1.10.1-previous-669-gdfdcbab6"]
)
def test_a_new_or_unknown_version_gets_the_whole_tab(bridge, webui, monkeypatch, tag):
    from modules import launch_utils

    monkeypatch.setattr(launch_utils, "TAG", tag)

    ((blocks, _label, _elem),) = bridge.on_ui_tabs()

    assert elem_id("version-error") not in _ids(blocks)
    assert _ids(blocks) >= SECTION_IDS
