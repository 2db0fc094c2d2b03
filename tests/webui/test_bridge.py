"""The host bridge and the scripts/ entry against the contract double of the webui's modules."""

from __future__ import annotations

import runpy
import sys
import threading
import types
from pathlib import Path

import pytest

from lib_textinv.kit.progress import Cancelled, Progress
from tests.api_client import wait_job

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("family", "native", "width", "trainable"),
    [
        ("SD1", 512, 768, True),
        ("SD2", 512, 1024, True),
        ("SD2-v", 768, 1024, True),
        ("SDXL", 768, 2048, False),
    ],
)
def test_model_facts(bridge, webui, family, native, width, trainable):
    webui.sd_models.model_data.sd_model = webui.sd_models.make_model(family)
    facts = bridge.host().model_facts()
    assert (facts.family, facts.native_resolution, facts.embedding_width, facts.trainable) == (
        family,
        native,
        width,
        trainable,
    )
    assert facts.name == "tiny-sd1" and facts.short_hash == "d10cce5e4d"
    if family == "SDXL":
        assert "SDXL" in facts.reason  # the webui's trainer cannot …
        assert bridge.host().feature("train") == (True, "")  # … but ours can


def test_train_offered_when_neither_trainer_can_says_ours_reason(bridge, webui):
    webui.sd_models.model_data.sd_model = webui.sd_models.make_model("SDXL")
    webui.shared.cmd_opts.lowvram = True
    try:
        ok, why = bridge.host().feature("train")
    finally:
        webui.shared.cmd_opts.lowvram = False
    assert not ok and "lowvram" in why


def test_no_model_loaded_never_blocks(bridge, webui):
    webui.sd_models.model_data.sd_model = None
    facts = bridge.host().model_facts()
    assert not facts.loaded and "no model" in facts.reason
    assert bridge.host().feature("train")[0] is False
    assert bridge.host().feature("caption") == (True, "")


def test_lowvram_disables_training(bridge, webui):
    webui.shared.cmd_opts.lowvram = True
    ok, why = bridge.host().feature("train")
    assert not ok and "--lowvram" in why
    assert bridge.host().feature("create") == (True, "")


def test_paths_and_templates(bridge, webui):
    h = bridge.host()
    p = h.paths()
    assert p.embeddings_dir == str(webui.data / "embeddings")
    assert p.ti_log_dir == str(webui.data / "textual_inversion")
    assert p.outdir_grids == "outputs/txt2img-grids"
    assert set(h.templates()) == {"style_filewords.txt", "subject_filewords.txt", "none.txt"}
    assert h.state_file("recent.json") == str(webui.data / "textinv" / "recent.json")


def test_embeddings_lists_loaded_and_skipped(bridge, webui, tmp_path):
    import torch

    from tests.embfiles import write_pt

    emb = Path(webui.shared.cmd_opts.embeddings_dir)
    write_pt(emb / "good.pt", torch.zeros(3, 768), step=10)
    write_pt(emb / "sd2.pt", torch.zeros(2, 1024))
    webui.sd_hijack.model_hijack.embedding_db.load_textual_inversion_embeddings(force_reload=True)
    infos = {e.name: e for e in bridge.host().embeddings()}
    assert infos["good"].loaded and infos["good"].vectors == 3 and infos["good"].width == 768
    assert infos["good"].step == 10
    assert not infos["sd2"].loaded and infos["sd2"].width == 1024


def test_run_job_holds_the_queue_lock_and_the_job_state(bridge, webui):
    state = webui.shared.state
    seen = {}

    def work(p: Progress):
        seen["locked"] = webui.call_queue.queue_lock.locked()
        seen["job"] = state.job
        p.begin(4, "working")
        p.step(2, "half")
        seen["state"] = (state.job_count, state.job_no, state.textinfo)
        return "result"

    assert bridge.host().run_job("demo", work) == "result"
    assert seen == {"locked": True, "job": "textinv: demo", "state": (4, 2, "half")}
    assert not webui.call_queue.queue_lock.locked()
    assert state.job == ""  # state.end() ran
    assert webui.progress.current_task is None and webui.progress.finished_tasks


def test_run_job_is_not_reentrant(bridge):
    h = bridge.host()
    with pytest.raises(RuntimeError, match="not reentrant"):
        h.run_job("outer", lambda p: h.run_job("inner", lambda q: None))


