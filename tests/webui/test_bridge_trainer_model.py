"""The loaded model as our own training loop drives it (``WebuiHost.train_model``) against the
contract double: tiny SD1/SD2/SDXL torch models whose UNet weights require grad as the webui leaves
them and whose SDXL conditioner runs embedders that are not trainable under ``no_grad``
(tests/webui_double/modules/_tiny_model.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from lib_textinv.kit.host import Unavailable
from tests.embfiles import write_pt

TOKEN = "zq-train"
PROMPTS = [f"a photo of {TOKEN}", f"art by {TOKEN}, charcoal"]


def load(webui, family: str):
    webui.sd_models.model_data.sd_model = webui.sd_models.make_model(family)
    return webui.sd_models.model_data.sd_model


def images(n: int = 2):
    colours = [(255, 0, 0), (0, 0, 255), (0, 255, 0), (40, 40, 40)]
    return [Image.new("RGB", (64, 64), colours[i % 4]) for i in range(n)]


def start_vectors(tm, n: int = 2, seed: int = 0):
    import torch

    g = torch.Generator().manual_seed(seed)
    return {part: torch.randn(n, width, generator=g) * 0.02 for part, width in tm.parts().items()}


def weights(m):
    """Every tensor of the model (UNet, VAE, text encoders): copies, their requires_grad, their grads."""
    params = {n: (p.detach().clone(), p.requires_grad, p.grad) for n, p in m.named_parameters()}
    return params, {n: b.detach().clone() for n, b in m.named_buffers()}


def assert_untouched(m, before):
    import torch

    params, buffers = weights(m)
    assert params.keys() == before[0].keys() and buffers.keys() == before[1].keys()
    for name, (value, requires_grad, grad) in params.items():
        old_value, old_requires_grad, _ = before[0][name]
        assert torch.equal(value, old_value), f"{name} changed"
        assert requires_grad == old_requires_grad, f"{name}.requires_grad changed"
        assert grad is None, f"{name} kept a gradient"
    for name, value in buffers.items():
        assert torch.equal(value, before[1][name]), f"buffer {name} changed"


def batch(tm, n: int = 2, seed: int = 1):
    import torch

    mean, _std = tm.encode_latents(images(n))
    g = torch.Generator().manual_seed(seed)
    noise = torch.randn(mean.shape, generator=g)
    return mean, noise, torch.tensor([100, 700][:n])


def train(tm, vectors, steps: int = 5, lr: float = 5e-2):
    """What the own loop does: AdamW over the session's vectors, conditioning → loss → backward."""
    import torch

    latents, noise, t = batch(tm)
    losses = []
    with tm.session(TOKEN, vectors) as live:
        opt = torch.optim.AdamW(list(live.values()), lr=lr, weight_decay=0.0)
        for _ in range(steps):
            opt.zero_grad()
            cond = tm.conditioning(PROMPTS, 64, 64)
            loss = tm.loss(latents, cond, t, noise).mean()
            loss.backward()
            opt.step()
            losses.append(float(loss))
        trained = {k: v.detach().clone() for k, v in live.items()}
    return losses, trained


# -- what the model offers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("family", "parts"),
    [
        ("SD1", {"*": 768}),
        ("SD2", {"*": 1024}),
        ("SD2-v", {"*": 1024}),
        ("SDXL", {"clip_l": 768, "clip_g": 1280}),
    ],
)
def test_family_parts_and_timesteps(host, webui, family, parts):
    load(webui, family)
    tm = host.train_model()
    assert (tm.family, tm.parts(), tm.num_timesteps) == (family, parts, 1000)


@pytest.mark.parametrize("family", ["SD1", "SDXL"])
def test_latents_are_the_scaled_posterior(host, webui, family):
    import torch

    m = load(webui, family)
    tm = host.train_model()
    mean, std = tm.encode_latents(images())
    assert tuple(mean.shape) == tuple(std.shape) == (2, 4, 8, 8)
    assert mean.dtype == std.dtype == torch.float32 and mean.device.type == "cpu"
    # red image: R channel +1 everywhere; the double's VAE averages 8×8 blocks; log-variance -2
    assert float(mean[0, 0].mean()) == pytest.approx(m.scale_factor)
    assert float(std[0, 0].mean()) == pytest.approx(m.scale_factor * torch.exp(torch.tensor(-1.0)).item())
    again = tm.encode_latents(images())  # SDXL's encode samples; the moments do not
    assert torch.equal(mean, again[0]) and torch.equal(std, again[1])


