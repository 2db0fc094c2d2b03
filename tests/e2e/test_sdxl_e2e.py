"""SDXL embeddings in a real webui 1.10.1 with the tiny SDXL model (docs/webui-contract.md §25 SDXL
embeddings): Create writes ``<name>.safetensors`` with clip_l and clip_g from each encoder's own
token table and the webui lists it loaded (shape 2048); checkpoints of an SDXL run (written the way
our trainer writes them) are swept, scored for drift per encoder and promoted.

The module switches the webui to ``tiny-sdxl.safetensors`` and back to the checkpoint it found."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.e2e.conftest import need
from tests.e2e.helpers import (
    API,
    loaded_embeddings,
    remove_embedding_files,
    remove_files,
    remove_tree,
    unique_name,
)
from tests.e2e.helpers import wait_job as wait_for

SDXL_CHECKPOINT = "tiny-sdxl.safetensors"


def switch_model(client: httpx.Client, title: str) -> None:
    r = client.post("/sdapi/v1/options", json={"sd_model_checkpoint": title}, timeout=300)
    assert r.status_code == 200, r.text


@pytest.fixture(scope="module")
def sdxl(client):
    before = client.get("/sdapi/v1/options").json()["sd_model_checkpoint"]
    switch_model(client, SDXL_CHECKPOINT)
    status = client.get(f"{API}/status").json()
    assert status["model"]["family"] == "SDXL", status["model"]
    try:
        yield status
    finally:
        switch_model(client, before)


@pytest.fixture(scope="module")
def log_dir(client) -> Path:
    """The webui's default training log folder: ``textual_inversion`` in its working folder, the
    webui's own folder under launch.py (modules/ui.py:962)."""
    script_path = client.get("/internal/sysinfo", timeout=120).json()["Script path"]
    return Path(script_path) / "textual_inversion"


def raw_token_tables(webui_data: Path) -> dict:
    """clip_l's and clip_g's raw token matrices, read from the model file itself."""
    from safetensors import safe_open

    f = safe_open(str(webui_data / "models" / "Stable-diffusion" / SDXL_CHECKPOINT), "pt")
    prefix = "conditioner.embedders"
    return {
        "clip_l": f.get_tensor(
            f"{prefix}.0.transformer.text_model.embeddings.token_embedding.weight"
        ).float(),
        "clip_g": f.get_tensor(f"{prefix}.1.model.token_embedding.weight").float(),
    }


def ti_hashes(infotext: str) -> list[str]:
    from lib_textinv.compare.ti_hashes import entries

    return entries(infotext)


def test_create_an_sdxl_embedding_and_use_it(client, sdxl, webui_data):
    need(sdxl, "create")
    name = unique_name("e2exl")
    r = client.post(f"{API}/embeddings", json={"name": name, "vectors": 3, "init_text": "charcoal drawing"})
    assert r.status_code == 200, r.text
    res = r.json()
    path = Path(res["path"])
    try:
        assert (
            res["ok"] and path.name == f"{name}.safetensors" and (res["vectors"], res["width"]) == (3, 2048)
        )
        assert loaded_embeddings(client)[name] == {
            "step": None,  # the webui reads no step from a .safetensors (ours is in its metadata)
            "sd_checkpoint": None,
            "sd_checkpoint_name": None,
            "shape": 2048,
            "vectors": 3,
        }
        again = client.post(f"{API}/embeddings", json={"name": name, "vectors": 2, "init_text": "ink"})
        assert again.status_code == 409, again.text
        if webui_data is not None:
            import torch
            from open_clip.tokenizer import _tokenizer

            from lib_textinv.kit.embedding_file import load_embedding

            data = load_embedding(path)
            ids = _tokenizer.encode("charcoal drawing")  # both encoders' vocabulary
            for part, table in raw_token_tables(webui_data).items():
                assert torch.equal(data.vectors[part], table[[ids[0], ids[0], ids[1]]]), part
            assert (data.step, data.sd_checkpoint_name) == (0, "tiny-sdxl")
        t2i = client.post(
            "/sdapi/v1/txt2img",
            json={"prompt": f"a photo of {name}", "steps": 2, "width": 64, "height": 64, "seed": 11},
        )
        assert t2i.status_code == 200, t2i.text
        infotext = json.loads(t2i.json()["info"])["infotexts"][0]
        # both SDXL text encoders list the embedding (modules/sd_hijack_clip.py:230-243)
        assert [e.split(":")[0] for e in ti_hashes(infotext)] == [name, name], infotext
    finally:
        remove_files(path)
        client.post("/sdapi/v1/refresh-embeddings")


