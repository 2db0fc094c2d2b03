"""End-to-end fixtures: tests that drive a RUNNING webui over HTTP. They run only when
``TEXTINV_WEBUI_URL`` is set (e.g. http://127.0.0.1:7861) and are skipped otherwise.
``TEXTINV_WEBUI_DATA`` (optional) is the webui's --data-dir, for checks on its files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def webui_url() -> str:
    url = os.environ.get("TEXTINV_WEBUI_URL", "").strip()
    if not url:
        pytest.skip("TEXTINV_WEBUI_URL is not set (URL of a running webui with this extension)")
    return url.rstrip("/")


@pytest.fixture(scope="session")
def webui_data() -> Path | None:
    d = os.environ.get("TEXTINV_WEBUI_DATA", "").strip()
    return Path(d) if d else None


@pytest.fixture(scope="session")
def client(webui_url):
    import httpx

    with httpx.Client(base_url=webui_url, timeout=httpx.Timeout(120.0, connect=10.0)) as c:
        r = c.get("/textinv/v1/status")
        assert r.status_code == 200, f"our routes are not mounted at {webui_url}: {r.status_code} {r.text}"
        yield c


@pytest.fixture(scope="session")
def status(client) -> dict:
    return client.get("/textinv/v1/status").json()


def need(status: dict, feature: str) -> None:
    """Fail (not skip): on the test webui every feature these tests use must be available."""
    f = status["features"][feature]
    assert f["available"], f"feature {feature!r} unavailable on the webui: {f['reason']}"