def test_sdxl_size_conditioning_says_the_training_size(host, webui):
    import torch

    load(webui, "SDXL")
    tm = host.train_model()
    square, tall = tm.conditioning(["art"], 64, 64), tm.conditioning(["art"], 64, 128)
    assert set(square) == {"crossattn", "vector"} and tuple(square["vector"].shape) == (1, 2816)
    assert torch.equal(square["crossattn"], tall["crossattn"])
    assert not torch.equal(square["vector"], tall["vector"])


def test_v_prediction_loss_is_against_v(host, webui):
    import torch

    m = load(webui, "SD2-v")
    tm = host.train_model()
    latents, noise, t = batch(tm)
    with torch.no_grad():
        cond = tm.conditioning(["art", "a cat"], 64, 64)
        got = tm.loss(latents, cond, t, noise)
        abar = m.alphas_cumprod[t].view(-1, 1, 1, 1)
        x_noisy = abar.sqrt() * latents + (1 - abar).sqrt() * noise
        out = m.apply_model(x_noisy, t, cond)
        v = abar.sqrt() * noise - (1 - abar).sqrt() * latents
    assert tuple(got.shape) == (2,)
    assert torch.allclose(got, ((out - v) ** 2).mean(dim=(1, 2, 3)))
    assert not torch.allclose(got, ((out - noise) ** 2).mean(dim=(1, 2, 3)))


# -- gradients reach only the vectors -----------------------------------------------------------


@pytest.mark.parametrize("family", ["SD1", "SD2-v", "SDXL"])
def test_gradients_reach_every_part_and_nothing_else(host, webui, family):
    m = load(webui, family)
    tm = host.train_model()
    latents, noise, t = batch(tm)
    with tm.session(TOKEN, start_vectors(tm)) as live:
        assert set(live) == set(tm.parts())
        assert all(v.is_leaf and v.requires_grad for v in live.values())
        tm.loss(latents, tm.conditioning(PROMPTS, 64, 64), t, noise).mean().backward()
        for part, v in live.items():
            assert v.grad is not None and float(v.grad.abs().sum()) > 0, f"no gradient for {part}"
        assert [n for n, p in m.named_parameters() if p.requires_grad or p.grad is not None] == []


def test_sdxl_conditioner_gives_no_gradient_to_an_embedder_that_is_not_trainable(host, webui):
    """What the session switches on: without is_trainable sgm's conditioner runs the text encoders
    under no_grad and the vectors get no gradient (nothing fails)."""
    load(webui, "SDXL")
    tm = host.train_model()
    with tm.session(TOKEN, start_vectors(tm)) as live:
        tm._encoders["clip_g"].is_trainable = False
        cond = tm.conditioning(PROMPTS, 64, 64)
        cond["crossattn"].sum().backward()
        assert live["clip_g"].grad is None and live["clip_l"].grad is not None


@pytest.mark.parametrize("family", ["SD1", "SDXL"])
def test_adamw_steps_change_the_vectors_and_leave_the_model_as_it_was(host, webui, family):
    import torch

    m = load(webui, family)
    before = weights(m)
    assert any(rg for _v, rg, _g in before[0].values())  # the UNet requires grad, as the webui loads it
    tm = host.train_model()
    vectors = start_vectors(tm)
    losses, trained = train(tm, vectors, steps=6)
    assert losses[-1] < losses[0]
    assert all(not torch.equal(trained[p], vectors[p]) for p in vectors)
    assert_untouched(m, before)


def test_grads_left_on_the_model_before_are_cleared(host, webui):
    import torch

    m = load(webui, "SD1")
    unet = m.model.diffusion_model.out.weight
    unet.grad = torch.ones_like(unet)  # what a backward pass of the webui's own trainer leaves
    tm = host.train_model()
    with tm.session(TOKEN, start_vectors(tm)):
        assert unet.grad is None
    assert unet.grad is None and unet.requires_grad


