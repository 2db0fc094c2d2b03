"""POST /textinv/v1/captions with the webui's BLIP (random weights here: random words): the
captioning job of the tab's button; DELETE /jobs/{id} stops it, keeping what was written."""

from __future__ import annotations

from tests.e2e.conftest import need
from tests.e2e.helpers import API, wait_job
from tests.photos import write_photos


def test_blip_captions_are_written(client, status, tmp_path):
    need(status, "caption")
    folder = tmp_path / "to-caption"
    photos = write_photos(folder, ("astronaut", "chelsea"), "JPEG", size=(128, 128))
    r = client.post(f"{API}/captions", json={"folder": str(folder), "model": "blip", "batch_size": 2})
    assert r.status_code == 200, r.text
    job = wait_job(client, r.json()["job_id"], 400)
    assert job["status"] == "done", job
    res = job["result"]
    assert res["failed"] == [] and not res["interrupted"], res
    for p in photos:
        txt = p.with_suffix(".txt")
        assert txt.is_file(), res
        assert txt.read_text(encoding="utf-8").strip()

    listed = client.get(f"{API}/captions", params={"folder": str(folder)}).json()["captions"]
    assert {c["file"] for c in listed if c["has_file"]} == {p.name for p in photos}

    r = client.put(f"{API}/captions", json={"folder": str(folder), "captions": {"astronaut.jpg": "edited"}})
    assert r.status_code == 200, r.text
    assert (folder / "astronaut.txt").read_text(encoding="utf-8").strip() == "edited"


def test_delete_stops_captioning_and_keeps_the_captions_written(client, status, tmp_path):
    need(status, "caption")
    folder = tmp_path / "to-stop"
    write_photos(folder, ("astronaut", "chelsea", "coffee", "rocket"), "JPEG", size=(128, 128))
    body = {"folder": str(folder), "model": "blip", "mode": "overwrite", "batch_size": 1}
    r = client.post(f"{API}/captions", json=body)
    assert r.status_code == 200, r.text
    job_id = r.json()["job_id"]
    assert client.delete(f"{API}/jobs/{job_id}").status_code == 200
    job = wait_job(client, job_id, 400)
    assert job["status"] == "interrupted", job
    res = job["result"]
    written = {p.with_suffix(".jpg").name for p in folder.glob("*.txt")}
    # what the job reports is exactly what is on disk, each caption complete; Stop ended it early
    assert res is not None and res["interrupted"] and set(res["written"]) == written, res
    assert len(written) < 4
    assert all(p.read_text(encoding="utf-8").strip() for p in folder.glob("*.txt"))
