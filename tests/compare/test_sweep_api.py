"""POST /sweep (job) and POST /promote against a fake host, through FastAPI's TestClient."""

from __future__ import annotations

import threading

import pytest
import torch
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from lib_textinv.compare.routes import add_routes
from lib_textinv.kit.host import StandaloneHost
from lib_textinv.kit.jobs import JOBS
from tests.compare.test_sweep_ui import WebuiLikeHost
from tests.embfiles import write_pt, write_training_run


def client_for(host):
    router = APIRouter()
    add_routes(router, host)
    app = FastAPI()
    app.include_router(router, prefix="/textinv/v1")
    return TestClient(app)


@pytest.fixture
def host(tmp_path):
    h = WebuiLikeHost(tmp_path)
    write_training_run(h.log, "cs", steps=(5, 10, 15, 20))
    write_pt(h.emb_dir / "cs.pt", torch.randn(2, 768), name="cs", step=20)
    return h


def wait_job(job_id):
    """Join the job's worker thread (no sleeps)."""
    for t in threading.enumerate():
        if t.name == f"textinv-job-{job_id}":
            t.join(60)
    return JOBS.get(job_id)


def test_sweep_job(host, checksums):
    before, db_before = checksums(host.emb_dir), dict(host.db)
    c = client_for(host)
    r = c.post(
        "/textinv/v1/sweep",
        json={
            "name": "cs",
            "checkpoints": "every",
            "every": 2,
            "include_final": True,
            "prompts": ["a cat, {}"],
            "seeds": [1, 2],
            "batch_size": 4,
            "width": 64,
            "height": 64,
            "sampling_steps": 4,
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["cells"] == 6 and body["calls"] == 2
    job = wait_job(body["job_id"])
    assert job.status == "done", job.error
    res = job.to_dict()["result"]
    assert res["done"] == 6 and res["grid"] and not res["interrupted"]
    assert [x["token"] for x in res["cells"]][:3] == ["cs-10", "cs-20", "cs-final"]
    assert "cs-final=" in res["infotext"]
    assert checksums(host.emb_dir) == before and host.db == db_before
    assert sorted(host.unregistered_log) == ["cs-10", "cs-20", "cs-final"]


def test_sweep_bad_requests(host):
    c = client_for(host)
    assert c.post("/textinv/v1/sweep", json={"name": "../x"}).status_code == 422
    assert c.post("/textinv/v1/sweep", json={"name": "nobody"}).status_code == 404
    r = c.post("/textinv/v1/sweep", json={"name": "cs", "checkpoints": "list", "steps": [7]})
    assert r.status_code == 400 and "7" in r.json()["detail"]
    assert c.post("/textinv/v1/sweep", json={"name": "cs", "seeds": [-1]}).status_code == 400
    assert c.post("/textinv/v1/sweep", json={"name": "cs", "batch_size": 0}).status_code == 422
    r = client_for(StandaloneHost()).post("/textinv/v1/sweep", json={"name": "cs"})
    assert r.status_code == 503


def test_promote_route(host):
    c = client_for(host)
    r = c.post("/textinv/v1/promote", json={"name": "cs", "step": 10})
    assert r.status_code == 200, r.text
    assert r.json()["text_to_type"] == "drawing of a cat, cs-10" and (host.emb_dir / "cs-10.pt").is_file()
    assert host.reloads == [True]
    r = c.post("/textinv/v1/promote", json={"name": "cs", "step": 10})
    assert r.status_code == 409 and "overwrite" in r.json()["detail"]
    r = c.post("/textinv/v1/promote", json={"name": "cs", "step": 10, "overwrite": True, "trigger": "mine"})
    assert r.status_code == 200 and r.json()["token"] == "mine"
    assert (
        c.post("/textinv/v1/promote", json={"name": "cs", "step": 10, "trigger": "../x"}).status_code == 400
    )
    assert c.post("/textinv/v1/promote", json={"name": "cs", "step": 11}).status_code == 404
    assert c.post("/textinv/v1/promote", json={"name": "cs"}).status_code == 400
    r = c.post("/textinv/v1/promote", json={"name": "cs", "final": True})
    assert r.status_code == 200 and r.json()["token"] == "cs-final"
