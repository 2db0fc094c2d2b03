"""Helpers for the end-to-end tests against a running webui (TEXTINV_WEBUI_URL)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx

API = "/textinv/v1"
FINISHED = ("done", "failed", "interrupted")


def unique_name(prefix: str) -> str:
    """An embedding name no earlier run used (re-runs never collide)."""
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def wait_job(client: httpx.Client, job_id: str, timeout: float) -> dict:
    """Long-poll ``GET /jobs/{id}?wait=`` (the server answers when the job ends) until it has
    finished or ``timeout`` seconds have passed; never sleeps."""
    deadline = time.monotonic() + timeout
    last: dict = {}
    while (left := deadline - time.monotonic()) > 0:
        r = client.get(f"{API}/jobs/{job_id}", params={"wait": min(left, 60)}, timeout=min(left, 60) + 30)
        assert r.status_code == 200, r.text
        last = r.json()
        if last["status"] in FINISHED:
            return last
    raise AssertionError(f"job {job_id} did not finish within {timeout:.0f} s; last state: {last}")


def done_result(client: httpx.Client, job_id: str, timeout: float) -> dict:
    """The result of a job that must end as ``done``."""
    job = wait_job(client, job_id, timeout)
    assert job["status"] == "done", f"job {job_id} ended {job['status']}: {job['error']}"
    return job["result"]


def loaded_embeddings(client: httpx.Client) -> dict:
    """The webui's own list of loaded embeddings (GET /sdapi/v1/embeddings)."""
    r = client.get("/sdapi/v1/embeddings")
    assert r.status_code == 200, r.text
    return r.json()["loaded"]


def write_captions(folder: Path, text: str = "a photo") -> None:
    for p in sorted(folder.iterdir()):
        if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp"):
            p.with_suffix(".txt").write_text(f"{text} {p.stem}\n", encoding="utf-8")


def remove_files(*paths) -> None:
    """Delete files this test created in the webui's folders (missing ones are fine)."""
    for p in paths:
        if p:
            Path(p).unlink(missing_ok=True)


def remove_tree(path) -> None:
    import shutil

    if path and Path(path).is_dir():
        shutil.rmtree(path, ignore_errors=True)


def remove_embedding_files(embeddings_dir, name: str) -> None:
    """``<name>.pt``, ``<name>-10.pt``, their ``.optim`` files…: everything of this test's unique name."""
    if embeddings_dir and Path(embeddings_dir).is_dir():
        for p in Path(embeddings_dir).iterdir():
            if p.is_file() and (
                p.stem == name or p.name.startswith(f"{name}-") or p.name.startswith(f"{name}.")
            ):
                p.unlink(missing_ok=True)


def training_folder(folder: Path, sizes=((64, 64),) * 4) -> Path:
    """Real photos at the given sizes (PNG), each with a caption, for a training run."""
    from tests.photos import write_photos

    names = ("astronaut", "chelsea", "coffee", "rocket")
    for n, size in zip(names, sizes, strict=True):
        write_photos(folder, (n,), "PNG", size=size)
    write_captions(folder)
    return folder


def create_embedding(client: httpx.Client, name: str, vectors: int = 1) -> dict:
    r = client.post(f"{API}/embeddings", json={"name": name, "vectors": vectors, "init_text": "*"})
    assert r.status_code == 200, r.text
    res = r.json()
    assert res["ok"], res
    return res


def train_request(name: str, dataset: Path, log_directory: str | None, steps: int = 20, **extra) -> dict:
    """A training request; the webui's own trainer (its previews, its file names) unless ``extra``
    says ``trainer="own"`` (tests/e2e/test_own_trainer_e2e.py covers ours)."""
    req = {
        "trainer": "webui",
        "embedding": name,
        "dataset": str(dataset),
        "preset": "subject",
        "width": 64,
        "height": 64,
        "steps": steps,
        "learn_rate": "0.005",
        "batch_size": 1,
        "gradient_step": 1,
        "save_embedding_every": 5,
        "create_image_every": 10,
        **extra,
    }
    if log_directory is not None:
        req["log_directory"] = log_directory
    return req
