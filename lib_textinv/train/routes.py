"""``POST /textinv/v1/train`` (start a training job; values left out are filled from the dataset
presets), ``POST /textinv/v1/train/preflight`` (the checks only) and
``GET /textinv/v1/train/loss?folder=`` (the loss rows of a run folder). Progress and outcome:
``GET /textinv/v1/jobs/{id}``; Stop: ``DELETE /textinv/v1/jobs/{id}``.

Folders (dataset, log folder, run folder) must be absolute paths (400), and on a webui reachable
from other machines lie under the allowed folders or the webui's training log folder
(``train.folders``; ``Forbidden`` is answered 403 by the router).

The run is the Train section's job (``train.job``): one at a time, tab and API together.
"""

from __future__ import annotations

from typing import Any

from lib_textinv.kit import longwork
from lib_textinv.kit.folder_guard import BadFolder
from lib_textinv.kit.host import Host
from lib_textinv.kit.longwork import Busy
from lib_textinv.train.folders import checked_run_folder
from lib_textinv.train.job import JOB_KEY, PreflightFailed, start_training
from lib_textinv.train.loss_csv import FILENAME, read_loss_csv
from lib_textinv.train.params import TrainArgs
from lib_textinv.train.preflight import PreflightReport, run_preflight
from lib_textinv.train.presets import is_folder
from lib_textinv.train.request import DatasetNotFound, TrainRequest, request_to_args


def add_routes(router: Any, host: Host) -> None:
    from fastapi import HTTPException

    def prepare(req: TrainRequest) -> tuple[TrainArgs, PreflightReport]:
        try:
            args = request_to_args(host, req)
        except (BadFolder, DatasetNotFound, TypeError) as e:
            raise HTTPException(status_code=400, detail=str(e)) from e
        return args, run_preflight(host, args)

    def preflight_route(req: TrainRequest) -> dict:
        args, rep = prepare(req)
        return {"args": args.to_dict(), **rep.to_dict()}

    def train_route(req: TrainRequest) -> dict:
        ok, why = host.feature("train")
        if not ok:
            raise HTTPException(status_code=503, detail=why)
        if longwork.is_running(JOB_KEY):  # before the pre-flight: a running run's files would clash
            raise HTTPException(status_code=409, detail="a training run is already going")
        args, rep = prepare(req)
        try:
            run = start_training(host, args, rep)
        except PreflightFailed as e:
            raise HTTPException(status_code=422, detail=str(e)) from e
        except Busy as e:
            raise HTTPException(status_code=409, detail=str(e)) from e
        return {"job_id": run.job.id, "run_folder": rep.run_folder, "final_step": rep.final_step}

    def loss_route(folder: str) -> dict:
        try:
            real = checked_run_folder(host, folder)
        except BadFolder as e:
            raise HTTPException(status_code=400, detail=str(e)) from e
        if not is_folder(real):
            raise HTTPException(status_code=404, detail=f"no run folder {folder}")
        rows = read_loss_csv(real / FILENAME)
        return {"folder": folder, "rows": [r.__dict__ for r in rows]}

    router.add_api_route("/train", train_route, methods=["POST"])
    router.add_api_route("/train/preflight", preflight_route, methods=["POST"])
    router.add_api_route("/train/loss", loss_route, methods=["GET"])
