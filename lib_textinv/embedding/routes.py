"""``POST /textinv/v1/recommend`` (vectors per token for a folder, with the reasons) and
``POST /textinv/v1/embeddings`` (create an embedding, usable at once)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from lib_textinv.embedding.recommend import PROMPT_TOKENS
from lib_textinv.kit.host import Host


class RecommendRequest(BaseModel):
    folder: str = Field(..., min_length=1, max_length=4096, description="prepared folder of training images")
    background: bool = Field(False, description="run as a job: returns {job_id}; poll GET /jobs/{job_id}")


class CreateRequest(BaseModel):
    name: str = Field(..., min_length=1, max_length=200, description="embedding name = prompt token")
    vectors: int = Field(..., ge=1, le=PROMPT_TOKENS, description="vectors per token")
    init_text: str = Field("*", max_length=1000, description="initialization text; empty = zero vectors")
    overwrite: bool = Field(False, description="replace an existing embedding of this name")


def add_routes(router, host: Host) -> None:
    from fastapi import HTTPException

    from lib_textinv.embedding.create import create
    from lib_textinv.embedding.folder_advice import advise
    from lib_textinv.kit.jobs import JOBS

    def recommend_route(req: RecommendRequest) -> dict:
        def work(progress):
            return advise(host, req.folder, progress).to_dict()

        if req.background:
            return {"job_id": JOBS.start(f"Recommend vectors for {req.folder}", work, runner=host.run_job).id}
        try:
            return host.run_job(f"Recommend vectors for {req.folder}", work)
        except ValueError as e:  # folder missing / not a folder
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
