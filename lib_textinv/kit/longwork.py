"""The one way to run long work, from a gradio button or an API route: a ``Job`` in ``JOBS`` run
through ``host.run_job`` (the webui's queue, progress bar and Interrupt), progress with an ETA, and
one Stop (``stop``) that cancels our Progress and presses the host's Interrupt, so the sampler or
the trainer ends within one step. The tab and the API get the same outcome from the same job."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from lib_textinv.kit.host import Host
from lib_textinv.kit.jobs import JOBS, Busy, Job
from lib_textinv.kit.progress import Progress

logger = logging.getLogger(__name__)
WATCH_SECONDS = 0.5  # how often a watching section refreshes its status while a job runs

__all__ = ["Busy", "is_running", "run", "start", "stop", "watch"]


def start(host: Host, key: str, title: str, fn: Callable[[Progress], Any], queued: bool = True) -> Job:
    """Start ``fn`` as a job (refused with ``Busy`` while one of the same ``key`` is active).
    ``queued=False``: a job made of other jobs (the autopilot) runs outside the host's queue, whose
    lock is not reentrant; each of its steps takes the queue itself."""
    return JOBS.start(title, fn, runner=host.run_job if queued else None, key=key)


def watch(job: Job, every: float = WATCH_SECONDS) -> Iterator[Job]:
    """Yield ``job`` every ``every`` seconds while it runs, then once more when it has ended."""
    while not job.ended.wait(every):
        yield job
    yield job


def _show(bar: Callable | None, job: Job) -> Callable | None:
    """Mirror a job onto a ``gr.Progress`` (or any callable taking ((done, total), desc))."""
    if bar is None:
        return None
    try:
        bar((job.progress.done, max(job.progress.total, 1)), desc=job.progress.describe())
    except (TypeError, ValueError, AttributeError) as e:  # no bar outside a queued event
        logger.debug("progress bar unavailable: %s", e)
        return None
    return bar


def run(host: Host, key: str, title: str, fn: Callable[[Progress], Any], bar: Callable | None = None) -> Any:
    """Start ``fn`` as a job and wait for it, showing its progress on ``bar``; returns its result
    or raises what it raised (``Cancelled`` when stopped before it returned)."""
    job = start(host, key, title, fn)
    for j in watch(job, every=0.25):
        bar = _show(bar, j)
    if job.exception is not None:
        raise job.exception
    return job.result


def stop(host: Host, key: str) -> str:
    job = JOBS.active(key)
    if job is None:
        return "nothing is running"
    job.progress.cancel()
    host.interrupt()
    return "stopping…"


def is_running(key: str) -> bool:
    return JOBS.active(key) is not None
