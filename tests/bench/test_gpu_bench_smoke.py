"""bench/gpu.py --smoke: the one-command GPU measurement runs end to end on CPU, offline, in < 60 s,
and its JSON carries every part as ratio figures or a skip with its reason."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "gpu.py"
PARTS = ("build", "sweep", "captions", "training", "scores")
SMOKE_LIMIT_S = 60
KILL_AFTER_S = 240  # far past the limit: a hung run fails loudly instead of stalling CI


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("gpu_smoke")
    caches = {name: tmp / name for name in ("HF_HOME", "TORCH_HOME", "XDG_CACHE_HOME")}
    env = {**os.environ, **{k: str(v) for k, v in caches.items()}}
    env.update(
        HF_HUB_OFFLINE="1",
        # Any network request would go to a closed local port and fail: a download attempt cannot pass.
        HTTP_PROXY="http://127.0.0.1:9",
        HTTPS_PROXY="http://127.0.0.1:9",
        NO_PROXY="",
        CUDA_VISIBLE_DEVICES="",
    )
    out = tmp / "result.json"
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--smoke", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=KILL_AFTER_S,
        check=False,
    )
    wall = time.monotonic() - t0
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return {
        "json": json.loads(out.read_text(encoding="utf-8")),
        "stdout": proc.stdout,
        "wall": wall,
        "caches": caches,
    }


def positive(value: object) -> bool:
    return (
        isinstance(value, float | int) and not isinstance(value, bool) and math.isfinite(value) and value > 0
    )


def test_smoke_runs_on_cpu_under_the_bound(smoke: dict) -> None:
    data = smoke["json"]
    assert data["environment"]["device"] == "cpu"
    assert data["environment"]["smoke"] is True
    assert data["environment"]["torch"]
    assert data["total_s"] < SMOKE_LIMIT_S
    assert smoke["wall"] < SMOKE_LIMIT_S + 30  # imports and start-up on top of the measured parts


def test_every_part_is_measured_or_skipped_with_its_reason(smoke: dict) -> None:
    parts = smoke["json"]["parts"]
    assert set(parts) == set(PARTS)
    for name, part in parts.items():
        assert "error" not in part, (name, part)
        assert positive(part["elapsed_s"]) or part["elapsed_s"] == 0
        assert f"[{name}]" in smoke["stdout"]

    sweep = parts["sweep"]
    assert positive(sweep["ratio"]) and positive(sweep["share_of_limit"])
    assert sweep["cells"] == 40 and sweep["batch_size"] == 8
    assert sweep["unet_calls"] == {"ours": 5 * 4, "one_per_cell": 40 * 4}  # smoke: 4 sampler steps

    captions = parts["captions"]
    if importlib.util.find_spec("transformers") is None:
        assert captions["skipped"] == "transformers missing"
    else:
        assert positive(captions["ratio"])
        assert captions["same_outputs"] is True and captions["images"] == 16

    training = parts["training"]
    assert training["ours_vs_webui"] == "trainer row pending (issue 15)"
    assert positive(training["sd15_step_s_batch1"])
    assert training["sdxl"] == {"skipped": "no CUDA"}
    assert "[training.sdxl] skipped: no CUDA" in smoke["stdout"].splitlines()

    scores = parts["scores"]
    assert scores["checkpoints"] == 30 and scores["unet_calls"] == 30 * 4
    assert positive(scores["share_of_one_column"])


def test_nothing_is_downloaded_or_cached(smoke: dict) -> None:
    # transformers and diffusers stamp their cache layout version on import; anything else would be
    # a fetched (or cached) model, config or tokenizer file.
    written = [
        f
        for p in smoke["caches"].values()
        if p.exists()
        for f in p.rglob("*")
        if f.is_file() and not (f.name.startswith("version") and f.suffix == ".txt")
    ]
    assert written == []


def test_a_failing_part_is_recorded_and_the_run_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "DIFFUSERS_OFFLINE"):
        monkeypatch.setenv(key, "1")  # the script sets them on import; restored after this test
    spec = importlib.util.spec_from_file_location("bench_gpu", SCRIPT)
    assert spec and spec.loader
    gpu = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = gpu  # its dataclasses look their module up there
    try:
        spec.loader.exec_module(gpu)
    finally:
        del sys.modules[spec.name]
    import torch

    rig = gpu.Rig(torch.device("cpu"), torch.float32, gpu.SMOKE_SIZES)
    results: dict = {"parts": {}}

    def broken() -> dict:
        raise RuntimeError("out of memory")

    part = gpu.run_part(rig, "sweep", broken, results)
    assert part["error"] == "RuntimeError: out of memory"
    assert results["parts"]["sweep"] is part and "elapsed_s" in part
