"""HTTP routes of the Captions section (under ``/textinv/v1``).

``POST /captions`` starts the same captioning job as the tab's button (``captions.work``) and
returns ``{"job_id"}``; ``GET``/``DELETE /jobs/{id}`` follow or stop it. ``GET /captions?folder=…``
lists the captions of a folder; ``PUT /captions`` writes the captions that changed. Every folder is
checked by ``captions.folder``: 400 for a relative or missing one, 403 outside the allowed folders.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException, Query

from lib_textinv.captions import files as capfiles
from lib_textinv.captions.captioning import DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE, SOURCES
from lib_textinv.captions.folder import captions_folder
from lib_textinv.captions.work import CaptionRequest, start_caption
from lib_textinv.kit.api_models import Field, Model
from lib_textinv.kit.host import Host

logger = logging.getLogger(__name__)


def _one_of(names: tuple[str, ...]) -> str:
    return "^(" + "|".join(names) + ")$"


class CaptionJobRequest(Model):
    folder: str = Field(..., min_length=1, max_length=4096, description="folder of images to caption")
    model: str = Field("blip", pattern=_one_of(SOURCES))
    mode: str = Field("skip", pattern=_one_of(capfiles.MODES))
    batch_size: int = Field(DEFAULT_BATCH_SIZE, ge=1, le=MAX_BATCH_SIZE)


class CaptionsPut(Model):
    folder: str = Field(..., min_length=1, max_length=4096)
    captions: dict[str, str] = Field(..., description="image file name → caption")


class CaptionItem(Model):
    file: str
    caption: str
    has_file: bool


class CaptionsList(Model):
    folder: str
    captions: list[CaptionItem]


def add_routes(router: APIRouter, host: Host) -> None:
    def start_captioning(req: CaptionJobRequest) -> dict:
        request = CaptionRequest(req.folder, req.model, req.mode, req.batch_size)
        try:
            job = start_caption(host, request)  # Unavailable → 503 (kit.http_errors)
        except ValueError as e:  # no such folder, no images in it
            raise HTTPException(400, detail=str(e)) from e
        return {"job_id": job.id}

    router.add_api_route("/captions", start_captioning, methods=["POST"], summary="Caption a folder (a job)")
    # The first name of this route, kept for existing clients.
    router.add_api_route("/caption", start_captioning, methods=["POST"], include_in_schema=False)

    @router.get("/captions", response_model=CaptionsList)
    def list_captions(folder: str = Query(..., min_length=1, max_length=4096)) -> CaptionsList:
        try:
            fc = capfiles.load_folder_captions(captions_folder(host, folder))
        except ValueError as e:
            raise HTTPException(400, detail=str(e)) from e
        items = [CaptionItem(file=n, caption=c, has_file=fc.has_file[n]) for n, c in fc.captions.items()]
        return CaptionsList(folder=str(fc.folder), captions=items)

    @router.put("/captions")
    def put_captions(req: CaptionsPut) -> dict:
        try:
            written = capfiles.save_changed(captions_folder(host, req.folder), req.captions)
        except ValueError as e:  # unknown/unsafe file name, missing folder: nothing was written
            raise HTTPException(400, detail=str(e)) from e
        unchanged = sorted(set(req.captions) - set(written))
        return {"written": written, "unchanged": unchanged}
