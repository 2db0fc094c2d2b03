"""A run of our own trainer, from ``TrainArgs`` to a ``TrainOutcome``: where it starts (the
embedding, or its newest checkpoint in the log folder), the dataset encoded once, the loop inside
the model's session (``TrainModel.session``: the model's own weights are never changed), and what
happened, in words (why it stopped, the step where the loss flattened, the likely cause of a NaN)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lib_textinv.kit.embedding_file import as_parts, load_embedding, read_optimizer_state
from lib_textinv.kit.host import Host, ModelFacts, TrainModel
from lib_textinv.kit.progress import Progress
from lib_textinv.kit.templates import read_template
from lib_textinv.train.flatten import steps_saved
from lib_textinv.train.lr_schedule import check_schedule
from lib_textinv.train.outcome import RunStatus, TrainOutcome
from lib_textinv.train.own_checkpoints import RunFiles, newest_checkpoint
from lib_textinv.train.own_data import Item, Latents, encode_all, load_items
from lib_textinv.train.own_loop import Loop, LoopPlan, LoopResult, StopReason
from lib_textinv.train.params import TrainArgs
from lib_textinv.train.run_files import ensure_run_folder

Clock = Callable[[], _dt.datetime]
HIGH_RATE = 0.02  # a rate above which a NaN is more likely the rate's fault than anything else


@dataclass(frozen=True)
class Start:
    """Where a run starts: the file and its step (the embedding, or its newest checkpoint)."""

    path: Path
    step: int
    from_checkpoint: bool


def find_start(host: Host, args: TrainArgs) -> Start:
    """The embedding named in ``args`` (its stored step), or with ``resume`` its newest checkpoint
    under the log folder when that one is further along. Raises ``FileNotFoundError``."""
    info = {e.name: e for e in host.embeddings()}.get(args.embedding_name)
    if info is None or not info.filename:
        raise FileNotFoundError(f"the webui has no embedding file named {args.embedding_name!r}")
    start = Start(Path(info.filename), int(info.step or 0), False)
    if args.resume and args.log_directory:
        newest = newest_checkpoint(args.log_directory, args.embedding_name)
        if newest is not None and newest[0] > start.step:
            start = Start(newest[1], newest[0], True)
    return start


def template_path(host: Host, args: TrainArgs) -> str:
    return host.templates().get(args.template_filename) or args.template_filename


def loop_plan(args: TrainArgs, start: int, template: str) -> LoopPlan:
    lr = check_schedule(args.learn_rate, args.steps, start)
    clip = (
        check_schedule(args.clip_grad_value, args.steps, start, "clip value")
        if args.clip_grad_mode != "disabled"
        else None
    )
    return LoopPlan(
        token=args.embedding_name, start_step=start, end_step=lr.final_step, lr=lr.segments,
        batch_size=args.batch_size, gradient_step=args.gradient_step, clip_mode=args.clip_grad_mode,
        clip=clip.segments if clip else [], save_every=args.save_embedding_every, eval_every=args.eval_every,
        csv_every=args.loss_csv_every or 1, stop_when_flat=args.stop_when_flat,
        flat_threshold=args.flat_threshold,
        width=args.training_width, height=args.training_height, template_lines=read_template(template),
        shuffle=args.shuffle_tags, drop_out=args.tag_drop_out, latent_method=args.latent_sampling_method,
        seed=args.seed if args.seed >= 0 else int(_dt.datetime.now().timestamp()) % 2**31,
    )  # fmt: skip


def settings_values(
    args: TrainArgs, plan: LoopPlan, n_images: int, n_vectors: int, facts: ModelFacts, template: str
) -> dict:
    """The webui's settings-file keys (its saving_settings) plus ours."""
    return {
        "embedding_name": args.embedding_name, "learn_rate": args.learn_rate, "batch_size": args.batch_size,
        "gradient_step": args.gradient_step, "data_root": args.data_root, "log_directory": args.log_directory,
        "training_width": args.training_width, "training_height": args.training_height, "steps": args.steps,
        "clip_grad_mode": args.clip_grad_mode, "clip_grad_value": args.clip_grad_value,
        "latent_sampling_method": args.latent_sampling_method, "create_image_every": 0,
        "save_embedding_every": args.save_embedding_every, "template_file": template,
        "initial_step": plan.start_step, "num_of_dataset_images": n_images,
        "num_vectors_per_token": n_vectors,
        "model_name": facts.name, "model_hash": facts.short_hash, "trainer": "own", "seed": plan.seed,
        "shuffle_tags": args.shuffle_tags, "tag_drop_out": args.tag_drop_out, "flip_images": args.flip_images,
        "eval_every": args.eval_every, "stop_when_flat": args.stop_when_flat,
        "flat_threshold": args.flat_threshold,
    }  # fmt: skip


