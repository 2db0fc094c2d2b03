"""``POST /textinv/v1/train`` (start a training job; values left out are filled from the dataset
presets), ``POST /textinv/v1/train/preflight`` (the checks only) and
``GET /textinv/v1/train/loss?folder=`` (the loss rows of a run folder). Progress and outcome:
``GET /textinv/v1/jobs/{id}``; interrupt: ``DELETE /textinv/v1/jobs/{id}``.

The job runs through ``host.run_job`` (the webui's queue lock), so it never runs beside a txt2img.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from lib_textinv.kit.host import Host


class TrainRequest(BaseModel):
    embedding: str = Field(..., min_length=1, max_length=200, description="name of a loaded embedding")
    dataset: str = Field(..., min_length=1, max_length=4096, description="folder of training-size images")
    preset: str = Field(
        "style", regex="^(style|subject)$", description="which template family the presets use"
    )
    log_directory: str | None = Field(None, max_length=4096, description="default: the webui's TI log folder")
    template: str | None = Field(None, max_length=260, description="a webui template file name")
    width: int | None = Field(None, ge=64, le=4096)
    height: int | None = Field(None, ge=64, le=4096)
    steps: int | None = Field(None, ge=1, le=1_000_000)
    learn_rate: str | None = Field(
        None, min_length=1, max_length=1000, description="0.005 or a schedule string"
    )
    batch_size: int | None = Field(None, ge=1, le=1024)
    gradient_step: int | None = Field(None, ge=1, le=1024)
    save_embedding_every: int | None = Field(None, ge=0, le=1_000_000)
    create_image_every: int | None = Field(None, ge=0, le=1_000_000)
    shuffle_tags: bool | None = None
    tag_drop_out: float | None = Field(None, ge=0, le=1)
    latent_sampling_method: str | None = Field(None, regex="^(once|deterministic|random)$")
    varsize: bool = False
    clip_grad_mode: str = Field("disabled", regex="^(disabled|value|norm)$")
    clip_grad_value: str = Field("0.1", max_length=1000)
    use_weight: bool = False
    save_image_with_stored_embedding: bool = True
    loss_csv_every: int | None = Field(None, ge=0, le=1_000_000, description="loss CSV period for this run")


FIELD_MAP = {  # request field → TrainArgs field
    "template": "template_filename",
    "width": "training_width",
    "height": "training_height",
    "steps": "steps",
    "learn_rate": "learn_rate",
    "batch_size": "batch_size",
    "gradient_step": "gradient_step",
    "save_embedding_every": "save_embedding_every",
    "create_image_every": "create_image_every",
    "shuffle_tags": "shuffle_tags",
    "tag_drop_out": "tag_drop_out",
    "latent_sampling_method": "latent_sampling_method",
    "varsize": "varsize",
    "clip_grad_mode": "clip_grad_mode",
    "clip_grad_value": "clip_grad_value",
    "use_weight": "use_weight",
    "save_image_with_stored_embedding": "save_image_with_stored_embedding",
}


def request_to_args(host: Host, req: TrainRequest):
    """``TrainArgs`` from the request: presets from the dataset, overridden by what was given."""
    from lib_textinv.train.call import TrainArgs
    from lib_textinv.train.presets import scan_dataset, suggest_presets

    if not Path(req.dataset).is_dir():
        raise ValueError(f"dataset folder not found: {req.dataset}")
    presets = suggest_presets(
        scan_dataset(req.dataset),
        req.preset,
        batch_size=req.batch_size or 1,
        gradient_step=req.gradient_step or 1,
    ).values
    values = dict(presets)
    for src, dst in FIELD_MAP.items():
        v = getattr(req, src)
        if v is not None:
            values[dst] = v
    log_dir = req.log_directory or host.paths().ti_log_dir or "textual_inversion"
    csv_every = (
        req.loss_csv_every if req.loss_csv_every is not None else host.setting("train_loss_csv_every", 10)
    )
    args = TrainArgs.coerce(
        embedding_name=req.embedding, data_root=req.dataset, log_directory=log_dir, **values
    )
    return args, (int(csv_every) or None)


def add_routes(router, host: Host) -> None:
    from fastapi import HTTPException

    from lib_textinv.kit.jobs import JOBS
    from lib_textinv.train.call import train_checked
    from lib_textinv.train.loss_csv import FILENAME, read_loss_csv
    from lib_textinv.train.preflight import run_preflight

    def _prepare(req: TrainRequest):
        try:
            args, csv_every = request_to_args(host, req)
        except (TypeError, ValueError) as e:
            raise HTTPException(status_code=400, detail=str(e)) from e
        return args, csv_every, run_preflight(host, args, csv_every)

    def preflight_route(req: TrainRequest) -> dict:
        args, _csv, rep = _prepare(req)
        return {"args": args.to_dict(), **rep.to_dict()}

    def train_route(req: TrainRequest) -> dict:
        ok, why = host.feature("train")
        if not ok:
            raise HTTPException(status_code=503, detail=why)
        args, csv_every, rep = _prepare(req)
        if not rep.ok:
            raise HTTPException(status_code=422, detail=rep.summary())

        def work(progress):
            out = train_checked(host, args, rep, progress, csv_every)
            if out.status == "failed":  # the job table reports it as failed, with the reason
                raise RuntimeError(f"{out.message}\n{out.error}".strip())
            if out.status == "interrupted":
                progress.cancel()  # an Interrupt pressed in the webui shows as interrupted too
            return out.to_dict()

        job = JOBS.start(f"Train {args.embedding_name}", work, runner=host.run_job)
        return {"job_id": job.id, "run_folder": rep.run_folder, "final_step": rep.final_step}

    def loss_route(folder: str) -> dict:
        path = Path(folder) / FILENAME
        if not Path(folder).is_dir():
            raise HTTPException(status_code=404, detail=f"no run folder {folder}")
        rows = read_loss_csv(path)
        return {"folder": folder, "rows": [r.__dict__ for r in rows]}

    router.add_api_route("/train", train_route, methods=["POST"])
    router.add_api_route("/train/preflight", preflight_route, methods=["POST"])
    router.add_api_route("/train/loss", loss_route, methods=["GET"])
