"""The fixed-batch loss of every checkpoint (DVAR, Voronov et al. 2023): a convergence curve you
can read before generating a single image.

The ordinary training loss jumps around because every step draws new images, noise, timesteps and
prompts. Fix all four — the training images' latents, noise and timesteps from a seeded generator,
one template prompt per sample — and the denoising loss of each checkpoint on that one batch is a
clean curve: it falls while the embedding learns and flattens when it has converged. The steps
where it flattens are the ones worth generating images for.

The model work goes through the host's ``LossHost`` (the bridge implements it with the same model
calls as our trainer, under ``torch.no_grad``, docs/webui-contract.md §19 "Fixed-batch loss").
Same batch + same vectors → the same number, every time.
"""

from __future__ import annotations

import logging
import math
import os
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lib_textinv.kit.host import LossHost
from lib_textinv.kit.progress import Progress
from lib_textinv.train.own_data import caption_for, stratified_timesteps

logger = logging.getLogger(__name__)

# Token under which each checkpoint is registered in turn. Conditioning does not depend on the token's
# text (the vectors replace it), so one fixed, unlikely name keeps the prompts identical for every
# checkpoint and never shadows an embedding of the user's.
PROBE_TOKEN = "textinv-fixed-batch-probe"


@dataclass(frozen=True)
class FixedBatchSpec:
    seed: int = 1234
    max_images: int = 8  # training images used (first ones by name)
    repeats: int = 2  # noise/timestep draws per image
    batch_size: int = 4  # samples per host call
    width: int = 512
    height: int = 512
    num_timesteps: int = 1000  # SD1/SD2 train with 1000 diffusion steps

    @property
    def n_samples_max(self) -> int:
        return self.max_images * self.repeats


@dataclass
class FixedBatch:
    """Everything fixed about the batch; CPU float32 tensors, reused for every checkpoint."""

    latents: Any  # [N, C, h, w]
    noise: Any  # [N, C, h, w]
    timesteps: Any  # LongTensor [N]
    prompts: list[str]  # with PROBE_TOKEN in place of the name
    image_names: list[str]
    batch_size: int

    @property
    def size(self) -> int:
        return len(self.prompts)

    @property
    def calls(self) -> int:
        return math.ceil(self.size / self.batch_size)


@dataclass(frozen=True)
class LossPoint:
    step: int
    checkpoint: str
    loss: float


@dataclass(frozen=True)
class CostEstimate:
    """Model work per checkpoint: the fixed-batch loss vs generating the sweep's images for it."""

    loss_unet_evals: int  # one denoiser evaluation per sample
    loss_calls: int  # batched host calls
    image_unet_evals: int  # images × sampler steps × (2 with CFG: cond + uncond)
    ratio: float  # image_unet_evals / loss_unet_evals

    def sentence(self) -> str:
        return (
            f"{self.loss_unet_evals} denoiser passes per checkpoint ({self.loss_calls} batched calls) vs "
            f"{self.image_unet_evals} to generate its images: {self.ratio:.0f}× cheaper "
            "(plus one VAE encode of the training images for the whole run, "
            "instead of a VAE decode per image)"
        )


@dataclass
class FixedLossResult:
    points: list[LossPoint] = field(default_factory=list)
    flat_steps: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    batch_size: int = 0
    cost: CostEstimate | None = None
    prompts: list[str] = field(default_factory=list)
    run_folder: str = ""  # the run these checkpoints belong to (a UI state must match its run)

    def to_dict(self) -> dict:
        return {
            "points": [{"step": p.step, "checkpoint": p.checkpoint, "loss": p.loss} for p in self.points],
            "flat_steps": self.flat_steps,
            "problems": self.problems,
            "samples": self.batch_size,
            "cost": None
            if self.cost is None
            else {
                "loss_unet_evals": self.cost.loss_unet_evals,
                "loss_calls": self.cost.loss_calls,
                "image_unet_evals": self.cost.image_unet_evals,
                "ratio": self.cost.ratio,
            },
        }


# -- the curve ---------------------------------------------------------------------------------


def knee_index(losses: Sequence[float], remaining_fraction: float = 0.1) -> int:
    """First index after which the loss falls by at most ``remaining_fraction`` of its total drop
    (highest to lowest value of the curve)."""
    if not losses:
        raise ValueError("no losses")
    drop = max(losses) - min(losses)
    suffix_min = list(losses)
    for i in range(len(losses) - 2, -1, -1):
        suffix_min[i] = min(losses[i], suffix_min[i + 1])
    for i, loss in enumerate(losses):
        if loss - suffix_min[i] <= remaining_fraction * drop:
            return i
    return len(losses) - 1


def flattening_steps(
    steps: Sequence[int], losses: Sequence[float], remaining_fraction: float = 0.1, max_selected: int = 4
) -> list[int]:
    """Steps to pre-select for the sweep: the knee of the curve, then evenly spread over the flat
    part up to the last checkpoint, plus the lowest loss. NaN losses are ignored."""
    pairs = sorted((s, v) for s, v in zip(steps, losses, strict=True) if not math.isnan(v))
    if len(pairs) <= 2:
        return [s for s, _ in pairs]
    xs, ys = [s for s, _ in pairs], [v for _, v in pairs]
    k = knee_index(ys, remaining_fraction)
    flat = list(range(k, len(xs)))
    m = max(1, min(max_selected, len(flat)))
    picks = {flat[round(j * (len(flat) - 1) / (m - 1))] for j in range(m)} if m > 1 else {flat[0]}
    picks.add(min(range(len(ys)), key=lambda i: (ys[i], i)))
    return sorted(xs[i] for i in picks)


