"""A training run as a long-work job (``kit.longwork``), started the same way by the Train section
and by ``POST /textinv/v1/train``: under one key, so the tab and the API can never train twice at
once, and stopped by the one Stop (the section's Interrupt, ``DELETE /textinv/v1/jobs/{id}``),
which ends the webui's loop within one step (docs/webui-contract.md §12 Training call)."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any

from lib_textinv.kit import longwork
from lib_textinv.kit.host import Host
from lib_textinv.kit.jobs import Job
from lib_textinv.kit.progress import Progress
from lib_textinv.train.call import Clock, train_checked
from lib_textinv.train.outcome import RunStatus, TrainOutcome
from lib_textinv.train.params import TrainArgs
from lib_textinv.train.preflight import PreflightReport

JOB_KEY = "train"


class PreflightFailed(ValueError):
    """Not started: the pre-flight found errors (``report`` lists them)."""

    def __init__(self, report: PreflightReport) -> None:
        super().__init__(report.summary())
        self.report = report


class TrainingFailed(RuntimeError):
    """The run ended as failed (``outcome`` says how); the job reports it as failed."""

    def __init__(self, outcome: TrainOutcome) -> None:
        super().__init__(f"{outcome.message}\n{outcome.error}".strip())
        self.outcome = outcome


class TrainRun:
    """A started run: its job, and its run folder (pre-flight's until the run starts, then the
    folder the run really writes into)."""

    def __init__(self, host: Host, args: TrainArgs, report: PreflightReport, now: Clock) -> None:
        self.host, self.args, self.report, self.now = host, args, report, now
        self.folder = report.run_folder
        self.job: Job = longwork.start(host, JOB_KEY, f"Train {args.embedding_name}", self._work)

    def _started(self, folder: Path) -> None:
        self.folder = str(folder)

    def _work(self, progress: Progress) -> dict[str, Any]:
        out = train_checked(self.host, self.args, self.report, progress, self._started, self.now)
        if out.status is RunStatus.FAILED:
            raise TrainingFailed(out)
        if out.status is RunStatus.INTERRUPTED:
            progress.cancel()  # an Interrupt pressed in the webui shows as interrupted too
        return out.to_dict()


def start_training(
    host: Host, args: TrainArgs, report: PreflightReport, now: Clock = _dt.datetime.now
) -> TrainRun:
    """Start the run a passed pre-flight ``report`` checked. Raises ``PreflightFailed``, or
    ``longwork.Busy`` while a run is going."""
    if not report.ok:
        raise PreflightFailed(report)
    return TrainRun(host, args, report, now)


def outcome_of(job: Job) -> TrainOutcome | None:
    """The outcome of an ended run; None when it ended before training (stopped in the queue, an
    unexpected error: ``job.error`` says which)."""
    if isinstance(job.exception, TrainingFailed):
        return job.exception.outcome
    if isinstance(job.result, dict):
        return TrainOutcome.from_dict(job.result)
    return None
