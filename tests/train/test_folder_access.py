"""Folders named for training (dataset, log folder, a run folder to show, the folder "Crop them"
writes), in the tab and over the API: absolute paths only, and on a webui reachable from other
machines only under the allowed folders (403 with the reason). The webui's own training log folder
stays usable although it is none of the allowed folders."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from lib_textinv.kit.folder_guard import FileAccess
from lib_textinv.train import handlers
from tests.api_client import api_client, wait_job
from tests.photos import write_photos
from tests.train.fake_webui import FakeTrainHost, fixed_clock, form_values, make_setup

API = "/textinv/v1"
WHY = "the webui runs with --listen"


class ExposedHost(FakeTrainHost):
    access = FileAccess()

    def file_access(self) -> FileAccess:
        return self.access


@pytest.fixture
def world(tmp_path):
    """The fake webui in ``webui/`` (its log folder ``webui/logs`` is not an allowed folder), a
    dataset in the allowed folder and a copy of it outside."""
    plain, args = make_setup(tmp_path / "webui", clock=dt.datetime.now)
    host = ExposedHost(plain.webui, plain.log_dir)
    host.access = FileAccess(restricted=True, roots=(str(tmp_path / "allowed"),), why=WHY)
    inside = shutil.copytree(args.data_root, tmp_path / "allowed" / "set")
    outside = shutil.copytree(args.data_root, tmp_path / "outside" / "set")
    return host, args, inside, outside


def body(dataset, **extra) -> dict:
    body = {
        "embedding": "tiny",
        "dataset": str(dataset),
        "steps": 20,
        "loss_csv_every": 1,
        "trainer": "webui",
    }
    return {**body, **extra}


def test_relative_folders_are_refused(tmp_path, monkeypatch):
    host, args = make_setup(tmp_path)
    monkeypatch.chdir(tmp_path)  # where the relative names would have resolved
    c = api_client(host)
    for field in ("dataset", "log_directory"):
        given = {**body(args.data_root), field: "data" if field == "dataset" else "logs"}
        for route in ("/train/preflight", "/train"):
            r = c.post(f"{API}{route}", json=given)
            assert r.status_code == 400 and "give an absolute path" in r.json()["detail"], (field, r.text)
    assert c.get(f"{API}/train/loss", params={"folder": "logs"}).status_code == 400
    args.data_root, args.log_directory = "data", "logs"
    report, status, *_ = list(handlers.run_train(host, 0.01, *form_values(args), now=fixed_clock))[-1]
    assert "Not started" in status and "❌ dataset folder 'data': give an absolute path" in report
    assert "❌ log folder 'logs': give an absolute path" in report
    assert "give an absolute path" in handlers.fill_presets(host, "data", "style")[-1]
    assert "give an absolute path" in handlers.show_loss(host, "logs", "tiny")[1]
    assert host.webui.calls == []


def test_an_exposed_webui_trains_only_on_allowed_folders(world):
    host, _args, inside, outside = world
    c = api_client(host)
    for route in ("/train/preflight", "/train"):
        r = c.post(f"{API}{route}", json=body(outside))
        assert r.status_code == 403 and WHY in r.json()["detail"] and str(outside) in r.json()["detail"]
        r = c.post(f"{API}{route}", json=body(inside, log_directory=str(outside.parent / "logs")))
        assert r.status_code == 403 and "log folder" in r.json()["detail"], r.text
    assert host.webui.calls == [] and not (outside.parent / "logs").exists()
    # inside the allowed folder, into the webui's own log folder: trained, and its loss readable
    r = c.post(f"{API}/train", json=body(inside))
    assert r.status_code == 200, r.text
    job = wait_job(c, r.json()["job_id"])
    assert job["status"] == "done", job
    run = job["result"]["run_folder"]
    assert Path(run).is_relative_to(host.log_dir)
    loss = c.get(f"{API}/train/loss", params={"folder": run})
    assert loss.status_code == 200 and len(loss.json()["rows"]) == 20, loss.text
    copied = shutil.copytree(run, outside.parent / "run")
    r = c.get(f"{API}/train/loss", params={"folder": str(copied)})
    assert r.status_code == 403 and WHY in r.json()["detail"]


def test_the_tab_refuses_folders_outside_with_the_reason(world):
    host, args, inside, outside = world
    args.data_root = str(outside)
    report, status, *_ = list(handlers.run_train(host, 0.01, *form_values(args), now=fixed_clock))[-1]
    assert "Not started" in status and WHY in report and host.webui.calls == []
    assert WHY in handlers.fill_presets(host, str(outside), "style")[-1]
    write_photos(outside, ("rocket",), fmt="PNG", size=(96, 64))
    folder, msg = handlers.do_crop(host, str(outside), 64, 64)
    assert folder == str(outside) and WHY in msg
    assert [p.name for p in outside.parent.iterdir()] == ["set"]  # no crop folder written
    assert WHY in handlers.show_loss(host, str(outside), "tiny")[1]
    # inside: the presets, the log folder of the webui
    args.data_root = str(inside)
    assert "Presets for 3 images" in handlers.fill_presets(host, str(inside), "style")[-1]
    report = handlers.do_preflight(host, *form_values(args))[0]
    assert report.startswith("**Pre-flight passed"), report


def test_crop_copies_go_only_where_writing_is_allowed(world):
    """The copies go beside the dataset: refused when that is outside the allowed folders."""
    host, _args, inside, _outside = world
    write_photos(inside, ("rocket",), fmt="PNG", size=(96, 64))
    folder, msg = handlers.do_crop(host, str(inside), 64, 64)
    assert folder == str(inside.parent / "set-64x64") and "unchanged" in msg, msg
    allowed_root = inside.parent
    folder, msg = handlers.do_crop(host, str(allowed_root), 64, 64)  # copies would land beside it
    assert folder == str(allowed_root) and "crop folder" in msg and WHY in msg
    assert not (allowed_root.parent / "allowed-64x64").exists()
