"""HTTP routes (the real router): POST /captions starts the captioning job the tab's button starts,
DELETE /jobs/{id} stops it keeping the captions written; GET/PUT /captions read and write them."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from lib_textinv.captions import files as cf
from lib_textinv.kit.host import BaseHost, StandaloneHost
from lib_textinv.kit.ids import API_PREFIX
from tests.api_client import api_client, wait_job
from tests.captions.fakes import GatedCaptionHost
from tests.photos import write_photos


class Model:
    def caption_batch(self, images):
        return [f"a photo {im.width}" for im in images]

    def tag_batch(self, images):
        return ["photo" for _ in images]


class CaptionHost(BaseHost):
    def feature(self, name):
        return name == "caption", f"{name}: not here"

    @contextmanager
    def captioner(self, source):
        yield Model()


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "prepared"
    write_photos(d, ("astronaut", "chelsea"), size=(48, 40))
    cf.write_caption(d / "astronaut.jpg", "an astronaut", "overwrite")
    return d


def test_get_and_put_captions(folder):
    c = api_client(StandaloneHost())
    r = c.get(f"{API_PREFIX}/captions", params={"folder": str(folder)})
    assert r.status_code == 200
    assert r.json()["captions"] == [
        {"file": "astronaut.jpg", "caption": "an astronaut", "has_file": True},
        {"file": "chelsea.jpg", "caption": "", "has_file": False},
    ]
    r = c.put(
        f"{API_PREFIX}/captions",
        json={"folder": str(folder), "captions": {"astronaut.jpg": "an astronaut", "chelsea.jpg": "a cat"}},
    )
    assert r.status_code == 200
    assert r.json() == {"written": ["chelsea.jpg"], "unchanged": ["astronaut.jpg"]}
    assert (folder / "chelsea.txt").read_text(encoding="utf-8") == "a cat"


def test_put_refuses_traversal_and_writes_nothing(folder):
    c = api_client(StandaloneHost())
    r = c.put(
        f"{API_PREFIX}/captions",
        json={"folder": str(folder), "captions": {"chelsea.jpg": "a cat", "../x.jpg": "evil"}},
    )
    assert r.status_code == 400 and "plain file name" in r.json()["detail"]
    assert not (folder / "chelsea.txt").exists()


def test_put_that_cannot_write_is_a_4xx_naming_the_file(folder):
    (folder / "chelsea.txt").mkdir()  # the caption's place is taken by a folder
    r = api_client(StandaloneHost()).put(
        f"{API_PREFIX}/captions", json={"folder": str(folder), "captions": {"chelsea.jpg": "a cat"}}
    )
    assert 400 <= r.status_code < 500, r.text
    assert "chelsea.txt" in r.json()["detail"]


def test_put_refuses_unknown_fields(folder):
    r = api_client(StandaloneHost()).put(
        f"{API_PREFIX}/captions", json={"folder": str(folder), "captions": {}, "overwrite": True}
    )
    assert r.status_code == 422 and "overwrite" in r.text


def test_get_missing_folder(tmp_path):
    r = api_client(StandaloneHost()).get(f"{API_PREFIX}/captions", params={"folder": str(tmp_path / "nope")})
    assert r.status_code == 400 and "not found" in r.json()["detail"]


@pytest.mark.parametrize("path", ["/captions", "/caption"])
def test_post_standalone_is_503(folder, path):
    r = api_client(StandaloneHost()).post(f"{API_PREFIX}{path}", json={"folder": str(folder)})
    assert r.status_code == 503 and "needs the webui" in r.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [{"batch_size": 0}, {"batch_size": 65}, {"mode": "merge"}, {"model": "clip"}, {"batchsize": 4}],
)
def test_post_validates(folder, body):
    r = api_client(CaptionHost()).post(f"{API_PREFIX}/captions", json={"folder": str(folder), **body})
    assert r.status_code == 422, r.text


def test_post_folder_without_images_is_400(tmp_path):
    (tmp_path / "empty").mkdir()
    r = api_client(CaptionHost()).post(f"{API_PREFIX}/captions", json={"folder": str(tmp_path / "empty")})
    assert r.status_code == 400 and "no images" in r.json()["detail"]


@pytest.mark.parametrize("path", ["/captions", "/caption"])
def test_post_runs_the_job(folder, path):
    client = api_client(CaptionHost())
    r = client.post(f"{API_PREFIX}{path}", json={"folder": str(folder), "mode": "overwrite", "batch_size": 2})
    assert r.status_code == 200, r.text
    job = wait_job(client, r.json()["job_id"])
    assert job["status"] == "done", job
    assert job["key"] == "captions-caption"
    assert sorted(job["result"]["written"]) == ["astronaut.jpg", "chelsea.jpg"]
    assert (job["done"], job["total"]) == (2, 2)
    assert (folder / "chelsea.txt").read_text(encoding="utf-8") == "a photo 48"


def test_delete_stops_captioning_and_keeps_the_captions_written(tmp_path):
    folder = tmp_path / "prepared"
    write_photos(folder, ("astronaut", "chelsea", "coffee"), size=(48, 40))
    host = GatedCaptionHost()
    client = api_client(host)
    r = client.post(
        f"{API_PREFIX}/captions", json={"folder": str(folder), "mode": "overwrite", "batch_size": 1}
    )
    assert r.status_code == 200, r.text
    job_id = r.json()["job_id"]
    host.wait_for_second_batch()
    running = client.get(f"{API_PREFIX}/jobs/{job_id}").json()
    assert running["status"] == "running" and (running["done"], running["total"]) == (1, 3)
    assert client.delete(f"{API_PREFIX}/jobs/{job_id}").status_code == 200
    host.model.release.set()
    job = wait_job(client, job_id)
    assert job["status"] == "interrupted" and host.interrupts == 1
    assert job["result"]["interrupted"] and job["result"]["written"] == ["astronaut.jpg"]
    assert [p.name for p in folder.glob("*.txt")] == ["astronaut.txt"]
    assert host.model.calls == 2  # the third image never reached the model


def test_a_second_captioning_while_one_runs_is_409(tmp_path):
    folder = tmp_path / "prepared"
    write_photos(folder, ("astronaut", "chelsea"), size=(48, 40))
    host = GatedCaptionHost()
    client = api_client(host)
    body = {"folder": str(folder), "mode": "overwrite", "batch_size": 1}
    first = client.post(f"{API_PREFIX}/captions", json=body).json()["job_id"]
    host.wait_for_second_batch()
    second = client.post(f"{API_PREFIX}/captions", json=body)
    host.model.release.set()
    assert wait_job(client, first)["status"] == "done"
    assert second.status_code == 409 and "already running" in second.json()["detail"]
