"""One training run through the host's trainer (the webui's ``train_embedding``), and what really
happened afterwards (``train.outcome``).

The run folder is created right before the call (``run_files.ensure_run_folder``); the files
written by this run are told apart from an earlier run's by their state before the call.
"""

from __future__ import annotations

import datetime as _dt
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from lib_textinv.kit.host import Host
from lib_textinv.kit.progress import Progress
from lib_textinv.train.outcome import Observed, RawTrainResult, TrainOutcome, judge_outcome
from lib_textinv.train.params import TrainArgs
from lib_textinv.train.run_files import (
    checkpoint_states,
    ensure_run_folder,
    file_state,
    run_folder,
    written_since,
)

__all__ = ["RawTrainResult", "StepRange", "TrainArgs", "run_training", "train_checked"]
logger = logging.getLogger(__name__)
Clock = Callable[[], _dt.datetime]


class StepRange(Protocol):
    """The steps a passed pre-flight worked out (``preflight.PreflightReport``)."""

    initial_step: int
    final_step: int


def run_training(
    host: Host,
    args: TrainArgs,
    progress: Progress,
    *,
    initial_step: int,
    expected_final_step: int,
    now: Clock = _dt.datetime.now,
    on_start: Callable[[Path], None] | None = None,
) -> TrainOutcome:
    """Call the host's training (already inside the webui queue, e.g. from ``host.run_job``),
    then judge what happened."""
    args.check_types()
    name = args.embedding_name
    emb_dir = host.paths().embeddings_dir
    final_file = Path(emb_dir) / f"{name}.pt" if emb_dir else None
    before_final = file_state(final_file) if final_file else None
    folder = ensure_run_folder(args.log_directory, name, now())
    before = checkpoint_states(folder, name)
    if on_start:
        on_start(folder)
    raw = host.train(args, progress, loss_csv_every=args.loss_csv_every or None)
    written = written_since(folder, name, before)
    end_folder = run_folder(args.log_directory, name, now())
    if end_folder != folder and end_folder.is_dir():
        # Midnight passed while the run started: the webui may have dated its folder after ours
        # (a folder of a date after our start holds only this run's files).
        later = written_since(end_folder, name, {})
        if (later and not written) or not any(folder.iterdir()):
            folder = end_folder
        written += later
    final_saved = final_file is not None and file_state(final_file) not in (None, before_final)
    if raw.final_step is None and final_saved and final_file is not None:
        raw.final_step = _step_in_file(final_file)
    seen = Observed(
        initial_step=initial_step,
        expected_final_step=expected_final_step,
        final_saved=final_saved,
        final_file=str(final_file) if final_file else None,
        checkpoints=written,
        folder=str(folder),
    )
    outcome = judge_outcome(raw, seen)
    logger.info("training %s: %s", name, outcome.message)
    return outcome


def train_checked(
    host: Host,
    args: TrainArgs,
    report: StepRange,
    progress: Progress,
    on_start: Callable[[Path], None] | None = None,
    now: Clock = _dt.datetime.now,
) -> TrainOutcome:
    """``run_training`` (the webui's trainer) or ``own_run.run_own_training`` (ours, the default)
    over the step range a passed pre-flight ``report`` worked out (the Train section and
    ``POST /train`` both start training this way, through ``train.job``)."""
    progress.begin(report.final_step - report.initial_step, "starting")
    gpu = _cuda()
    if gpu is not None:
        gpu.reset_peak_memory_stats()
    if args.trainer == "own":
        from lib_textinv.train.own_run import run_own_training

        out = run_own_training(host, args, progress, now=now, on_start=on_start)
    else:
        out = _webui_run(host, args, report, progress, now, on_start)
    if gpu is not None:
        out.peak_gpu_mb = gpu.max_memory_allocated() / 2**20
    return out


def _cuda() -> Any:
    """torch.cuda when training runs on a GPU (for the peak-memory figure), else None."""
    torch = sys.modules.get("torch")
    return torch.cuda if torch is not None and torch.cuda.is_available() else None


def _webui_run(
    host: Host,
    args: TrainArgs,
    report: StepRange,
    progress: Progress,
    now: Clock,
    on_start: Callable[[Path], None] | None,
) -> TrainOutcome:
    return run_training(
        host,
        args,
        progress,
        initial_step=report.initial_step,
        expected_final_step=report.final_step,
        now=now,
        on_start=on_start,
    )


def _step_in_file(path: Path) -> int | None:
    from lib_textinv.kit.embedding_file import EmbeddingFileError, load_embedding

    try:
        return load_embedding(path).step
    except EmbeddingFileError:
        return None
