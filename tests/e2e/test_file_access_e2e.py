"""Folders users name, in the real webui, in whichever mode it runs: a local webui takes any
absolute folder; one reachable from other machines (here started with ``--server-name``, still
bound to loopback) takes only folders under its data folder and the allowed-folders setting and
answers 403 with the reason. Relative paths are refused in both. Checked through our API
(``POST /score``'s sweep) and through the tab's own handler (Compare's run folder, called over
gradio's HTTP API as the page calls it)."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import httpx
import pytest

from tests.e2e.helpers import API, unique_name
from tests.embfiles import write_training_run


def tab_event(client: httpx.Client, elem_id: str, trigger: str, output_elem: str):
    """A function that runs the tab's handler of ``trigger`` on component ``elem_id`` (the one
    writing to ``output_elem``) through gradio's ``/run/predict``, as the page does."""
    config = client.get("/config").json()
    ids = {c.get("props", {}).get("elem_id"): c["id"] for c in config["components"]}
    source, output = ids[elem_id], ids[output_elem]

    def triggers(dep: dict) -> list:
        if "trigger" in dep:  # gradio 3: targets are ids, one trigger per dependency
            return [(t, dep["trigger"]) for t in dep["targets"]]
        return [tuple(t) for t in dep["targets"]]  # gradio 4: [id, trigger] pairs

    fn_index = next(
        i
        for i, dep in enumerate(config["dependencies"])
        if (source, trigger) in triggers(dep) and output in dep["outputs"]
    )

    def call(*data):
        body = {"fn_index": fn_index, "data": list(data), "session_hash": uuid.uuid4().hex[:10]}
        r = client.post("/run/predict", json=body, timeout=120)
        assert r.status_code == 200, r.text
        return r.json()["data"]

    return call


@pytest.fixture
def pick_run(client):
    """Compare's run-folder box: folder → (checkpoint tokens listed, status text)."""
    call = tab_event(client, "textinv-compare-run", "change", "textinv-compare-table")

    def pick(folder: str) -> tuple[list[str], str]:
        table, _dropdown, text = call(folder)
        rows = table.get("data", []) if isinstance(table, dict) else []
        return [row[0] for row in rows if row and row[0]], text

    return pick


@pytest.fixture
def runs(webui_data, tmp_path):
    """A training run outside the webui's data folder and one inside it (removed afterwards)."""
    name = unique_name("e2eacc")
    outside = write_training_run(tmp_path / "elsewhere", name, steps=(5, 10))
    inside_root = webui_data / f"textinv-e2e-{uuid.uuid4().hex[:8]}" if webui_data else None
    inside = write_training_run(inside_root, name, steps=(5, 10)) if inside_root else None
    try:
        yield name, outside, inside
    finally:
        if inside_root:
            shutil.rmtree(inside_root, ignore_errors=True)


def test_status_says_which_folders_are_allowed(status, webui_data):
    access = status["file_access"]
    assert set(access) == {"restricted", "roots", "why"}
    if access["restricted"]:
        assert webui_data is not None, "set TEXTINV_WEBUI_DATA to the webui's --data-dir"
        assert str(webui_data.resolve()) in [str(Path(r).resolve()) for r in access["roots"]]
        assert "--server-name" in access["why"] or "--listen" in access["why"], access
    else:
        assert access == {"restricted": False, "roots": [], "why": ""}


def test_relative_folders_are_refused_in_both_modes(client, pick_run):
    tokens, text = pick_run("textual_inversion/2026-01-01/x")
    assert tokens == [] and "absolute path" in text
    r = client.post(f"{API}/score", json={"name": "x", "sweep": "outputs/txt2img-grids/x.png"})
    assert r.status_code == 400 and "absolute path" in r.json()["detail"]


def test_folders_outside_the_data_folder(client, status, pick_run, runs):
    access = status["file_access"]
    name, outside, inside = runs
    tokens, text = pick_run(str(outside))
    sweep = str(outside / "not-a-grid.png")
    r = client.post(f"{API}/score", json={"name": name, "sweep": sweep})
    if not access["restricted"]:
        assert tokens == [f"{name}-5", f"{name}-10"], text
        # allowed, then refused by the score route's own rule (sweeps live in the output folders)
        assert r.status_code == 400 and "output folders" in r.json()["detail"], r.text
        return
    assert tokens == [] and "outside the allowed folders" in text and access["why"] in text
    assert r.status_code == 403, r.text
    assert access["why"] in r.json()["detail"] and sweep in r.json()["detail"]
    # inside the data folder: allowed
    tokens, text = pick_run(str(inside))
    assert tokens == [f"{name}-5", f"{name}-10"], text
