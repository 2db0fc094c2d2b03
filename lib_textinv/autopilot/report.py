"""The run's report, as data: the dataset table, the crops, the captions, the parameters with their
reasons, the loss curves, the marked grid, the scores, the rule that chose the step, and the exact
text (and settings) to use in txt2img. Written into the run folder as ``report.json`` and, from the
same data, a self-contained ``report.html`` (images embedded as data URIs): a reader of the file
alone sees how the embedding was made."""

from __future__ import annotations

import base64
import datetime as _dt
import io
import json
import logging
import math
from pathlib import Path
from typing import Any

from lib_textinv.autopilot.estimates import LABELS, STAGES
from lib_textinv.autopilot.plan import Plan
from lib_textinv.autopilot.state import RunState
from lib_textinv.kit.files import atomic_write_text

logger = logging.getLogger(__name__)

REPORT_JSON, REPORT_HTML = "report.json", "report.html"
THUMB_SIDE = 160
GRID_WIDTH = 1400
PARAMETERS = (
    "size",
    "captions",
    "vectors",
    "init_text",
    "trainer",
    "steps",
    "save_every",
    "learn_rate",
    "template",
    "batch_size",
    "shuffle_tags",
    "tag_drop_out",
    "latent_sampling",
    "prompts",
    "sampling",
    "candidates",
    "trigger",
)


def to_json(value: Any) -> str:
    return json.dumps(value, indent=1, ensure_ascii=False, default=str)


def data_uri(path: str | Path, max_side: int) -> str | None:
    """``path`` as a JPEG data URI no larger than ``max_side`` (None when it cannot be read)."""
    from PIL import Image

    try:
        with Image.open(path) as opened:
            im = opened.convert("RGB")
        im.thumbnail((max_side, max_side))
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=85)
    except (OSError, ValueError) as e:
        logger.warning("%s: not embedded in the report (%s)", path, e)
        return None
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _result(state: RunState, stage: str) -> dict:
    rec = state.stages.get(stage)
    return rec.result if rec else {}


def _crops(plan: Plan) -> list[dict]:
    from lib_textinv.dataset.scan import list_images

    dest = Path(plan.run_folder) / f"{plan.width}x{plan.height}"
    if not dest.is_dir():
        return []
    return [{"name": p.name, "image": data_uri(p, THUMB_SIDE)} for p in list_images(dest)]


def _parameters(plan: Plan, state: RunState) -> dict[str, dict]:
    used_init = _result(state, "create").get("init_text")
    values = {
        "size": f"{plan.width}×{plan.height}",
        "init_text": used_init if used_init is not None else plan.init_text or "(from the captions)",
        "prompts": plan.prompts,
        "sampling": f"{plan.sampler}, {plan.sampling_steps} steps, CFG {plan.cfg_scale:g}",
    }
    out = {}
    for key in PARAMETERS:
        value = values[key] if key in values else getattr(plan, key)
        out[key] = {"value": value, "reason": plan.reasons.get(key, "")}
    return out


def _training(state: RunState) -> dict:
    from lib_textinv.train.loss_csv import FILENAME, last_run, read_loss_csv

    res = _result(state, "train")
    folder = res.get("run_folder")
    rows = last_run(read_loss_csv(Path(folder) / FILENAME)) if folder else []
    points = [[r.step, r.loss] for r in rows if math.isfinite(r.loss)]
    return {
        "run_folder": folder,
        "message": res.get("message"),
        "checkpoints": res.get("checkpoints", []),
        "loss": points,
    }


def _grid(state: RunState) -> dict:
    scores, sweep = _result(state, "scores"), _result(state, "sweep")
    path = scores.get("marked_grid") or sweep.get("grid")
    return {
        "path": path,
        "marked": bool(scores.get("marked_grid")),
        "image": data_uri(path, GRID_WIDTH) if path else None,
    }


def txt2img(plan: Plan, state: RunState) -> dict:
    """What to type in txt2img and the settings the sweep used, as the webui's paste format."""
    prompt = _result(state, "promote").get("text_to_type") or ""
    seed = plan.seeds[0] if plan.seeds else -1
    lines = [prompt]
    if plan.negative_prompt:
        lines.append(f"Negative prompt: {plan.negative_prompt}")
    lines.append(
        f"Steps: {plan.sampling_steps}, Sampler: {plan.sampler}, CFG scale: {plan.cfg_scale:g}, "
        f"Seed: {seed}, Size: {plan.width}x{plan.height}"
    )
    return {"prompt": prompt, "infotext": "\n".join(lines) if prompt else ""}


def _stages(plan: Plan, state: RunState) -> list[dict]:
    from lib_textinv.autopilot.report_text import decision

    out = []
    for s in STAGES:
        rec = state.stages.get(s)
        out.append(
            {
                "stage": s,
                "label": LABELS[s],
                "finished": rec is not None,
                "seconds": rec.seconds if rec else None,
                "decision": decision(s, rec.result, plan) if rec else "not run yet",
            }
        )
    return out


def build(plan: Plan, state: RunState) -> dict[str, Any]:
    prescore, scores = _result(state, "prescore"), _result(state, "scores")
    return {
        "version": 1,
        "name": plan.name,
        "kind": plan.kind,
        "folder": plan.folder,
        "run_folder": plan.run_folder,
        "made": _dt.datetime.now().isoformat(timespec="seconds"),
        "stages": _stages(plan, state),
        "dataset": {
            "summary": _result(state, "scan").get("summary"),
            "images": [vars(i) for i in plan.images],
        },
        "crops": _crops(plan),
        "captions": _result(state, "captions").get("captions", {}),
        "parameters": _parameters(plan, state),
        "training": _training(state),
        "fixed_loss": {
            **(prescore.get("loss") or {}),
            "candidates": prescore.get("candidates"),
            "why": prescore.get("why"),
        },
        "grid": _grid(state),
        "scores": {"checkpoints": scores.get("checkpoints", []), "problems": scores.get("problems", [])},
        "choice": _result(state, "choose"),
        "promoted": _result(state, "promote"),
        "txt2img": txt2img(plan, state),
    }


def write(plan: Plan, state: RunState) -> dict[str, Any]:
    """Write ``report.json`` and ``report.html`` into the run folder; returns the report."""
    from lib_textinv.autopilot.report_html import render_page

    data = build(plan, state)
    folder = Path(plan.run_folder)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder / REPORT_JSON, to_json(data))
    atomic_write_text(folder / REPORT_HTML, render_page(data))
    return data


def read(run_folder: str | Path) -> dict[str, Any] | None:
    try:
        data = json.loads((Path(run_folder) / REPORT_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def summary(data: dict[str, Any]) -> dict[str, Any]:
    """The few values a job result carries (the report itself is a file and a GET)."""
    folder = Path(data["run_folder"])
    promoted = data.get("promoted") or {}
    return {
        "run_folder": str(folder),
        "report_json": str(folder / REPORT_JSON),
        "report_html": str(folder / REPORT_HTML),
        "trigger": promoted.get("token"),
        "step": (data.get("choice") or {}).get("step"),
        "text_to_type": data["txt2img"]["prompt"],
    }
