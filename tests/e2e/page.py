"""The TI Helper tab inside the real webui page, in Chromium, for the in-page tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
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
    root: Any  # #textinv-root inside the webui's #tab_textinv
    errors: list[str] = field(default_factory=list)  # uncaught page errors

    def section(self, label: str) -> None:
        self.root.locator("#textinv-sections > .tab-nav button", has_text=label).click()

    def markdown(self, elem: str) -> Any:
        """gradio 3 puts a Markdown's elem_id on its wrapper and on its content: the content."""
        return self.root.locator(f"[data-testid=markdown]#{elem}")

    def number(self, elem: str, value: Any) -> None:
        """A gr.Number, or the number box of a gr.Slider."""
        box = self.root.locator(f"#{elem} input[type=number]")
        box.fill(str(value))
        box.press("Tab")

    def wait_value(self, selector: str, js_test: str, timeout: int = 60_000) -> str:
        """Wait until ``js_test`` (a JS expression of ``v``) holds for the element's value."""
        self.page.wait_for_function(
            f"sel => {{ const el = document.querySelector(sel); if (!el) return false; const v = el.value;"
            f" return {js_test}; }}",
            arg=f"#tab_textinv {selector}",
            timeout=timeout,
        )
        return self.root.locator(selector).input_value()

    def screenshot(self, name: str) -> None:
        """Full-page picture into artifacts/screenshots/ (the README's pictures come from here)."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / name), full_page=True)

    def our_errors(self) -> list[str]:
        return [e for e in self.errors if "textinv" in e.lower()]


@contextmanager
def tab_in_webui(webui_url: str, width: int = 1400, height: int = 1000) -> Iterator[TabPage]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Debian chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            tab = TabPage(page, page.locator("#tab_textinv #textinv-root"))
            page.on("pageerror", lambda e: tab.errors.append(str(e)))
            page.goto(webui_url, timeout=120_000)
            nav = page.locator("#tabs > .tab-nav")
            nav.wait_for(timeout=120_000)
            nav.locator("button", has_text="TI Helper").click()
            tab.root.wait_for(state="visible", timeout=30_000)
            yield tab
        finally:
            browser.close()
