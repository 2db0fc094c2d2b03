"""The stages before training: scan, crop export, captions, create. Each calls the function its
step's section calls (no second implementation): the Dataset scan, Crop's export job, the
captioning job, the Embedding section's recommendation and ``create``."""

from __future__ import annotations

from typing import Any

from lib_textinv.autopilot.context import AutopilotError, Context, Failure
from lib_textinv.autopilot.state import folder_facts
from lib_textinv.captions.captioning import captioning_job
from lib_textinv.crop import work as crop_work
from lib_textinv.crop.export import ExportOptions
from lib_textinv.crop.focal import FocalWeights
from lib_textinv.dataset.scan import ScanOptions, scan_folder
from lib_textinv.embedding.create import create
from lib_textinv.embedding.folder_advice import advise
from lib_textinv.kit.host import Unavailable
from lib_textinv.kit.images import IMAGE_EXTENSIONS
from lib_textinv.kit.progress import Cancelled


# -- scan --------------------------------------------------------------------------------------
def scan_inputs(ctx: Context) -> Any:
    return {"files": folder_facts(ctx.root, IMAGE_EXTENSIONS), "size": [ctx.plan.width, ctx.plan.height]}


def scan_run(ctx: Context) -> dict:
    opts = ScanOptions(width=ctx.plan.width, height=ctx.plan.height)
    report = scan_folder(ctx.root, opts, ctx.stage_progress)
    if report.cancelled:
        raise Cancelled("stopped during the scan")
    files = [{"name": f.name, "status": f.status, "action": f.action} for f in report.files]
    return {"summary": report.summary, "files": files}


def scan_outputs(ctx: Context, result: dict) -> Any:
    return result["files"]


# -- crop --------------------------------------------------------------------------------------
def boxes(ctx: Context) -> dict[str, dict]:
    """The plan's box per usable image; refused images left out."""
    out: dict[str, dict] = {}
    for img in ctx.plan.images:
        if not img.usable:
            out[img.name] = {"excluded": True}
        else:
            out[img.name] = {"excluded": img.excluded, **({"box": img.box} if img.box else {})}
    return out


def crop_inputs(ctx: Context) -> Any:
    return {"scan": ctx.output_fp("scan"), "boxes": boxes(ctx), "size": [ctx.plan.width, ctx.plan.height]}


def crop_run(ctx: Context) -> dict:
    p = ctx.plan
    target = crop_work.check_target(ctx.host, p.folder, p.width, p.height, str(ctx.dest))
    req = crop_work.ExportRequest(target, ExportOptions(captions=True), FocalWeights(), boxes(ctx))
    summary = ctx.in_queue(crop_work.export_title(target), crop_work.export_job(ctx.host, req))
    if summary.interrupted:
        raise Cancelled("stopped during the crop export")
    if not summary.files:
        raise AutopilotError(
            "crop", "no image was exported: " + "; ".join(f"{n}: {r}" for n, r in summary.failed)
        )
    return summary.as_dict()


def crop_outputs(ctx: Context, result: dict) -> Any:
    return folder_facts(ctx.dest, IMAGE_EXTENSIONS) or None


# -- captions ----------------------------------------------------------------------------------
def captions_inputs(ctx: Context) -> Any:
    return {"crop": ctx.output_fp("crop"), "source": ctx.plan.captions}


def captions_run(ctx: Context) -> dict:
    if ctx.plan.captions == "none":
        return {"not_captioned": ctx.plan.reasons.get("captions", "off"), "captions": _captions(ctx)}
    try:
        job = captioning_job(ctx.host, ctx.dest, source=ctx.plan.captions, mode="skip")
    except Unavailable as e:
        raise AutopilotError("captions", str(e), Failure.UNAVAILABLE) from e
    run = ctx.in_queue(f"captioning {ctx.dest.name}", job)
    if run.interrupted:
        raise Cancelled("stopped during captioning")
    return {**run.to_dict(), "captions": _captions(ctx)}


def _captions(ctx: Context) -> dict[str, str]:
    from lib_textinv.captions.files import read_caption
    from lib_textinv.dataset.scan import list_images

    return {p.name: read_caption(p) or "" for p in list_images(ctx.dest)}


def captions_outputs(ctx: Context, result: dict) -> Any:
    return folder_facts(ctx.dest, (".txt",))


# -- create ------------------------------------------------------------------------------------
def create_inputs(ctx: Context) -> Any:
    p = ctx.plan
    # The training images too: new pictures get a new embedding, trained from step 0.
    images = [ctx.output_fp("crop"), ctx.output_fp("captions")]
    return {"name": p.name, "vectors": p.vectors, "init": p.init_text, "images": images}


def create_run(ctx: Context) -> dict:
    p, host = ctx.plan, ctx.host
    advice = ctx.in_queue(f"recommending for {ctx.dest.name}", lambda prog: advise(host, str(ctx.dest), prog))
    init = p.init_text or advice.init_text.text or "*"
    ours = "create" in ctx.state.stages  # a redo replaces the embedding this run made, nothing else
    res = create(
        host,
        p.name,
        p.vectors,
        init,
        ours,
        model=host.model_facts(),
        embeddings_dir=host.paths().embeddings_dir,
    )
    if not res.ok:
        raise AutopilotError("create", res.message, Failure.REFUSED if res.conflict else Failure.STAGE)
    return {
        "path": res.path,
        "vectors": res.vectors,
        "width": res.width,
        "init_text": init,
        "warnings": res.warnings,
        "advice": advice.to_dict(),
    }


def create_outputs(ctx: Context, result: dict) -> Any:
    loaded = [e for e in ctx.host.embeddings() if e.name == ctx.plan.name and e.loaded]
    return [loaded[0].name, loaded[0].vectors] if loaded else None