def run_own_training(
    host: Host,
    args: TrainArgs,
    progress: Progress,
    now: Clock = _dt.datetime.now,
    on_start: Callable[[Path], None] | None = None,
) -> TrainOutcome:
    """Train with our loop (inside the host's queue, e.g. from ``host.run_job``)."""
    from lib_textinv.dataset.scan import list_images

    model = host.train_model()
    start = find_start(host, args)
    parts = as_parts(load_embedding(start.path).vectors)
    _check_parts(model, parts, start.path)
    template = template_path(host, args)
    plan = loop_plan(args, start.step, template)
    started = now()
    folder = ensure_run_folder(args.log_directory, args.embedding_name, started)
    if on_start:
        on_start(folder)
    facts = host.model_facts()
    files = RunFiles(folder, args.embedding_name, facts.short_hash or None, facts.name or None)
    progress.begin(plan.end_step - plan.start_step, "reading the dataset")
    items, images, skipped = load_items(
        list_images(args.data_root), plan.width, plan.height, args.flip_images, progress
    )
    if not items:
        raise ValueError(
            f"{args.data_root}: no readable training images ({'; '.join(skipped) or 'none found'})"
        )
    latents = encode_all(model, images, progress)
    n_vectors = next(iter(parts.values())).shape[0]
    values = settings_values(args, plan, len(images), n_vectors, facts, template)
    files.write_settings(values, started)
    result = _train(model, plan, items, latents, parts, files, progress, start)
    return _outcome(result, plan, folder, model, n_vectors)


def _check_parts(model: TrainModel, parts: dict, path: Path) -> None:
    want = model.parts()
    have = {k: int(v.shape[-1]) for k, v in parts.items()}
    if have != want:
        raise ValueError(
            f"{path.name}: its vectors ({_describe(have)}) do not fit the loaded {model.family} model "
            f"({_describe(want)}); create an embedding for this model"
        )


def _describe(widths: dict[str, int]) -> str:
    return ", ".join(f"{k} {w}" if k != "*" else f"{w} wide" for k, w in widths.items())


def _train(
    model: TrainModel,
    plan: LoopPlan,
    items: list[Item],
    latents: Latents,
    parts: dict[str, Any],
    files: RunFiles,
    progress: Progress,
    start: Start,
) -> LoopResult:
    import torch

    with model.session(plan.token, parts) as live:
        optimizer = torch.optim.AdamW(list(live.values()), lr=plan.lr[0].rate, weight_decay=0.0)
        state = read_optimizer_state(start.path, parts)
        if state is not None:
            optimizer.load_state_dict(state)
        return Loop(model, plan, items, latents, live, optimizer, files, progress).run()


def likely_cause(model: TrainModel, plan: LoopPlan, n_vectors: int) -> str:
    """Words for a NaN: the usual suspects for this model and these settings."""
    causes = []
    rate = max(seg.rate for seg in plan.lr) if plan.lr else 0.0
    if rate >= HIGH_RATE or rate * n_vectors >= 5 * HIGH_RATE:
        causes.append(f"a learning rate of {rate:g} is high for {n_vectors} vectors (try {rate / 5:g})")
    if model.family.startswith("SD2"):
        causes.append("SD2.x in half precision overflows (start the webui with --no-half, or turn on "
                      "'Upcast cross attention layer to float32')")  # fmt: skip
    causes.append(
        "gradient clipping off (try clipping by norm at 1.0)" if plan.clip_mode == "disabled" else ""
    )
    return "; ".join(c for c in causes if c)


def _outcome(
    result: LoopResult, plan: LoopPlan, folder: Path, model: TrainModel, n_vectors: int
) -> TrainOutcome:
    status = {
        StopReason.FINISHED: RunStatus.FINISHED, StopReason.FLAT: RunStatus.FINISHED,
        StopReason.INTERRUPTED: RunStatus.INTERRUPTED, StopReason.NON_FINITE: RunStatus.FAILED,
    }[result.reason]  # fmt: skip
    message, error = result.message, ""
    last = result.checkpoints[-1] if result.checkpoints else None
    if result.reason is StopReason.FLAT:
        message += f"; {steps_saved(result.step, plan.end_step)} steps fewer than max steps"
    if result.reason is StopReason.NON_FINITE:
        n_vectors = 0
        error = f"likely cause: {likely_cause(model, plan, n_vectors or 1)}"
        message = f"stopped: {result.message}; nothing with NaN was saved" + (
            f"; the last good step is in {Path(last).name}" if last else ""
        )
    elif last:
        # Ours never writes embeddings/: the user picks a checkpoint to promote (Compare).
        message += (
            f"; the last checkpoint is {Path(last).name} (Compare them, then Promote one to prompt with it)"
        )
    return TrainOutcome(
        status, message, result.step, plan.end_step, error, str(folder), result.checkpoints, last,
        last is not None,
        trainer="own", stop_reason=result.reason.value, fixed_losses=[[s, v] for s, v in result.evals],
    )  # fmt: skip
