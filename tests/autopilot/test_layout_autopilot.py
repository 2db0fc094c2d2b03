"""The autopilot sits on top of the steps: it may use every step's code, and only the tab and the
router use it (no step, nor kit, depends on it)."""

from __future__ import annotations

from tests.test_layout import MODULES, area, imported


def test_only_the_tab_and_the_router_import_the_autopilot():
    users = sorted(
        m
        for m, tree in MODULES.items()
        if area(m) != "autopilot"
        and any(area(i) == "autopilot" for i in imported(tree) if i.startswith("lib_textinv."))
    )
    assert users == ["lib_textinv.routes", "lib_textinv.tab"]


def test_the_autopilot_never_imports_the_webui_bridge():
    wrong = [
        m
        for m, tree in MODULES.items()
        if area(m) == "autopilot" and any(i.startswith("lib_textinv.webui") for i in imported(tree))
    ]
    assert wrong == []
