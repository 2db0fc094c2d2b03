"""Two things the real webui gets wrong that users would blame on us, checked in the real webui:
a sweep cell's "TI hashes" (the webui lists the whole batch's embeddings in every image), and a
txt2img right after Promote replaced an embedding in place (the webui reuses the conditioning it
cached for the same prompt; upstream issue #11993)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from pathlib import Path

from PIL import Image

from lib_textinv.compare.ti_hashes import entries
from tests.e2e.conftest import need
from tests.e2e.helpers import API, remove_files, unique_name, wait_job
from tests.e2e.test_compare_e2e import trained_run  # noqa: F401  (the module's own 20-step run)


def short_hash(path: Path) -> str:
    """The webui's Embedding.shorthash: the first 12 hex digits of the file's sha256."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def checkpoint_file(run: dict, step: int) -> Path:
    return run["run_folder"] / "embeddings" / f"{run['name']}-{step}.pt"


def test_each_swept_cell_names_only_its_own_checkpoint(client, status, trained_run):  # noqa: F811
    need(status, "generate")
    name = trained_run["name"]
    req = {
        "name": name,
        "prompts": ["a photo of {}"],
        "seeds": [4321],
        "sampling_steps": 4,
        "width": 64,
        "height": 64,
        "batch_size": 4,  # the four checkpoints in ONE batch: what the webui gets wrong
    }
    r = client.post(f"{API}/sweep", json=req)
    assert r.status_code == 200 and r.json()["calls"] == 1, r.text
    job = wait_job(client, r.json()["job_id"], 300)
    res = job.get("result") or {}
    try:
        assert job["status"] == "done" and res["done"] == 4, job
        expected = {s: f"{name}-{s}: {short_hash(checkpoint_file(trained_run, s))}" for s in (5, 10, 15, 20)}
        for cell in res["cells"]:
            step = int(cell["token"].rsplit("-", 1)[1])
            with Image.open(cell["path"]) as im:
                assert entries(im.info["parameters"]) == [expected[step]], (cell, im.info["parameters"])
        with Image.open(res["grid"]) as grid:
            assert sorted(entries(grid.info["parameters"])) == sorted(expected.values())
    finally:
        remove_files(res.get("grid"), res.get("record"), *[c.get("path") for c in res.get("cells", [])])


def txt2img(client, prompt: str) -> tuple[bytes, list[str]]:
    """The user's own txt2img through the webui's API: (pixels, "TI hashes" entries)."""
    r = client.post(
        "/sdapi/v1/txt2img",
        json={
            "prompt": prompt,
            "steps": 4,
            "width": 64,
            "height": 64,
            "seed": 77,
            "sampler_name": "Euler a",
            "save_images": False,
        },
        timeout=300,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    with Image.open(io.BytesIO(base64.b64decode(body["images"][0]))) as im:
        pixels = im.convert("RGB").tobytes()
    return pixels, entries(json.loads(body["info"])["infotexts"][0])


def test_txt2img_after_promote_over_a_trigger_uses_the_new_vectors(client, status, trained_run):  # noqa: F811
    need(status, "generate")
    trigger = unique_name("e2etrig")
    dest = trained_run["embeddings_dir"] / f"{trigger}.pt"
    prompt = f"a photo of {trigger}"
    try:
        r = client.post(f"{API}/promote", json={"name": trained_run["name"], "step": 5, "trigger": trigger})
        assert r.status_code == 200, r.text
        first, hashes = txt2img(client, prompt)
        assert hashes == [f"{trigger}: {short_hash(checkpoint_file(trained_run, 5))}"]
        body = {"name": trained_run["name"], "step": 20, "trigger": trigger, "overwrite": True}
        r = client.post(f"{API}/promote", json=body)
        assert r.status_code == 200 and r.json()["overwritten"], r.text
        second, hashes = txt2img(client, prompt)  # same prompt, same seed
        assert hashes == [f"{trigger}: {short_hash(checkpoint_file(trained_run, 20))}"]
        assert second != first  # the new vectors, not the conditioning cached for this prompt
    finally:
        remove_files(dest)
        client.post("/sdapi/v1/refresh-embeddings")
