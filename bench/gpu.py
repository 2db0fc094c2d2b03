"""The tab's speed claims, measured in one run on randomly initialised stand-ins of the webui's models.

    python bench/gpu.py [--out results.json]            # CUDA: real sizes, fp16, SDPA attention
    python bench/gpu.py --smoke [--out results.json]    # CPU, tiny sizes, < 60 s (CI)

Stand-ins (no weights, nothing downloaded, configs inline): an SD1.5- and an SDXL-shaped diffusers
UNet2DConditionModel, a ViT-L/14-shaped open_clip CLIP (its text tower conditions the UNet), the
ViT-bigG/14 text tower for SDXL, and a BLIP-large-shaped transformers captioner. Random weights
cost the same time as trained ones. Every figure is a ratio of two arms timed in this same run.

Parts: sweep (mixed-checkpoint batches vs one generation per cell, and the share of the UNet's
batch throughput limit), captions (batch 16 vs one at a time, same outputs), training (a
textual-inversion step; SDXL at batch 1 and 4 with its peak memory), scores (the fixed-batch
pre-score of 30 checkpoints as a share of one sweep column). GPU-only parts say "skipped: no CUDA".
Exit status 1 when a part failed or batched captions differ from single ones (after the JSON).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import logging
import math
import os
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

# Nothing may be fetched: the stand-ins are built from configs, so a download attempt fails loudly.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("DIFFUSERS_OFFLINE", "1")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lib_textinv.compare.sweep_plan import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_PROMPTS,
    PlanCheckpoint,
    plan_cost,
    plan_sweep,
)
from lib_textinv.scores.fixed_loss import FixedBatchSpec, stratified_timesteps

logger = logging.getLogger("bench.gpu")

NO_CUDA = "no CUDA"
NO_TRANSFORMERS = "transformers missing"
TRAINER_PENDING = "trainer row pending (issue 15)"
SWEEP_CHECKPOINTS = 10
SCORE_CHECKPOINTS = 30
CAPTION_BATCH = 16
TI_VECTORS = 4  # vectors per token of the embedding being trained

# SD1.5's UNet (v1-inference.yaml: 320 base channels, heads of 8, 768-wide CLIP-L context).
SD15_UNET = {
    "sample_size": 64,
    "down_block_types": ("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
    "up_block_types": ("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
    "block_out_channels": (320, 640, 1280, 1280),
    "layers_per_block": 2,
    "cross_attention_dim": 768,
    "attention_head_dim": 8,
}
# SDXL base's UNet (sd_xl_base.yaml: 1/2/10 transformer layers, 2048-wide CLIP-L+bigG context,
# pooled bigG + size/crop ids as the added embedding).
SDXL_UNET = {
    "sample_size": 128,
    "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
    "up_block_types": ("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
    "block_out_channels": (320, 640, 1280),
    "layers_per_block": 2,
    "transformer_layers_per_block": (1, 2, 10),
    "attention_head_dim": (5, 10, 20),
    "cross_attention_dim": 2048,
    "use_linear_projection": True,
    "addition_embed_type": "text_time",
    "addition_time_embed_dim": 256,
    "projection_class_embeddings_input_dim": 2816,
}
TINY_UNET = {
    "sample_size": 8,
    "down_block_types": ("CrossAttnDownBlock2D", "DownBlock2D"),
    "up_block_types": ("UpBlock2D", "CrossAttnUpBlock2D"),
    "block_out_channels": (32, 64),
    "layers_per_block": 1,
    "cross_attention_dim": 32,
    "attention_head_dim": 4,
    "norm_num_groups": 8,
}
TINY_TEXT = {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1}
# BLIP-large (Salesforce/blip-image-captioning-large): ViT-L/16 at 384 px, BERT-base decoder.
BLIP_LARGE = {
    "vision_config": {
        "hidden_size": 1024,
        "intermediate_size": 4096,
        "num_hidden_layers": 24,
        "num_attention_heads": 16,
        "image_size": 384,
        "patch_size": 16,
    },
    "text_config": {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12},
}
TINY_BLIP = {
    "vision_config": {
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "image_size": 32,
        "patch_size": 16,
    },
    "text_config": {
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
    },
}


@dataclass(frozen=True)
class Sizes:
    smoke: bool
    unet: dict
    sampler_steps: int
    caption_tokens: int
    repeats: int  # timed repeats of one call (throughput limit, training steps)
    limit_batches: tuple[int, ...]  # images per generation call tried for the throughput limit


GPU_SIZES = Sizes(False, SD15_UNET, 20, 30, 5, (1, 2, 4, 8, 12, 16, 24, 32))
SMOKE_SIZES = Sizes(True, TINY_UNET, 4, 5, 2, (1, 2, 8))


@dataclass
class Rig:
    """Where and how the models run: the device, the dtype, and the attention kernel context."""

    device: Any
    dtype: Any
    sizes: Sizes
    overall_peak_gb: float = 0.0  # the highest peak of the run, across the per-part resets

    @property
    def cuda(self) -> bool:
        return self.device.type == "cuda"

    def attention(self) -> AbstractContextManager:
        """The webui's default cross-attention optimisation on torch 2 without xformers is
        "sdp-no-mem": SDPA with the flash and math kernels, memory-efficient off
        (modules/sd_hijack_optimizations.py, SdOptimizationSdpNoMem, priority 80 over "sdp")."""
        import torch

        if not self.cuda:
            return nullcontext()
        try:  # torch >= 2.3 (the lent GPU machines' torch); 2.1's spelling below
            from torch.nn.attention import SDPBackend, sdpa_kernel

            return sdpa_kernel([SDPBackend.FLASH_ATTENTION, SDPBackend.MATH])
        except ImportError:
            return torch.backends.cuda.sdp_kernel(
                enable_flash=True, enable_math=True, enable_mem_efficient=False
            )

    def sync(self) -> None:
        import torch

        if self.cuda:
            torch.cuda.synchronize()

    def timed(self, fn: Callable[[], Any]) -> float:
        self.sync()
        t0 = time.perf_counter()
        fn()
        self.sync()
        return time.perf_counter() - t0

    def reset_peak(self) -> None:
        import torch

        if self.cuda:
            self.peak_gb()
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()

    def peak_gb(self) -> float | None:
        """Peak GPU memory allocated since the last reset (None on CPU)."""
        import torch

        if not self.cuda:
            return None
        peak = round(torch.cuda.max_memory_allocated() / 2**30, 3)
        self.overall_peak_gb = max(self.overall_peak_gb, peak)
        return peak


# -- the stand-ins ---------------------------------------------------------------------------------


def build_unet(rig: Rig, config: dict) -> Any:
    import torch
    from diffusers import UNet2DConditionModel

    with torch.device(rig.device):  # initialise on the GPU: seconds instead of a minute on CPU
        unet = UNet2DConditionModel.from_config(config)
    return unet.to(rig.device, rig.dtype).eval().requires_grad_(False)


def build_clip_text(rig: Rig) -> Any:
    """The ViT-L/14 CLIP (GPU) or a one-layer text tower (smoke); both expose the same text parts."""
    import open_clip
    import torch

    if rig.cuda:
        with torch.device(rig.device):
            model = open_clip.create_model("ViT-L-14", pretrained=None, precision="fp16", device=rig.device)
    else:
        from open_clip.model import _build_text_tower

        model = _build_text_tower(32, TINY_TEXT)
    return model.to(rig.device).eval().requires_grad_(False)


def build_bigg_text(rig: Rig) -> Any:
    """ViT-bigG/14's text tower only (SDXL's second encoder); its image tower is never used."""
    import open_clip
    import torch
    from open_clip.model import _build_text_tower

    cfg = open_clip.get_model_config("ViT-bigG-14")
    with torch.device(rig.device):
        tower = _build_text_tower(cfg["embed_dim"], cfg["text_cfg"], cast_dtype=rig.dtype)
    return tower.to(rig.device, rig.dtype).eval().requires_grad_(False)


def text_hidden(tower: Any, embeds: Any) -> Any:
    """Per-token hidden states [B, 77, width] from token embeddings (the UNet's context)."""
    x = embeds + tower.positional_embedding.to(embeds.dtype)
    x = tower.transformer(x.permute(1, 0, 2), attn_mask=tower.attn_mask).permute(1, 0, 2)
    return tower.ln_final(x)


def width_of(tower: Any) -> int:
    return int(tower.token_embedding.weight.shape[1])


def with_vectors(tower: Any, tokens: Any, vectors: Any) -> Any:
    """Token embeddings with the trigger's placeholder positions 1..n replaced by ``vectors``."""
    import torch

    emb = tower.token_embedding(tokens)
    n = vectors.shape[0]
    vec = vectors.to(emb.dtype).unsqueeze(0).expand(emb.shape[0], -1, -1)
    return torch.cat([emb[:, :1], vec, emb[:, 1 + n :]], dim=1)


def trigger_tokens(rig: Rig, captions: list[str]) -> Any:
    import open_clip

    filler = " ".join(["x"] * TI_VECTORS)  # one placeholder token per vector, right after <start>
    return open_clip.tokenize([f"{filler} {c}" for c in captions]).to(rig.device)


# -- sweep -----------------------------------------------------------------------------------------


def unet_call(rig: Rig, unet: Any, images: int, latent: int, ctx_width: int) -> Callable[[], Any]:
    """One sampler step of ``images`` generations: cond and uncond in one UNet batch (CFG ×2)."""
    import torch

    x = torch.randn(2 * images, 4, latent, latent, device=rig.device, dtype=rig.dtype)
    ctx = torch.randn(2 * images, 77, ctx_width, device=rig.device, dtype=rig.dtype)
    t = torch.full((2 * images,), 500, device=rig.device)

    def call() -> Any:
        with torch.no_grad(), rig.attention():
            return unet(x, t, ctx).sample

    return call


def repeated(fn: Callable[[], Any], times: int) -> Callable[[], None]:
    def run() -> None:
        for _ in range(times):
            fn()

    return run


def generate(rig: Rig, calls: dict[int, Callable[[], Any]], images: int) -> None:
    for _ in range(rig.sizes.sampler_steps):
        calls[images]()


def sweep_part(rig: Rig, models: dict) -> dict:
    unet = models["sd15"]
    sizes = rig.sizes
    latent, width = sizes.unet["sample_size"], sizes.unet["cross_attention_dim"]
    plan = plan_sweep(
        [PlanCheckpoint(token=f"ckpt-{i}", label=f"{(i + 1) * 100} steps", path="") for i in range(10)],
        list(DEFAULT_PROMPTS),
        [1234],
        DEFAULT_BATCH_SIZE,
    )
    batches = plan.batches()
    ours_cost, single_cost = plan_cost(plan, sizes.sampler_steps)
    sizes_used = {len(b) for b in batches} | {1} | set(sizes.limit_batches)
    calls = {n: unet_call(rig, unet, n, latent, width) for n in sorted(sizes_used)}
    for n in sorted(sizes_used):  # warm-up: kernels chosen and allocator grown before any timing
        calls[n]()

    def mixed_batches() -> None:
        for b in batches:
            generate(rig, calls, len(b))

    def one_per_cell() -> None:
        for _ in plan.cells:
            generate(rig, calls, 1)

    ours = rig.timed(mixed_batches)
    single = rig.timed(one_per_cell)
    limit = {}
    for n in sizes.limit_batches:
        per_call = rig.timed(repeated(calls[n], sizes.repeats)) / sizes.repeats
        limit[n] = n / (per_call * sizes.sampler_steps)
    best_batch = max(limit, key=lambda n: limit[n])
    ours_rate = len(plan.cells) / ours
    return {
        "cells": len(plan.cells),
        "checkpoints": plan.cols,
        "prompts": plan.rows,
        "sampler_steps": sizes.sampler_steps,
        "batch_size": plan.batch_size,
        "unet_calls": {"ours": ours_cost.unet_passes, "one_per_cell": single_cost.unet_passes},
        "ours_s": round(ours, 4),
        "one_per_cell_s": round(single, 4),
        "ratio": round(single / ours, 3),
        "ours_images_per_s": round(ours_rate, 3),
        "limit_images_per_s": {str(n): round(v, 3) for n, v in limit.items()},
        "limit_best_batch": best_batch,
        "share_of_limit": round(ours_rate / limit[best_batch], 3),
        "column_s": round(ours / plan.cols, 4),
        "goals": {"ratio": ">= 2.5", "share_of_limit": ">= 0.70"},
    }


# -- captions --------------------------------------------------------------------------------------


def captions_part(rig: Rig, models: dict) -> dict:
    import torch

    try:
        from transformers import BlipConfig, BlipForConditionalGeneration
    except ImportError:
        return {"skipped": NO_TRANSFORMERS}
    cfg = BLIP_LARGE if rig.cuda else TINY_BLIP
    torch.manual_seed(0)
    with torch.device(rig.device):
        model = BlipForConditionalGeneration(BlipConfig(**cfg))
    model = model.to(rig.device, rig.dtype).eval()
    side = cfg["vision_config"]["image_size"]
    g = torch.Generator().manual_seed(1)
    pixels = torch.randn(CAPTION_BATCH, 3, side, side, generator=g).to(rig.device, rig.dtype)
    pad = model.config.text_config.pad_token_id
    tokens = rig.sizes.caption_tokens

    def caption(px: Any) -> list[list[int]]:
        with torch.no_grad(), rig.attention():
            out = model.generate(pixel_values=px, max_new_tokens=tokens, num_beams=1, do_sample=False)
        rows = [[int(v) for v in row] for row in out.cpu()]
        return [r[: max((i + 1 for i, v in enumerate(r) if v != pad), default=0)] for r in rows]

    caption(pixels[:1])
    caption(pixels)  # warm-up of both shapes
    batched: list[list[list[int]]] = []
    singles: list[list[list[int]]] = []
    t_batch = rig.timed(lambda: batched.append(caption(pixels)))
    t_single = rig.timed(lambda: singles.extend(caption(pixels[i : i + 1]) for i in range(CAPTION_BATCH)))
    one_by_one = [s[0] for s in singles]
    differ = sum(a != b for a, b in zip(batched[0], one_by_one, strict=True))
    return {
        "images": CAPTION_BATCH,
        "max_new_tokens": tokens,
        "batch_s": round(t_batch, 4),
        "one_at_a_time_s": round(t_single, 4),
        "ratio": round(t_single / t_batch, 3),
        "same_outputs": differ == 0,
        "differing_captions": differ,
        "goals": {"ratio": ">= 4"},
    }


# -- training --------------------------------------------------------------------------------------


def ti_step(rig: Rig, unet: Any, towers: list[Any], batch: int, sdxl: bool) -> Callable[[], float]:
    """One textual-inversion step: only the embedding's vectors learn; text encoders and UNet are
    frozen, the gradient flows back through both."""
    import torch

    latent = unet.config.sample_size
    tokens = trigger_tokens(rig, ["a drawing of a cat"] * batch)
    vectors = [
        torch.nn.Parameter(0.01 * torch.randn(TI_VECTORS, width_of(t), device=rig.device)) for t in towers
    ]
    opt = torch.optim.AdamW(vectors, lr=5e-3)
    x0 = torch.randn(batch, 4, latent, latent, device=rig.device, dtype=rig.dtype)
    noise = torch.randn_like(x0)
    t = torch.randint(0, 1000, (batch,), device=rig.device)
    extra = {}
    if sdxl:
        extra = {
            "added_cond_kwargs": {
                "text_embeds": torch.randn(batch, 1280, device=rig.device, dtype=rig.dtype),
                "time_ids": torch.randn(batch, 6, device=rig.device, dtype=rig.dtype),
            }
        }

    def step() -> float:
        with rig.attention():
            ctx = torch.cat(
                [text_hidden(tw, with_vectors(tw, tokens, v)) for tw, v in zip(towers, vectors, strict=True)],
                dim=-1,
            )
            pred = unet(x0 + noise, t, ctx.to(rig.dtype), **extra).sample
            loss = torch.nn.functional.mse_loss(pred.float(), noise.float())
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return float(loss.detach())

    return step


def time_steps(rig: Rig, step: Callable[[], float]) -> float:
    step()  # warm-up
    return rig.timed(lambda: [step() for _ in range(rig.sizes.repeats)]) / rig.sizes.repeats


def training_part(rig: Rig, models: dict) -> dict:
    rig.reset_peak()
    sd15 = time_steps(rig, ti_step(rig, models["sd15"], [models["clip"]], 1, sdxl=False))
    out: dict = {
        "ours_vs_webui": TRAINER_PENDING,
        "sd15_step_s_batch1": round(sd15, 4),
        "sd15_peak_gb": rig.peak_gb(),
    }
    if not rig.cuda:
        out["sdxl"] = {"skipped": NO_CUDA}
        return out
    unet = build_unet(rig, SDXL_UNET)
    bigg = build_bigg_text(rig)
    sdxl = {}
    for batch in (1, 4):
        rig.reset_peak()
        seconds = time_steps(rig, ti_step(rig, unet, [models["clip"], bigg], batch, sdxl=True))
        sdxl[f"batch{batch}"] = {"step_s": round(seconds, 4), "peak_gb": rig.peak_gb()}
    del unet, bigg
    out["sdxl"] = sdxl
    out["goals"] = {"ours_vs_webui": ">= 1.0", "sdxl_batch1_peak_gb": "fits 12 GB"}
    return out


# -- scores ----------------------------------------------------------------------------------------


def scores_part(rig: Rig, models: dict, column_s: float | None) -> dict:
    """The fixed-batch loss (lib_textinv/scores/fixed_loss.py) of 30 checkpoints: per checkpoint the
    spec's samples in calls of ``batch_size``, each its template prompt with the checkpoint's vectors
    through the text encoder, then one UNet pass at its fixed timestep."""
    import torch

    spec = FixedBatchSpec()
    unet, clip = models["sd15"], models["clip"]
    latent = rig.sizes.unet["sample_size"]
    g = torch.Generator().manual_seed(spec.seed)
    n = spec.n_samples_max
    timesteps = stratified_timesteps(n, spec.num_timesteps, g).to(rig.device)
    latents = torch.randn(n, 4, latent, latent, generator=g).to(rig.device, rig.dtype)
    noise = torch.randn(n, 4, latent, latent, generator=g).to(rig.device, rig.dtype)
    tokens = trigger_tokens(rig, [f"a drawing of a cat, view {i}" for i in range(n)])
    checkpoints = [0.01 * torch.randn(TI_VECTORS, width_of(clip), device=rig.device) for _ in range(30)]

    def score(vectors: Any) -> float:
        total = 0.0
        with torch.no_grad(), rig.attention():
            for s in range(0, n, spec.batch_size):
                e = min(n, s + spec.batch_size)
                ctx = text_hidden(clip, with_vectors(clip, tokens[s:e], vectors))
                pred = unet(latents[s:e] + noise[s:e], timesteps[s:e], ctx).sample
                total += float(torch.nn.functional.mse_loss(pred.float(), noise[s:e].float())) * (e - s)
        return total / n

    score(checkpoints[0])  # warm-up
    seconds = rig.timed(lambda: [score(v) for v in checkpoints])
    out: dict = {
        "checkpoints": SCORE_CHECKPOINTS,
        "samples_per_checkpoint": n,
        "batch_size": spec.batch_size,
        "unet_calls": SCORE_CHECKPOINTS * math.ceil(n / spec.batch_size),
        "prescore_s": round(seconds, 4),
        "goals": {"share_of_one_column": "< 0.05"},
    }
    if column_s:
        out["one_column_s"] = column_s
        out["share_of_one_column"] = round(seconds / column_s, 4)
        out["share_per_checkpoint_of_one_column"] = round(seconds / SCORE_CHECKPOINTS / column_s, 4)
    return out


# -- the run ---------------------------------------------------------------------------------------


def run_part(rig: Rig, name: str, fn: Callable[[], dict], results: dict) -> dict:
    rig.reset_peak()
    t0 = time.perf_counter()
    try:
        part = fn()
    except Exception as e:  # one failing part must not lose the others' figures
        logger.exception("%s failed", name)
        part = {"error": f"{type(e).__name__}: {e}"}
    part["elapsed_s"] = round(time.perf_counter() - t0, 2)
    part.setdefault("peak_gb", rig.peak_gb())
    results["parts"][name] = part
    print(f"[{name}] {json.dumps(part)}", flush=True)
    for where, reason in skips(name, part):
        print(f"[{where}] skipped: {reason}", flush=True)
    return part


def skips(where: str, part: dict) -> list[tuple[str, str]]:
    """(dotted place, reason) of every skipped row in a part's results."""
    found = [(where, str(part["skipped"]))] if "skipped" in part else []
    for key, value in part.items():
        if isinstance(value, dict):
            found += skips(f"{where}.{key}", value)
    return found


def environment(rig: Rig) -> dict:
    import torch

    info: dict = {
        "device": torch.cuda.get_device_name(rig.device) if rig.cuda else "cpu",
        "torch": torch.__version__,
        "dtype": str(rig.dtype).removeprefix("torch."),
        "attention": "sdpa (flash+math, no mem-efficient)" if rig.cuda else "sdpa (cpu)",
        "smoke": rig.sizes.smoke,
        "cuda": rig.cuda,
    }
    for dist in ("diffusers", "transformers", "open-clip-torch"):
        try:
            info[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            info[dist] = None
    return info


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true", help="CPU, tiny sizes (CI)")
    ap.add_argument("--out", type=Path, help="write the results as JSON here")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    import torch

    torch.manual_seed(0)
    cuda = torch.cuda.is_available() and not args.smoke
    sizes = SMOKE_SIZES if args.smoke or not cuda else GPU_SIZES
    rig = Rig(torch.device("cuda" if cuda else "cpu"), torch.float16 if cuda else torch.float32, sizes)
    if not cuda:
        # one thread: on a shared CI machine, threads waiting on each other cost more than they gain
        torch.set_num_threads(1)
    start = time.perf_counter()
    results: dict = {"environment": environment(rig), "sizes": asdict(sizes), "parts": {}}
    print(f"[environment] {json.dumps(results['environment'])}", flush=True)

    models: dict = {}

    def build() -> dict:
        models["sd15"] = build_unet(rig, sizes.unet)
        models["clip"] = build_clip_text(rig)
        return {"peak_gb": rig.peak_gb()}

    run_part(rig, "build", build, results)
    sweep = run_part(rig, "sweep", lambda: sweep_part(rig, models), results)
    captions = run_part(rig, "captions", lambda: captions_part(rig, models), results)
    run_part(rig, "training", lambda: training_part(rig, models), results)
    run_part(rig, "scores", lambda: scores_part(rig, models, sweep.get("column_s")), results)
    results["total_s"] = round(time.perf_counter() - start, 2)
    rig.peak_gb()
    results["peak_gb"] = rig.overall_peak_gb if cuda else None
    print(f"[total] {results['total_s']} s", flush=True)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    failed = [n for n, p in results["parts"].items() if "error" in p]
    if captions.get("same_outputs") is False:
        failed.append("captions (batched captions differ from single ones)")
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
