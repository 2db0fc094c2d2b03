"""Fixed-batch loss against a LossHost that is a real tiny torch model: a conv "VAE" and a small
conv denoiser conditioned on a text embedding into which the registered vectors are spliced, so
every number comes from real computation."""

from __future__ import annotations

import math
import zlib
from dataclasses import replace

import pytest
import torch
from torch import nn

from lib_textinv.kit.progress import Cancelled, RecordingProgress
from lib_textinv.scores.fixed_loss import (
    PROBE_TOKEN,
    FixedBatchSpec,
    batch_loss,
    build_fixed_batch,
    checkpoint_losses,
    estimate_cost,
    fixed_prompts,
    flattening_steps,
    knee_index,
)
from lib_textinv.train.own_data import stratified_timesteps
from lib_textinv.train.run_files import run_settings
from tests.embfiles import write_malicious_pt, write_training_run
from tests.photos import write_photos

WIDTH = 32
TEMPLATE = ["a photo of [name]", "a picture of [name], [filewords]", "[filewords] by [name]"]


class TinyDenoiserHost:
    """LossHost: latents from a strided conv, eps-prediction loss like ldm's p_losses (linear betas,
    x_t = sqrt(ā)·x0 + sqrt(1-ā)·ε, MSE against ε) with a UNet stand-in conditioned on the mean of
    the prompt's token embeddings (the embedding's vectors replace its token, as the webui does)."""

    def __init__(self, seed: int = 0, vocab: int = 97):
        g = torch.Generator().manual_seed(seed)
        torch_state = torch.random.get_rng_state()
        torch.manual_seed(seed)
        try:
            self.vae = nn.Conv2d(3, 4, kernel_size=8, stride=8)
            self.inp = nn.Conv2d(4, 16, 3, padding=1)
            self.cond = nn.Linear(WIDTH, 32)
            self.temb = nn.Embedding(1000, 16)
            self.out = nn.Conv2d(16, 4, 3, padding=1)
        finally:
            torch.random.set_rng_state(torch_state)
        self.words = torch.randn(vocab, WIDTH, generator=g) * 0.3
        self.alphas_cumprod = torch.cumprod(
            1 - torch.linspace(1e-4, 2e-2, 1000, dtype=torch.float64), 0
        ).float()
        self.registered: dict[str, torch.Tensor] = {}
        self.calls = 0
        self.tokens_seen: list[int] = []

    def encode_latents(self, images):
        x = torch.stack([torch.from_numpy(__import__("numpy").asarray(im, dtype="float32")) for im in images])
        x = x.permute(0, 3, 1, 2) / 127.5 - 1
        with torch.no_grad():
            return self.vae(x) * 0.18215

    def _text(self, prompt: str) -> torch.Tensor:
        rows, hits = [], 0
        for word in prompt.replace(",", " ").split():
            if word in self.registered:
                rows.extend(self.registered[word])
                hits += 1
            else:
                rows.append(self.words[zlib.crc32(word.encode()) % len(self.words)])
        self.tokens_seen.append(hits)
        return torch.stack(rows).mean(0)

    def denoise_loss(self, latents, prompts, timesteps, noise, embedding):
        token, vectors = embedding
        self.registered[token] = torch.as_tensor(vectors).float()
        try:
            with torch.no_grad():
                c = torch.stack([self._text(p) for p in prompts])
                a = self.alphas_cumprod[timesteps].view(-1, 1, 1, 1)
                x_t = a.sqrt() * latents + (1 - a).sqrt() * noise
                h = torch.relu(self.inp(x_t) + self.temb(timesteps)[:, :, None, None])
                scale, shift = self.cond(c).chunk(2, dim=1)
                h = h * (1 + scale[:, :, None, None]) + shift[:, :, None, None]
                eps = self.out(h)
                self.calls += 1
                return float(nn.functional.mse_loss(eps, noise))
        finally:
            del self.registered[token]  # nothing left registered


SPEC = FixedBatchSpec(seed=7, max_images=3, repeats=2, batch_size=4, width=64, height=64)


