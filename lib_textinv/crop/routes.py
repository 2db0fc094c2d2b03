"""``POST /textinv/v1/crop``: the Crop section's export as a background job, and
``POST /textinv/v1/crop/auto``: the boxes Auto would propose (with restored edits), as JSON."""

from __future__ import annotations

from pydantic import BaseModel, Field, validator

from lib_textinv.kit.host import Host


class CropBox(BaseModel):
    box: list[float] | None = Field(
        None, min_items=4, max_items=4, description="[x, y, width, height] in source px"
    )
    excluded: bool | None = Field(None, description="leave this image out")


class CropWeights(BaseModel):
    face: float = Field(0.9, ge=0, le=10)
    corners: float = Field(0.5, ge=0, le=10)
    entropy: float = Field(0.15, ge=0, le=10)


class CropOptions(BaseModel):
    format: str = Field("PNG", regex=r"^(?i:png|jpe?g|webp)$")
    quality: int = Field(95, ge=1, le=100)
    flip: bool = False
    captions: bool = True
    upscaler: str = Field("Lanczos", min_length=1, max_length=200)
    background: str = Field("#ffffff", regex=r"^#?[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$")


class CropRequest(BaseModel):
    folder: str = Field(..., min_length=1, max_length=4096, description="source folder (never written to)")
    width: int = Field(512, ge=64, le=4096, description="target width, a multiple of 64")
    height: int = Field(512, ge=64, le=4096, description="target height, a multiple of 64")
    destination: str | None = Field(None, max_length=4096, description="default <folder>/<W>x<H>")
    options: CropOptions = CropOptions()
    weights: CropWeights = CropWeights()
    boxes: dict[str, CropBox] | None = Field(None, description="per file name; others use crops.json or Auto")

    @validator("width", "height")
    def multiple_of_64(cls, v):
        if v % 64:
            raise ValueError("must be a multiple of 64")
        return v


def _prepare(req: CropRequest):
    """Validate everything a job would need, so a bad request fails now with 400, not in the job."""
    from pathlib import Path

    from fastapi import HTTPException

    from lib_textinv.crop import export as crop_export
    from lib_textinv.crop.focal import FocalWeights
    from lib_textinv.dataset.scan import list_images
    from lib_textinv.kit import files as fsio

    try:
        source = fsio.resolve_existing_dir(req.folder)
        size = (req.width, req.height)
        dest = Path(req.destination) if req.destination else crop_export.default_destination(source, *size)
        crop_export.check_destination(source, dest, list_images(source))
        options = crop_export.ExportOptions(**req.options.dict()).validated()
        weights = FocalWeights(**req.weights.dict())
        boxes = None
        if req.boxes is not None:
            boxes = {n: {k: v for k, v in b.dict().items() if v is not None} for n, b in req.boxes.items()}
    except ValueError as e:  # includes fsio.UnsafeDestination
        raise HTTPException(status_code=400, detail=str(e)) from e
    return source, size, dest, options, weights, boxes


def add_routes(router, host: Host) -> None:
    from fastapi import HTTPException

    from lib_textinv.crop import export as crop_export
    from lib_textinv.kit.jobs import JOBS

    def crop(req: CropRequest) -> dict:
        source, size, dest, options, weights, boxes = _prepare(req)
        upscaler = crop_export.upscaler_for(host)
        if (
            options.upscaler != crop_export.LOCAL_UPSCALER
            and options.upscaler not in upscaler.list_upscalers()
        ):
            raise HTTPException(
                status_code=400,
                detail=f"unknown upscaler {options.upscaler!r}; available: "
                + ", ".join(upscaler.list_upscalers()),
            )

        def work(progress):
            return crop_export.export_folder(
                source, size, dest, boxes, options, weights, progress, upscaler
            ).as_dict()

        job = JOBS.start(f"Crop {source.name} to {size[0]}×{size[1]}", work, runner=host.run_job)
        return {"job_id": job.id, "destination": str(dest)}

    def auto(req: CropRequest) -> dict:
        source, size, dest, _options, weights, _boxes = _prepare(req)
        proposals, notes = crop_export.propose_boxes(source, size, dest, weights)
        return {
            "target": list(size),
            "destination": str(dest),
            "images": [p.as_dict() for p in proposals],
            "notes": notes,
        }

    router.add_api_route("/crop", crop, methods=["POST"], summary="Crop and resize a folder (background job)")
    router.add_api_route("/crop/auto", auto, methods=["POST"], summary="The boxes Auto proposes for a folder")
