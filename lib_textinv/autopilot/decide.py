"""Making a plan: scan the folder, propose the crop boxes, and take every other decision from the
rules the sections use (the model's native size, the recommended vectors, the dataset presets, the
Create name check, the comparison defaults), each with its reason; then the time and disk estimates.
The scan and the crop boxes are real work (a job through ``kit.longwork``: ``make_plan`` runs
inside it), so the plan shows what the run will really see."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

from lib_textinv.autopilot import estimates
from lib_textinv.autopilot.args import gen_params, train_args
from lib_textinv.autopilot.plan import PROMPTS, SEEDS, ImageDecision, Plan
from lib_textinv.autopilot.state import load_state
from lib_textinv.compare.section import txt2img_defaults
from lib_textinv.crop.auto import Proposal, propose_boxes
from lib_textinv.crop.focal import FocalWeights
from lib_textinv.crop.plan import check_side, check_target
from lib_textinv.dataset.scan import ScanOptions, ScanReport, scan_folder
from lib_textinv.dataset.work import checked_source
from lib_textinv.embedding.create import check_request
from lib_textinv.embedding.names import file_name_errors
from lib_textinv.embedding.recommend import recommend
from lib_textinv.kit.host import Host, Unavailable
from lib_textinv.kit.progress import Progress
from lib_textinv.train.preflight import estimate_bytes
from lib_textinv.train.presets import TEMPLATES, DatasetFacts, ImageFacts, suggest_presets

RUN_PREFIX = "textinv-autopilot-"
PLAN_KEY = "autopilot-plan"


@dataclass(frozen=True)
class PlanRequest:
    folder: str
    name: str
    kind: str = "style"
    budget_minutes: float | None = None
    warmup: bool = True  # time one short image at the sweep's settings when the host can generate
    size: int | None = None  # the training size (a multiple of 64); None: the model's native size


def run_folder_for(source: Path, name: str) -> Path:
    """Where a run keeps its crops, state and report: a new folder inside the source folder (the
    source's own files are never written)."""
    return source / f"{RUN_PREFIX}{name}"


def crop_folder(plan: Plan) -> Path:
    return Path(plan.run_folder) / f"{plan.width}x{plan.height}"


def model_key(host: Host, plan: Plan) -> str:
    """What measured rates are kept under: the model and the training size."""
    facts = host.model_facts()
    return f"{facts.short_hash or facts.name or facts.family}@{plan.width}x{plan.height}"


def _images(scan: ScanReport, proposals: list[Proposal]) -> list[ImageDecision]:
    boxes = {p.name: p for p in proposals}
    out = []
    for f in scan.files:
        prop = boxes.get(f.name)
        shown = (prop.box or prop.auto) if prop else None
        usable = f.usable and shown is not None
        notes = "; ".join(p.message for p in f.problems)
        why = f"{f.action}: {notes}" if f.usable and notes else f.action.removeprefix("skipped: ")
        # The same picture twice would be trained on twice as often: the later one is left out.
        duplicate = any(p.code == "near_duplicate" for p in f.problems)
        if usable and duplicate:
            why = f"left out (take it back in “Leave out”): {notes}"
        if f.usable and shown is None:
            why = f"no crop box: {prop.error if prop and prop.error else 'not analysed'}"
        out.append(
            ImageDecision(
                name=f.name,
                usable=usable,
                why=why,
                box=shown.as_list() if shown else None,
                size=list(prop.size) if prop and prop.size else None,
                excluded=bool(usable and (duplicate or (prop and prop.excluded))),
            )
        )
    return out


def _look(host: Host, root: Path, size: tuple[int, int], dest: Path, progress: Progress):
    """(images, measured rates): the Dataset scan and Crop's Auto, timed."""
    t0 = time.monotonic()
    scan = scan_folder(root, ScanOptions(width=size[0], height=size[1]), progress)
    t1 = time.monotonic()
    proposals, _notes = propose_boxes(root, size, dest, FocalWeights(), progress)
    t2 = time.monotonic()
    n = max(1, len(scan.files))
    rates = {
        "scan": [(t1 - t0) / n, "measured: this plan's scan"],
        # The export decodes, crops, resizes and encodes: about twice Auto's analysis.
        "crop": [2 * (t2 - t1) / n, "measured: twice this plan's crop-box analysis (export also writes)"],
    }
    return _images(scan, proposals), rates


def _captions(host: Host, plan: Plan) -> None:
    ok, why = host.feature("caption")
    if ok:
        plan.captions = "blip"
        plan.reasons["captions"] = (
            "BLIP captions for every image (the tutorial's advice), kept where a caption file exists"
        )
    else:
        plan.captions = "none"
        plan.reasons["captions"] = f"no captioning here ({why}): the images' own caption files, if any"


def _vectors(host: Host, plan: Plan) -> None:
    facts = host.model_facts()
    family = facts.family if facts.loaded else "none"
    rec = recommend(len(plan.kept), None, family, facts.embedding_width, "not measured while planning")
    plan.vectors = rec.vectors
    plan.reasons["vectors"] = rec.explanation
    plan.reasons["init_text"] = (
        "empty: when Run reaches Create, the Embedding section's suggestion from the captions' common "
        "words (or “*” when there is none)"
    )


def _presets(host: Host, plan: Plan) -> None:
    """The Train section's presets, for the images the crop will write (all at the training size,
    captioned when captions are made)."""
    dest = crop_folder(plan)
    captioned = plan.captions != "none"
    facts = DatasetFacts(
        dest,
        [ImageFacts(dest / i.name, (plan.width, plan.height), None, captioned, False) for i in plan.kept],
    )
    p = suggest_presets(facts, plan.kind)
    v = p.values
    plan.steps, plan.save_every, plan.learn_rate = v["steps"], v["save_embedding_every"], v["learn_rate"]
    plan.template, plan.batch_size, plan.gradient_step = (
        v["template_filename"],
        v["batch_size"],
        v["gradient_step"],
    )
    plan.shuffle_tags, plan.tag_drop_out = v["shuffle_tags"], v["tag_drop_out"]
    plan.latent_sampling = v["latent_sampling_method"]
    names = {
        "steps": "steps",
        "save_embedding_every": "save_every",
        "learn_rate": "learn_rate",
        "template_filename": "template",
        "batch_size": "batch_size",
        "shuffle_tags": "shuffle_tags",
        "tag_drop_out": "tag_drop_out",
        "latent_sampling_method": "latent_sampling",
    }
    for field_name, key in names.items():
        if field_name in p.reasons:
            plan.reasons[key] = p.reasons[field_name]
    templates = host.templates()
    if templates and plan.template not in templates:
        plan.warnings.append(
            f"the webui has no prompt template {plan.template}: choose one of {', '.join(sorted(templates))}"
        )


def _trainer(host: Host, plan: Plan) -> None:
    """Our trainer (the Train section's default) when the host can drive the loaded model with it,
    else the webui's Train-tab function."""
    try:
        host.train_model()
    except Unavailable as e:
        plan.trainer = "webui"
        plan.reasons["trainer"] = f"the webui's trainer: ours cannot run here ({e})"
        return
    plan.trainer = "own"
    plan.reasons["trainer"] = (
        "ours (the Train section's default): SD1, SD2 and SDXL, never a NaN checkpoint, its own "
        "fixed-batch loss"
    )


def _comparison(host: Host, plan: Plan) -> None:
    plan.prompts, plan.seeds = list(PROMPTS[plan.kind]), list(SEEDS)
    d = txt2img_defaults(host)
    plan.sampler, plan.sampling_steps, plan.cfg_scale = (
        str(d["sampler"]),
        int(d["steps"]),
        float(d["cfg_scale"]),
    )
    plan.reasons["prompts"] = (
        f"the {plan.kind} comparison prompts: "
        + ("other subjects in the style" if plan.kind == "style" else "the subject in other scenes")
        + f"; fixed seed{'s' if len(plan.seeds) > 1 else ''} so every column differs only by its checkpoint"
    )
    plan.reasons["sampling"] = "txt2img's saved defaults (sampler, steps, CFG), at the training size"
    plan.reasons["candidates"] = (
        f"images only for up to {plan.candidates} checkpoints: those where the fixed-batch loss has "
        "flattened (Scores' pre-selection), so generation is spent where a choice is to be made"
    )
    plan.reasons["trigger"] = (
        "<name>-<chosen step>, changed to a name whose tokens clash with no loaded embedding's if needed"
    )


def _check_name(host: Host, plan: Plan) -> None:
    """The Create section's checks. An embedding this run created earlier is not a clash: Resume
    and a second Run continue with it."""
    ours = "create" in load_state(plan.run_folder).stages
    check = check_request(
        host,
        plan.name,
        plan.vectors,
        "*",
        ours,
        model=host.model_facts(),
        embeddings_dir=host.paths().embeddings_dir,
    )
    plan.errors += check.errors
    plan.warnings += [w for w in check.warnings if "initialization text" not in w]


def _warmup(host: Host, plan: Plan, progress: Progress) -> dict[str, list]:
    """One image at the sweep's settings, timed (the model stages' rates follow from it)."""
    ok, _why = host.feature("generate")
    if not ok:
        return {}
    progress.set_text("warm-up: one short image at the sweep's settings")
    params = dataclasses.replace(gen_params(plan), steps=min(plan.sampling_steps, estimates.WARMUP_STEPS))
    t0 = time.monotonic()
    try:
        host.generate(["a photo"], [SEEDS[0]], params)
    except (Unavailable, RuntimeError, ValueError) as e:
        plan.warnings.append(f"the warm-up image failed ({e}): the model stages' times are guesses")
        return {}
    return estimates.from_warmup(time.monotonic() - t0, params.steps, plan)


def _follow(plan: Plan) -> None:
    """Decisions that follow others the user changed, unless the user chose them too: the template
    follows the kind and whether captions are made; the comparison prompts follow the kind."""
    with_filewords, without = TEMPLATES[plan.kind]
    if plan.reasons.get("template") != "chosen by you":
        wanted = with_filewords if plan.captions != "none" else without
        if plan.template != wanted:
            plan.template = wanted
            plan.reasons["template"] = f"{plan.kind}: {wanted}" + (
                " (captions are made)" if plan.captions != "none" else " (no captions are made)"
            )
    defaults = [list(p) for p in PROMPTS.values()]
    if plan.reasons.get("prompts") != "chosen by you" and plan.prompts in defaults:
        plan.prompts = list(PROMPTS[plan.kind])


def refresh(host: Host, plan: Plan) -> Plan:
    """Estimates, the budget's steps and the disk for ``plan`` as it now is (after edits too)."""
    _follow(plan)
    if plan.reasons.get("steps") != "chosen by you":
        fit = estimates.fit_budget(plan)
        if fit is not None:
            plan.steps, plan.reasons["steps"] = fit
    plan.estimates = estimates.estimate(plan)
    try:
        args = train_args(plan, str(crop_folder(plan)), str(Path(plan.run_folder) / "training"))
        train_bytes = estimate_bytes(
            args,
            plan.vectors,
            host.model_facts().embedding_width or 768,
            0,
            plan.steps,
            bool(host.webui_option("save_optimizer_state", False)),
        )
    except TypeError:
        train_bytes = 0
    plan.disk_bytes = estimates.disk_bytes(plan, train_bytes)
    return plan


def make_plan(host: Host, req: PlanRequest, progress: Progress | None = None) -> Plan:
    """The plan for ``req``; ``ValueError``/``Forbidden`` for an unusable folder or name."""
    progress = progress or Progress()
    bad = file_name_errors(req.name) if req.name.strip() else ["give the embedding a name"]
    if bad:
        raise ValueError(f"name {req.name!r}: " + " ".join(bad))
    root = checked_source(host, req.folder)
    facts = host.model_facts()
    side = facts.native_resolution if facts.loaded and facts.native_resolution else 512
    plan = Plan(root.as_posix(), req.name, req.kind, str(run_folder_for(root, req.name)), side, side)
    plan.budget_minutes = req.budget_minutes or None
    plan.reasons["size"] = (
        f"{side}×{side}: the loaded model's native size" if facts.loaded else "512×512: no model is loaded"
    )
    if req.size:
        plan.width = plan.height = side = check_side(check_target(req.size, req.size)[0])
        plan.reasons["size"] = "chosen by you"
    plan.images, measured = _look(host, root, (side, side), crop_folder(plan), progress)
    _captions(host, plan)
    _vectors(host, plan)
    _presets(host, plan)
    _trainer(host, plan)
    _comparison(host, plan)
    _check_name(host, plan)
    rates = estimates.load_rates(host.state_file(estimates.RATES_FILE), model_key(host, plan))
    model_rates_known = all(s in rates for s in ("train", "prescore", "sweep"))
    warm = _warmup(host, plan, progress) if req.warmup and not model_rates_known else {}
    plan.rates = {**warm, **rates, **measured}
    return refresh(host, plan)
