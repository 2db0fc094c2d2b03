"""The stages after training: the fixed-batch loss of every checkpoint (Scores' pre-score), a
sweep of only the candidate steps (Compare's sweep, with its record), the scores (Scores'
``score``: CLIP, loss, drift, the rule's choice, the marked grid), the choice, and Compare's
promotion under a trigger that clashes with nothing loaded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lib_textinv.autopilot.args import gen_params
from lib_textinv.autopilot.context import AutopilotError, Context, Failure
from lib_textinv.autopilot.state import file_facts
from lib_textinv.compare.checkpoints import run_from_folder
from lib_textinv.compare.promote import PromoteError, Refusal, promote_checkpoint
from lib_textinv.compare.sweep_plan import (
    DEFAULT_BATCH_SIZE,
    PlanError,
    check_seeds,
    clean_prompts,
    plan_sweep,
)
from lib_textinv.compare.sweep_record import read_record
from lib_textinv.compare.sweep_run import plan_checkpoints, run_sweep
from lib_textinv.kit.host import Unavailable
from lib_textinv.kit.progress import Cancelled
from lib_textinv.kit.token_prefix import check_trigger, suggest
from lib_textinv.scores.fixed_loss import FixedBatchSpec, FixedLossResult, LossPoint
from lib_textinv.scores.scoring import prescore, score
from lib_textinv.train.run_files import list_checkpoints


def _folder(ctx: Context) -> str:
    return ctx.results["train"]["run_folder"]


def _rows(ctx: Context) -> int:
    return len(ctx.plan.prompts) * max(1, len(ctx.plan.seeds))


# -- pre-score ---------------------------------------------------------------------------------
def prescore_inputs(ctx: Context) -> Any:
    p = ctx.plan
    return {"train": ctx.output_fp("train"), "size": [p.width, p.height], "candidates": p.candidates}


def spread(steps: list[int], n: int) -> list[int]:
    """``n`` of ``steps`` (sorted) spread evenly, the first and the last kept."""
    if len(steps) <= n:
        return list(steps)
    return sorted({steps[round(j * (len(steps) - 1) / max(1, n - 1))] for j in range(n)})


def pick(steps: list[int], flat: list[int], n: int) -> tuple[list[int], str]:
    """The candidate steps: where the fixed-batch loss flattened (at most ``n``, spread evenly);
    when that is fewer than ``n`` checkpoints, the others spread over the run, so the images
    still show a choice; without a loss curve, ``n`` spread evenly up to the last checkpoint."""
    flat, steps = sorted(flat), sorted(steps)
    if not flat:
        return spread(steps, n), "spread over the run (no fixed-batch loss to pre-select by)"
    pool = spread(flat, n)
    why = "where the fixed-batch loss has flattened (Scores' pre-selection)"
    if len(pool) < min(n, len(steps)):
        rest = spread([s for s in steps if s not in pool], n - len(pool))
        why += f"; {', '.join(map(str, rest))} from earlier in the run, to compare against"
        pool = sorted({*pool, *rest})
    return pool, why


def prescore_run(ctx: Context) -> dict:
    p, host, folder = ctx.plan, ctx.host, _folder(ctx)
    spec = FixedBatchSpec(width=p.width, height=p.height)
    problem = None
    try:
        loss = ctx.in_queue(
            "fixed-batch loss",
            lambda prog: prescore(
                host, folder, None, str(ctx.dest), spec, _rows(ctx), p.sampling_steps, progress=prog
            ),
        )
    except (Unavailable, ValueError) as e:
        loss, problem = None, f"fixed-batch loss skipped: {e}"
    steps = [n for n, _p in list_checkpoints(folder, p.name)]
    cands, why = pick(steps, loss.flat_steps if loss else [], p.candidates)
    return {"loss": loss.to_dict() if loss else None, "problem": problem, "candidates": cands, "why": why}


def prescore_outputs(ctx: Context, result: dict) -> Any:
    return result["candidates"]


def loss_result(ctx: Context) -> FixedLossResult | None:
    d = ctx.results["prescore"]["loss"]
    if not d:
        return None
    return FixedLossResult(
        points=[LossPoint(int(x["step"]), str(x["checkpoint"]), float(x["loss"])) for x in d["points"]],
        flat_steps=list(d["flat_steps"]),
        problems=list(d["problems"]),
        batch_size=int(d["samples"]),
        run_folder=_folder(ctx),
    )


# -- sweep -------------------------------------------------------------------------------------
def sweep_inputs(ctx: Context) -> Any:
    p = ctx.plan
    gen = gen_params(p)
    return {
        "train": ctx.output_fp("train"),
        "candidates": ctx.results["prescore"]["candidates"],
        "rows": [p.prompts, p.seeds],
        "gen": [gen.negative_prompt, gen.sampler, gen.steps, gen.cfg_scale, gen.width, gen.height],
    }


def sweep_run(ctx: Context) -> dict:
    p, host, folder = ctx.plan, ctx.host, _folder(ctx)
    run = run_from_folder(folder, host.model_facts().embedding_width, host.paths().embeddings_dir)
    try:
        cps = plan_checkpoints(run, "list", wanted=ctx.results["prescore"]["candidates"])
        batch = int(host.setting("sweep_batch_size", DEFAULT_BATCH_SIZE) or DEFAULT_BATCH_SIZE)
        plan = plan_sweep(cps, clean_prompts(p.prompts), check_seeds(p.seeds), batch, p.name, folder)
    except PlanError as e:
        raise AutopilotError("sweep", str(e), Failure.REFUSED) from e
    result = ctx.in_queue(
        f"images of {len(cps)} checkpoints", lambda prog: run_sweep(plan, host, gen_params(p), prog)
    )
    if result.interrupted:
        raise Cancelled("stopped during the sweep (its cells so far are saved)")
    if result.record is None:
        raise AutopilotError("sweep", "; ".join(result.warnings) or "the sweep left no record to score")
    return result.to_dict()


def sweep_outputs(ctx: Context, result: dict) -> Any:
    return file_facts([result["record"], result["grid"]]) or None


# -- scores ------------------------------------------------------------------------------------
def scores_inputs(ctx: Context) -> Any:
    return {"sweep": ctx.output_fp("sweep"), "prescore": ctx.output_fp("prescore"), "tol": ctx.plan.tolerance}


def scores_run(ctx: Context) -> dict:
    host, folder, p = ctx.host, _folder(ctx), ctx.plan
    record = read_record(ctx.results["sweep"]["record"])
    loss = loss_result(ctx)
    report = ctx.in_queue(
        "scores",
        lambda prog: score(host, folder, record, None, str(ctx.dest), p.tolerance, loss=loss, progress=prog),
    )
    return report.to_dict()


def scores_outputs(ctx: Context, result: dict) -> Any:
    files = [f for f in (result.get("marked_grid"), result.get("csv")) if f]
    return [file_facts(files), result.get("recommendation")]


# -- choose ------------------------------------------------------------------------------------
def choose_inputs(ctx: Context) -> Any:
    return {"scores": ctx.output_fp("scores")}


def choose_run(ctx: Context) -> dict:
    rec = ctx.results["scores"].get("recommendation")
    if rec:
        return dict(rec)
    cands = ctx.results["prescore"]["candidates"]
    if not cands:
        raise AutopilotError("choose", "no checkpoint to choose from")
    step = cands[-1]
    problems = "; ".join(ctx.results["scores"].get("problems") or []) or "no scores"
    return {
        "step": step,
        "checkpoint": f"{ctx.plan.name}-{step}",
        "rule": "No score could choose, so the last candidate checkpoint.",
        "why": problems,
    }


def choose_outputs(ctx: Context, result: dict) -> Any:
    return result


# -- promote -----------------------------------------------------------------------------------
def promote_inputs(ctx: Context) -> Any:
    p = ctx.plan
    return {"choose": ctx.output_fp("choose"), "trigger": p.trigger, "prompt": p.prompts[:1]}


def _previous_token(ctx: Context) -> str | None:
    rec = ctx.state.stages.get("promote")
    return rec.result.get("token") if rec else None


def trigger_for(ctx: Context, step: int) -> tuple[str, str]:
    """(trigger, why): the plan's, else ``<name>-<step>``; when its tokens clash with a loaded
    embedding or a file in the embeddings folder, the first near name that clashes with none."""
    wanted = ctx.plan.trigger or f"{ctx.plan.name}-{step}"
    mine = _previous_token(ctx)
    names = {e.name for e in ctx.host.embeddings() if e.loaded}
    emb_dir = ctx.host.paths().embeddings_dir
    if emb_dir and Path(emb_dir).is_dir():
        names |= {f.stem for f in Path(emb_dir).rglob("*") if f.is_file()}
    names.discard(mine or "")
    check = check_trigger(wanted, sorted(names))
    if not check.clashes and wanted not in names:
        return wanted, f"{wanted}: clashes with no loaded embedding"
    free = suggest(wanted, sorted(names))  # a near name that is neither taken nor a token prefix
    if free is None:
        raise AutopilotError(
            "promote", f"no trigger near {wanted!r} is free: give one in the plan", Failure.REFUSED
        )
    if check.clashes:
        why = f"the tokens of {wanted} and of the loaded {check.clashes[0].other} begin one another"
    else:
        why = f"an embedding {wanted} already exists"
    return free, f"{free}: {why}, so a near name that clashes with nothing"


def promote_run(ctx: Context) -> dict:
    host, p = ctx.host, ctx.plan
    step = int(ctx.results["choose"]["step"])
    run = run_from_folder(_folder(ctx), host.model_facts().embedding_width, host.paths().embeddings_dir)
    trigger, why = trigger_for(ctx, step)
    ours = trigger == _previous_token(ctx)  # replacing our own earlier promotion only
    try:
        res = ctx.in_queue(
            f"promote {trigger}",
            lambda _p: promote_checkpoint(
                host, run.by_step(step), trigger, overwrite=ours, sample_prompt=p.prompts[0]
            ),
        )
    except PromoteError as e:
        kind = Failure.REFUSED if e.kind is Refusal.EXISTS else Failure.STAGE
        raise AutopilotError("promote", str(e), kind) from e
    return {
        "path": res.path,
        "token": res.token,
        "text_to_type": res.text_to_type,
        "warning": res.warning,
        "trigger_reason": why,
        "step": step,
    }


def promote_outputs(ctx: Context, result: dict) -> Any:
    return file_facts([result["path"]]) or None
