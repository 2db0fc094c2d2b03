"""``POST /textinv/v1/scan``: the Dataset section's scan as a job (``{"job_id"}`` at once; the
report is the job's result at ``GET /jobs/{id}``). An unusable or relative folder is refused at once
(400), one outside the allowed folders of a webui reachable from other machines too (403)."""

from __future__ import annotations

from lib_textinv.dataset.scan import ScanOptions
from lib_textinv.dataset.work import start_scan
from lib_textinv.kit.api_models import Field, Model
from lib_textinv.kit.host import Host
from lib_textinv.kit.images import Background

# A colour as ``Background.parse`` reads it: #rgb or #rrggbb, the "#" optional.
HEX_COLOUR = r"^#?[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$"


class ScanRequest(Model):
    folder: str = Field(..., min_length=1, max_length=4096, description="folder of images (not recursive)")
    width: int = Field(512, ge=64, le=4096, description="training width")
    height: int = Field(512, ge=64, le=4096, description="training height")
    background: str = Field("#ffffff", pattern=HEX_COLOUR)
    max_megapixels: float = Field(100, gt=0, le=1000)

    def options(self) -> ScanOptions:
        return ScanOptions(
            width=self.width,
            height=self.height,
            background=Background.parse(self.background),
            max_pixels=int(self.max_megapixels * 1_000_000),
        )


def add_routes(router, host: Host) -> None:
    from fastapi import HTTPException

    def scan(req: ScanRequest) -> dict:
        try:
            job = start_scan(host, req.folder, req.options())
        except ValueError as e:
            raise HTTPException(status_code=400, detail=str(e)) from e
        return {"job_id": job.id}

    router.add_api_route("/scan", scan, methods=["POST"], summary="Scan a folder of training images (a job)")
