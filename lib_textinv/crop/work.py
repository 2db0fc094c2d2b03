"""Crop's two long actions, defined once for the tab and the API: Auto (a box per image) and
Export. Each request is checked before a job starts (a bad one fails at once, naming the field);
the job runs through ``kit.longwork`` under one key per action, so the tab's Stop and
``DELETE /jobs/{id}`` end the same job, within one image per worker."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lib_textinv.crop import plan
from lib_textinv.crop import sidecar as crop_sidecar
from lib_textinv.crop.auto import Proposal, propose_boxes
from lib_textinv.crop.export import ExportOptions, ExportSummary, export_folder
from lib_textinv.crop.focal import FocalWeights
from lib_textinv.crop.upscalers import check_name, upscaler_for
from lib_textinv.dataset.scan import list_images
from lib_textinv.kit import files as fsio
from lib_textinv.kit import longwork
from lib_textinv.kit.folder_guard import checked_folder
from lib_textinv.kit.host import Host
from lib_textinv.kit.jobs import Job
from lib_textinv.kit.progress import Progress

AUTO_KEY, EXPORT_KEY = "crop-auto", "crop-export"


@dataclass(frozen=True)
class Target:
    """A checked source folder, target size and destination (never the source itself)."""

    source: Path
    size: tuple[int, int]
    destination: Path


def check_target(host: Host, folder: str, width: int, height: int, destination: str | None) -> Target:
    """Raises ValueError (also ``fsio.UnsafeDestination``, a relative folder) naming what is wrong,
    or ``Forbidden`` for a folder outside the allowed ones of a webui reachable from other machines."""
    access = host.file_access()
    source = fsio.resolve_existing_dir(checked_folder(folder, access, "source folder"))
    size = plan.check_target(width, height)
    if destination:
        dest = checked_folder(destination, access, "destination folder")
    else:
        dest = checked_folder(plan.default_destination(source, *size), access, "destination folder")
    plan.check_destination(source, dest, list_images(source))
    return Target(source, size, dest)


@dataclass(frozen=True)
class AutoRequest:
    target: Target
    weights: FocalWeights
    preview_side: int = 0  # >0: a JPEG-sized preview per image for the editor


@dataclass(frozen=True)
class ExportRequest:
    target: Target
    options: ExportOptions
    weights: FocalWeights
    boxes: dict[str, Any] | None = None  # name → {"box": [x, y, w, h], "excluded": bool}


def auto_job(req: AutoRequest) -> Callable[[Progress], tuple[list[Proposal], list[str]]]:
    t = req.target
    return lambda p: propose_boxes(t.source, t.size, t.destination, req.weights, p, req.preview_side)


def export_job(host: Host, req: ExportRequest) -> Callable[[Progress], ExportSummary]:
    """Checks the upscaler and the destination's crops.json now (a bad one fails before the job),
    then exports in the job."""
    upscaler = upscaler_for(host)
    check_name(req.options.upscaler, upscaler)
    t = req.target
    crop_sidecar.load_for_export(t.destination)  # an unusable crops.json: refused before the job
    return lambda p: export_folder(
        t.source, t.size, t.destination, req.boxes, req.options, req.weights, p, upscaler
    )


def auto_title(t: Target) -> str:
    return f"Crop: finding focal points in {t.source.name} for {t.size[0]}×{t.size[1]}"


def export_title(t: Target) -> str:
    return f"Crop {t.source.name} to {t.size[0]}×{t.size[1]}"


def run_auto(host: Host, req: AutoRequest, bar: Callable | None = None):
    return longwork.run(host, AUTO_KEY, auto_title(req.target), auto_job(req), bar)


def run_export(host: Host, req: ExportRequest, bar: Callable | None = None) -> ExportSummary:
    return longwork.run(host, EXPORT_KEY, export_title(req.target), export_job(host, req), bar)


def start_auto(host: Host, req: AutoRequest) -> Job:
    """The API's Auto: the job's result is JSON (no previews)."""
    job = auto_job(req)

    def as_json(p: Progress) -> dict:
        proposals, notes = job(p)
        t = req.target
        images = [x.as_dict() for x in proposals]
        return {"target": list(t.size), "destination": str(t.destination), "images": images, "notes": notes}

    return longwork.start(host, AUTO_KEY, auto_title(req.target), as_json)


def start_export(host: Host, req: ExportRequest) -> Job:
    job = export_job(host, req)
    return longwork.start(host, EXPORT_KEY, export_title(req.target), lambda p: job(p).as_dict())
