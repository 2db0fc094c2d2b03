"""A tiny TrainModel in plain torch (``kit.host.TrainModel``), for the own trainer's unit tests:
one text encoder (SD1-like, part "*") or two (SDXL-like, "clip_l" + "clip_g"), a frozen token table
per encoder into which the session's vectors are spliced where the token's word stands, a tiny
convolutional "UNet" whose weights start with ``requires_grad=True`` (as the webui leaves them) and
an average-pool "VAE". ``nan_at_step`` makes the loss NaN from that many loss calls on."""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

VOCAB, CONTEXT = 64, 40


def _ids(prompt: str) -> list[str]:
    return [w for w in prompt.lower().replace(",", " , ").split() if w]


class ToyTrainModel:
    num_timesteps = 1000

    def __init__(self, family: str = "SD1", seed: int = 0) -> None:
        torch.manual_seed(seed)
        self.family = family
        self._parts = {"clip_l": 8, "clip_g": 12} if family == "SDXL" else {"*": 16}
        self.tables = {k: nn.Embedding(VOCAB, w) for k, w in self._parts.items()}
        width = sum(self._parts.values())
        self.unet = nn.Conv2d(4, 4, 3, padding=1)
        self.text_proj = nn.Linear(width, 4)
        self.modules = [self.unet, self.text_proj, *self.tables.values()]
        self.token: str | None = None
        self.live: dict[str, Any] = {}
        self.loss_calls = 0
        self.nan_at_step: int | None = None
        acp = torch.linspace(0.9991, 0.0047, self.num_timesteps)
        self.alphas_cumprod = acp

    def parts(self) -> dict[str, int]:
        return dict(self._parts)

    def weights_checksum(self) -> float:
        return float(sum(p.detach().double().sum() for m in self.modules for p in m.parameters()))

    def encode_latents(self, images: list[Any]) -> tuple[Any, Any]:
        import numpy as np

        x = torch.stack(
            [torch.from_numpy(np.asarray(im, dtype=np.float32) / 127.5 - 1).permute(2, 0, 1) for im in images]
        )
        z = nn.functional.avg_pool2d(x, 8)
        mean = torch.cat([z, z.mean(dim=1, keepdim=True)], dim=1)
        return mean, torch.full_like(mean, 0.05)

    @contextlib.contextmanager
    def session(self, token: str, vectors: dict[str, Any]) -> Iterator[dict[str, Any]]:
        saved = [(p, p.requires_grad) for m in self.modules for p in m.parameters()]
        for p, _ in saved:
            p.requires_grad_(False)
        self.token = token
        self.live = {k: v.detach().clone().float().requires_grad_(True) for k, v in vectors.items()}
        try:
            yield self.live
        finally:
            for p, flag in saved:
                p.requires_grad_(flag)
                p.grad = None
            self.token, self.live = None, {}

    def _encode(self, prompt: str) -> Any:
        rows: dict[str, list[Any]] = {k: [] for k in self._parts}
        for w in _ids(prompt):
            for k in self._parts:
                if w == (self.token or "").lower():
                    rows[k].extend(self.live[k])
                else:
                    rows[k].append(self.tables[k].weight[zlib.crc32(w.encode()) % VOCAB])
        out = []
        for k, w in self._parts.items():
            r = (rows[k] + [torch.zeros(w)] * CONTEXT)[:CONTEXT]
            out.append(torch.stack(r))
        return torch.cat(out, dim=-1)

    def conditioning(self, prompts: list[str], width: int, height: int) -> Any:
        return torch.stack([self._encode(p) for p in prompts])

    def loss(self, latents: Any, cond: Any, timesteps: Any, noise: Any) -> Any:
        self.loss_calls += 1
        acp = self.alphas_cumprod[timesteps][:, None, None, None]
        x = acp.sqrt() * latents + (1 - acp).sqrt() * noise
        out = self.unet(x) + self.text_proj(cond.sum(dim=1))[:, :, None, None]
        per = ((out - noise) ** 2).mean(dim=(1, 2, 3))
        if self.nan_at_step is not None and self.loss_calls >= self.nan_at_step:
            per = per * float("nan")
        return per
