"""HTTP routes of the Captions section (mounted by the lead under ``/textinv/v1``).

``POST /caption`` starts a captioning job; ``GET /captions?folder=…`` lists the captions of a
folder; ``PUT /captions`` writes the captions that changed.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from lib_textinv.captions import files as capfiles
from lib_textinv.captions.captioning import DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE, run_captioning
from lib_textinv.kit import files as fsio
from lib_textinv.kit.host import Unavailable
from lib_textinv.kit.jobs import JOBS

logger = logging.getLogger(__name__)


class CaptionRequest(BaseModel):
    folder: str = Field(..., min_length=1, max_length=4096, description="folder of images to caption")
    model: str = Field("blip", regex="^(blip|deepbooru|both)$")
    mode: str = Field("skip", regex="^(skip|overwrite|append)$")
    batch_size: int = Field(DEFAULT_BATCH_SIZE, ge=1, le=MAX_BATCH_SIZE)


class CaptionsPut(BaseModel):
    folder: str = Field(..., min_length=1, max_length=4096)
    captions: dict[str, str] = Field(..., description="image file name → caption")


class CaptionItem(BaseModel):
    file: str
    caption: str
    has_file: bool


class CaptionsList(BaseModel):
    folder: str
    captions: list[CaptionItem]


def add_routes(router: APIRouter, host) -> None:
    @router.post("/caption")
    def start_captioning(req: CaptionRequest) -> dict:
        try:
            host.require("caption")
            if req.model in ("deepbooru", "both"):
                host.require("deepbooru")
            folder = fsio.resolve_existing_dir(req.folder)
        except Unavailable as e:
            raise HTTPException(503, detail=str(e)) from e
        except ValueError as e:
            raise HTTPException(400, detail=str(e)) from e

        def work(progress):
            return run_captioning(
                host, folder, source=req.model, mode=req.mode, batch_size=req.batch_size, progress=progress
            ).to_dict()

        job = JOBS.start(f"Captioning {folder.name}", work, runner=host.run_job)
        return {"job_id": job.id}

    @router.get("/captions", response_model=CaptionsList)
    def list_captions(folder: str = Query(..., min_length=1, max_length=4096)) -> CaptionsList:
        try:
            fc = capfiles.load_folder_captions(folder)
        except ValueError as e:
            raise HTTPException(400, detail=str(e)) from e
        items = [CaptionItem(file=n, caption=c, has_file=fc.has_file[n]) for n, c in fc.captions.items()]
        return CaptionsList(folder=str(fc.folder), captions=items)

    @router.put("/captions")
    def put_captions(req: CaptionsPut) -> dict:
        try:
            written = capfiles.save_changed(req.folder, req.captions)
        except ValueError as e:  # unknown/unsafe file name, missing folder: nothing was written
            raise HTTPException(400, detail=str(e)) from e
        except OSError as e:
            raise HTTPException(500, detail=f"cannot write captions: {e}") from e
        unchanged = sorted(set(req.captions) - set(written))
        return {"written": written, "unchanged": unchanged}