@pytest.fixture
def train_dir(tmp_path):
    d = tmp_path / "train"
    paths = write_photos(d, names=("astronaut", "chelsea", "coffee", "rocket"), size=(80, 64))
    paths[0].with_suffix(".txt").write_text("a woman in a space suit", encoding="utf-8")
    return d


def _checkpoints(tmp_path, steps=(5, 10, 15, 20)):
    run = write_training_run(tmp_path / "log", "cat", steps=steps, n_vectors=2, width=WIDTH)
    return [(int(p.stem.split("-")[1]), p) for p in sorted((run / "embeddings").glob("*.pt"))]


def test_batch_is_built_once_and_reproducibly(train_dir):
    host = TinyDenoiserHost()
    images = sorted(train_dir.glob("*.jpg"))
    b1 = build_fixed_batch(host, images, TEMPLATE, SPEC)
    b2 = build_fixed_batch(host, images, TEMPLATE, SPEC)
    assert b1.size == 6 and b1.calls == 2
    assert b1.image_names == ["astronaut.jpg", "chelsea.jpg", "coffee.jpg"]
    assert tuple(b1.latents.shape) == (6, 4, 8, 8)
    assert torch.equal(b1.latents[0], b1.latents[1])  # repeats of one image
    assert torch.equal(b1.noise, b2.noise) and torch.equal(b1.timesteps, b2.timesteps)
    assert b1.prompts == b2.prompts
    assert all(PROBE_TOKEN in p for p in b1.prompts)
    # captions: the .txt beside the image, else the file stem (webui dataset.py)
    cap = build_fixed_batch(host, images, ["[filewords], [name]"], SPEC)
    assert cap.prompts[0] == f"a woman in a space suit, {PROBE_TOKEN}"
    assert cap.prompts[2] == f"chelsea, {PROBE_TOKEN}"
    other = build_fixed_batch(host, images, TEMPLATE, replace(SPEC, seed=8))
    assert not torch.equal(other.noise, b1.noise)


def test_same_checkpoint_twice_gives_identical_numbers(tmp_path, train_dir):
    host = TinyDenoiserHost()
    cps = _checkpoints(tmp_path)
    batch = build_fixed_batch(host, sorted(train_dir.glob("*.jpg")), TEMPLATE, SPEC)
    r1 = checkpoint_losses(host, cps, batch)
    r2 = checkpoint_losses(host, list(reversed(cps)), batch)
    assert [p.loss for p in r1.points] == [p.loss for p in r2.points]  # bit-identical
    # a freshly built batch (same seed) gives the same numbers too
    batch2 = build_fixed_batch(TinyDenoiserHost(), sorted(train_dir.glob("*.jpg")), TEMPLATE, SPEC)
    assert [p.loss for p in checkpoint_losses(host, cps, batch2).points] == [p.loss for p in r1.points]
    assert host.registered == {}
    assert min(host.tokens_seen) == 1  # every prompt carried the registered vectors


def test_different_checkpoints_give_different_numbers(tmp_path, train_dir):
    host = TinyDenoiserHost()
    cps = _checkpoints(tmp_path)
    batch = build_fixed_batch(host, sorted(train_dir.glob("*.jpg")), TEMPLATE, SPEC)
    res = checkpoint_losses(host, cps, batch, images_per_checkpoint=4, sampler_steps=20)
    losses = [p.loss for p in res.points]
    assert [p.step for p in res.points] == [5, 10, 15, 20]
    assert len(set(losses)) == 4
    assert all(math.isfinite(v) and v > 0 for v in losses)
    assert res.flat_steps and set(res.flat_steps) <= {5, 10, 15, 20}
    assert host.calls == 4 * batch.calls
    # cost: 6 samples per checkpoint vs 4 images × 20 steps × 2 (CFG)
    assert res.cost.loss_unet_evals == 6 and res.cost.image_unet_evals == 160
    assert res.cost.ratio == pytest.approx(160 / 6)
    assert "cheaper" in res.cost.sentence()
    assert res.to_dict()["points"][0]["step"] == 5


