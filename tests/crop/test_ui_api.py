"""Crop section handlers as plain functions, build() inside gr.Blocks, the /crop routes (the real
router), and one Stop for Auto and Export in the tab and over the API."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image

from lib_textinv.crop import section as ui_crop
from lib_textinv.crop import sidecar as crop_sidecar
from lib_textinv.crop import work
from lib_textinv.kit import longwork
from lib_textinv.kit.host import ModelFacts, StandaloneHost
from lib_textinv.kit.ids import API_PREFIX
from lib_textinv.kit.progress import ForwardingProgress, Progress
from tests.api_client import api_client, wait_job
from tests.photos import write_photos

BOUND = 30.0  # seconds any wait may take before the test fails loudly


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
    side = crop_sidecar.load(dest).for_source(photo_dir)
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
    src = tmp_path / "small"
    write_photos(src, ("coffee",), size=(300, 200))
    host = WebuiLikeHost()
    assert ui_crop.upscaler_choices(host)[0] == "Lanczos" and "R-ESRGAN 4x+" in ui_crop.upscaler_choices(host)
    html_out, _ = ui_crop.do_export(
        host, str(src), 512, 512, "", "", "PNG", 95, False, True, "R-ESRGAN 4x+", "#fff", 0.9, 0.5, 0.15
    )
    assert 'data-upscaled="1"' in html_out and host.upscaled == ["R-ESRGAN 4x+"]


# -- one Stop, tab and API -----------------------------------------------------------------------


class StopHost(WebuiLikeHost):
    """Lets a test stop an export at a known point: the first finished image is reported
    (``first_done``), then the second upscale waits for ``release`` (``second_upscale`` tells it
    began). Small photos all need upscaling, so every image goes through ``upscale``."""

    def __init__(self):
        super().__init__()
        self.first_done, self.second_upscale, self.release = (threading.Event() for _ in range(3))
        self.interrupts = 0
        self._calls = 0
        self._lock = threading.Lock()

    def run_job(self, title, fn, progress=None):
        def seen(p: Progress) -> None:
            if p.done >= 1:
                self.first_done.set()

        return fn(ForwardingProgress(progress or Progress(), on_update=seen))

    def interrupt(self):
        self.interrupts += 1

    def upscale(self, image, width, height, name):
        with self._lock:
            self._calls += 1
            call = self._calls
        if call == 2:
            self.second_upscale.set()
            assert self.release.wait(BOUND), "the test never released the second upscale"
        return super().upscale(image, width, height, name)

    def wait_until_stoppable(self) -> None:
        assert self.first_done.wait(BOUND) and self.second_upscale.wait(BOUND), "export never got going"


@pytest.fixture
def small_photos(tmp_path) -> Path:
    src = tmp_path / "small"
    write_photos(src, ("astronaut", "chelsea", "coffee", "rocket"), size=(96, 96))
    return src


def outputs(dest: Path) -> list[str]:
    return sorted(p.name for p in dest.glob("*.png"))


def test_api_stop_ends_the_export_and_keeps_the_written_files(small_photos, tmp_path, checksums):
    before = checksums(small_photos)
    host = StopHost()
    client = api_client(host)
    dest = tmp_path / "out"
    body = {"folder": str(small_photos), "width": 128, "height": 128, "destination": str(dest)}
    r = client.post(f"{API_PREFIX}/crop", json={**body, "options": {"upscaler": "R-ESRGAN 4x+"}})
    assert r.status_code == 200, r.text
    job_id = r.json()["job_id"]
    host.wait_until_stoppable()
    assert client.delete(f"{API_PREFIX}/jobs/{job_id}").status_code == 200
    host.release.set()
    job = wait_job(client, job_id)
    assert job["status"] == "interrupted" and host.interrupts == 1
    result = job["result"]
    assert result["interrupted"] and len(result["written"]) == 1, result
    # the image finished before Stop is complete and kept; none started after it was written
    assert outputs(dest) == [Path(result["written"][0]).with_suffix(".png").name]
    with Image.open(dest / outputs(dest)[0]) as im:
        assert im.size == (128, 128)
    assert not list(dest.glob("*.tmp"))
    assert checksums(small_photos) == before


def test_tab_stop_ends_the_same_export_job(small_photos, tmp_path):
    host = StopHost()
    dest = tmp_path / "out"
    args = ("", "PNG", 95, False, True, "R-ESRGAN 4x+", "#fff", 0.9, 0.5, 0.15)
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(ui_crop.do_export, host, str(small_photos), 128, 128, str(dest), *args)
        host.wait_until_stoppable()
        # the tab's Export runs as the one export job, visible to the API and stopped by the tab's Stop
        assert longwork.is_running(work.EXPORT_KEY)
        assert longwork.stop(host, work.EXPORT_KEY) == "stopping…"
        host.release.set()
        html_out, destination = pending.result(BOUND)
    assert 'data-interrupted="true"' in html_out and 'data-written="1"' in html_out, html_out
    assert "written before Stop are complete" in html_out
    assert destination == str(dest) and len(outputs(dest)) == 1
    assert not longwork.is_running(work.EXPORT_KEY)


def test_tab_stop_ends_auto(small_photos):
    host = StopHost()
    release = threading.Event()
    started = threading.Event()

    def slow_analysis(*args, **kwargs):
        started.set()
        assert release.wait(BOUND)
        raise OSError("not analysed: stopped")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("lib_textinv.crop.auto.analyse_file", slow_analysis)
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(ui_crop.do_auto, host, str(small_photos), 128, 128, "", 0.9, 0.5, 0.15)
            assert started.wait(BOUND)
            assert longwork.stop(host, work.AUTO_KEY) == "stopping…"
            release.set()
            state, msg = pending.result(BOUND)
    assert state == "" and "Auto was stopped" in msg


# -- routes -------------------------------------------------------------------------------------


def test_post_crop_runs_the_export_as_a_job(photo_dir, tmp_path, checksums):
    before = checksums(photo_dir)
    client = api_client(StandaloneHost())
    dest = tmp_path / "out"
    r = client.post(
        f"{API_PREFIX}/crop",
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
    assert crop_sidecar.load(dest).for_source(photo_dir).images["astronaut.jpg"].box.as_list() == [
        0,
        0,
        200,
        300,
    ]
    assert checksums(photo_dir) == before
    # /crop/auto (a job too) reports the restored edit
    r = client.post(
        f"{API_PREFIX}/crop/auto",
        json={"folder": str(photo_dir), "width": 128, "height": 192, "destination": str(dest)},
    )
    assert r.status_code == 200, r.text
    auto = wait_job(client, r.json()["job_id"])
    assert auto["status"] == "done", auto
    by = {i["name"]: i for i in auto["result"]["images"]}
    assert by["astronaut.jpg"]["box"] == [0, 0, 200, 300] and by["coffee.jpg"]["excluded"]
    assert auto["result"]["target"] == [128, 192] and auto["result"]["destination"] == str(dest)


@pytest.mark.parametrize(
    ("body", "status", "text"),
    [
        ({"width": 512, "height": 512}, 400, "source folder itself"),  # destination = folder (added below)
        ({"width": 500}, 422, "multiple of 64"),
        ({"width": 8192}, 422, "less than or equal"),
        ({"options": {"format": "gif"}}, 422, "format"),
        ({"options": {"upscaler": "SwinIR"}}, 400, "unknown upscaler"),
        ({"boxes": {"a.jpg": {"box": [1, 2]}}}, 422, "box"),
        ({"widht": 512}, 422, "widht"),  # a misspelt field is refused, not ignored
        ({"options": {"fromat": "png"}}, 422, "fromat"),
        ({"boxes": {"a.jpg": {"box": [0, 0, 10, 10], "exclude": True}}}, 422, "exclude"),
    ],
)
def test_bad_requests(photo_dir, body, status, text):
    client = api_client(StandaloneHost())
    req = {"folder": str(photo_dir), **body}
    if "width" in body and body["width"] == 512:
        req["destination"] = str(photo_dir)
    for route in ("/crop", "/crop/auto"):
        if route == "/crop/auto" and "options" in body:
            continue  # Auto checks the target and weights; export options are Export's
        r = client.post(f"{API_PREFIX}{route}", json=req)
        assert r.status_code == status, (route, r.text)
        assert text in r.text
    assert not (photo_dir / "512x512").exists()


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_box_numbers_are_refused(photo_dir, value):
    """Python's JSON (and so a Python client) writes NaN/Infinity; a box made of them is a 422."""
    client = api_client(StandaloneHost())
    box = [0, 0, value, 100]
    body = json.dumps({"folder": str(photo_dir), "boxes": {"astronaut.jpg": {"box": box}}})
    r = client.post(f"{API_PREFIX}/crop", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert "finite" in r.text, r.text
    assert not (photo_dir / "512x512").exists()


def test_a_second_export_while_one_runs_is_409(small_photos, tmp_path):
    host = StopHost()
    client = api_client(host)
    body = {"folder": str(small_photos), "width": 128, "height": 128, "options": {"upscaler": "R-ESRGAN 4x+"}}
    first = client.post(f"{API_PREFIX}/crop", json={**body, "destination": str(tmp_path / "a")})
    host.wait_until_stoppable()
    second = client.post(f"{API_PREFIX}/crop", json={**body, "destination": str(tmp_path / "b")})
    client.delete(f"{API_PREFIX}/jobs/{first.json()['job_id']}")
    host.release.set()
    wait_job(client, first.json()["job_id"])
    assert second.status_code == 409 and "already running" in second.json()["detail"], second.text
    assert not (tmp_path / "b").exists()


def test_an_unusable_crops_json_is_400_before_any_job(photo_dir, tmp_path):
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "crops.json").write_text("[]", encoding="utf-8")
    client = api_client(StandaloneHost())
    body = {"folder": str(photo_dir), "width": 128, "height": 128, "destination": str(dest)}
    r = client.post(f"{API_PREFIX}/crop", json=body)
    assert r.status_code == 400 and "it is not replaced" in r.json()["detail"], r.text
    assert [p.name for p in dest.iterdir()] == ["crops.json"]


def test_missing_folder_is_400(tmp_path):
    r = api_client(StandaloneHost()).post(f"{API_PREFIX}/crop", json={"folder": str(tmp_path / "nope")})
    assert r.status_code == 400 and "folder not found" in r.json()["detail"]
