"""Folders and paths users give to Scores (the run folder, the training images folder in the tab;
the sweep to score over the API): absolute paths only, and on a webui reachable from other
machines only under the allowed folders."""

from __future__ import annotations

import shutil

from lib_textinv.kit.folder_guard import FileAccess
from lib_textinv.scores import section as ui_scores
from tests.api_client import api_client, wait_job
from tests.scores.test_scores_flow import ScoreHost, _sweep, world  # noqa: F401  (the fixture)

WHY = "the webui runs with ['--listen'] and without --enable-insecure-extension-access"


class GuardedScoreHost(ScoreHost):
    access = FileAccess()

    def file_access(self) -> FileAccess:
        return self.access


def guarded(host: ScoreHost, *roots) -> GuardedScoreHost:
    g = GuardedScoreHost(host.root)
    g.access = FileAccess(restricted=bool(roots), roots=tuple(str(r) for r in roots), why=WHY)
    return g


def test_relative_folders_are_refused_in_the_tab(world, monkeypatch):  # noqa: F811
    host, run = world
    monkeypatch.chdir(run.parent.parent)
    relative = str(run.relative_to(run.parent.parent))
    _svg, _steps, status, state = ui_scores.on_prescore(relative, "", "", host=host)
    assert state is None and "absolute path" in status
    monkeypatch.chdir(host.root)
    _svg, _steps, status, state = ui_scores.on_prescore(str(run), "", "train-cat", host=host)
    assert state is None and "training images folder 'train-cat'" in status and "absolute path" in status
    out = ui_scores.on_score(str(run), "", {}, "train-cat", 5, None, host=host)
    assert out[7] is None and "absolute path" in out[6]
    assert host.loss.calls == 0


def test_an_exposed_webui_scores_only_allowed_folders(world, tmp_path):  # noqa: F811
    host, run = world
    data = tmp_path / "data"
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(host.root / "train-cat", elsewhere / "train-cat")
    shutil.copytree(host.root / "train-cat", data / "train-cat")
    g = guarded(host, data)
    _svg, _steps, status, state = ui_scores.on_prescore(str(run), "", str(elsewhere / "train-cat"), host=g)
    assert state is None and "outside the allowed folders" in status and WHY in status
    out = ui_scores.on_score(str(run), "", {}, str(elsewhere / "train-cat"), 5, None, host=g)
    assert out[7] is None and WHY in out[6]
    copied = shutil.copytree(run, elsewhere / "log" / run.parent.name / run.name)
    assert WHY in ui_scores.on_prescore(str(copied), "", "", host=g)[2]
    assert g.loss.calls == 0
    # the run in the host's own log folder, with images inside the data folder: scored
    _svg, steps, status, state = ui_scores.on_prescore(str(run), "", str(data / "train-cat"), host=g)
    assert state is not None and steps, status


def test_the_api_refuses_a_relative_or_forbidden_sweep(world, tmp_path):  # noqa: F811
    host, run = world
    sweep = _sweep(host, run)
    c = api_client(host)
    r = c.post("/textinv/v1/score", json={"name": "cat", "sweep": "out/grids/x.png"})
    assert r.status_code == 400 and "absolute path" in r.json()["detail"]
    r = api_client(guarded(host, tmp_path / "data")).post(
        "/textinv/v1/score", json={"name": "cat", "sweep": sweep.grid, "parts": ["drift"]}
    )
    assert r.status_code == 403 and WHY in r.json()["detail"] and sweep.grid in r.json()["detail"]
    allowed = api_client(guarded(host, host.root / "out"))
    r = allowed.post("/textinv/v1/score", json={"name": "cat", "sweep": sweep.grid, "parts": ["drift"]})
    assert r.status_code == 200, r.text
    assert wait_job(allowed, r.json()["job_id"])["status"] == "done"
