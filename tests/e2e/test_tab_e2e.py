"""The tab inside the real webui page, and our settings in the webui's options."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("TEXTINV_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


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
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Debian chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(webui_url, timeout=120_000)
            nav = page.locator("#tabs > .tab-nav")
            nav.wait_for(timeout=120_000)
            button = nav.locator("button", has_text="TI Helper")
            assert button.count() == 1, nav.inner_text()
            button.click()
            page.locator("#tab_textinv").wait_for(state="visible", timeout=30_000)
            root = page.locator("#tab_textinv #textinv-root")
            root.wait_for(state="visible", timeout=30_000)
            assert root.inner_text().strip()
            # the status line is refreshed on page load, after the webui loaded its checkpoint
            root.locator(".textinv-status").get_by_text("Model:").wait_for(timeout=30_000)
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "webui-tab.png"), full_page=True)
            assert not [e for e in errors if "textinv" in e.lower()], errors
        finally:
            browser.close()
