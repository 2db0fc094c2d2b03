"""Importing the extension and building its tab must not import torch, cv2 or open_clip."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = f"""
import sys, json, runpy
sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / "tests" / "webui_double")!r}]
import gradio, fastapi
from modules import script_callbacks
runpy.run_path({str(ROOT / "scripts" / "textinv.py")!r})
after_import = [m for m in ("torch", "cv2", "open_clip", "numpy.linalg") if m in sys.modules]
script_callbacks.callback_map["callbacks_ui_tabs"][0]()
after_tab = [m for m in ("torch", "cv2", "open_clip") if m in sys.modules]
print(json.dumps({{"import": after_import, "tab": after_tab}}))
"""


def test_no_heavy_imports_at_startup():
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=ROOT, timeout=300, check=False
    )
    assert out.returncode == 0, out.stderr[-3000:]
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert [m for m in res["import"] if m != "numpy.linalg"] == []
    assert res["tab"] == [], f"building the tab imported {res['tab']}"