def test_webui_interrupt_cancels_our_job(bridge, webui):
    def work(p: Progress):
        p.begin(3)
        webui.shared.state.interrupt()  # the webui's Interrupt button
        p.check()

    with pytest.raises(Cancelled):
        bridge.host().run_job("demo", work)


def test_our_stop_only_interrupts_our_own_job(bridge, webui):
    h = bridge.host()
    h.interrupt()  # nothing of ours running: a txt2img must not be interrupted
    assert not webui.shared.state.interrupted
    started, release = threading.Event(), threading.Event()

    def work(p: Progress):
        started.set()
        release.wait(10)
        return p.cancelled

    result = {}
    t = threading.Thread(target=lambda: result.setdefault("cancelled", h.run_job("demo", work)))
    t.start()
    assert started.wait(10)
    h.interrupt()
    release.set()
    t.join(10)
    assert result["cancelled"] is True


def test_settings_registered_in_their_section(bridge, webui):
    from lib_textinv.kit.settings import SETTINGS

    bridge.on_ui_settings()
    labels = webui.shared.opts.data_labels
    for s in SETTINGS:
        assert s.key.startswith("textinv_")
        # webui 1.10.1 ui_settings.py:141 unpacks section as (id, title); the category is apart.
        assert labels[s.key].section == ("textinv", "Textual Inversion Helper")
        assert labels[s.key].category_id == "training"
        assert getattr(webui.shared.opts, s.key) == s.default
    assert bridge.host().setting("clip_model") == "ViT-L-14"


def test_scripts_entry_registers_tab_settings_and_routes(webui):
    sys.path.insert(0, str(ROOT))
    try:
        webui_callbacks = (
            sys.modules["modules.script_callbacks"]
            if "modules.script_callbacks" in sys.modules
            else __import__("modules.script_callbacks", fromlist=["x"])
        )
        webui_callbacks.clear_callbacks()
        runpy.run_path(str(ROOT / "scripts" / "textinv.py"))
        cm = webui_callbacks.callback_map
        assert [
            len(cm[k]) for k in ("callbacks_ui_tabs", "callbacks_ui_settings", "callbacks_app_started")
        ] == [1, 1, 1]
        tabs = cm["callbacks_ui_tabs"][0]()
        ((blocks, label, elem),) = tabs
        assert (label, elem) == ("TI Helper", "textinv")
        assert blocks.__class__.__name__ == "Blocks"
    finally:
        sys.path.remove(str(ROOT))


def test_entry_script_is_thin():
    lines = [
        ln
        for ln in (ROOT / "scripts" / "textinv.py").read_text().splitlines()
        if ln.strip() and not ln.startswith(('"""', "#"))
    ]
    assert len(lines) <= 8


def _client(bridge, webui, api_auth):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    webui.shared.cmd_opts.api_auth = api_auth
    app = FastAPI()
    bridge.on_app_started(None, app)
    return TestClient(app)


def test_routes_are_protected_like_sdapi_when_api_auth_is_set(bridge, webui):
    client = _client(bridge, webui, "alice:s3cret,bob:pw")
    assert client.get("/textinv/v1/status").status_code == 401
    assert client.get("/textinv/v1/status", auth=("alice", "wrong")).status_code == 401
    r = client.get("/textinv/v1/status", auth=("bob", "pw"))
    assert r.status_code == 200 and r.json()["host"] == "webui"
    assert r.json()["model"]["family"] == "SD1"


def test_routes_open_without_api_auth(bridge, webui, photo_dir):
    client = _client(bridge, webui, None)
    r = client.post("/textinv/v1/scan", json={"folder": str(photo_dir), "width": 256, "height": 256})
    assert r.status_code == 200, r.text
    job = wait_job(client, r.json()["job_id"])  # a job under the webui's queue lock
    assert job["status"] == "done" and job["result"]["counts"]["ok"] == 4
    assert client.post("/textinv/v1/scan", json={"folder": str(photo_dir / "x")}).status_code == 400
    assert client.post("/textinv/v1/scan", json={"folder": "", "width": 512}).status_code == 422


def test_install_py_installs_only_what_is_missing():
    calls = []
    present = {"open_clip", "safetensors"}
    fake_launch = types.SimpleNamespace(
        is_installed=lambda name: name in present, run_pip=lambda cmd, desc=None: calls.append(cmd)
    )
    install = runpy.run_path(str(ROOT / "install.py"))
    install["main"](fake_launch)
    assert calls == ["install opencv-python-headless"]
    present.add("cv2")
    calls.clear()
    install["main"](fake_launch)
    assert calls == []  # idempotent and silent when nothing is missing
