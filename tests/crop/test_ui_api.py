"""Crop section handlers as plain functions, build() inside gr.Blocks, and the /crop routes."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from PIL import Image

from lib_textinv.crop import routes as api_crop
from lib_textinv.crop import section as ui_crop
from lib_textinv.crop import sidecar as crop_sidecar
from lib_textinv.kit.host import ModelFacts, StandaloneHost


class WebuiLikeHost(StandaloneHost):
    """A host with upscalers and a 768-px model, like the webui bridge offers them."""

    def __init__(self):
        super().__init__()
        self.upscaled = []

    def model_facts(self):
        return ModelFacts(loaded=True, family="SD2-v", native_resolution=768, trainable=True, reason="")

    def feature(self, name):
        return (True, "") if name == "upscale" else super().feature(name)

    def list_upscalers(self):
        return ["None", "Lanczos", "Nearest", "R-ESRGAN 4x+"]

    def upscale(self, image, width, height, name):
        self.upscaled.append(name)
        return image.resize((width, height), Image.NEAREST)


def test_build_constructs_inside_blocks():
    import gradio as gr

    from lib_textinv.kit.tab_context import TabContext

    for host in (StandaloneHost(), WebuiLikeHost()):
        with gr.Blocks() as demo:
            ctx = TabContext(host=host, source_folder=gr.Textbox(), prepared_folder=gr.Textbox())
            ui_crop.build(ctx)
        ids = {getattr(b, "elem_id", None) for b in demo.blocks.values()}
        assert {"textinv-crop-auto", "textinv-crop-editor", "textinv-crop-state", "textinv-crop-boxes"} <= ids
        width = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "textinv-crop-width")
        assert width.value == host.model_facts().native_resolution
        up = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "textinv-crop-upscaler")
        assert up.choices[0] in ("Lanczos", ("Lanczos", "Lanczos"))


def test_check_size():
    assert ui_crop.check_size(512, "768") == (512, 768)
    with pytest.raises(ValueError, match="multiple of 64"):
        ui_crop.check_size(500, 512)
    with pytest.raises(ValueError, match="between"):
        ui_crop.check_size(0, 512)
    with pytest.raises(ValueError, match="numbers"):
        ui_crop.check_size("big", 512)


def test_auto_then_export_with_edited_boxes(photo_dir, checksums):
    before = checksums(photo_dir)
    host = StandaloneHost()
    state_text, msg = ui_crop.do_auto(host, str(photo_dir), 256, 256, "", 0.9, 0.5, 0.15)
    assert "4 images ready" in msg
    state = json.loads(state_text)
    assert state["target"] == [256, 256] and len(state["images"]) == 4
    first = state["images"][0]
    assert first["preview"].startswith("data:image/jpeg;base64,") and first["box"] == first["auto"]
    # What the editor sends back after moving a box and excluding an image.
    edits = {
        "target": [256, 256],
        "images": {"astronaut.jpg": {"box": [0, 0, 300, 300]}, "rocket.jpg": {"excluded": True}},
    }
    html_out, dest = ui_crop.do_export(
        host,
        str(photo_dir),
        256,
        256,
        "",
        json.dumps(edits),
        "JPEG",
        90,
        True,
        True,
        "Lanczos",
        "#ffffff",
        0.9,
        0.5,
        0.15,
    )
    assert 'data-written="3"' in html_out and 'data-excluded="1"' in html_out
    assert dest == str(photo_dir / "256x256")
    assert sorted(p.name for p in Path(dest).glob("*.jpg")) == [
        "astronaut-flip.jpg",
        "astronaut.jpg",
        "chelsea-flip.jpg",
        "chelsea.jpg",
        "coffee-flip.jpg",
        "coffee.jpg",
    ]
    side = crop_sidecar.load(dest)
    assert side.images["astronaut.jpg"].box.as_list() == [0, 0, 300, 300]
    # Reopening restores the edits in the editor's state.
    state = json.loads(ui_crop.do_auto(host, str(photo_dir), 256, 256, "", 0.9, 0.5, 0.15)[0])
    by = {i["name"]: i for i in state["images"]}
    assert by["astronaut.jpg"]["box"] == [0, 0, 300, 300] and by["astronaut.jpg"]["edited"]
    assert by["rocket.jpg"]["excluded"]
    after = {k: v for k, v in checksums(photo_dir).items() if not k.startswith("256x256")}
    assert after == before


def test_boxes_for_another_size_are_ignored_with_a_note(photo_dir):
    edits = {"target": [512, 512], "images": {"astronaut.jpg": {"excluded": True}}}
    html_out, _ = ui_crop.do_export(
        StandaloneHost(),
        str(photo_dir),
        128,
        128,
        "",
        json.dumps(edits),
        "PNG",
        95,
        False,
        True,
        "Lanczos",
        "#fff",
        0.9,
        0.5,
        0.15,
    )
    assert 'data-written="4"' in html_out and "another size" in html_out


def test_restored_edits_count_only_real_edits(photo_dir):
    """Found in the webui page: a fresh folder with an unreadable file said "1 edits restored from
    crops.json", and after editing one box of four and exporting, Auto said "4 edits restored"
    (the editor sends every box, edited or not)."""
    (photo_dir / "broken.jpg").write_bytes(b"<!DOCTYPE html><html></html>")
    host = StandaloneHost()
    state_text, msg = ui_crop.do_auto(host, str(photo_dir), 256, 256, "", 0.9, 0.5, 0.15)
    assert "4 images ready for 256×256" in msg and "broken.jpg" in msg
    assert "restored from crops.json" not in msg, msg
    images = json.loads(state_text)["images"]
    by = {i["name"]: i for i in images}
    assert by["broken.jpg"]["error"] and by["broken.jpg"]["excluded"]

    def export(sent: dict):
        boxes = json.dumps({"target": [256, 256], "images": sent})
        args = ("PNG", 95, False, True, "Lanczos", "#fff", 0.9, 0.5, 0.15)
        return ui_crop.do_export(host, str(photo_dir), 256, 256, "", boxes, *args)

    # what the editor sends after moving one box: every readable image's box, one of them moved
    sent = {i["name"]: {"box": i["box"], "excluded": False} for i in images if i["box"]}
    sent["astronaut.jpg"]["box"] = [0, 0, 300, 300]
    assert by["astronaut.jpg"]["auto"] != [0, 0, 300, 300]
    html_out, _ = export(sent)
    assert 'data-written="4"' in html_out
    msg = ui_crop.do_auto(host, str(photo_dir), 256, 256, "", 0.9, 0.5, 0.15)[1]
    assert "4 images ready for 256×256; 1 edit restored from crops.json" in msg, msg
    # an exclusion is an edit too
    sent["chelsea.jpg"]["excluded"] = True
    export(sent)
    msg = ui_crop.do_auto(host, str(photo_dir), 256, 256, "", 0.9, 0.5, 0.15)[1]
    assert "; 2 edits restored from crops.json" in msg, msg


def test_handler_errors_are_messages(photo_dir):
    host = StandaloneHost()
    assert "no source folder" in ui_crop.do_auto(host, "", 512, 512, "", 0.9, 0.5, 0.15)[1]
    assert "multiple of 64" in ui_crop.do_auto(host, str(photo_dir), 500, 512, "", 0.9, 0.5, 0.15)[1]
    html_out, dest = ui_crop.do_export(
        host,
        str(photo_dir),
        512,
        512,
        str(photo_dir),
        "",
        "PNG",
        95,
        False,
        True,
        "Lanczos",
        "#fff",
        0.9,
        0.5,
        0.15,
    )
    assert "textinv-bad" in html_out and "source folder itself" in html_out and dest is None
    html_out, _ = ui_crop.do_export(
        host, str(photo_dir), 512, 512, "", "", "PNG", 95, False, True, "R-ESRGAN 4x+", "#fff", 0.9, 0.5, 0.15
    )
    assert "unknown upscaler" in html_out


def test_export_uses_the_hosts_upscaler(tmp_path):
    from tests.photos import write_photos

    src = tmp_path / "small"
    write_photos(src, ("coffee",), size=(300, 200))
    host = WebuiLikeHost()
    assert ui_crop.upscaler_choices(host)[0] == "Lanczos" and "R-ESRGAN 4x+" in ui_crop.upscaler_choices(host)
    html_out, _ = ui_crop.do_export(
        host, str(src), 512, 512, "", "", "PNG", 95, False, True, "R-ESRGAN 4x+", "#fff", 0.9, 0.5, 0.15
    )
    assert 'data-upscaled="1"' in html_out and host.upscaled == ["R-ESRGAN 4x+"]


# -- routes -------------------------------------------------------------------------------------


def client_for(host) -> TestClient:
    router = APIRouter()
    api_crop.add_routes(router, host)
    app = FastAPI()
    app.include_router(router, prefix="/textinv/v1")

    from lib_textinv.kit.jobs import JOBS

    @app.get("/textinv/v1/jobs/{job_id}")
    def job(job_id: str) -> dict:
        return JOBS.get(job_id).to_dict()

    return TestClient(app)


def wait_job(client, job_id: str) -> dict:
    for t in threading.enumerate():  # the job's own thread: join it instead of polling with sleeps
        if t.name == f"textinv-job-{job_id}":
            t.join(120)
    return client.get(f"/textinv/v1/jobs/{job_id}").json()


def test_post_crop_runs_the_export_as_a_job(photo_dir, tmp_path, checksums):
    before = checksums(photo_dir)
    client = client_for(StandaloneHost())
    dest = tmp_path / "out"
    r = client.post(
        "/textinv/v1/crop",
        json={
            "folder": str(photo_dir),
            "width": 128,
            "height": 192,
            "destination": str(dest),
            "options": {"format": "webp", "quality": 80, "flip": True},
            "boxes": {"coffee.jpg": {"excluded": True}, "astronaut.jpg": {"box": [0, 0, 200, 300]}},
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["destination"] == str(dest)
    job = wait_job(client, r.json()["job_id"])
    assert job["status"] == "done", job
    result = job["result"]
    assert result["written"] == ["astronaut.jpg", "chelsea.jpg", "rocket.jpg"] and result["excluded"] == [
        "coffee.jpg"
    ]
    with Image.open(dest / "astronaut-flip.webp") as im:
        assert im.size == (128, 192) and im.format == "WEBP"
    assert crop_sidecar.load(dest).images["astronaut.jpg"].box.as_list() == [0, 0, 200, 300]
    assert checksums(photo_dir) == before
    # /crop/auto reports the restored edit
    r = client.post(
        "/textinv/v1/crop/auto",
        json={"folder": str(photo_dir), "width": 128, "height": 192, "destination": str(dest)},
    )
    assert r.status_code == 200
    by = {i["name"]: i for i in r.json()["images"]}
    assert by["astronaut.jpg"]["box"] == [0, 0, 200, 300] and by["coffee.jpg"]["excluded"]


@pytest.mark.parametrize(
    ("body", "status", "text"),
    [
        ({"width": 512, "height": 512}, 400, "source folder itself"),  # destination = folder (added below)
        ({"width": 500}, 422, "multiple of 64"),
        ({"width": 8192}, 422, "less than or equal"),
        ({"options": {"format": "gif"}}, 422, "format"),
        ({"options": {"upscaler": "SwinIR"}}, 400, "unknown upscaler"),
        ({"boxes": {"a.jpg": {"box": [1, 2]}}}, 422, "box"),
    ],
)
def test_bad_requests(photo_dir, body, status, text):
    client = client_for(StandaloneHost())
    req = {"folder": str(photo_dir), **body}
    if "width" in body and body["width"] == 512:
        req["destination"] = str(photo_dir)
    r = client.post("/textinv/v1/crop", json=req)
    assert r.status_code == status, r.text
    assert text in r.text
    assert not (photo_dir / "512x512").exists()


def test_missing_folder_is_400(tmp_path):
    r = client_for(StandaloneHost()).post("/textinv/v1/crop", json={"folder": str(tmp_path / "nope")})
    assert r.status_code == 400 and "folder not found" in r.json()["detail"]
