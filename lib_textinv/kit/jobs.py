"""The one table of long work. Every long action, from the tab or from the API, is a ``Job`` here:
``POST`` routes return its id at once, ``GET /textinv/v1/jobs/{id}`` reports progress with an ETA
and the outcome, ``DELETE`` stops it; the tab's sections watch the same jobs (``kit.longwork``).

The job's function receives a ``Progress``; on the webui the host runs it under the queue lock
(``Host.run_job``), so it never runs beside a txt2img.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol, runtime_checkable

from lib_textinv.kit.progress import Cancelled, Progress

logger = logging.getLogger(__name__)
MAX_KEPT = 100
Runner = Callable[[str, Callable[[Progress], Any], Progress], Any]


@runtime_checkable
class Reportable(Protocol):
    """A result that says itself in JSON (ScoreReport, SweepResult…)."""

    def to_dict(self) -> dict: ...


def public_result(value: Any) -> Any:
    """A job's result as ``GET /jobs/{id}`` can send it: JSON values as they are, reportable
    results by their ``to_dict``, anything else (a tab-only object) by its type's name."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [public_result(v) for v in value]
    if isinstance(value, dict):
        return {str(k): public_result(v) for k, v in value.items()}
    if isinstance(value, Reportable):
        return public_result(value.to_dict())
    return f"<{type(value).__name__}>"


class JobStatus(str, Enum):
    """Where a job is; a ``str`` so JSON and the routes send its value."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


class Busy(RuntimeError):
    """A job of the same kind is already running (one training run, one sweep… at a time)."""


@dataclass
class Job:
    id: str
    title: str
    progress: Progress
    key: str = ""
    status: JobStatus = JobStatus.QUEUED
    result: Any = None
    error: str | None = None
    exception: BaseException | None = None
    created: float = field(default_factory=time.time)
    finished: float | None = None
    ended: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def active(self) -> bool:
        return not self.ended.is_set()

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "key": self.key,
            "title": self.title,
            "status": self.status.value,
            "done": self.progress.done,
            "total": self.progress.total,
            "fraction": round(self.progress.fraction, 4),
            "eta_seconds": self.progress.eta_seconds(),
            "text": self.progress.text,
            "error": self.error,
            "result": public_result(self.result),
        }


class JobTable:
    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def start(
        self,
        title: str,
        fn: Callable[[Progress], Any],
        runner: Runner | None = None,
        key: str = "",
        progress: Progress | None = None,
    ) -> Job:
        """Run ``fn`` in a thread; ``runner`` (e.g. ``host.run_job``) wraps it in the host's queue.
        With a ``key``, a second job of that key is refused while the first is active."""
        job = Job(id=uuid.uuid4().hex[:12], title=title, progress=progress or Progress(text=title), key=key)
        with self._lock:
            if key and any(j.key == key and j.active for j in self._jobs.values()):
                raise Busy(f"{title}: already running — press Stop or wait for it to finish")
            self._jobs[job.id] = job
            self._trim()
        threading.Thread(
            target=self._work, args=(job, fn, runner), name=f"textinv-job-{job.id}", daemon=True
        ).start()
        return job

    @staticmethod
    def _work(job: Job, fn: Callable[[Progress], Any], runner: Runner | None) -> None:
        job.status = JobStatus.RUNNING
        try:
            job.result = runner(job.title, fn, job.progress) if runner else fn(job.progress)
            job.status = JobStatus.INTERRUPTED if job.progress.cancelled else JobStatus.DONE
        except Cancelled as e:
            job.status, job.exception = JobStatus.INTERRUPTED, e
        except Exception as e:  # the job's outcome is reported to its watcher, not raised here
            logger.exception("job %s (%s) failed", job.id, job.title)
            job.status, job.error, job.exception = JobStatus.FAILED, f"{type(e).__name__}: {e}", e
        finally:
            job.finished = time.time()
            job.ended.set()

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def active(self, key: str) -> Job | None:
        with self._lock:
            return next((j for j in self._jobs.values() if j.key == key and j.active), None)

    def _trim(self) -> None:
        done = [j for j in self._jobs.values() if j.finished]
        for j in sorted(done, key=lambda j: j.created)[: max(0, len(self._jobs) - MAX_KEPT)]:
            del self._jobs[j.id]


JOBS = JobTable()