def test_is_trainable_is_restored_after_an_error(host, webui):
    load(webui, "SDXL")
    tm = host.train_model()
    wrappers = list(tm._encoders.values())
    with pytest.raises(RuntimeError, match="boom"), tm.session(TOKEN, start_vectors(tm)):
        assert all(w.is_trainable for w in wrappers)
        raise RuntimeError("boom")
    assert [w.is_trainable for w in wrappers] == [False, False]


def test_vectors_of_the_wrong_shape_are_refused(host, webui):
    import torch

    load(webui, "SDXL")
    tm = host.train_model()
    with pytest.raises(ValueError, match="clip_g"), tm.session(TOKEN, {"*": torch.zeros(2, 768)}):
        pass
    bad = {"clip_l": torch.zeros(2, 768), "clip_g": torch.zeros(2, 1024)}
    with pytest.raises(ValueError, match=r"\[n, 1280\]"), tm.session(TOKEN, bad):
        pass


def test_a_session_on_a_model_that_was_switched_away_is_refused(host, webui):
    load(webui, "SD1")
    tm = host.train_model()
    load(webui, "SD1")
    with pytest.raises(Unavailable, match="model changed"), tm.session(TOKEN, start_vectors(tm)):
        pass


# -- the token and the user's embedding of that name ---------------------------------------------


def user_embedding(webui, db, name=TOKEN, value=0.1):
    import torch

    write_pt(Path(webui.shared.cmd_opts.embeddings_dir) / f"{name}.pt", torch.full((1, 768), value))
    db.load_textual_inversion_embeddings(force_reload=True)
    return db.word_embeddings[name]


def lookup_state(db):
    return dict(db.word_embeddings), {k: list(v) for k, v in db.ids_lookup.items()}


def used_for(webui, text):
    return [e for _o, e, _n in webui.shared.sd_model.cond_stage_model.found(text)[1]]


def test_the_token_means_the_session_vectors_and_the_users_embedding_comes_back(host, webui, db):
    load(webui, "SD1")
    user = user_embedding(webui, db)
    before = lookup_state(db)
    tm = host.train_model()
    with tm.session(TOKEN, start_vectors(tm)) as live:
        (ours,) = used_for(webui, f"a photo of {TOKEN}")
        assert ours is not user and ours.vec is live["*"] and ours.name == TOKEN and ours.vectors == 2
    assert lookup_state(db) == before and used_for(webui, f"a photo of {TOKEN}") == [user]


def test_a_user_embedding_renamed_by_the_webuis_trainer_is_set_aside_and_back(host, webui, db):
    """The webui's trainer leaves the live Embedding named "<name>-<step>" (textual_inversion.py:
    691-709), so register_embedding_by_name does not drop its lookup entry (:136)."""
    load(webui, "SD1")
    user = user_embedding(webui, db)
    user.name = f"{TOKEN}-500"
    before = lookup_state(db)
    tm = host.train_model()
    with tm.session(TOKEN, start_vectors(tm)) as live:
        assert [e.vec is live["*"] for e in used_for(webui, TOKEN)] == [True]
    assert lookup_state(db) == before and used_for(webui, TOKEN) == [user]


def test_a_database_reload_during_the_session_is_undone_at_the_next_step(host, webui, db):
    """An Extra Networks refresh reloads the database without the queue lock
    (modules/ui_extra_networks_textual_inversion.py:12-13) and drops hand-registered entries."""
    load(webui, "SD1")
    user_embedding(webui, db)
    tm = host.train_model()
    latents, noise, t = batch(tm)
    with tm.session(TOKEN, start_vectors(tm)) as live:
        db.load_textual_inversion_embeddings(force_reload=True)
        reloaded = db.word_embeddings[TOKEN]
        tm.loss(latents, tm.conditioning(PROMPTS, 64, 64), t, noise).mean().backward()
        assert live["*"].grad is not None
    assert db.word_embeddings[TOKEN] is reloaded and used_for(webui, TOKEN) == [reloaded]


