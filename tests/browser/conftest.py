"""Real-browser fixtures: the standalone tab served in-process, driven by Debian's chromium through
Playwright (no browser download: executable_path=/usr/bin/chromium).

Screenshots go to a fresh folder of this run (pytest's tmp dir); set ``TEXTINV_SCREENSHOTS`` to a
folder to keep them there instead."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("TEXTINV_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS_ENV = "TEXTINV_SCREENSHOTS"
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


@contextlib.contextmanager
def serve(host) -> Iterator[str]:
    """The standalone app for ``host`` on a loopback port; yields its base URL. The socket is bound
    and listening before uvicorn starts (it runs the app's startup before it would bind one itself),
    so the page never meets a refused connection or a port another process took meanwhile."""
    import uvicorn

    from lib_textinv.standalone import create_app

    app = create_app(host)
    started = threading.Event()
    app.add_event_handler("startup", started.set)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)  # connections wait in the backlog until uvicorn accepts them
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    assert started.wait(60), "standalone app did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture(scope="session")
def standalone_url(tmp_path_factory):
    from lib_textinv.kit.host import StandaloneHost

    with serve(StandaloneHost(state_dir=str(tmp_path_factory.mktemp("state")))) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail(f"Debian chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, env=browser_env())
        yield b
        b.close()


def browser_env() -> dict[str, str]:
    """The browser's environment: ours, less a libfaketime preload. The suite is also run with the
    clock set just before midnight (``faketime``), which must shift the tests' clock, not Chromium's
    compositor: under it Chromium never finishes a frame and every screenshot times out."""
    env = dict(os.environ)
    if "faketime" in env.get("LD_PRELOAD", ""):
        env.pop("LD_PRELOAD")
    return env


@contextlib.contextmanager
def open_page(browser, url: str):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.goto(url)
    pg.locator("#textinv-root").wait_for(timeout=60_000)
    try:
        yield pg
    finally:
        context.close()


@pytest.fixture
def page(browser, standalone_url):
    with open_page(browser, standalone_url) as pg:
        yield pg


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory) -> Path:
    """This run's own folder (nothing shared is overwritten), or ``$TEXTINV_SCREENSHOTS``."""
    chosen = os.environ.get(SCREENSHOTS_ENV)
    if chosen:
        Path(chosen).mkdir(parents=True, exist_ok=True)
        return Path(chosen)
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def screenshot(screenshot_dir) -> Callable[..., Path]:
    """``screenshot(page, name)``: a full-page picture ``<name>.png``; returns its path."""

    def take(page, name: str) -> Path:
        path = screenshot_dir / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 0
        return path

    return take


def open_section(page, key: str) -> None:
    """Click a workflow sub-tab (gradio 3.41 tabs are buttons in .tab-nav)."""
    nav = page.locator("#textinv-sections .tab-nav button", has_text=key)
    nav.first.click()
