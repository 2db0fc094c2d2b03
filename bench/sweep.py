"""Step-sweep cost: our mixed batches vs one generation call per cell (what X/Y/Z does).

For a 10-checkpoint × 4-prompt grid (one seed) at the default batch size, prints the generation
calls and denoiser passes of both plans, then (unless ``--no-time``) times both on the CPU with a
small UNet-like conv net (random weights, cond and uncond batched together as the webui's CFG
denoiser does). Last line: the measured ratio (one call per cell / ours).

    python bench/sweep.py [--steps 20] [--batch-size 8] [--time-steps 4] [--latent 32] [--no-time]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lib_textinv.compare.sweep_plan import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_PROMPTS,
    PlanCheckpoint,
    plan_cost,
    plan_sweep,
)


def tiny_unet(channels: int = 32):
    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self, cin: int, cout: int) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
            self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
            self.norm = nn.GroupNorm(8, cout)
            self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

        def forward(self, x, c):
            h = torch.nn.functional.silu(self.norm(self.conv1(x)))
            h = self.conv2(h + c[:, : h.shape[1], None, None])
            return h + self.skip(x)

    class UNetLike(nn.Module):
        """Two levels down and up with text conditioning added per block: enough arithmetic per
        image that batching shows what it saves (per-call overhead, small-kernel inefficiency)."""

        def __init__(self) -> None:
            super().__init__()
            ch = channels
            self.inp = nn.Conv2d(4, ch, 3, padding=1)
            self.d1, self.d2 = Block(ch, ch), Block(ch, 2 * ch)
            self.mid = Block(2 * ch, 2 * ch)
            self.u2, self.u1 = Block(4 * ch, ch), Block(2 * ch, ch)
            self.out = nn.Conv2d(ch, 4, 3, padding=1)
            self.cond = nn.Linear(768, 4 * ch)

        def forward(self, x, text):
            c = self.cond(text.mean(1))
            h0 = self.inp(x)
            h1 = self.d1(h0, c)
            h2 = self.d2(torch.nn.functional.avg_pool2d(h1, 2), c)
            m = self.mid(h2, c)
            u2 = self.u2(torch.cat([m, h2], 1), c)
            u1 = self.u1(torch.cat([torch.nn.functional.interpolate(u2, scale_factor=2), h1], 1), c)
            return self.out(u1)

    return UNetLike().eval()


def time_plan(net, batch_sizes: list[int], steps: int, latent: int) -> float:
    """Seconds to sample every batch with ``steps`` Euler-like steps (CFG: cond+uncond in one pass)."""
    import torch

    start = time.perf_counter()
    with torch.no_grad():
        for b in batch_sizes:
            x = torch.randn(b, 4, latent, latent)
            text = torch.randn(2 * b, 77, 768)
            for _ in range(steps):
                out = net(torch.cat([x, x]), text)
                cond, uncond = out.chunk(2)
                x = x - 0.1 * (uncond + 7.0 * (cond - uncond))
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkpoints", type=int, default=10)
    ap.add_argument("--steps", type=int, default=20, help="sampling steps counted for model passes")
    ap.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    ap.add_argument("--time-steps", type=int, default=2, help="sampling steps in the CPU timing")
    ap.add_argument("--latent", type=int, default=32, help="latent side in the CPU timing (64 = 512 px)")
    ap.add_argument("--no-time", action="store_true")
    args = ap.parse_args()

    cps = [
        PlanCheckpoint(f"name-{s}", f"{s} steps", f"name-{s}.pt", s)
        for s in range(50, 50 * args.checkpoints + 1, 50)
    ]
    plan = plan_sweep(cps, list(DEFAULT_PROMPTS), [1234], args.batch_size)
    ours, per_cell = plan_cost(plan, args.steps)
    print(
        f"grid: {plan.cols} checkpoints × {plan.rows} prompts = {len(plan.cells)} cells, "
        f"batch size {args.batch_size}"
    )
    print(
        f"generation calls: ours {ours.calls}, one per cell {per_cell.calls} "
        f"(ratio {per_cell.calls / ours.calls:.2f})"
    )
    print(
        f"model passes at {args.steps} steps: ours {ours.unet_passes} "
        f"(batch {2 * args.batch_size} incl. uncond), "
        f"one per cell {per_cell.unet_passes} (batch 2) (ratio {per_cell.unet_passes / ours.unet_passes:.2f})"
    )
    if args.no_time:
        print(f"ratio (generation calls, one per cell / ours): {per_cell.calls / ours.calls:.2f}")
        return

    import torch

    torch.manual_seed(0)
    net = tiny_unet()
    ours_sizes = [len(b) for b in plan.batches()]
    per_cell_sizes = [1] * len(plan.cells)
    time_plan(net, [args.batch_size], 1, args.latent)  # warm-up (allocator, kernels)
    t_per_cell = time_plan(net, per_cell_sizes, args.time_steps, args.latent)
    t_ours = time_plan(net, ours_sizes, args.time_steps, args.latent)
    print(
        f"CPU ({torch.get_num_threads()} threads), small UNet-like net, latent {args.latent}², "
        f"{args.time_steps} steps: ours {t_ours:.2f} s, one per cell {t_per_cell:.2f} s"
    )
    print(f"ratio (CPU time, one per cell / ours): {t_per_cell / t_ours:.2f}")


if __name__ == "__main__":
    main()
