"""The folder to scan is given as an absolute path (a relative one would resolve against the
server's working directory: refused, 400); on a webui reachable from other machines only the
allowed folders are read (403 outside them, in the API and in the tab)."""

from __future__ import annotations

import gradio as gr
import pytest

from lib_textinv.dataset import section
from lib_textinv.kit.folder_guard import BadFolder, FileAccess, Forbidden
from lib_textinv.kit.host import StandaloneHost
from lib_textinv.kit.ids import API_PREFIX
from lib_textinv.kit.tab_context import TabContext
from tests.api_client import api_client, wait_job
from tests.photos import write_photos


def restricted(root) -> StandaloneHost:
    return StandaloneHost(
        access=FileAccess(restricted=True, roots=(str(root),), why="the webui runs with --listen")
    )


def scan_tab(host, folder: str):
    with gr.Blocks():
        ctx = TabContext(host=host, source_folder=gr.Textbox())
    return section.do_scan(ctx, folder, 256, 256, "#ffffff", 100)


def test_a_relative_folder_is_refused(tmp_path, monkeypatch):
    write_photos(tmp_path / "photos", ("chelsea",), size=(64, 64))
    monkeypatch.chdir(tmp_path)  # where "photos" would resolve
    r = api_client(StandaloneHost()).post(f"{API_PREFIX}/scan", json={"folder": "photos"})
    assert r.status_code == 400 and "give an absolute path" in r.json()["detail"], r.text
    with pytest.raises(BadFolder, match="give an absolute path"):
        scan_tab(StandaloneHost(), "photos")


def test_a_restricted_host_reads_only_its_allowed_folders(tmp_path):
    inside, outside = tmp_path / "allowed" / "photos", tmp_path / "elsewhere"
    for folder in (inside, outside):
        write_photos(folder, ("chelsea",), size=(64, 64))
    host = restricted(tmp_path / "allowed")
    client = api_client(host)
    r = client.post(f"{API_PREFIX}/scan", json={"folder": str(outside)})
    assert r.status_code == 403 and "the webui runs with --listen" in r.json()["detail"], r.text
    with pytest.raises(Forbidden, match="outside the allowed folders"):
        scan_tab(host, str(outside))
    r = client.post(f"{API_PREFIX}/scan", json={"folder": str(inside)})
    assert r.status_code == 200, r.text
    report = wait_job(client, r.json()["job_id"])["result"]
    assert [(f["name"], f["status"]) for f in report["files"]] == [("chelsea.jpg", "warning")]  # 64 px
    assert scan_tab(host, str(inside))[4] == str(inside)
