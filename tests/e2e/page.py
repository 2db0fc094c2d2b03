"""The TI Helper tab inside the real webui page, in Chromium, for the in-page tests."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

SCREENSHOTS_ENV = "TEXTINV_SCREENSHOTS"  # keep this run's pictures there (e.g. to refresh the README's)
CHROMIUM = os.environ.get("TEXTINV_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


@dataclass
class TabPage:
    page: Any
    root: Any  # #textinv-root inside the webui's own #tab_textinv
    errors: list[str] = field(default_factory=list)  # uncaught page errors (message and stack)

    def section(self, label: str) -> None:
        self.root.locator("#textinv-sections > .tab-nav button", has_text=label).click()

    def html(self, elem: str) -> Any:
        """gradio 3 puts an HTML/Markdown elem_id on the wrapper and on the content: the content."""
        return self.root.locator(f".prose#{elem}")

    def textbox(self, elem: str) -> Any:
        return self.root.locator(f"#{elem} textarea")

    def number(self, elem: str, value: Any) -> None:
        """A gr.Number, or the number box of a gr.Slider."""
        box = self.root.locator(f"#{elem} input[type=number]")
        box.fill(str(value))
        box.press("Tab")

    def wait_value(self, selector: str, js_test: str, timeout: int = 60_000) -> str:
        """Wait until ``js_test`` (a JS expression of the value ``v``) holds for an input."""
        self.page.wait_for_function(
            "([sel, test]) => { const el = document.querySelector(sel);"
            " return !!el && new Function('v', 'return ' + test)(el.value); }",
            arg=[f"#tab_textinv {selector}", js_test],
            timeout=timeout,
        )
        return self.root.locator(selector).input_value()

    def wait_textarea(self, elem: str, js_test: str, timeout: int = 60_000) -> str:
        return self.wait_value(f"#{elem} textarea", js_test, timeout)

    def screenshot(self, name: str) -> Path:
        """Full-page picture ``<name>.png`` in this run's own folder (nothing shared is overwritten)
        or in ``$TEXTINV_SCREENSHOTS``; returns its path."""
        path = screenshots_dir() / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def our_errors(self) -> list[str]:
        """Uncaught errors raised by our scripts (message or stack names textinv)."""
        return [e for e in self.errors if "textinv" in e.lower()]


@lru_cache(maxsize=1)
def screenshots_dir() -> Path:
    chosen = os.environ.get(SCREENSHOTS_ENV, "").strip()
    folder = Path(chosen) if chosen else Path(tempfile.mkdtemp(prefix="textinv-e2e-screenshots-"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def tab_in_webui(webui_url: str, width: int = 1400, height: int = 1000) -> Iterator[TabPage]:
    """The webui page in Chromium with the TI Helper tab open, after its page-load refresh."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Debian chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            tab = TabPage(page, page.locator("#tab_textinv #textinv-root"))
            page.on("pageerror", lambda e: tab.errors.append(f"{e.message}\n{e.stack or ''}"))
            page.goto(webui_url, timeout=120_000)
            nav = page.locator("#tabs > .tab-nav")
            nav.wait_for(timeout=120_000)
            nav.locator("button", has_text="TI Helper").click()
            tab.root.wait_for(state="visible", timeout=30_000)
            # the page-load refresh has run (status line re-rendered with the loaded model)
            tab.root.locator(".textinv-status").get_by_text("Model:").wait_for(timeout=60_000)
            yield tab
        finally:
            browser.close()
