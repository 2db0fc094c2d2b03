"""Train section (build + handlers as plain functions) and the /train routes, on FakeWebui."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest

from lib_textinv.kit.host import StandaloneHost
from lib_textinv.kit.tab_context import TabContext
from lib_textinv.train import section as ui_train
from tests.photos import write_photos
from tests.train.test_call import make_setup


def form_values(args, csv_every=1):
    d = args.to_dict()
    d["loss_csv_every"] = csv_every
    return tuple(d[k] for k in ui_train.FORM)


def test_build_inside_blocks_with_a_training_host(tmp_path):
    import gradio as gr

    host, _ = make_setup(tmp_path)
    with gr.Blocks() as demo:
        ctx = TabContext(
            host=host, prepared_folder=gr.Textbox(), embedding_name=gr.Textbox(), run_folder=gr.Textbox()
        )
        ui_train.build(ctx)
    ids = {getattr(b, "elem_id", None) for b in demo.blocks.values()}
    assert {
        "textinv-train-run",
        "textinv-train-interrupt",
        "textinv-train-plot",
        "textinv-train-advanced",
    } <= ids
    run = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "textinv-train-run")
    assert run.interactive is not False


def test_build_standalone_is_disabled_with_reason():
    import gradio as gr

    with gr.Blocks() as demo:
        ui_train.build(TabContext(host=StandaloneHost()))
    blocks = {getattr(b, "elem_id", None): b for b in demo.blocks.values()}
    assert blocks["textinv-train-run"].interactive is False
    assert "needs the webui" in blocks["textinv-train-unavailable"].value


def test_form_to_args_coerces_gradio_floats(tmp_path):
    _host, args = make_setup(tmp_path)
    vals = list(form_values(args))
    vals[ui_train.FORM.index("steps")] = 20.0  # gr.Number gives floats
    vals[ui_train.FORM.index("preview_cfg_scale")] = 7
    a, csv = ui_train.form_to_args(tuple(vals))
    assert a.steps == 20 and type(a.steps) is int and csv == 1
    vals[ui_train.FORM.index("loss_csv_every")] = 0
    assert ui_train.form_to_args(tuple(vals))[1] is None


def test_fill_presets_from_folder(tmp_path):
    _host, args = make_setup(tmp_path)
    out = ui_train.fill_presets(args.data_root, "subject")
    vals = dict(zip(ui_train.PRESET_FIELDS, out[:-1], strict=True))
    assert vals["training_width"] == 64 and vals["steps"] == 300
    assert vals["template_filename"] == "subject_filewords.txt"
    assert "Presets for 3 images" in out[-1]
    assert "not found" in ui_train.fill_presets(str(tmp_path / "nope"), "style")[-1]


def test_preflight_handler_offers_crop_and_crop_fixes(tmp_path):
    host, args = make_setup(tmp_path)
    write_photos(Path(args.data_root), ("rocket",), fmt="PNG", size=(96, 64))
    (Path(args.data_root) / "rocket.txt").write_text("rocket", encoding="utf-8")
    md, crop = ui_train.do_preflight(host, *form_values(args))
    assert "rocket.png" in md and crop["visible"] is True
    new_folder, msg = ui_train.do_crop(args.data_root, 64, 64)
    assert new_folder != args.data_root and "unchanged" in msg
    args.data_root = new_folder
    md, crop = ui_train.do_preflight(host, *form_values(args))
    assert crop["visible"] is False and md.startswith("**Pre-flight passed"), md


def test_run_generator_trains_and_reports_finished(tmp_path, monkeypatch):
    host, args = make_setup(tmp_path)
    host.webui.now = dt.datetime.now()  # the UI dates the run folder with the real clock
    outs = list(ui_train.run_train(host, 0.01, *form_values(args)))
    report, status, plot, files, folder = outs[-1]
    assert "Training finished" in status, status
    assert "tiny-20.pt" in files and Path(folder).name == "tiny"
    assert "<polyline" in plot and "smoothed" in plot
    assert report.startswith("**Pre-flight passed")


def test_run_generator_reports_swallowed_failure(tmp_path):
    host, args = make_setup(tmp_path)
    host.webui.now = dt.datetime.now()
    host.webui.fail_at_step = 3
    status = list(ui_train.run_train(host, 0.01, *form_values(args)))[-1][1]
    assert "Training failed" in status and "CUDA out of memory" in status and "finished" not in status.lower()


def test_run_generator_stops_at_preflight(tmp_path):
    host, args = make_setup(tmp_path)
    write_photos(Path(args.data_root), ("rocket",), fmt="PNG", size=(96, 64))
    outs = list(ui_train.run_train(host, 0.01, *form_values(args)))
    assert len(outs) == 1 and "Not started" in outs[0][1]
    assert host.webui.calls == []  # nothing reached the webui


def test_show_loss_and_interrupt_without_run(tmp_path):
    host, _args = make_setup(tmp_path)
    plot, files = ui_train.show_loss(str(tmp_path / "none"), "tiny")
    assert "no data" in plot and "No run folder" in files
    assert "nothing is running" in ui_train.interrupt(host)


def test_follow_and_refresh_embedding(tmp_path):
    host, _ = make_setup(tmp_path)
    assert ui_train.refresh_embeddings(host, "gone")["value"] == "tiny"
    up = ui_train.follow_embedding(host, "brand-new")
    assert up["value"] == "brand-new" and "brand-new" in up["choices"]


# -- API -----------------------------------------------------------------------------------------


@pytest.fixture
def client_for():
    from fastapi import APIRouter, FastAPI
    from fastapi.testclient import TestClient

    from lib_textinv.train.routes import add_routes

    def make(host):
        router = APIRouter()
        add_routes(router, host)
        app = FastAPI()
        app.include_router(router, prefix="/textinv/v1")
        return TestClient(app)

    return make


def _wait_for_job(job_id: str) -> None:
    for t in threading.enumerate():
        if t.name == f"textinv-job-{job_id}":
            t.join(timeout=60)


def test_api_train_runs_a_job_with_presets(tmp_path, client_for):
    from lib_textinv.kit.jobs import JOBS

    host, args = make_setup(tmp_path)
    host.webui.now = dt.datetime.now()
    c = client_for(host)
    body = {
        "embedding": "tiny",
        "dataset": args.data_root,
        "log_directory": args.log_directory,
        "steps": 20,
        "save_embedding_every": 5,
        "create_image_every": 5,
        "loss_csv_every": 1,
    }
    pre = c.post("/textinv/v1/train/preflight", json=body)
    assert pre.status_code == 200 and pre.json()["ok"] is True
    assert pre.json()["args"]["latent_sampling_method"] == "deterministic"  # preset filled in
    r = c.post("/textinv/v1/train", json=body)
    assert r.status_code == 200, r.text
    job_id = r.json()["job_id"]
    _wait_for_job(job_id)
    job = JOBS.get(job_id)
    assert job.status == "done", job.to_dict()
    assert job.result["status"] == "finished" and len(job.result["checkpoints"]) == 4
    loss = c.get("/textinv/v1/train/loss", params={"folder": job.result["run_folder"]}).json()
    assert len(loss["rows"]) == 20 and loss["rows"][0]["step"] == 1


def test_api_train_failure_is_a_failed_job(tmp_path, client_for):
    from lib_textinv.kit.jobs import JOBS

    host, args = make_setup(tmp_path)
    host.webui.now = dt.datetime.now()
    host.webui.fail_at_step = 4
    body = {"embedding": "tiny", "dataset": args.data_root, "log_directory": args.log_directory, "steps": 20}
    job_id = client_for(host).post("/textinv/v1/train", json=body).json()["job_id"]
    _wait_for_job(job_id)
    job = JOBS.get(job_id)
    assert job.status == "failed" and "CUDA out of memory" in job.error and "stopped at step 4" in job.error


def test_api_refusals(tmp_path, client_for):
    host, args = make_setup(tmp_path)
    c = client_for(host)
    assert (
        c.post("/textinv/v1/train", json={"embedding": "tiny", "dataset": str(tmp_path / "x")}).status_code
        == 400
    )
    assert (
        c.post(
            "/textinv/v1/train", json={"embedding": "tiny", "dataset": args.data_root, "steps": 0}
        ).status_code
        == 422
    )  # pydantic bound
    write_photos(Path(args.data_root), ("rocket",), fmt="PNG", size=(96, 64))
    r = c.post(
        "/textinv/v1/train", json={"embedding": "tiny", "dataset": args.data_root, "width": 64, "height": 64}
    )
    assert r.status_code == 422 and "Pre-flight failed" in r.json()["detail"]
    standalone = client_for(StandaloneHost())
    r = standalone.post("/textinv/v1/train", json={"embedding": "tiny", "dataset": args.data_root})
    assert r.status_code == 503
    assert c.get("/textinv/v1/train/loss", params={"folder": str(tmp_path / "nope")}).status_code == 404
