"""The fixed-batch loss host (Scores) through the train model, against the contract double: SD1,
SD2 and SDXL (vectors as a dict of clip_l and clip_g), no gradients, nothing left registered
(moved here from test_bridge_scores.py when the loss moved onto the train model)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from PIL import Image

from lib_textinv.kit.host import Unavailable
from tests.embfiles import write_pt, write_training_run


def load_model(webui, family: str):
    webui.sd_models.model_data.sd_model = webui.sd_models.make_model(family)
    return webui.sd_models.model_data.sd_model


def _images():
    return [Image.new("RGB", (64, 64), (255, 0, 0)), Image.new("RGB", (64, 64), (0, 0, 255))]


def _batch(lh):
    import torch

    g = torch.Generator().manual_seed(0)
    latents = lh.encode_latents(_images())
    noise = torch.randn(latents.shape, generator=g)
    return latents, noise, torch.tensor([100, 900])


def _vectors(family, value):
    import torch

    if family == "SDXL":
        return {"clip_l": torch.full((2, 768), value), "clip_g": torch.full((2, 1280), -value)}
    return torch.full((2, 1024 if family.startswith("SD2") else 768), value)


def test_loss_host_needs_a_model_our_trainer_can_use(host, webui):
    webui.sd_models.model_data.sd_model = None
    with pytest.raises(Unavailable, match="no model is loaded"):
        host.loss_host()
    load_model(webui, "SD1").model.conditioning_key = "hybrid"
    with pytest.raises(Unavailable, match="image-conditioned"):
        host.loss_host()
    for family in ("SD2-v", "SDXL"):
        load_model(webui, family)
        assert host.loss_host() is not None


@pytest.mark.parametrize("family", ["SD1", "SDXL"])
def test_encode_latents_is_the_scaled_posterior_mode(host, webui, family):
    import torch

    m = load_model(webui, family)
    lh = host.loss_host()
    z = lh.encode_latents(_images())
    assert tuple(z.shape) == (2, 4, 8, 8) and z.dtype == torch.float32 and z.device.type == "cpu"
    # red image: R channel +1 everywhere, B -1; the double's VAE averages 8×8 blocks
    assert float(z[0, 0].mean()) == pytest.approx(1.0 * m.scale_factor)
    assert float(z[1, 2].mean()) == pytest.approx(1.0 * m.scale_factor)
    assert torch.equal(z, lh.encode_latents(_images()))  # deterministic: no posterior sample


@pytest.mark.parametrize("family", ["SD1", "SD2-v", "SDXL"])
def test_denoise_loss_uses_the_vectors_and_leaves_nothing_registered(host, webui, db, family):
    import torch

    from lib_textinv.scores.fixed_loss import PROBE_TOKEN

    load_model(webui, family)
    if family == "SD1":
        write_pt(Path(webui.shared.cmd_opts.embeddings_dir) / "zq-user.pt", torch.full((1, 768), 0.1))
        db.load_textual_inversion_embeddings(force_reload=True)
    users = dict(db.word_embeddings)
    lh = host.loss_host()
    latents, noise, t = _batch(lh)
    prompts = [f"a photo of {PROBE_TOKEN}", f"art by {PROBE_TOKEN}"]
    small = lh.denoise_loss(latents, prompts, t, noise, (PROBE_TOKEN, _vectors(family, 0.001)))
    large = lh.denoise_loss(latents, prompts, t, noise, (PROBE_TOKEN, _vectors(family, 0.05)))
    again = lh.denoise_loss(latents, prompts, t, noise, (PROBE_TOKEN, _vectors(family, 0.001)))
    assert isinstance(small, float) and math.isfinite(small)
    assert small != large and small == again  # identical on repeat
    vec = (PROBE_TOKEN, _vectors(family, 0.001))
    one_by_one = [
        lh.denoise_loss(latents[i : i + 1], prompts[i : i + 1], t[i : i + 1], noise[i : i + 1], vec)
        for i in (0, 1)
    ]
    assert small == pytest.approx(sum(one_by_one) / 2, rel=1e-5)  # the batch's mean
    assert db.word_embeddings == users
    assert not any(e.name == PROBE_TOKEN for entries in db.ids_lookup.values() for _ids, e in entries)
    # a prompt without the token does not see the vectors
    plain = ["a photo", "art"]
    assert lh.denoise_loss(latents, plain, t, noise, (PROBE_TOKEN, _vectors(family, 0.001))) == (
        lh.denoise_loss(latents, plain, t, noise, (PROBE_TOKEN, _vectors(family, 0.05)))
    )


def test_sdxl_refuses_vectors_for_one_encoder(host, webui):
    import torch

    from lib_textinv.scores.fixed_loss import PROBE_TOKEN

    load_model(webui, "SDXL")
    lh = host.loss_host()
    latents, noise, t = _batch(lh)
    with pytest.raises(ValueError, match="clip_g"):
        lh.denoise_loss(latents, [PROBE_TOKEN] * 2, t, noise, (PROBE_TOKEN, torch.zeros(2, 768)))


def test_denoise_loss_puts_the_given_token_in_place_of_the_users_embedding(host, webui, db):
    import torch

    load_model(webui, "SD1")
    write_pt(Path(webui.shared.cmd_opts.embeddings_dir) / "zq-user.pt", torch.full((1, 768), 0.1))
    db.load_textual_inversion_embeddings(force_reload=True)
    lh = host.loss_host()
    latents, noise, t = _batch(lh)
    prompts = ["a photo of zq-user", "art by zq-user"]
    a = lh.denoise_loss(latents, prompts, t, noise, ("zq-user", torch.full((2, 768), 0.001)))
    b = lh.denoise_loss(latents, prompts, t, noise, ("zq-user", torch.full((2, 768), 0.05)))
    assert a != b  # the checkpoint's vectors, not the user's file of that name
    assert db.word_embeddings["zq-user"].filename.endswith("zq-user.pt")


def test_fixed_batch_loss_end_to_end(host, webui, db, photo_dir, tmp_path):
    from lib_textinv.scores.fixed_loss import FixedBatchSpec, build_fixed_batch, checkpoint_losses

    m = load_model(webui, "SD1")
    run = write_training_run(tmp_path / "log", "zq-emb", steps=(5, 10), width=768)
    cps = sorted((run / "embeddings").glob("*.pt"))
    lh = host.loss_host()
    spec = FixedBatchSpec(width=64, height=64, max_images=2, repeats=2, batch_size=3)
    batch = build_fixed_batch(lh, sorted(photo_dir.iterdir()), ["a photo of [name]"], spec)
    result = checkpoint_losses(lh, [(5, cps[1]), (10, cps[0])], batch)
    assert [p.step for p in result.points] == [5, 10]
    assert all(math.isfinite(p.loss) for p in result.points)
    assert result.points[0].loss != result.points[1].loss
    shapes = [c[1] for c in m.calls if c[0] == "apply_model"]
    assert [s[0] for s in shapes] == [3, 1, 3, 1]  # chunks of batch_size
    assert db.word_embeddings == {}