def test_chunking_does_not_change_the_loss(tmp_path, train_dir):
    host = TinyDenoiserHost()
    (_, path), *_ = _checkpoints(tmp_path, steps=(5,))
    from lib_textinv.kit.embedding_file import load_embedding

    vec = load_embedding(path).vectors
    images = sorted(train_dir.glob("*.jpg"))
    whole = batch_loss(host, build_fixed_batch(host, images, TEMPLATE, replace(SPEC, batch_size=6)), vec)
    parts = batch_loss(host, build_fixed_batch(host, images, TEMPLATE, replace(SPEC, batch_size=1)), vec)
    assert whole == pytest.approx(parts, rel=1e-5)


def test_bad_checkpoint_listed_rest_continue(tmp_path, train_dir):
    host = TinyDenoiserHost()
    cps = _checkpoints(tmp_path, steps=(5, 10))
    evil = write_malicious_pt(tmp_path / "x" / "cat-15.pt")
    batch = build_fixed_batch(host, sorted(train_dir.glob("*.jpg")), TEMPLATE, SPEC)
    progress = RecordingProgress()
    res = checkpoint_losses(host, [*cps, (15, evil)], batch, progress=progress)
    assert [p.step for p in res.points] == [5, 10]
    assert any("cat-15.pt" in p for p in res.problems)
    assert progress.done == progress.total == 3 * batch.calls


def test_cancel_between_chunks(tmp_path, train_dir):
    host = TinyDenoiserHost()
    batch = build_fixed_batch(host, sorted(train_dir.glob("*.jpg")), TEMPLATE, SPEC)
    with pytest.raises(Cancelled):
        checkpoint_losses(host, _checkpoints(tmp_path), batch, progress=RecordingProgress(cancel_after=1))


def test_no_images(tmp_path):
    bad = tmp_path / "x.jpg"
    bad.write_bytes(b"nope")
    with pytest.raises(ValueError, match=r"no readable training images.*x\.jpg"):
        build_fixed_batch(TinyDenoiserHost(), [bad], TEMPLATE, SPEC)


def test_knee_and_flattening_steps():
    steps = [100, 200, 300, 400, 500, 600, 700, 800]
    losses = [1.0, 0.6, 0.35, 0.22, 0.2, 0.195, 0.19, 0.188]
    # total drop 0.812; 10% = 0.0812: from 400 on (0.22 - 0.188 = 0.032) the curve is flat
    assert knee_index(losses) == 3
    assert flattening_steps(steps, losses, max_selected=3) == [400, 600, 800]
    # a curve that turns up again: the lowest point is always offered
    up = [1.0, 0.5, 0.3, 0.32, 0.4, 0.5]
    picks = flattening_steps([1, 2, 3, 4, 5, 6], up, max_selected=1)
    assert 3 in picks
    assert flattening_steps([1, 2, 3], [0.5, 0.5, 0.5]) == [1, 2, 3]
    assert flattening_steps([1, 2], [0.5, 0.4]) == [1, 2]
    assert flattening_steps([1, 2, 3, 4], [0.5, math.nan, 0.3, 0.3], max_selected=2) == [3, 4]


def test_cost_and_timesteps_and_prompts():
    c = estimate_cost(16, 4, images_per_checkpoint=4, sampler_steps=20)
    assert (c.loss_calls, c.image_unet_evals, c.ratio) == (4, 160, 10.0)
    t = stratified_timesteps(10, 1000, torch.Generator().manual_seed(0))
    assert sorted((t // 100).tolist()) == list(range(10))  # one per stratum
    p = fixed_prompts(["[name] [filewords]"], ["cap a", "cap b"], 2, seed=1)
    assert p == [f"{PROBE_TOKEN} cap a"] * 2 + [f"{PROBE_TOKEN} cap b"] * 2


def test_run_settings(tmp_path):
    assert run_settings(tmp_path) == {}
    (tmp_path / "settings-2026-01-01-10-00-00.json").write_text('{"training_width": 64}', encoding="utf-8")
    (tmp_path / "settings-2026-01-02-10-00-00.json").write_text('{"training_width": 96}', encoding="utf-8")
    assert run_settings(tmp_path)["training_width"] == 96
