"""``POST /textinv/v1/crop``: the Crop section's export, and ``POST /textinv/v1/crop/auto``: the
boxes Auto would propose (with restored edits). Both start the same jobs as the tab's buttons
(``crop.work``) and return ``{"job_id"}`` at once; ``GET``/``DELETE /jobs/{id}`` follow or stop
them. A bad request is refused before any job starts, naming the field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from lib_textinv.crop import formats, plan, upscalers, work
from lib_textinv.crop.export import ExportOptions
from lib_textinv.crop.focal import FocalWeights
from lib_textinv.dataset.routes import HEX_COLOUR
from lib_textinv.kit.api_models import Field, Model, field_check
from lib_textinv.kit.host import Host
from lib_textinv.kit.jobs import Job

T = TypeVar("T")


class CropBox(Model):
    box: list[float] | None = Field(None, description="[x, y, width, height] in upright source px")
    excluded: bool | None = Field(None, description="leave this image out")

    @field_check("box")
    def _four_numbers(cls, v: Any) -> Any:
        if v is not None and len(v) != 4:
            raise ValueError(f"a box is [x, y, width, height]: 4 numbers, got {len(v)}")
        return v


class CropWeights(Model):
    face: float = Field(0.9, ge=0, le=10)
    corners: float = Field(0.5, ge=0, le=10)
    entropy: float = Field(0.15, ge=0, le=10)


class CropOptions(Model):
    format: str = Field(formats.DEFAULT, pattern=formats.PATTERN, description=", ".join(formats.NAMES))
    quality: int = Field(95, ge=1, le=100)
    flip: bool = False
    captions: bool = True
    upscaler: str = Field(upscalers.LOCAL_UPSCALER, min_length=1, max_length=200)
    background: str = Field("#ffffff", pattern=HEX_COLOUR)
    overwrite_edited_captions: bool = Field(
        False, description="replace captions edited in the destination since the last export"
    )


class CropRequest(Model):
    folder: str = Field(..., min_length=1, max_length=4096, description="source folder (never written to)")
    width: int = Field(512, ge=plan.MIN_SIDE, le=plan.MAX_SIDE, description="a multiple of 64")
    height: int = Field(512, ge=plan.MIN_SIDE, le=plan.MAX_SIDE, description="a multiple of 64")
    destination: str | None = Field(None, max_length=4096, description="default <folder>/<W>x<H>")
    options: CropOptions = Field(default_factory=CropOptions)
    weights: CropWeights = Field(default_factory=CropWeights)
    boxes: dict[str, CropBox] | None = Field(None, description="per file name; others use crops.json or Auto")

    @field_check("width", "height")
    def _multiple_of_64(cls, v: int) -> int:
        return plan.check_side(v)

    def target(self, host: Host) -> work.Target:
        """Checked folders (400; 403 outside the allowed folders) and size."""
        return work.check_target(host, self.folder, self.width, self.height, self.destination)

    def focal_weights(self) -> FocalWeights:
        return FocalWeights(**self.weights.as_dict())

    def box_edits(self) -> dict[str, Any] | None:
        if self.boxes is None:
            return None
        return {n: {k: v for k, v in b.as_dict().items() if v is not None} for n, b in self.boxes.items()}


def _checked(fn: Callable[[], T]) -> T:
    """ValueError (also ``UnsafeDestination``) while checking a request → 400 naming the reason."""
    from fastapi import HTTPException

    try:
        return fn()
    except ValueError as e:
        raise HTTPException(status_code=400, detail=str(e)) from e


def add_routes(router, host: Host) -> None:
    def crop(req: CropRequest) -> dict:
        target = _checked(lambda: req.target(host))

        def start() -> Job:
            options = ExportOptions(**req.options.as_dict()).validated()
            export = work.ExportRequest(target, options, req.focal_weights(), req.box_edits())
            return work.start_export(host, export)  # the upscaler's name is checked before it starts

        return {"job_id": _checked(start).id, "destination": str(target.destination)}

    def auto(req: CropRequest) -> dict:
        target = _checked(lambda: req.target(host))
        job = work.start_auto(host, work.AutoRequest(target, req.focal_weights()))
        return {"job_id": job.id, "destination": str(target.destination)}

    router.add_api_route("/crop", crop, methods=["POST"], summary="Crop and resize a folder (a job)")
    router.add_api_route(
        "/crop/auto", auto, methods=["POST"], summary="The boxes Auto proposes for a folder (a job)"
    )
