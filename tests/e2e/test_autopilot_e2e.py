"""The autopilot in a real webui (tiny model, CPU), through POST /textinv/v1/autopilot: one Run from
a folder of photos with a few bad files ends with a promoted trigger whose txt2img infotext carries
its TI hash, and a report that lists every stage's decision; a second Run reuses everything; Stop in
the middle of training and of the sweep, then Resume, reaches the end without redoing finished
stages."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import need
from tests.e2e.helpers import API, remove_embedding_files, unique_name, wait_job
from tests.photos import write_photos

URL = f"{API}/autopilot"
SIZE = 64  # small pictures: the tiny model on CPU
ALL = ("scan", "crop", "captions", "create", "train", "prescore", "sweep", "scores", "choose", "promote")
RUN_SECONDS = 900


def pictures(folder: Path) -> Path:
    write_photos(folder, names=("astronaut", "chelsea", "coffee", "rocket"), size=(160, 128))
    (folder / "empty.png").write_bytes(b"")
    (folder / "notes.jpg").write_bytes(b"a cat, charcoal drawing\n")
    return folder


TRIGGERS: list[str] = []  # promoted by the test running now, removed after it


@pytest.fixture
def named(client, status):
    """A fresh embedding name; afterwards its embedding and the promoted triggers are removed."""
    need(status, "train")
    need(status, "generate")
    name = unique_name("e2eap")
    yield name
    emb_dir = client.get("/sdapi/v1/cmd-flags").json().get("embeddings_dir")
    for n in (name, *TRIGGERS):
        remove_embedding_files(emb_dir, n)
    TRIGGERS.clear()
    client.post("/sdapi/v1/refresh-embeddings")


def post(client, body: dict) -> dict:
    r = client.post(URL, json=body, timeout=600)
    assert r.status_code == 200, r.text
    return r.json()


def run(client, body: dict) -> dict:
    started = post(client, {**body, "run": True})
    job = wait_job(client, started["job_id"], RUN_SECONDS)
    assert job["status"] == "done", job
    TRIGGERS.append(job["result"]["trigger"])
    return job["result"]


def stop_during(client, body: dict, stage_label: str) -> dict:
    """Start a run, press Stop (DELETE /jobs/{id}) once its status names ``stage_label``."""
    job_id = post(client, {**body, "run": True})["job_id"]
    deadline = time.monotonic() + RUN_SECONDS
    while time.monotonic() < deadline:
        job = client.get(f"{API}/jobs/{job_id}", params={"wait": 1}).json()  # long poll, bounded
        assert job["status"] in ("queued", "running"), f"ended before {stage_label}: {job}"
        if stage_label in job["text"]:
            client.delete(f"{API}/jobs/{job_id}")
            break
    else:
        raise AssertionError(f"the run never reached {stage_label}")
    ended = wait_job(client, job_id, RUN_SECONDS)
    assert ended["status"] == "interrupted", ended
    return ended


def test_one_run_promotes_a_trigger_that_txt2img_uses(client, named, tmp_path):
    folder = pictures(tmp_path / "pictures")
    body = {"folder": str(folder), "name": named, "size": SIZE, "changes": {"steps": 20, "save_every": 5}}
    plan = post(client, body)
    assert plan["errors"] == []
    refused = {i["name"]: i["why"] for i in plan["plan"]["images"] if not i["usable"]}
    assert set(refused) == {"empty.png", "notes.jpg"} and all(refused.values())
    result = run(client, body)
    trigger = result["trigger"]
    assert trigger and trigger in client.get("/sdapi/v1/embeddings").json()["loaded"]
    r = client.post(
        "/sdapi/v1/txt2img",
        json={"prompt": result["text_to_type"], "steps": 4, "width": SIZE, "height": SIZE, "seed": 1234,
              "sampler_name": "Euler a", "save_images": False},
        timeout=300,
    )  # fmt: skip
    assert r.status_code == 200, r.text
    infotext = json.loads(r.json()["info"])["infotexts"][0]
    assert "TI hashes" in infotext and trigger in infotext.split("TI hashes", 1)[1], infotext
    report = client.get(f"{URL}/report", params={"folder": str(folder), "name": named}).json()
    assert [s["stage"] for s in report["stages"] if s["finished"] and s["decision"]] == list(ALL)
    assert report["choice"]["rule"] and report["promoted"]["token"] == trigger
    assert Path(result["report_html"]).read_text(encoding="utf-8").count("data:image/") >= 5
    again = run(client, body)
    assert again["stages"] == dict.fromkeys(ALL, "kept") and again["trigger"] == trigger


def test_stop_in_training_and_in_the_sweep_then_resume(client, named, tmp_path):
    folder = pictures(tmp_path / "pictures")
    changes = {"steps": 60, "save_every": 10, "captions": "none"}
    body = {"folder": str(folder), "name": named, "size": SIZE, "changes": changes, "warmup": False}
    stop_during(client, body, "Train")
    resume = {"folder": str(folder), "name": named, "resume": True}
    stop_during(client, resume, "Images of the candidate checkpoints")
    result = run(client, resume)
    assert result["stages"] == {**dict.fromkeys(ALL[:6], "kept"), **dict.fromkeys(ALL[6:], "done")}
    report = client.get(f"{URL}/report", params={"folder": str(folder), "name": named}).json()
    assert all(s["finished"] for s in report["stages"])
    assert "step 60" in report["training"]["message"], report["training"]
    steps = sorted(int(Path(p).stem.rsplit("-", 1)[1]) for p in report["training"]["checkpoints"])
    assert steps[-1] == 60 and {10, 20, 30, 40, 50} <= set(steps)  # one run folder, continued
    assert result["trigger"] in client.get("/sdapi/v1/embeddings").json()["loaded"]


@pytest.mark.browser
def test_plan_change_a_value_run_and_report_in_the_webui_page(client, webui_url, named, tmp_path):
    from tests.e2e.page import tab_in_webui

    folder = pictures(tmp_path / "pictures")
    with tab_in_webui(webui_url) as tab:
        tab.section("Autopilot")
        tab.textbox("textinv-autopilot-folder").fill(str(folder))
        tab.textbox("textinv-autopilot-name").fill(named)
        tab.number("textinv-autopilot-size", SIZE)
        tab.root.locator("#textinv-autopilot-plan-button").click()
        plan = tab.root.locator(".textinv-autopilot-plan")
        plan.wait_for(timeout=300_000)
        assert plan.get_attribute("data-errors") == "0" and "notes.jpg" in plan.inner_text()
        tab.number("textinv-autopilot-vectors", 3)  # the one value changed
        tab.screenshot("autopilot-webui-plan")
        tab.root.locator("#textinv-autopilot-run").click()
        tab.root.locator('#textinv-autopilot-status [data-status="done"]').wait_for(
            timeout=RUN_SECONDS * 1000
        )
        report = tab.root.locator(".tia-report")
        report.wait_for()
        text = tab.wait_textarea("textinv-autopilot-text", "v.length > 0")
        TRIGGERS.append(text.rsplit(", ", 1)[-1])
        assert "Rule:" in report.inner_text() and text.endswith(TRIGGERS[-1])
        tab.screenshot("autopilot-webui-report")
        tab.root.locator("#textinv-autopilot-send").click()
        tab.page.locator("#txt2img_prompt textarea").wait_for(state="visible", timeout=30_000)
        assert tab.page.locator("#txt2img_prompt textarea").input_value() == text
        assert tab.our_errors() == []
    assert client.get("/sdapi/v1/embeddings").json()["loaded"][named]["vectors"] == 3
