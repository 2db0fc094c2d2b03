"""Our own trainer in a real webui 1.10.1 (docs/webui-contract.md §24 own training loop): POST
/textinv/v1/train with ``"trainer": "own"`` trains 20 steps on the tiny SD1 and the tiny SDXL model;
the checkpoints land where Compare looks, hold finite vectors that moved (both parts on SDXL) and
their step; the fixed-batch loss was measured; the model's own weights are untouched (the same
txt2img picture before and after) and the user's embedding of that name is still the one loaded.

The SDXL test switches the webui to ``tiny-sdxl.safetensors`` and back to the checkpoint it found."""

from __future__ import annotations

import base64
import math
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import need
from tests.e2e.helpers import (
    API,
    create_embedding,
    done_result,
    loaded_embeddings,
    remove_embedding_files,
    train_request,
    training_folder,
    unique_name,
)

TRAIN_TIMEOUT = 600
SDXL_CHECKPOINT = "tiny-sdxl.safetensors"


def switch_model(client: httpx.Client, title: str) -> None:
    r = client.post("/sdapi/v1/options", json={"sd_model_checkpoint": title}, timeout=300)
    assert r.status_code == 200, r.text


@pytest.fixture
def sdxl(client):
    before = client.get("/sdapi/v1/options").json()["sd_model_checkpoint"]
    switch_model(client, SDXL_CHECKPOINT)
    try:
        yield client.get(f"{API}/status").json()
    finally:
        switch_model(client, before)


def picture(client: httpx.Client) -> bytes:
    """One fixed txt2img picture without any embedding: it changes if the model's weights do."""
    r = client.post(
        "/sdapi/v1/txt2img",
        json={"prompt": "a photo of a cat", "seed": 7, "steps": 3, "width": 64, "height": 64,
              "sampler_name": "Euler", "cfg_scale": 5, "send_images": True, "save_images": False},
        timeout=300,
    )  # fmt: skip
    assert r.status_code == 200, r.text
    return base64.b64decode(r.json()["images"][0])


def own_run(client: httpx.Client, name: str, dataset: Path, log: Path) -> tuple[dict, Path]:
    req = train_request(
        name, dataset, str(log), trainer="own", create_image_every=0, save_embedding_every=5, eval_every=5
    )
    r = client.post(f"{API}/train", json=req)
    assert r.status_code == 200, r.text
    started = r.json()
    assert started["final_step"] == 20
    out = done_result(client, started["job_id"], TRAIN_TIMEOUT)
    return out, Path(started["run_folder"])


def check_checkpoints(run_folder: Path, name: str, suffix: str, start: dict, widths: dict) -> None:
    import torch

    from lib_textinv.kit.embedding_file import load_embedding

    saved = run_folder / "embeddings"
    files = sorted(p.name for p in saved.iterdir())
    previous = start
    for step in (5, 10, 15, 20):
        path = saved / f"{name}-{step}{suffix}"
        assert path.is_file(), files
        data = load_embedding(path)
        assert data.step == step
        parts = data.vectors if isinstance(data.vectors, dict) else {"*": data.vectors}
        assert {k: int(v.shape[-1]) for k, v in parts.items()} == widths
        for part, v in parts.items():
            assert torch.isfinite(v).all(), f"{path.name} {part}"
            assert not torch.equal(v, previous[part]), f"{path.name}: {part} did not move"
        previous = parts


def start_vectors(path: Path) -> dict:
    from lib_textinv.kit.embedding_file import load_embedding

    vectors = load_embedding(path).vectors
    return vectors if isinstance(vectors, dict) else {"*": vectors}


def run_and_check(client, tmp_path, name, created, suffix, widths, shape):
    emb_path = Path(created["path"])
    dataset = training_folder(tmp_path / "dataset")
    before = picture(client)
    out, run_folder = own_run(client, name, dataset, tmp_path / "ti-log")
    assert out["trainer"] == "own" and out["status"] == "finished", out
    assert out["steps_done"] == 20, out
    check_checkpoints(run_folder, name, suffix, start_vectors(emb_path), widths)
    assert {5, 10, 15, 20} <= {s for s, _loss in out["fixed_losses"]}, out["fixed_losses"]
    assert all(math.isfinite(loss) for _s, loss in out["fixed_losses"])
    assert picture(client) == before  # the UNet, VAE and text encoders were not changed
    listed = loaded_embeddings(client)
    assert listed[name]["shape"] == shape, listed[name]  # the user's embedding is back


def test_own_trainer_sd1_20_steps(client, status, tmp_path):
    need(status, "train")
    assert status["model"]["family"] == "SD1", status["model"]
    name = unique_name("e2eown")
    created = create_embedding(client, name, vectors=2)
    try:
        run_and_check(client, tmp_path, name, created, ".pt", {"*": 768}, 768)
    finally:
        remove_embedding_files(Path(created["path"]).parent, name)


def test_own_trainer_sdxl_20_steps_trains_both_parts(client, sdxl, tmp_path):
    assert sdxl["model"]["family"] == "SDXL", sdxl["model"]
    need(sdxl, "train")
    name = unique_name("e2eownxl")
    created = create_embedding(client, name, vectors=2)
    assert created["path"].endswith(".safetensors"), created
    try:
        run_and_check(client, tmp_path, name, created, ".safetensors", {"clip_l": 768, "clip_g": 1280}, 2048)
    finally:
        remove_embedding_files(Path(created["path"]).parent, name)
