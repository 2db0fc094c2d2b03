"""The autopilot's time per stage, and the share of the whole spent in model work (training,
generation, scoring, captioning) against everything else (scanning, cropping, files, reports).

    python bench/autopilot.py --url http://127.0.0.1:7873 [--steps 100 --save-every 25]
        # a real webui (the tiny model on CPU, or a GPU): one Run of a folder of photos with a few
        # bad files, through POST /textinv/v1/autopilot; the seconds are the run's own per stage
    python bench/autopilot.py --smoke      # in-process on the tests' stand-in host, < 30 s (CI)

The goal is that everything else is under 10% of the whole. The folder is made fresh each time
(real photos bundled with scikit-image; nothing is downloaded).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lib_textinv.autopilot.estimates import LABELS, STAGES

MODEL_STAGES = ("captions", "train", "prescore", "sweep", "scores")  # a model runs through each
PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "brick", "grass", "camera", "coins")
JOB_BOUND = 3600.0


def make_folder(root: Path) -> Path:
    from tests.photos import write_photos

    folder = root / "pictures"
    write_photos(folder, names=PHOTOS, size=(600, 480))
    (folder / "empty.png").write_bytes(b"")
    (folder / "notes.jpg").write_bytes(b"a cat, charcoal drawing\n")
    return folder


def _post(url: str, body: dict) -> dict:
    req = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as r:
        return json.loads(r.read())


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=120) as r:
        return json.loads(r.read())


def run_webui(base: str, folder: Path, changes: dict, size: int) -> tuple[dict, float, dict]:
    """(per-stage seconds, wall seconds, job result) of one Run through the API."""
    api = f"{base.rstrip('/')}/textinv/v1"
    name = f"bench{int(time.time()) % 100000}"
    t0 = time.monotonic()
    body = {"folder": str(folder), "name": name, "changes": changes, **({"size": size} if size else {})}
    plan = _post(f"{api}/autopilot", body)
    plan_seconds = time.monotonic() - t0
    job_id = _post(
        f"{api}/autopilot", {"folder": str(folder), "name": name, "plan": plan["plan"], "run": True}
    )["job_id"]
    while True:
        job = _get(f"{api}/jobs/{job_id}?wait=60")
        if job["status"] not in ("queued", "running"):
            break
        if time.monotonic() - t0 > JOB_BOUND:
            raise SystemExit(f"the run did not end within {JOB_BOUND} s")
    wall = time.monotonic() - t0
    if job["status"] != "done":
        raise SystemExit(f"the run ended {job['status']}: {job['error']}")
    return {"plan": plan_seconds, **job["result"]["seconds"]}, wall, job["result"]


def run_smoke(root: Path, folder: Path, changes: dict) -> tuple[dict, float, dict]:
    from lib_textinv.autopilot.decide import PlanRequest, make_plan
    from lib_textinv.autopilot.plan import apply_edits
    from lib_textinv.autopilot.runner import run_plan
    from lib_textinv.kit import clip_loader
    from tests.autopilot.fakes import AutopilotHost

    clip_loader.default_cache_dirs = lambda: [str(root / "no-clip")]  # only the host's tiny CLIP
    clip_loader.hf_cache_dir = lambda: str(root / "no-hf")
    host = AutopilotHost(root / "webui")
    t0 = time.monotonic()
    plan = apply_edits(make_plan(host, PlanRequest(str(folder), "benchstyle")), changes)
    plan_seconds = time.monotonic() - t0
    out = run_plan(host, plan)
    return {"plan": plan_seconds, **out.seconds}, time.monotonic() - t0, out.to_dict()


def table(seconds: dict, wall: float) -> dict:
    model = sum(seconds.get(s, 0.0) for s in MODEL_STAGES)
    rows = [("plan", seconds.get("plan", 0.0))] + [(s, seconds.get(s, 0.0)) for s in STAGES]
    print(f"{'stage':<40} {'seconds':>9} {'share':>7}")
    for stage, s in rows:
        label = "Plan (scan, crop boxes, warm-up)" if stage == "plan" else LABELS[stage]
        mark = " *" if stage in MODEL_STAGES else ""
        print(f"{label + mark:<40} {s:9.2f} {s / wall:7.1%}")
    other = wall - model
    print(f"{'whole (wall clock)':<40} {wall:9.2f}")
    print(f"model work (* stages): {model:.2f} s = {model / wall:.1%}")
    print(f"everything else: {other:.2f} s = {other / wall:.1%} (goal: under 10%)")
    return {"seconds": seconds, "wall": wall, "model": model, "other": other, "other_share": other / wall}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", help="a running webui with the extension (e.g. http://127.0.0.1:7873)")
    ap.add_argument("--smoke", action="store_true", help="in-process on the tests' stand-in host")
    ap.add_argument("--size", type=int, default=0, help="training size in px (0: the model's native size)")
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--save-every", type=int, default=25)
    ap.add_argument("--captions", choices=("blip", "none"), default="blip", help="caption with BLIP or not")
    ap.add_argument("--out", help="write the numbers as JSON here")
    args = ap.parse_args(argv)
    if not args.smoke and not args.url:
        ap.error("give --url of a running webui, or --smoke")
    changes = {"steps": args.steps, "save_every": args.save_every, "captions": args.captions}
    with tempfile.TemporaryDirectory(prefix="textinv-bench-autopilot-") as tmp:
        folder = make_folder(Path(tmp))
        if args.smoke:
            seconds, wall, result = run_smoke(Path(tmp), folder, changes)
        else:
            seconds, wall, result = run_webui(args.url, folder, changes, args.size)
    numbers = {
        **table(seconds, wall),
        "trigger": result.get("trigger"),
        "mode": "smoke" if args.smoke else args.url,
    }
    if args.out:
        Path(args.out).write_text(json.dumps(numbers, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
