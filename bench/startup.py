"""What importing the extension adds to webui start-up.

Runs two fresh interpreters with the webui's already-imported libraries (gradio, fastapi) and the
contract double of ``modules`` on the path: the baseline imports only those; ours also runs the
``scripts/textinv.py`` entry (what the webui does at start-up). Prints the median added
milliseconds over several runs, and the heavy modules (torch, cv2, open_clip) the entry pulled in
(target: none, and ≤ 50 ms). The tab itself is built later (on_ui_tabs); its cost is printed too.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 7

PRELUDE = f"""
import sys, time, json
sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / "tests" / "webui_double")!r}]
import gradio, fastapi, modules.shared, modules.script_callbacks
heavy = ("torch", "cv2", "open_clip")
before = set(sys.modules)
t0 = time.perf_counter()
"""
ENTRY = f"""
import runpy
runpy.run_path({str(ROOT / "scripts" / "textinv.py")!r})
t1 = time.perf_counter()
from modules import script_callbacks
script_callbacks.callback_map["callbacks_ui_tabs"][0]()
t2 = time.perf_counter()
new = [m for m in heavy if m in sys.modules and m not in before]
print(json.dumps({{"import_ms": (t1 - t0) * 1000, "tab_ms": (t2 - t1) * 1000, "heavy": new}}))
"""
BASE = """
t1 = time.perf_counter()
print(json.dumps({"import_ms": (t1 - t0) * 1000, "tab_ms": 0, "heavy": []}))
"""


def run(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    base = [run(PRELUDE + BASE)["import_ms"] for _ in range(RUNS)]
    ours = [run(PRELUDE + ENTRY) for _ in range(RUNS)]
    added = statistics.median(o["import_ms"] for o in ours) - statistics.median(base)
    tab = statistics.median(o["tab_ms"] for o in ours)
    heavy = sorted({m for o in ours for m in o["heavy"]})
    print(f"entry import adds {added:.1f} ms (median of {RUNS}; target ≤ 50 ms)")
    print(f"building the tab (on_ui_tabs) takes {tab:.0f} ms")
    print(f"heavy modules imported at start-up: {heavy or 'none'}")
    print(f"ratio added/target: {added / 50:.2f}")


if __name__ == "__main__":
    main()
