"""Captioning a folder as long work, defined once for the tab's button and ``POST /captions``:
checked before it starts (the host can caption, DeepBooru when asked, a folder with images), then
a job through ``kit.longwork`` under one key, so the tab's Stop and ``DELETE /jobs/{id}`` end the
same job after the model call in progress, keeping every caption already written."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lib_textinv.captions.captioning import DEFAULT_BATCH_SIZE, CaptionRun, captioning_job
from lib_textinv.kit import longwork
from lib_textinv.kit.host import Host
from lib_textinv.kit.jobs import Job
from lib_textinv.kit.progress import Progress

CAPTION_KEY = "captions-caption"


@dataclass(frozen=True)
class CaptionRequest:
    folder: str
    source: str = "blip"  # blip | deepbooru | both
    mode: str = "skip"  # skip | overwrite | append
    batch_size: int = DEFAULT_BATCH_SIZE


def caption_job(host: Host, req: CaptionRequest) -> tuple[str, Callable[[Progress], CaptionRun]]:
    """(title, the job's function); raises ``Unavailable``/``ValueError`` now, before any job or
    model load, when the request cannot run."""
    job = captioning_job(host, req.folder, source=req.source, mode=req.mode, batch_size=req.batch_size)
    return f"Captioning {Path(req.folder).name} ({req.source})", job


def run_caption(host: Host, req: CaptionRequest, bar: Callable | None = None) -> CaptionRun:
    """Caption and wait (the tab), showing progress on ``bar``."""
    title, job = caption_job(host, req)
    return longwork.run(host, CAPTION_KEY, title, job, bar)


def start_caption(host: Host, req: CaptionRequest) -> Job:
    """Start captioning (the API); the job's result is ``CaptionRun.to_dict()``."""
    title, job = caption_job(host, req)
    return longwork.start(host, CAPTION_KEY, title, lambda p: job(p).to_dict())
