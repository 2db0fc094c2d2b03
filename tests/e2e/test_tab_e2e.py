"""The tab inside the real webui page, and our settings in the webui's options."""

from __future__ import annotations

import pytest

from tests.e2e.page import tab_in_webui


def test_settings_are_registered(client):
    r = client.get("/sdapi/v1/options")
    assert r.status_code == 200, r.text
    keys = [k for k in r.json() if k.startswith("textinv_")]
    assert keys, "no textinv_* option in /sdapi/v1/options"


def test_status_reports_the_webui_and_model(status):
    assert status["host"] == "webui"
    assert status["model"]["loaded"], status["model"]
    assert status["model"]["embedding_width"] == 768


@pytest.mark.browser
def test_tab_is_in_the_webui_page(webui_url):
    with tab_in_webui(webui_url) as tab:
        nav = tab.page.locator("#tabs > .tab-nav")
        assert nav.locator("button", has_text="TI Helper").count() == 1, nav.inner_text()
        assert tab.root.inner_text().strip()
        # the status line is refreshed on page load, after the webui loaded its checkpoint
        tab.root.locator(".textinv-status").get_by_text("Model:").wait_for(timeout=30_000)
        tab.screenshot("webui-tab")
        assert not tab.our_errors(), tab.errors


def test_every_section_of_the_tab_loaded(client):
    """The webui's page config carries every component of our tab: none may be the "failed to
    load" notice a section shows when its build raised, and all six sections must be there."""
    r = client.get("/config")
    assert r.status_code == 200, r.text
    components = r.json()["components"]
    failed = [
        c["props"]["value"]
        for c in components
        if isinstance(c.get("props", {}).get("value"), str)
        and "This section failed to load" in c["props"]["value"]
    ]
    assert failed == []
    ids = {c.get("props", {}).get("elem_id") for c in components}
    for key in ("dataset", "crop", "captions", "embedding", "train", "compare"):
        assert f"textinv-section-{key}" in ids, key
