"""Background jobs for the HTTP API: ``POST`` starts work and returns a job id at once,
``GET /textinv/v1/jobs/{id}`` reports progress and outcome, ``DELETE`` interrupts.

The job's function receives a ``Progress``; on the webui the host runs it under the queue lock
(``Host.run_job``) so it never runs beside a txt2img.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lib_textinv.kit.progress import Cancelled, Progress

logger = logging.getLogger(__name__)
MAX_KEPT = 100


@dataclass
class Job:
    id: str
    title: str
    progress: Progress
    status: str = "queued"  # queued | running | done | failed | interrupted
    result: Any = None
    error: str | None = None
    created: float = field(default_factory=time.time)
    finished: float | None = None

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "done": self.progress.done,
            "total": self.progress.total,
            "fraction": round(self.progress.fraction, 4),
            "eta_seconds": self.progress.eta_seconds(),
            "text": self.progress.text,
            "error": self.error,
            "result": self.result,
        }


class JobTable:
    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def start(
        self,
        title: str,
        fn: Callable[[Progress], Any],
        runner: Callable[[str, Callable[[Progress], Any], Progress], Any] | None = None,
    ) -> Job:
        """Run ``fn`` in a thread; ``runner`` (e.g. ``host.run_job``) wraps it in the host's queue."""
        job = Job(id=uuid.uuid4().hex[:12], title=title, progress=Progress(text=title))
        with self._lock:
            self._jobs[job.id] = job
            self._trim()

        def work() -> None:
            job.status = "running"
            try:
                job.result = runner(title, fn, job.progress) if runner else fn(job.progress)
                job.status = "interrupted" if job.progress.cancelled else "done"
            except Cancelled:
                job.status = "interrupted"
            except Exception as e:  # the job's outcome is reported to the client, not raised
                logger.exception("job %s (%s) failed", job.id, title)
                job.status, job.error = "failed", f"{type(e).__name__}: {e}"
            finally:
                job.finished = time.time()

        threading.Thread(target=work, name=f"textinv-job-{job.id}", daemon=True).start()
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def _trim(self) -> None:
        done = [j for j in self._jobs.values() if j.finished]
        for j in sorted(done, key=lambda j: j.created)[: max(0, len(self._jobs) - MAX_KEPT)]:
            del self._jobs[j.id]


JOBS = JobTable()
