"""Crop's source and destination are absolute paths (400 for a relative one); on a webui reachable
from other machines both lie under the allowed folders (403 otherwise): nothing is read from, or
written into, any other folder (the tab says so too)."""

from __future__ import annotations

import pytest

from lib_textinv.crop import section as ui_crop
from lib_textinv.kit.folder_guard import FileAccess
from lib_textinv.kit.host import StandaloneHost
from lib_textinv.kit.ids import API_PREFIX
from tests.api_client import api_client, wait_job
from tests.photos import write_photos


@pytest.fixture
def folders(tmp_path):
    allowed = tmp_path / "allowed"
    write_photos(allowed / "photos", ("chelsea", "coffee"), size=(96, 96))
    write_photos(tmp_path / "elsewhere", ("rocket",), size=(96, 96))
    host = StandaloneHost(
        access=FileAccess(restricted=True, roots=(str(allowed),), why="the webui runs with --listen")
    )
    return tmp_path, host


@pytest.mark.parametrize("route", ["/crop", "/crop/auto"])
def test_relative_folders_are_refused(tmp_path, monkeypatch, route):
    write_photos(tmp_path / "photos", ("chelsea",), size=(96, 96))
    monkeypatch.chdir(tmp_path)
    client = api_client(StandaloneHost())
    for body in ({"folder": "photos"}, {"folder": str(tmp_path / "photos"), "destination": "out"}):
        r = client.post(API_PREFIX + route, json={"width": 64, "height": 64, **body})
        assert r.status_code == 400 and "give an absolute path" in r.json()["detail"], r.text
    assert not (tmp_path / "out").exists() and not (tmp_path / "photos" / "64x64").exists()


@pytest.mark.parametrize("route", ["/crop", "/crop/auto"])
def test_a_restricted_host_works_only_inside_its_allowed_folders(folders, route):
    root, host = folders
    client = api_client(host)
    inside = str(root / "allowed" / "photos")
    for body in (
        {"folder": str(root / "elsewhere")},  # the source outside
        {"folder": inside, "destination": str(root / "elsewhere" / "out")},  # the destination outside
    ):
        r = client.post(API_PREFIX + route, json={"width": 64, "height": 64, **body})
        assert r.status_code == 403 and "the webui runs with --listen" in r.json()["detail"], r.text
    assert not (root / "elsewhere" / "out").exists() and not (root / "elsewhere" / "64x64").exists()
    r = client.post(API_PREFIX + route, json={"folder": inside, "width": 64, "height": 64})
    assert r.status_code == 200, r.text
    assert wait_job(client, r.json()["job_id"])["status"] == "done"


def test_the_tab_says_why_a_folder_is_refused(folders):
    root, host = folders
    _, msg = ui_crop.do_auto(host, str(root / "elsewhere"), 64, 64, "", 0, 0.5, 0.15)
    assert "textinv-bad" in msg and "outside the allowed folders" in msg
    args = ("", "PNG", 95, False, True, "Lanczos", "#fff", 0, 0.5, 0.15)
    html_out, dest = ui_crop.do_export(
        host, str(root / "allowed" / "photos"), 64, 64, str(root / "elsewhere"), *args
    )
    assert "outside the allowed folders" in html_out and dest is None
    _, msg = ui_crop.do_auto(StandaloneHost(), "photos", 64, 64, "", 0, 0.5, 0.15)
    assert "give an absolute path" in msg
