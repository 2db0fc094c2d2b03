"""POST /textinv/v1/train (a real 20-step run at 64×64), the pre-flight that stops a bad run, and
the one Stop: DELETE /textinv/v1/jobs/{id} ends a running training inside the webui's loop."""

from __future__ import annotations

import re
import time
from pathlib import Path

from tests.e2e.conftest import need
from tests.e2e.helpers import (
    API,
    create_embedding,
    loaded_embeddings,
    remove_embedding_files,
    train_request,
    training_folder,
    unique_name,
    wait_job,
)

TRAIN_TIMEOUT = 300
RUNNING_TIMEOUT = 120  # until a long run has made its first steps


def test_train_20_steps_saves_every_5(client, status, tmp_path):
    need(status, "train")
    name = unique_name("e2etrain")
    dataset = training_folder(tmp_path / "dataset")
    log = tmp_path / "ti-log"
    created = create_embedding(client, name)
    emb_dir = Path(created["path"]).parent
    try:
        r = client.post(f"{API}/train", json=train_request(name, dataset, str(log)))
        assert r.status_code == 200, r.text
        started = r.json()
        assert started["final_step"] == 20
        run_folder = Path(started["run_folder"])
        assert run_folder.parent.parent == log.resolve()  # folders are answered resolved
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", run_folder.parent.name)
        assert run_folder.name == name

        job = wait_job(client, started["job_id"], TRAIN_TIMEOUT)
        assert job["status"] == "done", job
        out = job["result"]
        assert out["status"] == "finished", out
        assert out["steps_done"] == 20, out
        assert out["final_saved"], out

        saved = run_folder / "embeddings"
        for step in (5, 10, 15, 20):
            assert (saved / f"{name}-{step}.pt").is_file(), sorted(p.name for p in saved.iterdir())
        assert sorted((run_folder / "images").glob(f"{name}-*.png")), "no preview images"
        assert list(run_folder.glob("settings-*.json")), "no settings file"

        listed = loaded_embeddings(client)
        assert listed[name]["step"] == 20, listed[name]
    finally:
        remove_embedding_files(emb_dir, name)


def test_preflight_stops_a_wrong_size_image(client, status, tmp_path):
    need(status, "train")
    name = unique_name("e2ebad")
    dataset = training_folder(tmp_path / "dataset", sizes=((64, 64), (64, 64), (96, 64), (64, 64)))
    log = tmp_path / "ti-log"
    created = create_embedding(client, name)
    emb_dir = Path(created["path"]).parent
    try:
        req = train_request(name, dataset, str(log))
        r = client.post(f"{API}/train/preflight", json=req)
        assert r.status_code == 200, r.text
        pre = r.json()
        assert not pre["ok"]
        size = [c for c in pre["checks"] if c["key"] == "size"]
        assert size and size[0]["level"] == "error", pre["checks"]
        assert [Path(f).name for f in size[0]["files"]] == ["coffee.png"]
        assert "96×64" in size[0]["title"]

        r = client.post(f"{API}/train", json=req)
        assert r.status_code == 422, r.text
        assert "size" in r.json()["detail"] or "64×64" in r.json()["detail"]

        trained = list(log.rglob("*.pt")) if log.exists() else []
        assert trained == [], trained
        listed = loaded_embeddings(client)
        assert listed[name]["step"] in (None, 0), listed[name]
    finally:
        remove_embedding_files(emb_dir, name)


def _wait_running(client, job_id: str) -> dict:
    """Until the job reports a first training step (each GET waits at most 1 s on the server)."""
    deadline = time.monotonic() + RUNNING_TIMEOUT
    job: dict = {}
    while time.monotonic() < deadline:
        job = client.get(f"{API}/jobs/{job_id}", params={"wait": 1}).json()
        assert job["status"] in ("queued", "running"), job
        if job["status"] == "running" and job["done"] >= 1:
            return job
    raise AssertionError(f"training {job_id} made no step within {RUNNING_TIMEOUT} s: {job}")


def test_delete_job_interrupts_a_running_training(client, status, tmp_path):
    need(status, "train")
    name = unique_name("e2estop")
    dataset = training_folder(tmp_path / "dataset")
    created = create_embedding(client, name)
    emb_dir = Path(created["path"]).parent
    long_run = train_request(name, dataset, str(tmp_path / "ti-log"), steps=5000, create_image_every=0)
    try:
        r = client.post(f"{API}/train", json=long_run)
        assert r.status_code == 200, r.text
        job_id = r.json()["job_id"]
        running = _wait_running(client, job_id)
        assert running["total"] == 5000 and running["eta_seconds"] > 0, running
        again = client.post(f"{API}/train", json=long_run)
        assert again.status_code == 409, again.text  # one training at a time
        stopped = client.delete(f"{API}/jobs/{job_id}")
        assert stopped.status_code == 200, stopped.text
        job = wait_job(client, job_id, TRAIN_TIMEOUT)
        assert job["status"] == "interrupted", job
        out = job["result"]
        assert out["status"] == "interrupted" and out["final_saved"], out
        assert 1 <= out["steps_done"] < 5000, out
    finally:
        remove_embedding_files(emb_dir, name)
