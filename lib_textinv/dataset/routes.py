"""``POST /textinv/v1/scan``: the Dataset section's scan, as JSON."""

from __future__ import annotations

from pydantic import BaseModel, Field

from lib_textinv.kit.host import Host


class ScanRequest(BaseModel):
    folder: str = Field(..., min_length=1, max_length=4096, description="folder of images (not recursive)")
    width: int = Field(512, ge=64, le=4096, description="training width")
    height: int = Field(512, ge=64, le=4096, description="training height")
    background: str = Field("#ffffff", regex=r"^#?[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$")
    max_megapixels: float = Field(100, gt=0, le=1000)


def scan(req: ScanRequest) -> dict:
    from fastapi import HTTPException

    from lib_textinv.dataset.scan import ScanOptions, scan_folder
    from lib_textinv.kit.images import Background

    opts = ScanOptions(
        width=req.width,
        height=req.height,
        background=Background.parse(req.background),
        max_pixels=int(req.max_megapixels * 1_000_000),
    )
    try:
        report = scan_folder(req.folder, opts)
    except ValueError as e:
        raise HTTPException(status_code=400, detail=str(e)) from e
    return report.to_dict()


def add_routes(router, host: Host) -> None:
    router.add_api_route("/scan", scan, methods=["POST"], summary="Scan a folder of training images")
