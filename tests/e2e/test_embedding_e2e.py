"""POST /textinv/v1/embeddings: the embedding is usable at once (no restart); POST /recommend as a
background job with its progress, awaited to its end."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import need
from tests.e2e.helpers import API, loaded_embeddings, remove_files, training_folder, unique_name, wait_job


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

        listed = loaded_embeddings(client)
        assert name in listed, sorted(listed)
        assert listed[name]["vectors"] == 3
        assert listed[name]["shape"] == 768

        again = client.post(f"{API}/embeddings", json={"name": name, "vectors": 1})
        assert again.status_code == 409, again.text
    finally:
        remove_files(res.get("path"))


def test_recommend_in_the_background(client, tmp_path):
    folder = training_folder(tmp_path / "dataset")
    r = client.post(f"{API}/recommend", json={"folder": str(folder), "background": True})
    assert r.status_code == 200, r.text
    job = wait_job(client, r.json()["job_id"], 300)
    assert job["status"] == "done", job
    assert job["result"]["images"] == 4 and 1 <= job["result"]["vectors"] <= 8, job["result"]
    assert job["done"] == job["total"] and job["total"] >= 1, job
    typo = client.post(f"{API}/recommend", json={"folder": str(folder), "backgound": True})
    assert typo.status_code == 422, typo.text
