"""Shared fixtures. Everything is real: real photos, real files in tmp folders, no downloads."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from tests.photos import write_photos

# Never let a test reach the network through HF/open_clip/torch hub by accident.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def photo_dir(tmp_path: Path) -> Path:
    """Four real photos (JPEG) in a fresh folder."""
    d = tmp_path / "photos"
    write_photos(d)
    return d


def tree_checksums(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder`` (relative path → digest): before/after checks that
    nothing of the user's was modified."""
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            out[str(p.relative_to(folder))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.fixture
def checksums():
    return tree_checksums


TEMPLATES = {
    "style_filewords.txt": "a painting, art by [name]\na [filewords], art by [name]\n",
    "subject_filewords.txt": "a photo of a [name], [filewords]\n",
    "none.txt": "picture\n",
}


@pytest.fixture
def webui(tmp_path, monkeypatch):
    """The contract double of the webui's modules, with a data dir, an embeddings dir, templates and
    an SD1 model loaded. Yields a namespace of the double's modules; removes them afterwards."""
    import types

    from tests import webui_double

    data = tmp_path / "webui-data"
    (data / "embeddings").mkdir(parents=True)
    templates = data / "textual_inversion_templates"
    templates.mkdir()
    for name, text in TEMPLATES.items():
        (templates / name).write_text(text)
    monkeypatch.setenv("TEXTINV_DOUBLE_DATA_PATH", str(data))
    monkeypatch.chdir(data)
    webui_double.uninstall()
    webui_double.install()
    from modules import call_queue, paths_internal, progress, sd_hijack, sd_models, shared
    from modules.textual_inversion import textual_inversion

    shared.cmd_opts.embeddings_dir = str(data / "embeddings")
    shared.cmd_opts.textual_inversion_templates_dir = str(templates)
    sd_models.model_data.sd_model = sd_models.make_model("SD1")
    sd_hijack.model_hijack.embedding_db.add_embedding_dir(shared.cmd_opts.embeddings_dir)
    textual_inversion.list_textual_inversion_templates()
    yield types.SimpleNamespace(
        shared=shared,
        sd_models=sd_models,
        sd_hijack=sd_hijack,
        ti=textual_inversion,
        call_queue=call_queue,
        progress=progress,
        paths=paths_internal,
        data=data,
    )
    webui_double.uninstall()


@pytest.fixture
def bridge(webui):
    """The webui bridge as scripts/textinv.py registers it (``lib_textinv.webui.callbacks``: the
    tab, settings and routes callbacks and ``host()``) over the contract double, with a fresh
    host for each test."""
    from lib_textinv.webui import callbacks

    callbacks.HOST = None
    yield callbacks
    callbacks.HOST = None


@pytest.fixture
def host(bridge):
    return bridge.host()


@pytest.fixture
def db(webui):
    """The double's embedding database (``sd_hijack.model_hijack.embedding_db``)."""
    return webui.sd_hijack.model_hijack.embedding_db


def pytest_collection_modifyitems(items):
    """``-m api``: the tests that drive our HTTP routes (run again under pydantic 2 by .ci/run)."""
    for item in items:
        source = getattr(item.module, "__file__", "") or ""
        if source.endswith(".py") and _drives_routes(source):
            item.add_marker(pytest.mark.api)


_ROUTE_MODULES: dict[str, bool] = {}


def _drives_routes(path: str) -> bool:
    if path not in _ROUTE_MODULES:
        text = Path(path).read_text(encoding="utf-8")
        _ROUTE_MODULES[path] = "TestClient" in text or "api_client" in text
    return _ROUTE_MODULES[path]
