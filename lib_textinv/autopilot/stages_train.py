"""The training stage: the Train section's pre-flight and ``train.job.start_training`` (so the
trainer the Train section uses is the one used here), waited for with the one primitive
``longwork.watch``; a Stop of the run stops the training job, which keeps its last checkpoint and
the embedding's step, so Resume continues training from there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lib_textinv.autopilot.args import train_args
from lib_textinv.autopilot.context import AutopilotError, Context, Failure
from lib_textinv.autopilot.state import file_facts
from lib_textinv.kit import longwork
from lib_textinv.kit.jobs import Job, JobStatus
from lib_textinv.kit.progress import Cancelled
from lib_textinv.train.job import PreflightFailed, outcome_of, start_training
from lib_textinv.train.outcome import RunStatus
from lib_textinv.train.own_checkpoints import newest_checkpoint
from lib_textinv.train.params import TrainArgs, host_default
from lib_textinv.train.preflight import run_preflight
from lib_textinv.train.run_files import list_checkpoints

WATCH_SECONDS = 0.25


def log_dir(ctx: Context) -> Path:
    """One training log folder per embedding this run created: a re-created embedding (step 0)
    never meets the checkpoints of the one before it."""
    return Path(ctx.plan.run_folder) / "training" / ctx.input_fp("create")[:8]


def train_inputs(ctx: Context) -> Any:
    p = ctx.plan
    return {
        "create": ctx.input_fp("create"),
        "crop": ctx.output_fp("crop"),
        "captions": ctx.output_fp("captions"),
        "args": [p.trainer, p.steps, p.save_every, p.learn_rate, p.template, p.batch_size, p.gradient_step],
        "tags": [p.shuffle_tags, p.tag_drop_out, p.latent_sampling, p.width, p.height],
    }


def _args(ctx: Context) -> TrainArgs:
    every = int(host_default(ctx.host, "loss_csv_every") or 0)
    return train_args(ctx.plan, str(ctx.dest), str(log_dir(ctx)), every)


def _newest_run(ctx: Context) -> Path | None:
    runs = sorted(log_dir(ctx).glob(f"*/{ctx.plan.name}"))
    return runs[-1] if runs else None


def _result(ctx: Context, folder: Path, message: str) -> dict:
    cps = list_checkpoints(folder, ctx.plan.name)
    if not cps:
        raise AutopilotError("train", f"{folder}: training wrote no checkpoint")
    return {"run_folder": str(folder), "message": message, "checkpoints": [str(p) for _n, p in cps]}


def _already_trained(ctx: Context) -> dict | None:
    """The embedding reached max steps in an earlier attempt (stopped after its last step): the
    webui's trainer saves the step into the embedding, ours into its newest checkpoint."""
    emb = next((e for e in ctx.host.embeddings() if e.name == ctx.plan.name), None)
    folder = _newest_run(ctx)
    newest = newest_checkpoint(log_dir(ctx), ctx.plan.name)
    step = max((emb.step or 0) if emb else 0, newest[0] if newest else 0)
    if emb is None or step < ctx.plan.steps or folder is None:
        return None
    return _result(ctx, folder, f"already trained to step {step}")


def _wait(ctx: Context, job: Job) -> None:
    """Follow the training job on the run's bar; pass a Stop of the run on to it, once."""
    sp, stopped = ctx.stage_progress, False
    for j in longwork.watch(job, every=WATCH_SECONDS):
        sp.mirror(j.progress)
        if sp.cancelled and j.active and not stopped:
            j.progress.cancel()
            ctx.host.interrupt()
            stopped = True


def train_run(ctx: Context) -> dict:
    done = _already_trained(ctx)
    if done is not None:
        return done
    args = _args(ctx)
    report = run_preflight(ctx.host, args)
    try:
        run = start_training(ctx.host, args, report)
    except PreflightFailed as e:
        fixes = "; ".join(f"{c.title} ({c.fix})" if c.fix else c.title for c in report.errors)
        raise AutopilotError("train", f"pre-flight failed: {fixes}", Failure.REFUSED) from e
    except longwork.Busy as e:
        raise AutopilotError("train", str(e), Failure.REFUSED) from e
    _wait(ctx, run.job)
    outcome = outcome_of(run.job)
    if run.job.status is JobStatus.INTERRUPTED or (outcome and outcome.status is RunStatus.INTERRUPTED):
        raise Cancelled("stopped during training (the last checkpoint and the step are kept)")
    if outcome is None:
        raise AutopilotError("train", run.job.error or "the training job ended before training")
    if outcome.status is RunStatus.FAILED:
        raise AutopilotError("train", f"{outcome.message} {outcome.error}".strip())
    return _result(ctx, Path(outcome.run_folder or run.folder), outcome.message)


def train_outputs(ctx: Context, result: dict) -> Any:
    return file_facts(p for _n, p in list_checkpoints(result["run_folder"], ctx.plan.name)) or None
