"""POST /textinv/v1/embeddings: the embedding is usable at once (no restart)."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import need
from tests.e2e.helpers import API, remove_files, unique_name


def test_create_is_listed_without_restart(client, status, webui_data):
    need(status, "create")
    name = unique_name("e2ecreate")
    r = client.post(f"{API}/embeddings", json={"name": name, "vectors": 3, "init_text": "a photo"})
    assert r.status_code == 200, r.text
    res = r.json()
    try:
        assert res["ok"], res
        assert res["vectors"] == 3 and res["width"] == 768
        assert Path(res["path"]).name == f"{name}.pt"
        if webui_data is not None:
            assert Path(res["path"]).parent == webui_data / "embeddings"
        assert Path(res["path"]).is_file()

        listed = client.get("/sdapi/v1/embeddings").json()["loaded"]
        assert name in listed, sorted(listed)
        assert listed[name]["vectors"] == 3
        assert listed[name]["shape"] == 768

        again = client.post(f"{API}/embeddings", json={"name": name, "vectors": 1})
        assert again.status_code == 409, again.text
    finally:
        remove_files(res.get("path"))
