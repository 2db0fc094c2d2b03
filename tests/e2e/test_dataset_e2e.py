"""POST /textinv/v1/scan on real photos, through the running webui: a job whose result is the
report (the scan runs under the webui's queue like every long action of ours)."""

from __future__ import annotations

from tests.e2e.helpers import API, done_result
from tests.photos import write_photos


def test_scan_real_photos(client, tmp_path):
    folder = tmp_path / "photos"
    written = write_photos(folder, ("astronaut", "chelsea", "coffee", "rocket"), "JPEG")
    write_photos(folder, ("brick",), "PNG", size=(32, 32))  # far below 512×512: a warning
    (folder / "notes.txt").write_text("not an image", encoding="utf-8")

    r = client.post(f"{API}/scan", json={"folder": str(folder), "width": 512, "height": 512})
    assert r.status_code == 200, r.text
    rep = done_result(client, r.json()["job_id"], 120)
    names = {f["name"] for f in rep["files"]}
    assert names == {p.name for p in written} | {"brick.png"}
    assert sum(rep["counts"].values()) == 5
    assert rep["counts"]["refused"] == 0
    assert {"name": "notes.txt", "kind": "caption without image"}.items() <= rep["others"][0].items()
    brick = next(f for f in rep["files"] if f["name"] == "brick.png")
    assert (brick["width"], brick["height"]) == (32, 32)
    assert brick["status"] == "warning", brick
    astronaut = next(f for f in rep["files"] if f["name"] == "astronaut.jpg")
    assert (astronaut["width"], astronaut["height"]) == (512, 512)
    assert astronaut["format"] == "JPEG"


def test_scan_missing_folder_is_400(client, tmp_path):
    r = client.post(f"{API}/scan", json={"folder": str(tmp_path / "nope")})
    assert r.status_code == 400, r.text
    assert "nope" in r.json()["detail"]
