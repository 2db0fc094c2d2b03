"""The captions folder is an absolute path (400 for a relative one) and, on a webui reachable from
other machines, one under the allowed folders (403 otherwise): for POST/GET/PUT /captions and in
the tab (loading the grid, the Caption button)."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from lib_textinv.captions import grid_state
from lib_textinv.captions.section import do_caption
from lib_textinv.kit.folder_guard import FileAccess
from lib_textinv.kit.host import BaseHost
from lib_textinv.kit.ids import API_PREFIX
from tests.api_client import api_client, wait_job
from tests.photos import write_photos


class Model:
    def caption_batch(self, images):
        return ["a photo" for _ in images]

    def tag_batch(self, images):
        return ["photo" for _ in images]


class CaptionHost(BaseHost):
    def __init__(self, access: FileAccess | None = None):
        super().__init__()
        self.access = access or FileAccess()

    def file_access(self) -> FileAccess:
        return self.access

    def feature(self, name):
        return name == "caption", f"{name}: not here"

    @contextmanager
    def captioner(self, source):
        yield Model()


def requests(folder: str) -> list[tuple[str, dict]]:
    return [
        ("post", {"json": {"folder": folder}}),
        ("get", {"params": {"folder": folder}}),
        ("put", {"json": {"folder": folder, "captions": {"chelsea.jpg": "a cat"}}}),
    ]


def test_relative_folders_are_refused(tmp_path, monkeypatch):
    write_photos(tmp_path / "prepared", ("chelsea",), size=(48, 40))
    monkeypatch.chdir(tmp_path)
    host = CaptionHost()
    client = api_client(host)
    for method, kwargs in requests("prepared"):
        r = getattr(client, method)(f"{API_PREFIX}/captions", **kwargs)
        assert r.status_code == 400 and "give an absolute path" in r.json()["detail"], (method, r.text)
    assert not (tmp_path / "prepared" / "chelsea.txt").exists()
    assert "give an absolute path" in grid_state.load_folder("prepared", "", host)[1]
    assert "give an absolute path" in do_caption("prepared", "BLIP", "Skip", 1, host)


@pytest.mark.parametrize("inside", [False, True])
def test_a_restricted_host_works_only_inside_its_allowed_folders(tmp_path, inside):
    allowed = tmp_path / "allowed"
    folder = (allowed if inside else tmp_path / "elsewhere") / "prepared"
    write_photos(folder, ("chelsea",), size=(48, 40))
    host = CaptionHost(FileAccess(restricted=True, roots=(str(allowed),), why="the webui runs with --listen"))
    client = api_client(host)
    for method, kwargs in requests(str(folder)):
        r = getattr(client, method)(f"{API_PREFIX}/captions", **kwargs)
        if inside:
            assert r.status_code == 200, (method, r.text)
            if method == "post":
                assert wait_job(client, r.json()["job_id"])["status"] == "done"
        else:
            assert r.status_code == 403 and "the webui runs with --listen" in r.json()["detail"], (
                method,
                r.text,
            )
    assert (folder / "chelsea.txt").exists() == inside
    status = grid_state.load_folder(str(folder), "", host)[1]
    assert ("outside the allowed folders" in status) != inside, status
