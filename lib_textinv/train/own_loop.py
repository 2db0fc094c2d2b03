"""Our training loop on the host's ``TrainModel`` (SD1, SD2, SDXL): AdamW on the embedding's
vectors only, the webui's learning-rate schedule syntax, gradient accumulation, clipping,
checkpoints every N steps, the fixed-batch loss every K steps with "Stop when it flattens", and a
guard that never lets a NaN or an infinity reach the vectors or a file."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from lib_textinv.kit.host import TrainModel
from lib_textinv.kit.progress import Progress
from lib_textinv.train.flatten import FlatVerdict, judge
from lib_textinv.train.lr_schedule import Segment
from lib_textinv.train.own_checkpoints import RunFiles, all_finite
from lib_textinv.train.own_data import Item, Latents, batches, prompts_for, stratified_timesteps

FIXED_BATCH_MAX = 8  # samples in the fixed batch: enough for a steady curve, cheap to evaluate
MAX_SKIPPED = 25  # steps in a row the loss scaler may skip (inf gradients) before the run stops


class StopReason(str, Enum):
    FINISHED = "finished"  # reached the schedule's last step
    FLAT = "flat"  # the fixed-batch loss flattened ("Stop when it flattens")
    INTERRUPTED = "interrupted"  # Stop / the webui's Interrupt
    NON_FINITE = "non_finite"  # a NaN/Inf loss, gradient or vector: stopped before it spread


@dataclass
class LoopPlan:
    token: str
    start_step: int
    end_step: int
    lr: list[Segment]
    batch_size: int = 1
    gradient_step: int = 1
    clip_mode: str = "disabled"
    clip: list[Segment] = field(default_factory=list)
    save_every: int = 50
    eval_every: int = 25
    csv_every: int = 1
    stop_when_flat: bool = False
    flat_threshold: float = 0.1
    width: int = 512
    height: int = 512
    template_lines: list[str] = field(default_factory=lambda: ["[name]"])
    shuffle: bool = False
    drop_out: float = 0.0
    latent_method: str = "deterministic"
    seed: int = 0


@dataclass
class LoopResult:
    step: int
    reason: StopReason
    message: str = ""
    checkpoints: list[str] = field(default_factory=list)
    evals: list[tuple[int, float]] = field(default_factory=list)
    verdict: FlatVerdict | None = None


class NonFinite(ArithmeticError):
    """A NaN or an infinity appeared; ``what`` says where (loss, gradient, vectors)."""

    def __init__(self, what: str, step: int) -> None:
        super().__init__(f"the {what} became NaN or infinite at step {step}")
        self.what, self.step = what, step


def loss_scaler(live: dict[str, Any]) -> Any:
    """The webui trainer's loss scaling (modules/textual_inversion/textual_inversion.py:493, :555,
    :564-565), on when the vectors live on a CUDA device: the model runs in half precision there
    and the vectors' gradient would underflow. Elsewhere a scaler that does nothing."""
    import torch

    on_cuda = any(v.is_cuda for v in live.values())
    return torch.cuda.amp.GradScaler(enabled=on_cuda)


def rate_at(segments: list[Segment], step: int) -> float:
    for seg in segments:
        if seg.start <= step < seg.end:
            return seg.rate
    return segments[-1].rate if segments else 0.0


@dataclass
class FixedBatch:
    latents: Any
    noise: Any
    timesteps: Any
    prompts: list[str]


def fixed_batch(model: TrainModel, plan: LoopPlan, items: list[Item], latents: Latents) -> FixedBatch:
    """The same images, noise, timesteps and prompts at every evaluation (seeded apart from the
    training's randomness, so changing one never changes the other)."""
    import torch

    index = [i for i, it in enumerate(items) if not it.mirrored][:FIXED_BATCH_MAX]
    g = torch.Generator().manual_seed(plan.seed + 1)
    lat = latents.mean[index]
    noise = torch.randn(lat.shape, generator=g, dtype=lat.dtype)
    t = stratified_timesteps(len(index), model.num_timesteps, g)
    prompts = prompts_for(
        items, index, plan.template_lines, plan.token, random.Random(plan.seed + 1), False, 0.0
    )
    return FixedBatch(lat, noise, t, prompts)


def evaluate(model: TrainModel, plan: LoopPlan, batch: FixedBatch) -> float:
    """Mean fixed-batch loss, ``batch_size`` samples per call, no gradients."""
    import torch

    total, n = 0.0, len(batch.prompts)
    with torch.no_grad():
        for i in range(0, n, plan.batch_size):
            sl = slice(i, i + plan.batch_size)
            cond = model.conditioning(batch.prompts[sl], plan.width, plan.height)
            loss = model.loss(batch.latents[sl], cond, batch.timesteps[sl], batch.noise[sl])
            total += float(loss.float().sum().item())
    return total / n


def vector_norms(live: dict[str, Any]) -> dict[str, float]:
    return {k: float(v.detach().float().norm(dim=-1).mean().item()) for k, v in live.items()}


