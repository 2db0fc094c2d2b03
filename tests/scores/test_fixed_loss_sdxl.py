"""The fixed-batch loss of SDXL checkpoints: both parts reach the host's loss (the webui's loss host
registers them for SDXL's two text encoders, docs/webui-contract.md §25 SDXL embeddings)."""

from __future__ import annotations

import torch

from lib_textinv.scores.fixed_loss import PROBE_TOKEN, FixedBatch, checkpoint_losses
from tests.sdxl_files import sdxl_vectors, write_sdxl


class PartsLossHost:
    """A LossHost whose loss is a function of both parts' vectors (what a real SDXL model's is)."""

    def __init__(self):
        self.seen = []

    def encode_latents(self, images):
        raise AssertionError("the batch is given")

    def denoise_loss(self, latents, prompts, timesteps, noise, embedding):
        token, vectors = embedding
        assert token == PROBE_TOKEN
        self.seen.append(sorted(vectors))
        return float(vectors["clip_l"].abs().mean() + 2 * vectors["clip_g"].abs().mean())


def test_sdxl_checkpoints_get_a_fixed_batch_loss(tmp_path):
    batch = FixedBatch(
        latents=torch.zeros(2, 4, 8, 8),
        noise=torch.zeros(2, 4, 8, 8),
        timesteps=torch.tensor([100, 900]),
        prompts=[f"a photo of {PROBE_TOKEN}"] * 2,
        image_names=["a.png", "b.png"],
        batch_size=2,
    )
    paths = [
        (s, write_sdxl(tmp_path / f"xl-{s}.safetensors", sdxl_vectors(2, s, scale=s / 10))) for s in (5, 10)
    ]
    host = PartsLossHost()

    result = checkpoint_losses(host, paths, batch)

    assert not result.problems
    assert [p.step for p in result.points] == [5, 10]
    assert result.points[1].loss > result.points[0].loss  # the vectors of each checkpoint were used
    assert host.seen == [["clip_g", "clip_l"]] * 2
