"""``POST /textinv/v1/recommend`` (vectors per token for a folder, with the reasons) and
``POST /textinv/v1/embeddings`` (create an embedding, usable at once; its ``warnings`` include a
token clash with a loaded embedding, with ``suggested_name``; ``dry_run`` reads them before
anything is written).

The folder to recommend for must be an absolute path (400), and on a webui reachable from other
machines lie under the allowed folders (403).

A recommendation is the Embedding section's job (same key: one at a time, tab and API together):
with ``background`` the route returns ``{"job_id"}`` at once (progress, ETA and the advice from
``GET /textinv/v1/jobs/{id}``, Stop with ``DELETE``); without, it waits and returns the advice."""

from __future__ import annotations

from typing import Any

from lib_textinv.embedding.create import create
from lib_textinv.embedding.folder_advice import RECOMMEND_KEY, advise, recommend_folder, recommend_title
from lib_textinv.embedding.recommend import PROMPT_TOKENS
from lib_textinv.kit import longwork
from lib_textinv.kit.api_models import Field, Model
from lib_textinv.kit.folder_guard import BadFolder
from lib_textinv.kit.host import Host
from lib_textinv.kit.progress import Cancelled, Progress


class RecommendRequest(Model):
    folder: str = Field(..., min_length=1, max_length=4096, description="prepared folder of training images")
    background: bool = Field(False, description="run as a job: returns {job_id}; poll GET /jobs/{job_id}")


class CreateRequest(Model):
    name: str = Field(..., min_length=1, max_length=200, description="embedding name = prompt token")
    vectors: int = Field(..., ge=1, le=PROMPT_TOKENS, description="vectors per token")
    init_text: str = Field("*", max_length=1000, description="initialization text; empty = zero vectors")
    overwrite: bool = Field(False, description="replace an existing embedding of this name")
    dry_run: bool = Field(False, description="check only: the errors and warnings, nothing written")


def add_routes(router: Any, host: Host) -> None:
    from fastapi import HTTPException

    def recommend_route(req: RecommendRequest) -> dict:
        try:
            folder = str(recommend_folder(host, req.folder))  # Forbidden: 403 from the router
        except BadFolder as e:
            raise HTTPException(status_code=400, detail=str(e)) from e

        def work(progress: Progress) -> dict:
            return advise(host, folder, progress).to_dict()

        title = recommend_title(folder)
        try:
            if req.background:
                return {"job_id": longwork.start(host, RECOMMEND_KEY, title, work).id}
            return longwork.run(host, RECOMMEND_KEY, title, work)
        except longwork.Busy as e:
            raise HTTPException(status_code=409, detail=str(e)) from e
        except Cancelled as e:
            raise HTTPException(status_code=409, detail="stopped before the recommendation was ready") from e
        except (ValueError, OSError) as e:  # folder missing / not a folder / not a path at all
            raise HTTPException(status_code=400, detail=str(e)) from e

    def create_route(req: CreateRequest) -> dict:
        ok, why = host.feature("create")
        if not ok:
            raise HTTPException(status_code=503, detail=why)
        result = create(
            host,
            req.name,
            req.vectors,
            req.init_text,
            req.overwrite,
            model=host.model_facts(),
            embeddings_dir=host.paths().embeddings_dir,
            dry_run=req.dry_run,
        )
        if not result.ok:
            raise HTTPException(status_code=409 if result.conflict else 400, detail=result.message)
        return result.to_dict()

    router.add_api_route(
        "/recommend",
        recommend_route,
        methods=["POST"],
        summary="Recommend vectors per token for a folder, with the reasons",
    )
    router.add_api_route(
        "/embeddings",
        create_route,
        methods=["POST"],
        summary="Create an embedding and make it usable without a restart",
    )
