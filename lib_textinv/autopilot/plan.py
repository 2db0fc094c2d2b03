"""An autopilot plan: every decision of a run, each with its reason, before anything runs.

``Plan`` is plain data (JSON both ways). The user may change any of its values (``apply_edits``:
the tab's fields and the API's ``edits`` go through ``EDITABLE``, the one table of what can be
changed and how it is checked); ``plan_errors`` says what stops a Run."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import asdict, dataclass, field
from typing import Any

KINDS = ("style", "subject")
CAPTION_SOURCES = ("blip", "none")
# The comparison prompts per kind ("{}" marks the trigger): a style is asked to paint other
# subjects, a subject is put into other scenes.
PROMPTS = {
    "style": ("drawing of a cat, {}", "a portrait of a woman, {}", "a landscape, {}", "a city street, {}"),
    "subject": ("a photo of {}", "{} on a beach", "a painting of {}", "{} in a forest"),
}
SEEDS = (1234,)
CANDIDATES = 4  # checkpoints the sweep generates images for (the fixed-batch loss picks them)
TOLERANCE = 0.05  # the Scores rule's CLIP-T tolerance


@dataclass
class ImageDecision:
    name: str
    usable: bool
    why: str  # what the scan decided ("use (rotate)") or why it refused the file
    box: list[int] | None = None  # [x, y, w, h] in upright source pixels (Crop's Auto)
    size: list[int] | None = None  # the upright source size
    excluded: bool = False  # usable, but left out by the user


@dataclass
class Estimate:
    stage: str
    seconds: float
    how: str  # where the number comes from (measured here, the last run, the warm-up, a guess)


@dataclass
class Plan:
    folder: str
    name: str
    kind: str
    run_folder: str
    width: int
    height: int
    images: list[ImageDecision] = field(default_factory=list)
    budget_minutes: float | None = None
    captions: str = "blip"
    vectors: int = 2
    init_text: str = ""  # "" = the Embedding section's suggestion from the captions, at Run
    trainer: str = "own"  # train.params TRAINERS: ours, or the webui's Train-tab function
    steps: int = 1500
    save_every: int = 50
    learn_rate: str = "0.005"
    template: str = "style_filewords.txt"
    batch_size: int = 1
    gradient_step: int = 1
    shuffle_tags: bool = True
    tag_drop_out: float = 0.1
    latent_sampling: str = "deterministic"
    prompts: list[str] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)
    negative_prompt: str = ""
    sampler: str = "Euler a"
    sampling_steps: int = 20
    cfg_scale: float = 7.0
    candidates: int = CANDIDATES
    tolerance: float = TOLERANCE
    trigger: str = ""  # "" = <name>-<chosen step>, made clash-free when promoting
    reasons: dict[str, str] = field(default_factory=dict)
    rates: dict[str, list[Any]] = field(default_factory=dict)  # stage → [seconds per unit, how]
    estimates: list[Estimate] = field(default_factory=list)
    disk_bytes: int = 0
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def kept(self) -> list[ImageDecision]:
        """The images the run trains on."""
        return [i for i in self.images if i.usable and not i.excluded]

    @property
    def total_seconds(self) -> float:
        return sum(e.seconds for e in self.estimates)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Plan:
        """A plan from its JSON; ``ValueError`` naming an unknown or malformed field."""
        if not isinstance(d, dict):
            raise ValueError("a plan is a JSON object")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"plan: unknown field(s) {', '.join(unknown)}")
        try:
            values = dict(d)
            values["images"] = [ImageDecision(**i) for i in d.get("images", [])]
            values["estimates"] = [Estimate(**e) for e in d.get("estimates", [])]
            plan = cls(**values)
        except TypeError as e:
            raise ValueError(f"plan: {e}") from e
        _check_types(plan)
        return plan


# -- what a user may change --------------------------------------------------------------------


@dataclass(frozen=True)
class Editable:
    kind: type
    lo: float | None = None
    hi: float | None = None
    choices: tuple[str, ...] = ()
    label: str = ""


EDITABLE: dict[str, Editable] = {
    "kind": Editable(str, choices=KINDS, label="What it is"),
    "budget_minutes": Editable(float, 0, 10_000, label="Time budget (minutes, 0 = none)"),
    "captions": Editable(str, choices=CAPTION_SOURCES, label="Captions"),
    "vectors": Editable(int, 1, 75, label="Vectors"),
    "init_text": Editable(str, label="Initialization text (empty: from the captions)"),
    "trainer": Editable(str, choices=("own", "webui"), label="Trainer"),
    "steps": Editable(int, 1, 1_000_000, label="Training steps"),
    "save_every": Editable(int, 1, 1_000_000, label="Save a checkpoint every N steps"),
    "learn_rate": Editable(str, label="Learning rate (or schedule)"),
    "template": Editable(str, label="Prompt template"),
    "batch_size": Editable(int, 1, 1024, label="Batch size"),
    "gradient_step": Editable(int, 1, 1024, label="Gradient accumulation"),
    "shuffle_tags": Editable(bool, label="Shuffle tags"),
    "tag_drop_out": Editable(float, 0, 1, label="Tag drop-out"),
    "latent_sampling": Editable(str, choices=("once", "deterministic", "random"), label="Latent sampling"),
    "prompts": Editable(list, label="Comparison prompts ({} marks the trigger)"),
    "seeds": Editable(list, label="Seeds of the comparison grid"),
    "negative_prompt": Editable(str, label="Negative prompt"),
    "sampler": Editable(str, label="Sampler"),
    "sampling_steps": Editable(int, 1, 150, label="Sampling steps"),
    "cfg_scale": Editable(float, 1, 30, label="CFG scale"),
    "candidates": Editable(int, 1, 16, label="Checkpoints to compare"),
    "tolerance": Editable(float, 0, 0.5, label="CLIP-T tolerance"),
    "trigger": Editable(str, label="Trigger (empty: <name>-<step>)"),
    "images": Editable(dict, label="Per image: {name: {box, excluded}}"),
}


def _coerce(key: str, value: Any) -> Any:
    spec = EDITABLE[key]
    if spec.kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if spec.kind is int and isinstance(value, float) and value.is_integer():
        value = int(value)
    if spec.kind is str and value is None:
        value = ""
    ok = isinstance(value, spec.kind) and (spec.kind is bool or not isinstance(value, bool))
    if not ok:
        raise ValueError(f"{key}: expected {spec.kind.__name__}, got {type(value).__name__} {value!r}")
    if spec.choices and value not in spec.choices:
        raise ValueError(f"{key}: one of {', '.join(spec.choices)}, got {value!r}")
    if spec.lo is not None and spec.hi is not None and not spec.lo <= value <= spec.hi:
        raise ValueError(f"{key}: between {spec.lo:g} and {spec.hi:g}, got {value}")
    return value


def _check_types(plan: Plan) -> None:
    """Every value of a plan given whole has the type its field needs (ValueError naming it)."""
    for key in EDITABLE:
        if key not in ("images", "budget_minutes"):
            _coerce(key, getattr(plan, key))
    for key in ("folder", "name", "run_folder"):
        if not isinstance(getattr(plan, key), str):
            raise ValueError(f"{key}: expected a string")
    for key in ("width", "height"):
        if not isinstance(getattr(plan, key), int) or not 64 <= getattr(plan, key) <= 4096:
            raise ValueError(f"{key}: a whole number from 64 to 4096")
    if plan.budget_minutes is not None:
        _coerce("budget_minutes", plan.budget_minutes)
    if not all(isinstance(s, int) and not isinstance(s, bool) for s in plan.seeds):
        raise ValueError("seeds: whole numbers")
    if not all(isinstance(p, str) for p in plan.prompts):
        raise ValueError("prompts: strings")
    if not isinstance(plan.rates, dict) or not isinstance(plan.reasons, dict):
        raise ValueError("rates and reasons: objects")
    for stage, rate in plan.rates.items():
        ok = isinstance(rate, list) and len(rate) == 2 and isinstance(rate[0], int | float) and rate[0] >= 0
        if not ok or not math.isfinite(rate[0]):
            raise ValueError(f"rates[{stage!r}]: [seconds per unit, where it comes from]")


def _edit_images(plan: Plan, edits: dict[str, Any]) -> list[ImageDecision]:
    by_name = {i.name: i for i in plan.images}
    out = [dataclasses.replace(i) for i in plan.images]
    index = {i.name: n for n, i in enumerate(out)}
    for name, change in edits.items():
        if name not in by_name:
            raise ValueError(f"images: no image {name!r} in the plan")
        if not isinstance(change, dict) or set(change) - {"box", "excluded"}:
            raise ValueError(f"images[{name!r}]: give {{'box': [x, y, w, h]}} and/or {{'excluded': bool}}")
        img = out[index[name]]
        if "excluded" in change:
            img.excluded = bool(change["excluded"])
        if change.get("box") is not None:
            box = change["box"]
            if not (isinstance(box, list) and len(box) == 4 and all(isinstance(v, int) for v in box)):
                raise ValueError(f"images[{name!r}].box: four whole numbers [x, y, w, h]")
            img.box = list(box)
    return out


def apply_edits(plan: Plan, edits: dict[str, Any]) -> Plan:
    """``plan`` with the user's ``edits`` (``EDITABLE`` keys); ``ValueError`` naming a bad one.
    The reason of each changed value says the user chose it."""
    changes: dict[str, Any] = {}
    for key, value in edits.items():
        if key not in EDITABLE:
            raise ValueError(f"{key}: not a value a plan lets you change")
        if key == "images":
            changes["images"] = _edit_images(plan, _coerce(key, value))
        elif key == "budget_minutes":
            changes[key] = _coerce(key, value) or None
        else:
            changes[key] = _coerce(key, value)
    if "prompts" in changes:
        changes["prompts"] = [str(p).strip() for p in changes["prompts"] if str(p).strip()]
    if "seeds" in changes:
        changes["seeds"] = [int(s) for s in changes["seeds"]]
    reasons = dict(plan.reasons)  # a value given is the user's choice, even when it is the same
    reasons.update(dict.fromkeys((k for k in changes if k != "images"), "chosen by you"))
    return dataclasses.replace(plan, **changes, reasons=reasons)


def plan_errors(plan: Plan) -> list[str]:
    """What stops a Run of this plan (beyond ``plan.errors`` found while planning)."""
    errors = list(plan.errors)
    if not plan.kept:
        errors.append("no usable image is left to train on")
    if plan.save_every > plan.steps:
        errors.append(f"save_every {plan.save_every} is more than the {plan.steps} steps: no checkpoint")
    if not plan.prompts:
        errors.append("give at least one comparison prompt")
    if not plan.seeds:
        errors.append("give at least one seed")
    if any(not 0 <= s <= 2**32 - 1 for s in plan.seeds):
        errors.append("seeds are fixed numbers from 0 to 4294967295")
    return errors
