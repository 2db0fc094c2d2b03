"""How long each stage of a plan will take on this machine, and the disk it needs.

Each stage has a unit (images, steps, checkpoints, cells) and a rate in seconds per unit, from the
best source there is: measured in this plan (the scan and the crop boxes just ran), measured in the
last autopilot run with this model (kept in a small state file), derived from the plan's warm-up
image (one generation at the sweep's settings, converted by how many denoiser passes each unit
costs), else a guess that says so. A time budget shortens training, the one stage that scales
freely, to fit.
"""

from __future__ import annotations

import json
import logging
import math
import os
from pathlib import Path
from typing import Any

from lib_textinv.autopilot.plan import Estimate, Plan
from lib_textinv.kit.files import atomic_write_text

logger = logging.getLogger(__name__)

STAGES = ("scan", "crop", "captions", "create", "train", "prescore", "sweep", "scores", "choose", "promote")
LABELS = {
    "scan": "Scan the folder",
    "crop": "Crop and resize",
    "captions": "Caption",
    "create": "Create the embedding",
    "train": "Train",
    "prescore": "Fixed-batch loss of every checkpoint",
    "sweep": "Images of the candidate checkpoints",
    "scores": "CLIP, loss and drift scores",
    "choose": "Choose the step",
    "promote": "Promote under a new trigger",
}
MODEL_STAGES = ("captions", "train", "prescore", "sweep", "scores")  # model work, for the bench
RATES_FILE = "autopilot-rates.json"

# Denoiser passes per unit, to turn the warm-up image's time into the others' rates.
FIXED_BATCH_SAMPLES = 16  # scores.fixed_loss: 8 images × 2 repeats, one pass each
TRAIN_PASSES = 3  # a training step: one forward and a backward (about two forwards) per image
WARMUP_STEPS = 4  # sampling steps of the warm-up image: short, the passes scale linearly
VAE_PASSES = 2  # decoding an image costs about two denoiser passes at these sizes
# Guesses, used only with nothing measured: seconds per unit on a CPU.
GUESS = {
    "scan": 0.05,
    "crop": 0.2,
    "captions": 3.0,
    "create": 2.0,
    "train": 1.0,
    "prescore": 4.0,
    "sweep": 10.0,
    "scores": 0.5,
    "choose": 0.0,
    "promote": 1.0,
}


def units(plan: Plan) -> dict[str, float]:
    """How many units of work each stage has under ``plan``."""
    kept = len(plan.kept)
    cells = (
        min(plan.candidates, max(1, plan.steps // max(1, plan.save_every)))
        * len(plan.prompts)
        * max(1, len(plan.seeds))
    )
    return {
        "scan": len(plan.images),
        "crop": kept,
        "captions": kept if plan.captions != "none" else 0,
        "create": 1,
        "train": plan.steps,
        "prescore": plan.steps // max(1, plan.save_every),
        "sweep": cells,
        "scores": cells,
        "choose": 0,
        "promote": 1,
    }


def from_warmup(image_seconds: float, steps: int, plan: Plan) -> dict[str, list[Any]]:
    """Rates of the model stages from one warm-up image of ``steps`` sampling steps at the
    sweep's size: the time of one denoiser pass, times the passes of each unit."""
    per_pass = image_seconds / (2 * steps + VAE_PASSES)  # CFG: a conditional and an unconditional pass
    how = f"from the warm-up image ({image_seconds:.2f} s for {steps} sampling steps)"
    image = per_pass * (2 * plan.sampling_steps + VAE_PASSES)
    return {
        "sweep": [image, how],
        "train": [per_pass * TRAIN_PASSES * plan.batch_size * plan.gradient_step, how],
        "prescore": [per_pass * FIXED_BATCH_SAMPLES, how],
        "scores": [per_pass, how],
    }


def estimate(plan: Plan) -> list[Estimate]:
    """Seconds per stage from ``plan.rates`` (a guess where there is none)."""
    out = []
    for stage, n in units(plan).items():
        rate, how = plan.rates.get(stage) or [GUESS[stage], "a guess: nothing measured yet"]
        out.append(Estimate(stage, round(float(rate) * n, 2), how))
    return out


def fit_budget(plan: Plan) -> tuple[int, str] | None:
    """(steps, reason) that bring the plan's total under its budget; None when it fits or has none."""
    if not plan.budget_minutes:
        return None
    budget = plan.budget_minutes * 60
    est = {e.stage: e.seconds for e in estimate(plan)}
    total = sum(est.values())
    if total <= budget:
        return None
    per_step = est["train"] / max(1, plan.steps)
    # Fewer steps also mean fewer checkpoints to pre-score: count that share with training.
    per_step += est["prescore"] / max(1, plan.steps)
    room = budget - (total - est["train"] - est["prescore"])
    steps = int(room / per_step) // plan.save_every * plan.save_every if per_step > 0 else plan.steps
    steps = max(2 * plan.save_every, steps)
    reason = (
        f"shortened from {plan.steps} to fit the {plan.budget_minutes:g}-minute budget "
        f"(about {per_step:.2f} s per step)"
    )
    if steps * per_step > room:
        reason += "; even this does not fit: the budget is too small for the other stages"
    return steps, reason


def disk_bytes(plan: Plan, train_bytes: int) -> int:
    """Crops (PNG, about half the raw size), the training run, the sweep's cells, grid and marked
    grid, and the report (thumbnails and a smaller grid)."""
    image = plan.width * plan.height * 3 // 2
    cells = units(plan)["sweep"]
    crops = len(plan.kept) * image
    sweep = cells * image * 3  # cells, the grid, the marked grid
    report = len(plan.kept) * 30_000 + image
    return int(crops + train_bytes + sweep + report)


def seconds_text(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


# -- rates measured by earlier runs ------------------------------------------------------------


def load_rates(path: str | None, model: str) -> dict[str, list[Any]]:
    """Rates the last run with ``model`` measured ({} when none)."""
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        rates = data.get(model, {})
        how = "measured in the last autopilot run with this model and size"
        return {s: [float(r), how] for s, r in rates.items()}
    except (OSError, ValueError, AttributeError, TypeError):
        return {}


def save_rates(path: str | None, model: str, measured: dict[str, float]) -> None:
    """Keep this run's rates (seconds per unit of the stages that ran) for the next plan."""
    if not path or not measured:
        return
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8")) if os.path.exists(path) else {}
        if not isinstance(data, dict):
            data = {}
        data.setdefault(model, {}).update({s: r for s, r in measured.items() if math.isfinite(r)})
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(data, indent=1))
    except (OSError, ValueError) as e:  # only the next plan's estimate is worse
        logger.warning("could not keep the measured rates in %s: %s", path, e)
