"""POST /textinv/v1/train, /train/preflight and GET /train/loss through the real router
(``lib_textinv.routes.mount``: the real GET/DELETE /jobs/{id}), on the fake webui. Jobs are awaited
on their own event, never by thread name."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from lib_textinv.kit import longwork
from lib_textinv.kit.host import StandaloneHost
from lib_textinv.train import handlers
from lib_textinv.train.job import JOB_KEY
from tests.api_client import api_client, wait_job
from tests.photos import write_photos
from tests.train.fake_webui import HOLD_SECONDS, form_values, make_setup

API = "/textinv/v1"


def body_for(args, **extra) -> dict:
    body = {"embedding": "tiny", "dataset": args.data_root, "log_directory": args.log_directory}
    return {**body, "trainer": "webui", **extra}


def test_api_train_runs_a_job_with_presets(tmp_path):
    host, args = make_setup(tmp_path, clock=dt.datetime.now)  # the API dates runs with the real clock
    c = api_client(host)
    body = body_for(args, steps=20, save_embedding_every=5, create_image_every=5, loss_csv_every=1)
    pre = c.post(f"{API}/train/preflight", json=body)
    assert pre.status_code == 200, pre.text
    assert pre.json()["ok"] is True
    assert pre.json()["args"]["latent_sampling_method"] == "deterministic"  # preset filled in
    r = c.post(f"{API}/train", json=body)
    assert r.status_code == 200, r.text
    job = wait_job(c, r.json()["job_id"])
    assert job["status"] == "done", job
    assert job["result"]["status"] == "finished" and len(job["result"]["checkpoints"]) == 4
    loss = c.get(f"{API}/train/loss", params={"folder": job["result"]["run_folder"]})
    assert loss.status_code == 200, loss.text
    rows = loss.json()["rows"]
    assert len(rows) == 20 and rows[0]["step"] == 1


def test_api_train_failure_is_a_failed_job(tmp_path):
    host, args = make_setup(tmp_path, clock=dt.datetime.now)
    host.webui.fail_at_step = 4
    c = api_client(host)
    r = c.post(f"{API}/train", json=body_for(args, steps=20))
    assert r.status_code == 200, r.text
    job = wait_job(c, r.json()["job_id"])
    assert job["status"] == "failed", job
    assert "CUDA out of memory" in job["error"] and "stopped at step 4" in job["error"]


@pytest.fixture
def held(tmp_path):
    """A training started over the API and held after step 4; released and awaited at the end."""
    host, args = make_setup(tmp_path, clock=dt.datetime.now)
    host.webui.pause_after = 4
    c = api_client(host)
    r = c.post(f"{API}/train", json=body_for(args, steps=20))
    assert r.status_code == 200, r.text
    job_id = r.json()["job_id"]
    assert host.webui.paused.wait(HOLD_SECONDS), "the fake training never reached step 4"
    yield host, args, c, job_id
    host.webui.resume.set()
    wait_job(c, job_id)


def test_delete_job_interrupts_the_running_training(held):
    host, _args, c, job_id = held
    running = c.get(f"{API}/jobs/{job_id}").json()
    assert running["status"] == "running" and running["done"] == 4 and running["total"] == 20
    assert running["eta_seconds"] > 0  # 16 steps to go at the pace of the first 4
    stop = c.delete(f"{API}/jobs/{job_id}")
    assert stop.status_code == 200, stop.text
    host.webui.resume.set()
    job = wait_job(c, job_id)
    assert job["status"] == "interrupted", job
    assert job["result"]["status"] == "interrupted" and job["result"]["steps_done"] == 4


def test_tab_and_api_cannot_train_at_once(held):
    host, args, c, _job_id = held
    again = c.post(f"{API}/train", json=body_for(args, steps=20))
    assert again.status_code == 409, again.text
    tab = list(handlers.run_train(host, 0.01, *form_values(args)))
    assert len(tab) == 1 and "already going" in tab[0][1]
    assert longwork.is_running(JOB_KEY)


def test_the_tab_stop_ends_an_api_run(held):
    host, _args, c, job_id = held
    assert "stopping" in handlers.interrupt(host)
    host.webui.resume.set()
    assert wait_job(c, job_id)["status"] == "interrupted"


def test_api_refusals(tmp_path):
    host, args = make_setup(tmp_path)
    c = api_client(host)
    missing = c.post(f"{API}/train", json={"embedding": "tiny", "dataset": str(tmp_path / "x")})
    assert missing.status_code == 400 and "dataset folder not found" in missing.json()["detail"]
    zero = c.post(f"{API}/train", json={"embedding": "tiny", "dataset": args.data_root, "steps": 0})
    assert zero.status_code == 422  # the table's bound
    typo = c.post(f"{API}/train", json={"embedding": "tiny", "dataset": args.data_root, "widht": 64})
    assert typo.status_code == 422 and "widht" in typo.text
    write_photos(Path(args.data_root), ("rocket",), fmt="PNG", size=(96, 64))
    r = c.post(
        f"{API}/train", json={"embedding": "tiny", "dataset": args.data_root, "width": 64, "height": 64}
    )
    assert r.status_code == 422 and "Pre-flight failed" in r.json()["detail"]
    assert host.webui.calls == []  # nothing reached the webui
    standalone = api_client(StandaloneHost())
    r = standalone.post(f"{API}/train", json={"embedding": "tiny", "dataset": args.data_root})
    assert r.status_code == 503 and "needs the webui" in r.json()["detail"]
    nope = c.get(f"{API}/train/loss", params={"folder": str(tmp_path / "nope")})
    assert nope.status_code == 404


@pytest.mark.parametrize(
    "bad",
    [
        {"dataset": "\x00"},
        {"dataset": "x" * 5000},
        {"log_directory": "\x00/logs"},
        {"template": "../../etc/passwd"},
        {"learn_rate": "fast"},
        {"tag_drop_out": "NaN"},
        {"preview_seed": 2**40},
    ],
)
def test_bad_input_is_never_a_500(tmp_path, bad):
    host, args = make_setup(tmp_path)
    c = api_client(host)
    pre = c.post(f"{API}/train/preflight", json={**body_for(args), **bad})
    assert pre.status_code in (400, 422) or (pre.status_code == 200 and not pre.json()["ok"]), pre.text
    r = c.post(f"{API}/train", json={**body_for(args), **bad})
    assert r.status_code in (400, 422), (bad, r.status_code, r.text)
    assert not longwork.is_running(JOB_KEY) and host.webui.calls == []
