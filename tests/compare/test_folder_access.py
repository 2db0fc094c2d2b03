"""Run folders typed into the Compare section: absolute paths only, and on a webui reachable from
other machines only under the allowed folders (plus the host's own training log folder, where
"Find runs" and the API find runs)."""

from __future__ import annotations

import shutil

import pytest
import torch

from lib_textinv.compare.section import on_choose, on_generate, on_pick_run, on_promote
from lib_textinv.kit.folder_guard import FileAccess
from tests.compare.test_sweep_ui import FORM, WebuiLikeHost
from tests.embfiles import write_pt, write_training_run

WHY = "the webui runs with ['--listen'] and without --enable-insecure-extension-access"


class GuardedHost(WebuiLikeHost):
    def __init__(self, tmp_path, access: FileAccess):
        super().__init__(tmp_path)
        self.access = access

    def file_access(self) -> FileAccess:
        return self.access


@pytest.fixture
def folders(tmp_path):
    """(data folder, a run in the host's log folder, a copy of it inside the data folder, a copy
    outside every allowed folder)."""
    data = tmp_path / "data"
    run = write_training_run(tmp_path / "log", "cs", steps=(5, 10))
    inside = data / "runs" / "2026-01-01" / "cs"
    outside = tmp_path / "elsewhere" / "2026-01-01" / "cs"
    shutil.copytree(run, inside)
    shutil.copytree(run, outside)
    return data, run, inside, outside


def exposed(tmp_path, data) -> GuardedHost:
    host = GuardedHost(tmp_path, FileAccess(restricted=True, roots=(str(data),), why=WHY))
    write_pt(host.emb_dir / "cs.pt", torch.randn(2, 768), name="cs", step=10)
    return host


def test_a_relative_run_folder_is_refused(tmp_path, folders, monkeypatch):
    _data, run, _inside, _outside = folders
    host = GuardedHost(tmp_path, FileAccess())
    monkeypatch.chdir(run.parent.parent)  # "2026-…/cs" would resolve to the run here
    relative = str(run.relative_to(run.parent.parent))
    rows, _update, status = on_pick_run(relative, host=host)
    assert rows == [] and "absolute path" in status
    assert "absolute path" in on_choose(relative, "all", 1, "", False, host=host)[1]
    assert "absolute path" in on_promote(relative, "cs-5", "", False, "", host=host)[1]
    assert not (host.emb_dir / "cs-5.pt").exists()


def test_a_local_webui_reads_a_run_anywhere(tmp_path, folders):
    _data, _run, _inside, outside = folders
    rows, _update, _status = on_pick_run(str(outside), host=GuardedHost(tmp_path, FileAccess()))
    assert [r[0] for r in rows] == ["cs-5", "cs-10"]


def test_an_exposed_webui_refuses_a_run_outside_the_allowed_folders(tmp_path, folders):
    data, run, inside, outside = folders
    host = exposed(tmp_path, data)
    rows, _update, status = on_pick_run(str(outside), host=host)
    assert rows == [] and "outside the allowed folders" in status and WHY in status
    assert WHY in on_choose(str(outside), "all", 1, "", False, host=host)[1]
    assert WHY in on_promote(str(outside), "cs-5", "", False, "", host=host)[1]
    out = list(on_generate(str(outside), "all", 1, "", False, *FORM, 4, host=host))
    assert len(out) == 1 and WHY in out[0][0] and host.calls == []
    assert not (host.emb_dir / "cs-5.pt").exists()
    # the host's own log folder and the data folder are readable
    for folder in (run, inside):
        rows, _update, _status = on_pick_run(str(folder), host=host)
        assert [r[0] for r in rows] == ["cs-5", "cs-10", "cs-final"], folder
    text, _msg = on_promote(str(run), "cs-5", "", False, "", host=host)
    assert text and (host.emb_dir / "cs-5.pt").is_file()
