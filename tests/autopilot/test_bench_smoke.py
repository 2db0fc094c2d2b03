"""bench/autopilot.py --smoke: the whole run on the tests' stand-in host, as a subprocess (the
script's own clip-cache override stays in it), with every stage timed and the share printed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from lib_textinv.autopilot.estimates import STAGES

ROOT = Path(__file__).resolve().parents[2]
KILL_AFTER_S = 240  # a hung run fails loudly


def test_smoke_times_every_stage(tmp_path):
    out = tmp_path / "bench.json"
    args = ["--smoke", "--steps", "20", "--save-every", "5", "--out", str(out)]
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "autopilot.py"), *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=KILL_AFTER_S,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    numbers = json.loads(out.read_text(encoding="utf-8"))
    assert set(STAGES) <= set(numbers["seconds"]) and numbers["trigger"]
    assert abs(numbers["model"] + numbers["other"] - numbers["wall"]) < 1e-6
    assert "everything else" in proc.stdout and "goal: under 10%" in proc.stdout
