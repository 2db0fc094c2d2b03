"""The scoring half of the host bridge (token table, fixed-batch loss host) against the contract
double of the webui's modules; the loaded models are tiny deterministic stand-ins
(tests/webui_double/modules/_tiny_model.py)."""

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


def token_id(webui, word: str) -> int:
    (ids,) = webui.shared.sd_model.cond_stage_model.tokenize([word])
    assert len(ids) == 1
    return ids[0]


# -- token table --------------------------------------------------------------------------------


def test_token_table_needs_a_loaded_model(host, webui):
    webui.sd_models.model_data.sd_model = None
    with pytest.raises(Unavailable, match="no model"):
        host.token_table()


def test_token_table_sd1_is_the_raw_clip_embedding(host, webui):
    m = load_model(webui, "SD1")
    table = host.token_table()
    matrix = table.matrix()
    raw = m.cond_stage_model.wrapped.transformer.text_model.embeddings.token_embedding.wrapped.weight
    assert matrix is raw and tuple(matrix.shape) == (512, 768)
    ids = [token_id(webui, "charcoal"), token_id(webui, "cat")]
    assert table.id_to_token(ids) == ["charcoal</w>", "cat</w>"]


def test_token_table_sd2_reads_open_clips_vocabulary(host, webui):
    m = load_model(webui, "SD2")
    table = host.token_table()
    assert table.matrix() is m.cond_stage_model.wrapped.model.token_embedding.wrapped.weight
    assert tuple(table.matrix().shape) == (512, 1024)
    # FrozenOpenCLIPEmbedderWithCustomWords has no .tokenizer: open_clip's BPE decoder is used
    assert table.id_to_token([320, 1125]) == ["a</w>", "photo</w>"]


def test_drift_through_the_token_table(host, webui, tmp_path):
    from lib_textinv.scores.drift import drift_for_checkpoints

    load_model(webui, "SD1")
    table = host.token_table()
    cat, charcoal = token_id(webui, "cat"), token_id(webui, "charcoal")
    vec = table.matrix()[[cat, charcoal]].clone() * 3
    path = write_pt(tmp_path / "run" / "emb-10.pt", vec, step=9)
    result = drift_for_checkpoints([(10, path)], table)
    (row,) = result.rows
    assert [n[0].token for n in row.nearest] == ["cat</w>", "charcoal</w>"]
    assert row.nearest[0][0].similarity == pytest.approx(1.0, abs=1e-5)
    assert row.norm_ratio == pytest.approx(3.0, rel=0.15)


def test_token_table_refuses_sdxl_in_words(host, webui):
    load_model(webui, "SDXL")
    with pytest.raises(Unavailable):
        host.token_table().matrix()


# -- fixed-batch loss ---------------------------------------------------------------------------------


def test_loss_host_needs_an_sd1_or_sd2_model(host, webui):
    webui.sd_models.model_data.sd_model = None
    with pytest.raises(Unavailable, match="SD1/SD2"):
        host.loss_host()
    load_model(webui, "SDXL")  # sgm's DiffusionEngine has no p_losses
    with pytest.raises(Unavailable, match="SD1/SD2"):
        host.loss_host()
    load_model(webui, "SD2-v")
    assert host.loss_host() is not None


def _images():
    return [Image.new("RGB", (64, 64), (255, 0, 0)), Image.new("RGB", (64, 64), (0, 0, 255))]


def test_encode_latents_is_the_scaled_posterior_mode(host, webui):
    import torch

    m = load_model(webui, "SD1")
    lh = host.loss_host()
    z = lh.encode_latents(_images())
    assert tuple(z.shape) == (2, 4, 8, 8) and z.dtype == torch.float32 and z.device.type == "cpu"
    # red image: R channel +1 everywhere, B -1; the double's VAE averages 8×8 blocks
    assert float(z[0, 0].mean()) == pytest.approx(1.0 * m.scale_factor)
    assert float(z[1, 2].mean()) == pytest.approx(1.0 * m.scale_factor)
    assert torch.equal(z, lh.encode_latents(_images()))  # deterministic: no posterior sample


def _batch(lh):
    import torch

    g = torch.Generator().manual_seed(0)
    latents = lh.encode_latents(_images())
    noise = torch.randn(latents.shape, generator=g)
    return latents, noise, torch.tensor([100, 900])


def test_denoise_loss_uses_the_vectors_and_leaves_nothing_registered(host, webui, db):
    import torch

    from lib_textinv.scores.fixed_loss import PROBE_TOKEN

    load_model(webui, "SD1")
    write_pt(Path(webui.shared.cmd_opts.embeddings_dir) / "zq-user.pt", torch.full((1, 768), 0.1))
    db.load_textual_inversion_embeddings(force_reload=True)
    user = db.word_embeddings["zq-user"]
    lh = host.loss_host()
    latents, noise, t = _batch(lh)
    prompts = [f"a photo of {PROBE_TOKEN}", f"art by {PROBE_TOKEN}"]
    small = lh.denoise_loss(latents, prompts, t, noise, (PROBE_TOKEN, torch.full((2, 768), 0.001)))
    large = lh.denoise_loss(latents, prompts, t, noise, (PROBE_TOKEN, torch.full((2, 768), 0.05)))
    again = lh.denoise_loss(latents, prompts, t, noise, (PROBE_TOKEN, torch.full((2, 768), 0.001)))
    assert isinstance(small, float) and math.isfinite(small)
    assert small != large and small == again
    assert set(db.word_embeddings) == {"zq-user"} and db.word_embeddings["zq-user"] is user
    assert not any(e.name == PROBE_TOKEN for entries in db.ids_lookup.values() for _ids, e in entries)
    # a prompt without the token does not see the vectors
    plain = ["a photo", "art"]
    assert lh.denoise_loss(latents, plain, t, noise, (PROBE_TOKEN, torch.full((2, 768), 0.001))) == (
        lh.denoise_loss(latents, plain, t, noise, (PROBE_TOKEN, torch.full((2, 768), 0.05)))
    )


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
    shapes = [c[1] for c in m.calls if c[0] == "p_losses"]
    assert [s[0] for s in shapes] == [3, 1, 3, 1]  # chunks of batch_size
    assert db.word_embeddings == {}
