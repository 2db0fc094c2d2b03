"""The autopilot's world: a folder of real photos with a few bad files, a host that can run every
stage, CLIP only from the host's folder (nothing downloads), and no job left running after a test."""

from __future__ import annotations

import pytest

from lib_textinv.autopilot.runner import AUTOPILOT_KEY
from lib_textinv.compare.sweep_run import SWEEP_KEY
from lib_textinv.kit import clip_loader
from lib_textinv.kit.jobs import JOBS
from lib_textinv.scores.scoring import SCORES_KEY
from lib_textinv.train.job import JOB_KEY
from tests.autopilot.fakes import HOLD_SECONDS, AutopilotHost
from tests.photos import write_photos

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "brick", "grass")


@pytest.fixture(autouse=True)
def only_the_hosts_clip(monkeypatch, tmp_path):
    (tmp_path / "empty-hf").mkdir()
    monkeypatch.setattr(clip_loader, "default_cache_dirs", lambda: [str(tmp_path / "empty-clip")])
    monkeypatch.setattr(clip_loader, "hf_cache_dir", lambda: str(tmp_path / "empty-hf"))


@pytest.fixture
def host(tmp_path):
    h = AutopilotHost(tmp_path / "webui")
    yield h
    h.let_training_go.set()
    for key in (AUTOPILOT_KEY, JOB_KEY, SWEEP_KEY, SCORES_KEY):
        job = JOBS.active(key)
        if job is not None:
            job.progress.cancel()
            h.interrupt()
            assert job.ended.wait(HOLD_SECONDS), f"{job.title} still running after the test"


@pytest.fixture
def photos(tmp_path):
    """Six real photos (two with a caption) and three bad files."""
    folder = tmp_path / "pictures"
    paths = write_photos(folder, names=PHOTOS, size=(96, 80))
    paths[0].with_suffix(".txt").write_text("a woman in a space suit", encoding="utf-8")
    (folder / "empty.png").write_bytes(b"")
    (folder / "notes.jpg").write_bytes(b"a cat, charcoal drawing\n")
    good = paths[1].read_bytes()
    (folder / "cut.jpg").write_bytes(good[: len(good) // 2])
    return folder
