"""One sentence per stage: what it decided, in words (the report's stage table, the tab's status)."""

from __future__ import annotations

from collections.abc import Callable

from lib_textinv.autopilot.plan import Plan


def _scan(r: dict, plan: Plan) -> str:
    return r.get("summary", "")


def _crop(r: dict, plan: Plan) -> str:
    up = f", {len(r.get('upscaled', []))} upscaled" if r.get("upscaled") else ""
    failed = f", {len(r.get('failed', []))} failed" if r.get("failed") else ""
    return f"{len(r.get('written', []))} images cropped to {plan.width}×{plan.height}{up}{failed}"


def _captions(r: dict, plan: Plan) -> str:
    if "not_captioned" in r:
        return f"not captioned: {r['not_captioned']}"
    return f"{len(r.get('written', []))} captioned, {len(r.get('skipped', []))} kept their caption"


def _create(r: dict, plan: Plan) -> str:
    return f"{plan.name}: {r.get('vectors')} vectors × {r.get('width')}, starting from “{r.get('init_text')}”"


def _train(r: dict, plan: Plan) -> str:
    return f"{r.get('message', '')} ({len(r.get('checkpoints', []))} checkpoints)"


def _prescore(r: dict, plan: Plan) -> str:
    text = f"candidates {r.get('candidates')}: {r.get('why', '')}"
    return text + (f" — {r['problem']}" if r.get("problem") else "")


def _sweep(r: dict, plan: Plan) -> str:
    return f"{r.get('done')} images in a grid ({r.get('grid')})"


def _scores(r: dict, plan: Plan) -> str:
    rows = r.get("checkpoints", [])
    return f"{len(rows)} checkpoints scored" + (f"; {len(r['problems'])} notes" if r.get("problems") else "")


def _choose(r: dict, plan: Plan) -> str:
    return f"{r.get('rule', '')} {r.get('why', '')}".strip()


def _promote(r: dict, plan: Plan) -> str:
    return f"{r.get('token')} saved as {r.get('path')}: {r.get('trigger_reason', '')}"


DECISIONS: dict[str, Callable[[dict, Plan], str]] = {
    "scan": _scan,
    "crop": _crop,
    "captions": _captions,
    "create": _create,
    "train": _train,
    "prescore": _prescore,
    "sweep": _sweep,
    "scores": _scores,
    "choose": _choose,
    "promote": _promote,
}


def decision(stage: str, result: dict, plan: Plan) -> str:
    return DECISIONS[stage](result, plan)
