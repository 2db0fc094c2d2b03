"""Real-browser fixtures: the standalone tab served in-process, driven by Debian's chromium through
Playwright (no browser download: executable_path=/usr/bin/chromium)."""

from __future__ import annotations

import os
import shutil
import socket
import threading
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("TEXTINV_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def standalone_url(tmp_path_factory):
    """The standalone app on a free loopback port; returns its base URL."""
    import uvicorn

    from lib_textinv.kit.host import StandaloneHost
    from lib_textinv.standalone import create_app

    state = tmp_path_factory.mktemp("state")
    app = create_app(StandaloneHost(state_dir=str(state)))
    started = threading.Event()
    app.add_event_handler("startup", started.set)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    assert started.wait(60), "standalone app did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail(f"Debian chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, standalone_url):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.goto(standalone_url)
    pg.locator("#textinv-root").wait_for(timeout=60_000)
    yield pg
    context.close()


def screenshot(page, name: str) -> Path:
    """Save a screenshot as a test artifact (artifacts/screenshots/<name>.png)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def open_section(page, key: str) -> None:
    """Click a workflow sub-tab (gradio 3.41 tabs are buttons in .tab-nav)."""
    nav = page.locator("#textinv-sections .tab-nav button", has_text=key)
    nav.first.click()
