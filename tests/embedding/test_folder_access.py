"""The folder a recommendation reads, named in the tab or over the API: an absolute path only,
and on a webui reachable from other machines only under the allowed folders (403 with the reason)."""

from __future__ import annotations

import shutil

import pytest

from lib_textinv.embedding import handlers
from lib_textinv.embedding.folder_advice import RECOMMEND_KEY
from lib_textinv.kit import clip_loader, longwork
from lib_textinv.kit.folder_guard import FileAccess
from lib_textinv.kit.host import StandaloneHost
from tests.api_client import api_client

API = "/textinv/v1"
WHY = "the webui runs with --listen"


@pytest.fixture(autouse=True)
def no_clip_weights(monkeypatch, tmp_path):
    """No CLIP weights anywhere: the recommendation follows the image count (fast, no model)."""
    monkeypatch.setattr(clip_loader, "default_cache_dirs", lambda: [str(tmp_path / "no-clip")])
    monkeypatch.setattr(clip_loader, "hf_cache_dir", lambda: str(tmp_path / "no-clip"))


def exposed(tmp_path) -> StandaloneHost:
    return StandaloneHost(access=FileAccess(restricted=True, roots=(str(tmp_path / "allowed"),), why=WHY))


def test_a_relative_folder_is_refused(photo_dir, monkeypatch):
    monkeypatch.chdir(photo_dir.parent)  # where the relative name would have resolved
    host = StandaloneHost()
    with pytest.raises(ValueError, match="give an absolute path"):
        handlers.do_recommend(host, photo_dir.name)
    c = api_client(host)
    for background in (False, True):
        r = c.post(f"{API}/recommend", json={"folder": photo_dir.name, "background": background})
        assert r.status_code == 400 and "give an absolute path" in r.json()["detail"], r.text
    assert not longwork.is_running(RECOMMEND_KEY)


def test_an_exposed_webui_recommends_only_for_allowed_folders(photo_dir, tmp_path):
    inside = shutil.copytree(photo_dir, tmp_path / "allowed" / "set")
    host = exposed(tmp_path)
    c = api_client(host)
    for background in (False, True):
        r = c.post(f"{API}/recommend", json={"folder": str(photo_dir), "background": background})
        assert r.status_code == 403, r.text
        assert WHY in r.json()["detail"] and str(photo_dir) in r.json()["detail"]
    with pytest.raises(PermissionError, match=WHY):
        handlers.do_recommend(host, str(photo_dir))
    assert not longwork.is_running(RECOMMEND_KEY)
    ok = c.post(f"{API}/recommend", json={"folder": str(inside)})
    assert ok.status_code == 200 and ok.json()["images"] == 4, ok.text
    assert "Recommended: 2 vectors" in handlers.do_recommend(host, str(inside))[0]