def test_without_a_user_embedding_nothing_is_left_registered(host, webui, db):
    load(webui, "SDXL")
    tm = host.train_model()
    with tm.session(TOKEN, start_vectors(tm)):
        assert TOKEN in db.word_embeddings
    assert db.word_embeddings == {} and db.ids_lookup == {}


def test_an_error_inside_the_text_encoder_leaves_no_fixes_for_the_next_prompt(host, webui, monkeypatch):
    """The wrapper sets ``model_hijack.fixes`` before the encoder runs (sd_hijack_clip.py:221-227);
    the token embedding clears them (sd_hijack.py:348-349), unless the encoder failed before it."""
    load(webui, "SD1")
    tm = host.train_model()
    encoder = tm._encoders["*"]

    def fails(tokens):
        raise RuntimeError("CUDA out of memory")

    with pytest.raises(RuntimeError, match="out of memory"), tm.session(TOKEN, start_vectors(tm)):
        monkeypatch.setattr(encoder, "encode_with_transformers", fails)
        tm.conditioning(PROMPTS, 64, 64)
    assert webui.sd_hijack.model_hijack.fixes is None


# -- when the model cannot be trained -----------------------------------------------------------


def refuse(host, webui, change, match):
    change(webui)
    with pytest.raises(Unavailable, match=match):
        host.train_model()


def test_no_model(host, webui):
    refuse(host, webui, lambda w: setattr(w.sd_models.model_data, "sd_model", None), "no model is loaded")


def test_sd3(host, webui):
    def sd3(w):
        load(w, "SD1").is_sd3 = True
        w.shared.sd_model.is_sd1 = False

    refuse(host, webui, sd3, "SD1, SD2 and SDXL models; this one is SD3")


@pytest.mark.parametrize("key", ["hybrid", "concat", "crossattn-adm"])
def test_image_conditioned_models(host, webui, key):
    refuse(host, webui, lambda w: setattr(load(w, "SD1").model, "conditioning_key", key), "image-conditioned")


def test_sdxl_inpainting(host, webui):
    refuse(host, webui, lambda w: setattr(load(w, "SDXL"), "is_sdxl_inpaint", True), "SDXL inpainting")


def test_sdxl_refiner_with_one_text_encoder(host, webui):
    def refiner(w):
        m = load(w, "SDXL")
        del m.conditioner.embedders[0]

    refuse(host, webui, refiner, r"text encoders \['clip_g'\] \(the refiner\?\)")


def test_a_text_encoder_that_is_not_clip(host, webui):
    import torch

    class BertSeriesModelWithTransformation(torch.nn.Module):  # Alt-Diffusion's XLM-R: .roberta
        roberta = None

    def xlmr(w):  # the hijacked XLM-R wrapper (sd_hijack.py:232-235)
        load(w, "SD1").cond_stage_model.wrapped = BertSeriesModelWithTransformation()

    refuse(host, webui, xlmr, "CLIP and OpenCLIP text encoders; this model has BertSeries")


def test_lowvram(host, webui):
    refuse(host, webui, lambda w: setattr(w.shared.cmd_opts, "lowvram", True), "--lowvram")


def test_medvram_sdxl(host, webui):
    refuse(host, webui, lambda w: setattr(load(w, "SDXL"), "lowvram", True), "--medvram")


def test_x0_prediction(host, webui):
    refuse(host, webui, lambda w: setattr(load(w, "SD1"), "parameterization", "x0"), "predicts x0")


def test_forge(bridge, webui, tmp_path, monkeypatch):
    (tmp_path / "forge" / "modules_forge").mkdir(parents=True)
    monkeypatch.syspath_prepend(str(tmp_path / "forge"))
    bridge.HOST = None
    with pytest.raises(Unavailable, match="Forge removed Textual Inversion training"):
        bridge.host().train_model()


def test_the_medvram_sd1_model_is_trainable(host, webui):
    """--medvram keeps SD1/SD2 trainable: the VAE's encode is the webui's wrapper (lowvram.py:63-69)."""
    load(webui, "SD1").lowvram = True
    assert host.train_model().family == "SD1"
