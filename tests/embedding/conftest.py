"""The Embedding step's fake webui host, ready (its database loaded once)."""

from __future__ import annotations

import pytest

from tests.embedding.fake_webui import FakeWebui


@pytest.fixture
def fake(tmp_path) -> FakeWebui:
    host = FakeWebui(tmp_path / "embeddings")
    with host.lock:
        host.reload_embeddings(True)
    return host
