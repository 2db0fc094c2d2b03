"""HTTP routes: POST /caption (job), GET/PUT /captions."""

from __future__ import annotations

import threading
from contextlib import contextmanager

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from lib_textinv.captions import files as cf
from lib_textinv.captions import routes as api_captions
from lib_textinv.kit.host import BaseHost, StandaloneHost
from lib_textinv.kit.jobs import JOBS
from tests.photos import write_photos


class Model:
    def caption_batch(self, images):
        return [f"a photo {im.width}" for im in images]


class CaptionHost(BaseHost):
    def feature(self, name):
        return name == "caption", f"{name}: not here"

    @contextmanager
    def captioner(self, source):
        yield Model()


def client_for(host):
    app = FastAPI()
    router = APIRouter()
    api_captions.add_routes(router, host)
    app.include_router(router, prefix="/textinv/v1")
    return TestClient(app)


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "prepared"
    write_photos(d, ("astronaut", "chelsea"), size=(48, 40))
    cf.write_caption(d / "astronaut.jpg", "an astronaut", "overwrite")
    return d


def test_get_and_put_captions(folder):
    c = client_for(StandaloneHost())
    r = c.get("/textinv/v1/captions", params={"folder": str(folder)})
    assert r.status_code == 200
    assert r.json()["captions"] == [
        {"file": "astronaut.jpg", "caption": "an astronaut", "has_file": True},
        {"file": "chelsea.jpg", "caption": "", "has_file": False},
    ]
    r = c.put(
        "/textinv/v1/captions",
        json={"folder": str(folder), "captions": {"astronaut.jpg": "an astronaut", "chelsea.jpg": "a cat"}},
    )
    assert r.status_code == 200
    assert r.json() == {"written": ["chelsea.jpg"], "unchanged": ["astronaut.jpg"]}
    assert (folder / "chelsea.txt").read_text(encoding="utf-8") == "a cat"


def test_put_refuses_traversal_and_writes_nothing(folder):
    c = client_for(StandaloneHost())
    r = c.put(
        "/textinv/v1/captions",
        json={"folder": str(folder), "captions": {"chelsea.jpg": "a cat", "../x.jpg": "evil"}},
    )
    assert r.status_code == 400 and "plain file name" in r.json()["detail"]
    assert not (folder / "chelsea.txt").exists()


def test_get_missing_folder(tmp_path):
    r = client_for(StandaloneHost()).get("/textinv/v1/captions", params={"folder": str(tmp_path / "nope")})
    assert r.status_code == 400 and "not found" in r.json()["detail"]


def test_post_caption_standalone_is_503(folder):
    r = client_for(StandaloneHost()).post("/textinv/v1/caption", json={"folder": str(folder)})
    assert r.status_code == 503 and "needs the webui" in r.json()["detail"]


@pytest.mark.parametrize(
    "body", [{"batch_size": 0}, {"batch_size": 65}, {"mode": "merge"}, {"model": "clip"}]
)
def test_post_caption_validates(folder, body):
    r = client_for(CaptionHost()).post("/textinv/v1/caption", json={"folder": str(folder), **body})
    assert r.status_code == 422


def test_post_caption_runs_job(folder):
    r = client_for(CaptionHost()).post(
        "/textinv/v1/caption", json={"folder": str(folder), "mode": "overwrite", "batch_size": 2}
    )
    assert r.status_code == 200
    job = JOBS.get(r.json()["job_id"])
    for t in threading.enumerate():
        if t.name == f"textinv-job-{job.id}":
            t.join(timeout=30)
    assert job.status == "done", job.error
    assert sorted(job.result["written"]) == ["astronaut.jpg", "chelsea.jpg"]
    assert (folder / "chelsea.txt").read_text(encoding="utf-8") == "a photo 48"
