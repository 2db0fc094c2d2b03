"""Our trainer against the webui's, on the model a running webui has loaded (the tiny CPU test
models here, a real checkpoint on a GPU), over HTTP: same data, batch and steps.

Steps per second come from two runs of each trainer (``--short`` and ``--long`` steps): the
difference of their wall times over the difference of their steps, so start-up (dataset encoding,
folder scans) cancels out. Prints one line per arm, the ratio ours/webui's, the peak GPU memory of
each run when the webui runs on CUDA, and, with ``--flat-steps``, how many steps "Stop when it
flattens" saved against that fixed length.

    TEXTINV_WEBUI_URL=http://127.0.0.1:7870 python bench/train.py [--short 10] [--long 40]
        [--batch 2] [--sdxl] [--flat-steps 1500]

It writes a dataset of real photos (scikit-image) into a temporary folder inside the webui's data
folder (``--data-dir``), creates a uniquely named embedding and deletes what it wrote afterwards.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

API = "/textinv/v1"


def client(url: str):
    import httpx

    return httpx.Client(base_url=url, timeout=120)


def wait(c, job_id: str, limit: float = 3600) -> dict:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        r = c.get(f"{API}/jobs/{job_id}", params={"wait": 60}, timeout=120).json()
        if r["status"] in ("done", "failed", "interrupted"):
            return r
    raise TimeoutError(job_id)


def create(c, name: str) -> None:
    r = c.post(f"{API}/embeddings", json={"name": name, "vectors": 2, "init_text": "painting"})
    r.raise_for_status()


def train(
    c, name: str, data: str, log: str, trainer: str, steps: int, batch: int, **extra
) -> tuple[float, dict]:
    body = {"embedding": name, "dataset": data, "log_directory": log, "trainer": trainer, "steps": steps,
            "batch_size": batch, "width": 64, "height": 64, "save_embedding_every": 0,
            "create_image_every": 0, "learn_rate": "0.005", "resume": False, **extra}  # fmt: skip
    t0 = time.perf_counter()
    r = c.post(f"{API}/train", json=body)
    if r.status_code != 200:
        raise RuntimeError(f"{trainer}: {r.status_code} {r.text}")
    job = wait(c, r.json()["job_id"])
    took = time.perf_counter() - t0
    if job["status"] != "done":
        raise RuntimeError(f"{trainer} run ended {job['status']}: {job.get('error')}")
    return took, job["result"]


def rate(c, name, data, log, trainer, args) -> tuple[float, dict]:
    """Two fresh embeddings (the webui's trainer saves into the one it trained)."""
    create(c, f"{name}{trainer}s")
    short, _ = train(c, f"{name}{trainer}s", data, log, trainer, args.short, args.batch)
    create(c, f"{name}{trainer}l")
    long, res = train(c, f"{name}{trainer}l", data, log, trainer, args.long, args.batch)
    return (args.long - args.short) / max(1e-9, long - short), res


def dataset(root: Path) -> Path:
    from tests.photos import write_photos

    folder = root / "photos"
    write_photos(folder, ("astronaut", "chelsea", "coffee", "rocket"), fmt="PNG", size=(64, 64))
    for p in folder.glob("*.png"):
        p.with_suffix(".txt").write_text(f"a photo of {p.stem}", encoding="utf-8")
    return folder


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default=os.environ.get("TEXTINV_WEBUI_URL", ""))
    ap.add_argument("--data-dir", default=os.environ.get("TEXTINV_WEBUI_DATA", ""))
    ap.add_argument("--short", type=int, default=10)
    ap.add_argument("--long", type=int, default=40)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--sdxl", action="store_true", help="the webui has an SDXL model loaded: ours only")
    ap.add_argument("--flat-steps", type=int, default=0, help="also run Stop-when-flat against this length")
    args = ap.parse_args()
    if not args.url or not args.data_dir:
        print("set TEXTINV_WEBUI_URL and TEXTINV_WEBUI_DATA (or --url, --data-dir)")
        return 2
    c = client(args.url)
    root = Path(tempfile.mkdtemp(prefix="textinv-bench-", dir=args.data_dir))
    name = f"benchtrain{uuid.uuid4().hex[:6]}"
    try:
        data, log = str(dataset(root)), str(root / "logs")
        arms = ["own"] if args.sdxl else ["webui", "own"]
        rates = {}
        for trainer in arms:
            rates[trainer], res = rate(c, name, data, log, trainer, args)
            peak = res.get("peak_gpu_mb")
            print(f"{trainer:>5}: {rates[trainer]:.2f} steps/s (batch {args.batch})"
                  + (f", peak GPU memory {peak:.0f} MB" if peak else ""))  # fmt: skip
        if "webui" in rates:
            print(f"ratio ours/webui's steps per second: {rates['own'] / rates['webui']:.2f}")
        if args.flat_steps:
            create(c, f"{name}flat")
            flat = {"stop_when_flat": True, "eval_every": 25}
            _took, res = train(c, f"{name}flat", data, log, "own", args.flat_steps, args.batch, **flat)
            saved = args.flat_steps - int(res["steps_done"])
            print(f"stop when flat: stopped at step {res['steps_done']} of {args.flat_steps} "
                  f"({res['stop_reason']}): {saved} steps saved")  # fmt: skip
    finally:
        shutil.rmtree(root, ignore_errors=True)
        emb = Path(args.data_dir) / "embeddings"
        for p in emb.glob(f"{name}*"):
            p.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