@pytest.fixture
def sdxl_run(client, sdxl, log_dir, webui_data):
    """``<log>/<today>/<name>/embeddings/<name>-5|10.safetensors``, written as our trainer writes
    checkpoints (kit.embedding_file.write_embedding, the step in the metadata)."""
    import torch

    from lib_textinv.kit.embedding_file import write_embedding

    name = unique_name("e2exlrun")
    folder = log_dir / datetime.date.today().strftime("%Y-%m-%d") / name
    g = torch.Generator().manual_seed(5)
    for step in (5, 10):
        vectors = {"clip_l": torch.randn(2, 768, generator=g), "clip_g": torch.randn(2, 1280, generator=g)}
        path = folder / "embeddings" / f"{name}-{step}.safetensors"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_embedding(path, vectors, name=f"{name}-{step}", step=step - 1)
    emb_dir = Path(webui_data / "embeddings") if webui_data else None
    try:
        yield name, folder
    finally:
        remove_tree(folder)
        remove_embedding_files(emb_dir, name)
        client.post("/sdapi/v1/refresh-embeddings")


def test_sweep_drift_and_promote_sdxl_checkpoints(client, sdxl, sdxl_run):
    need(sdxl, "generate")
    name, folder = sdxl_run
    req = {
        "name": name,
        "prompts": ["a photo of {}"],
        "seeds": [7],
        "sampling_steps": 2,
        "width": 64,
        "height": 64,
        "batch_size": 2,
    }
    r = client.post(f"{API}/sweep", json=req)
    assert r.status_code == 200, r.text
    assert r.json()["cells"] == 2
    job = wait_for(client, r.json()["job_id"], 300)
    assert job["status"] == "done", job
    res = job["result"]
    cells = res["cells"]
    try:
        assert res["done"] == 2 and not res["interrupted"], res
        assert [c["token"] for c in cells] == [f"{name}-5", f"{name}-10"]
        for cell in cells:  # the webui lists the batch's SDXL embeddings twice; a cell names its own once
            with Image.open(cell["path"]) as im:
                entries = ti_hashes(im.info["parameters"])
            assert [e.split(":")[0] for e in entries] == [cell["token"]], entries

        score = client.post(f"{API}/score", json={"name": name, "parts": ["drift"], "sweep": res["record"]})
        assert score.status_code == 200, score.text
        rep = wait_for(client, score.json()["job_id"], 300)
        assert rep["status"] == "done", rep
        rows = rep["result"]["checkpoints"]
        assert [r["step"] for r in rows] == [5, 10]
        assert all(set(r["encoders"]) == {"clip_l", "clip_g"} for r in rows), rows
        assert (
            rows[0]["nearest_tokens"].startswith("clip_l v0: ") and "clip_g v1: " in rows[0]["nearest_tokens"]
        )
        assert set(rep["result"]["ordinary_token_norms"]) == {"clip_l", "clip_g"}

        trigger = f"{name}-pick"
        p = client.post(f"{API}/promote", json={"name": name, "step": 10, "trigger": trigger})
        assert p.status_code == 200, p.text
        dest = Path(p.json()["path"])
        assert dest.name == f"{trigger}.safetensors"
        assert dest.read_bytes() == (folder / "embeddings" / f"{name}-10.safetensors").read_bytes()
        assert loaded_embeddings(client)[trigger]["shape"] == 2048
    finally:
        grid = res.get("grid")
        remove_files(grid, res.get("record"), *[c["path"] for c in cells if c.get("path")])
        if grid:
            remove_files(
                *(Path(grid).with_name(Path(grid).stem + s) for s in ("-scores.csv", "-recommended.png"))
            )


