"""POST /textinv/v1/caption with the webui's BLIP (random weights here: random words)."""

from __future__ import annotations

from tests.e2e.conftest import need
from tests.e2e.helpers import API, wait_job
from tests.photos import write_photos


def test_blip_captions_are_written(client, status, tmp_path):
    need(status, "caption")
    folder = tmp_path / "to-caption"
    photos = write_photos(folder, ("astronaut", "chelsea"), "JPEG", size=(128, 128))
    r = client.post(f"{API}/caption", json={"folder": str(folder), "model": "blip", "batch_size": 2})
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