def estimate_cost(
    n_samples: int, batch_size: int, images_per_checkpoint: int, sampler_steps: int, cfg: bool = True
) -> CostEstimate:
    image = images_per_checkpoint * sampler_steps * (2 if cfg else 1)
    calls = math.ceil(n_samples / max(1, batch_size))
    return CostEstimate(n_samples, calls, image, image / n_samples if n_samples else math.inf)


# -- the batch ---------------------------------------------------------------------------------


def fixed_prompts(
    template_lines: Sequence[str], captions: Sequence[str], repeats: int, seed: int
) -> list[str]:
    """One template prompt per sample (image-major, ``repeats`` per image), drawn with a seeded RNG
    exactly as the trainer fills templates; ``[name]`` becomes ``PROBE_TOKEN``."""
    from lib_textinv.kit.templates import training_prompt

    rng = random.Random(seed)
    return [
        training_prompt(template_lines, PROBE_TOKEN, cap, rng) for cap in captions for _ in range(repeats)
    ]


def build_fixed_batch(
    host: LossHost,
    image_paths: Sequence[str | os.PathLike],
    template_lines: Sequence[str],
    spec: FixedBatchSpec = FixedBatchSpec(),
    progress: Progress | None = None,
) -> FixedBatch:
    """Load and encode the training images once, draw noise and timesteps from ``spec.seed``."""
    import torch
    from PIL import Image

    from lib_textinv.kit.images import ImageRefused, load_rgb

    progress = progress or Progress()
    images: list[Any] = []
    names: list[str] = []
    captions: list[str] = []
    problems: list[str] = []
    for p in sorted(Path(os.fspath(x)) for x in image_paths):
        if len(images) >= spec.max_images:
            break
        progress.check()
        try:
            im = load_rgb(p)
        except (OSError, ImageRefused, ValueError) as e:
            problems.append(f"{p.name}: skipped ({e})")
            continue
        # the trainer resizes without keeping the aspect ratio (docs/webui-contract.md
        # §15 "Training dataset")
        images.append(im.resize((spec.width, spec.height), Image.BICUBIC))
        names.append(p.name)
        captions.append(caption_for(p))
    for msg in problems:
        logger.warning("fixed-batch loss: %s", msg)
    if not images:
        raise ValueError(
            "no readable training images for the fixed batch"
            + (f" ({'; '.join(problems)})" if problems else "")
        )
    with torch.no_grad():
        lat = torch.as_tensor(host.encode_latents(images)).detach().float().cpu()
    if lat.dim() != 4 or lat.shape[0] != len(images):
        raise ValueError(f"encode_latents returned shape {tuple(lat.shape)} for {len(images)} images")
    g = torch.Generator().manual_seed(int(spec.seed))
    latents = lat.repeat_interleave(spec.repeats, dim=0)
    noise = torch.randn(latents.shape, generator=g, dtype=torch.float32)
    timesteps = stratified_timesteps(latents.shape[0], spec.num_timesteps, g)
    prompts = fixed_prompts(template_lines, captions, spec.repeats, spec.seed)
    return FixedBatch(latents, noise, timesteps, prompts, names, max(1, spec.batch_size))


def batch_loss(host: LossHost, batch: FixedBatch, vectors: Any, progress: Progress | None = None) -> float:
    """Mean loss of the whole fixed batch for one set of vectors (chunks weighted by their size)."""
    total, count = 0.0, 0
    for start in range(0, batch.size, batch.batch_size):
        if progress is not None:
            progress.check()
        end = min(start + batch.batch_size, batch.size)
        loss = host.denoise_loss(
            batch.latents[start:end],
            batch.prompts[start:end],
            batch.timesteps[start:end],
            batch.noise[start:end],
            (PROBE_TOKEN, vectors),
        )
        total += float(loss) * (end - start)
        count += end - start
    return total / count


def _step_and_path(item: Any) -> tuple[int, Path]:
    step, path = item if isinstance(item, tuple) else (item.step, item.path)
    return int(step), Path(os.fspath(path))


def checkpoint_losses(
    host: LossHost,
    checkpoints: Sequence[Any],
    batch: FixedBatch,
    progress: Progress | None = None,
    remaining_fraction: float = 0.1,
    max_selected: int = 4,
    images_per_checkpoint: int = 4,
    sampler_steps: int = 20,
) -> FixedLossResult:
    """The fixed-batch loss for every checkpoint (``(step, path)`` pairs or objects with ``.step``
    and ``.path``), the flattening steps, and the cost compared with generating the sweep's images."""
    from lib_textinv.kit.embedding_file import EmbeddingFileError, load_embedding

    progress = progress or Progress()
    items = sorted((_step_and_path(c) for c in checkpoints), key=lambda sp: sp[0])
    result = FixedLossResult(batch_size=batch.size, prompts=list(batch.prompts))
    progress.begin(len(items) * batch.calls, "fixed-batch loss")
    for step, path in items:
        progress.check()
        try:
            emb = load_embedding(path)
        except EmbeddingFileError as e:
            result.problems.append(str(e))
            progress.step(batch.calls)
            continue
        # SDXL's {"clip_l", "clip_g"} go to the host as they are (docs/webui-contract.md §25 SDXL
        # embeddings); a file that does not fit the loaded model was left out with its reason
        # when the run's checkpoints were listed
        loss = batch_loss(host, batch, emb.vectors, progress)
        result.points.append(LossPoint(step, path.name, loss))
        progress.step(batch.calls, f"{path.name}: loss {loss:.5f}")
    result.flat_steps = flattening_steps(
        [p.step for p in result.points], [p.loss for p in result.points], remaining_fraction, max_selected
    )
    result.cost = estimate_cost(batch.size, batch.batch_size, images_per_checkpoint, sampler_steps)
    return result


# -- what the run was trained on ---------------------------------------------------------------