def test_trained_sdxl_run_through_compare_scores_and_promote(client, sdxl, log_dir, tmp_path):
    """The whole flow on the tiny SDXL model: Create, 10 steps of our trainer into the webui's own
    log folder, then the run's checkpoints swept, scored (fixed-batch loss and drift per encoder)
    and promoted, and the promoted trigger used in txt2img."""
    from tests.e2e.helpers import done_result, train_request, training_folder

    need(sdxl, "train")
    name = unique_name("e2exlflow")
    created = client.post(f"{API}/embeddings", json={"name": name, "vectors": 2, "init_text": "a photo"})
    assert created.status_code == 200, created.text
    emb_dir = Path(created.json()["path"]).parent
    run_folder, res = None, {}
    try:
        req = train_request(name, training_folder(tmp_path / "dataset"), None, steps=10, trainer="own")
        r = client.post(f"{API}/train", json={**req, "create_image_every": 0, "save_embedding_every": 5})
        assert r.status_code == 200, r.text
        run_folder = Path(r.json()["run_folder"])
        assert run_folder.parent.parent == log_dir, run_folder
        out = done_result(client, r.json()["job_id"], 600)
        assert out["status"] == "finished", out

        sweep = client.post(
            f"{API}/sweep",
            json={"name": name, "prompts": ["a photo of {}"], "seeds": [3], "sampling_steps": 2,
                  "width": 64, "height": 64, "batch_size": 2},
        )  # fmt: skip
        assert sweep.status_code == 200, sweep.text
        res = done_result(client, sweep.json()["job_id"], 300)
        assert [c["token"] for c in res["cells"]] == [f"{name}-5", f"{name}-10"], res

        score = client.post(
            f"{API}/score", json={"name": name, "parts": ["loss", "drift"], "sweep": res["record"]}
        )
        assert score.status_code == 200, score.text
        rep = done_result(client, score.json()["job_id"], 300)
        rows = rep["checkpoints"]
        assert [r["step"] for r in rows] == [5, 10] and all(r["fixed_loss"] is not None for r in rows), rep
        assert all(set(r["encoders"]) == {"clip_l", "clip_g"} for r in rows), rows

        p = client.post(f"{API}/promote", json={"name": name, "step": 10, "trigger": f"{name}-x"})
        assert p.status_code == 200, p.text
        assert p.json()["path"].endswith(f"{name}-x.safetensors")
        assert loaded_embeddings(client)[f"{name}-x"]["shape"] == 2048
        t2i = client.post(
            "/sdapi/v1/txt2img",
            json={"prompt": f"a photo of {name}-x", "steps": 2, "width": 64, "height": 64, "seed": 4},
        )
        assert t2i.status_code == 200, t2i.text
        infotext = json.loads(t2i.json()["info"])["infotexts"][0]
        assert {e.split(":")[0] for e in ti_hashes(infotext)} == {f"{name}-x"}, infotext
    finally:
        cells = res.get("cells", [])
        grid = res.get("grid")
        remove_files(grid, res.get("record"), *[c["path"] for c in cells if c.get("path")])
        if grid:
            remove_files(
                *(Path(grid).with_name(Path(grid).stem + s) for s in ("-scores.csv", "-recommended.png"))
            )
        remove_tree(run_folder)
        remove_embedding_files(emb_dir, name)
        client.post("/sdapi/v1/refresh-embeddings")