class Loop:
    """One run's state; ``run`` drives it to a ``LoopResult``."""

    def __init__(
        self,
        model: TrainModel,
        plan: LoopPlan,
        items: list[Item],
        latents: Latents,
        live: dict[str, Any],
        optimizer: Any,
        files: RunFiles,
        progress: Progress,
    ) -> None:
        import torch

        self.model, self.plan, self.items, self.latents = model, plan, items, latents
        self.live, self.optimizer, self.files, self.progress = live, optimizer, files, progress
        self.rng = random.Random(plan.seed)
        self.gen = torch.Generator().manual_seed(plan.seed)
        if plan.latent_method == "once":
            latents.fix_once(self.gen)
        self.order = batches(len(items), plan.batch_size, self.rng)
        self.step = plan.start_step
        self.result = LoopResult(plan.start_step, StopReason.FINISHED)
        self.fixed = fixed_batch(model, plan, items, latents) if plan.eval_every > 0 else None
        self.window_losses: list[float] = []
        self.saved_at: int | None = None
        per_epoch = max(1, len(items) // max(1, min(plan.batch_size, len(items))) // plan.gradient_step)
        self.steps_per_epoch = per_epoch
        self.scaler = loss_scaler(live)
        self.skipped = 0

    # -- one optimizer step -------------------------------------------------------------------
    def _batch_loss(self) -> float:
        """Forward and backward of one batch (a ``gradient_step``-th of the step's loss)."""
        import torch

        p = self.plan
        index = next(self.order)
        lat = self.latents.sample(torch.tensor(index), p.latent_method, self.gen)
        noise = torch.randn(lat.shape, generator=self.gen, dtype=lat.dtype)
        t = torch.randint(0, self.model.num_timesteps, (len(index),), generator=self.gen)
        prompts = prompts_for(self.items, index, p.template_lines, p.token, self.rng, p.shuffle, p.drop_out)
        cond = self.model.conditioning(prompts, p.width, p.height)
        loss = self.model.loss(lat, cond, t, noise).mean() / p.gradient_step
        value = float(loss.item())
        if not math.isfinite(value):
            raise NonFinite("loss", self.step + 1)
        self.scaler.scale(loss).backward()
        return value * p.gradient_step

    def _clip(self) -> None:
        import torch

        p = self.plan
        params = list(self.live.values())
        if p.clip_mode == "value":
            torch.nn.utils.clip_grad_value_(params, rate_at(p.clip, self.step))
        elif p.clip_mode == "norm":
            torch.nn.utils.clip_grad_norm_(params, rate_at(p.clip, self.step))

    def one_step(self) -> float:
        """Accumulate, clip, step; the vectors are put back as they were if anything non-finite
        shows up (raises ``NonFinite``)."""
        lr = rate_at(self.plan.lr, self.step)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.optimizer.zero_grad(set_to_none=True)
        losses = [self._batch_loss() for _ in range(self.plan.gradient_step)]
        self.scaler.unscale_(self.optimizer)
        grads_ok = all_finite({k: v.grad for k, v in self.live.items() if v.grad is not None})
        # Under the loss scaler (fp16 on a GPU) an inf gradient means "scale too high": the scaler
        # skips that step and lowers the scale. Without it, or many times in a row, it is a NaN.
        self.skipped = 0 if grads_ok else self.skipped + 1
        if not grads_ok and (not self.scaler.is_enabled() or self.skipped > MAX_SKIPPED):
            raise NonFinite("gradient", self.step + 1)
        if grads_ok:
            self._clip()
        before = {k: v.detach().clone() for k, v in self.live.items()}
        self.scaler.step(self.optimizer)
        self.scaler.update()
        if not all_finite(self.live):
            for k, v in self.live.items():
                v.data.copy_(before[k])
            raise NonFinite("vectors", self.step + 1)
        self.step += 1
        return sum(losses) / len(losses)

    # -- around the steps ---------------------------------------------------------------------
    def _save(self) -> None:
        if self.saved_at == self.step:
            return
        path = self.files.save_checkpoint(self.step, self.live, self.optimizer.state_dict())
        self.result.checkpoints.append(str(path))
        self.saved_at = self.step

    def _evaluate(self) -> FlatVerdict | None:
        if self.fixed is None:
            return None
        loss = evaluate(self.model, self.plan, self.fixed)
        self.result.evals.append((self.step, loss))
        self.files.append_fixed(self.step, loss, vector_norms(self.live))
        verdict = judge([v for _s, v in self.result.evals], self.plan.flat_threshold)
        self.result.verdict = verdict
        return verdict

    def _after_step(self, loss: float) -> bool:
        """CSV, progress, checkpoint, evaluation; True when training should stop here (flat)."""
        p, s = self.plan, self.step
        self.window_losses.append(loss)
        done = s - p.start_step
        if done % max(1, p.csv_every) == 0:
            epoch, epoch_step = divmod(s - 1, self.steps_per_epoch)
            mean = sum(self.window_losses) / len(self.window_losses)
            self.files.append_loss(s, epoch, epoch_step + 1, mean, rate_at(p.lr, s - 1))
            self.window_losses.clear()
        fixed = f", fixed-batch {self.result.evals[-1][1]:.4f}" if self.result.evals else ""
        self.progress.step(1, f"step {s}/{p.end_step}, loss {loss:.4f}{fixed}")
        if p.save_every and s % p.save_every == 0:
            self._save()
        if p.eval_every and done % p.eval_every == 0:
            verdict = self._evaluate()
            return bool(p.stop_when_flat and verdict is not None and verdict.flat)
        return False

    def run(self) -> LoopResult:
        if self.fixed is not None:
            self._evaluate()  # the baseline before any step
        try:
            while self.step < self.plan.end_step:
                if self.progress.cancelled:
                    self._end(StopReason.INTERRUPTED, f"interrupted at step {self.step}")
                    break
                if self._after_step(self.one_step()):
                    verdict = self.result.verdict
                    self._end(StopReason.FLAT, f"stopped at step {self.step}: the fixed-batch loss "
                              f"flattened ({verdict.reason if verdict else ''})")  # fmt: skip
                    break
            else:
                self._end(StopReason.FINISHED, f"finished at step {self.step}")
        except NonFinite as e:
            self._end(StopReason.NON_FINITE, str(e))
        self.result.step = self.step
        return self.result

    def _end(self, reason: StopReason, message: str) -> None:
        self.result.reason, self.result.message = reason, message
        if self.step > self.plan.start_step:
            self._save()  # the step reached is always kept (the vectors are finite here)
