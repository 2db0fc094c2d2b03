"""The loaded model for our own training loop (``kit.host.TrainModel``): SD1, SD2 (eps and v) and
SDXL on ``shared.sd_model`` (docs/webui-contract.md §24 own training loop).

One step is ``conditioning`` (the webui's hijacked text encoders put the session's vectors where
the token is) → ``loss`` (the UNet through ``apply_model``) → ``backward``. During a session the
model's weights are frozen (the webui leaves the UNet's requiring grad), SDXL's text embedders are
marked trainable (sgm's conditioner runs the others under ``no_grad``) and the token stands for
the session's vectors; everything is put back on exit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from modules import shared

from lib_textinv.kit.host import TrainModel, Unavailable
from lib_textinv.webui import cond_cache, facts
from lib_textinv.webui.embeddings import embedding_db, sdxl_encoders

NO_MODEL = "no model is loaded yet (select a checkpoint at the top of the page)"
LOWVRAM = "--lowvram moves each part of the model to the GPU only while it runs; restart without it to train"
MEDVRAM_SDXL = (
    "with --medvram the SDXL VAE stays on the CPU; restart without --medvram/--medvram-sdxl to train"
)
VAE_NAN = (
    "the VAE gave NaN for a training image (it overflows in half precision): "
    "start the webui with --no-half-vae"
)


def train_model() -> TrainModel:
    return loaded_train_model()


def loaded_train_model() -> WebuiTrainModel:
    """The loaded model as ``WebuiTrainModel``, or ``Unavailable`` with the reason."""
    m = facts.loaded_model()
    why = unavailable_reason(m)
    if why:
        raise Unavailable(why)
    return WebuiTrainModel(m)


def unavailable_reason(m: Any) -> str | None:
    """Why our trainer cannot train on ``m`` (None: it can)."""
    if facts.is_forge():
        return facts.FORGE_NO_TRAINING
    if m is None or getattr(m, "sd_checkpoint_info", None) is None:
        return NO_MODEL
    fam = facts.family(m)
    if fam not in facts.WIDTHS:
        return f"our trainer handles SD1, SD2 and SDXL models; this one is {fam}"
    if facts.is_lowvram():
        return LOWVRAM
    if fam == "SDXL":
        if getattr(m, "is_sdxl_inpaint", False):  # modules/sd_models.py:448-459
            return "an SDXL inpainting model needs an image with each prompt; load the base model to train"
        found = sorted(_text_encoders(m))
        if found != ["clip_g", "clip_l"]:
            return (
                f"this SDXL model has the text encoders {found or 'none'} (the refiner?); "
                "training needs clip_l and clip_g"
            )
        if getattr(m, "lowvram", False):  # modules/lowvram.py:34-38 (--medvram, --medvram-sdxl)
            return MEDVRAM_SDXL
    elif _token_owner(m.cond_stage_model) is None:  # Alt-Diffusion's XLM-R (modules/sd_hijack.py:232-235)
        kind = type(getattr(m.cond_stage_model, "wrapped", m.cond_stage_model)).__name__
        return f"our trainer knows CLIP and OpenCLIP text encoders; this model has {kind}"
    elif m.model.conditioning_key != "crossattn":  # modules/textual_inversion/textual_inversion.py:508
        return (
            f"an image-conditioned model (conditioning '{m.model.conditioning_key}': inpainting, depth, "
            "instruct-pix2pix or unCLIP) needs an image with each prompt; load a plain checkpoint to train"
        )
    if getattr(m, "parameterization", "eps") not in ("eps", "v"):
        return f"our trainer handles eps- and v-prediction models; this one predicts {m.parameterization}"
    return None


class WebuiTrainModel:
    def __init__(self, m: Any) -> None:
        import torch

        self.m = m
        self.family = facts.family(m)
        # The schedule the model was trained with, not a sampling override (modules/sd_models.py:467,
        # :486, :647-667: "Zero Terminal SNR" and downcasting change alphas_cumprod only).
        abar = getattr(m, "alphas_cumprod_original", None)
        self._alphas = (m.alphas_cumprod if abar is None else abar).detach().to(torch.float32).cpu()
        self.num_timesteps = int(self._alphas.shape[0])
        self._v = m.parameterization == "v"
        self._encoders = _text_encoders(m)
        self._holder: _TokenHolder | None = None

    def parts(self) -> dict[str, int]:
        return {part: _token_width(enc) for part, enc in self._encoders.items()}

    def encode_latents(self, images: list[Any]) -> tuple[Any, Any]:
        import torch

        means, stds = [], []
        with torch.no_grad():
            for im in images:  # one at a time, as the webui encodes a batch (sd_samplers_common.py:103-108)
                mean, std = self._posterior(_pixels(im))
                means.append(mean.float().cpu())
                stds.append(std.float().cpu())
        mean, std = torch.cat(means), torch.cat(stds)
        if not (torch.isfinite(mean).all() and torch.isfinite(std).all()):
            raise Unavailable(VAE_NAN)
        return mean * self._scale(), std * self._scale()

    def _scale(self) -> float:
        return float(self.m.scale_factor)

    def _posterior(self, x: Any) -> tuple[Any, Any]:
        """The VAE posterior's mean and std for ``x`` in [-1, 1]. ldm's AutoencoderKL.encode gives the
        posterior (the --medvram wrapper moves the VAE to the GPU first, modules/lowvram.py:63-69); sgm's
        inference wrapper returns a sample, so SDXL's moments come from its encoder and quant_conv."""
        import torch
        from modules import devices

        fsm = self.m.first_stage_model
        param = next(fsm.parameters())
        if self.family != "SDXL":
            posterior = fsm.encode(x.to(devices.device, dtype=param.dtype))
            return posterior.mean, posterior.std
        moments = fsm.quant_conv(fsm.encoder(x.to(param.device, dtype=param.dtype)))
        mean, logvar = torch.chunk(moments.float(), 2, dim=1)
        return mean, torch.exp(0.5 * logvar.clamp(-30.0, 20.0))

    @contextmanager
    def session(self, token: str, vectors: dict[str, Any]) -> Iterator[dict[str, Any]]:
        import torch
        from modules import devices

        self._check_still_loaded()
        leaves = {
            part: v.detach().to(devices.device, dtype=torch.float32).clone().requires_grad_(True)
            for part, v in self._checked_parts(vectors).items()
        }
        with ExitStack() as stack:
            stack.enter_context(_frozen_weights(self.m))
            if self.family == "SDXL":
                stack.enter_context(_trainable_embedders(list(self._encoders.values())))
            stack.enter_context(self.registered(token, leaves))
            yield leaves

    @contextmanager
    def registered(self, token: str, vectors: dict[str, Any]) -> Iterator[None]:
        """``token`` stands for ``vectors`` (as they are, no copy) until exit; the conditioning cache
        and the text encoder's pending fixes are cleared on the way out."""
        from modules import sd_hijack
        from modules.textual_inversion import textual_inversion as ti

        parts = self._checked_parts(vectors)
        emb = ti.Embedding(parts["*"] if "*" in parts else dict(parts), token)
        first = next(iter(parts.values()))
        emb.vectors, emb.shape = int(first.shape[0]), sum(int(v.shape[-1]) for v in parts.values())
        self._holder = _TokenHolder(self.m, token, emb)
        cond_cache.forget()
        try:
            self._holder.take()
            yield
        finally:
            self._holder.release()
            self._holder = None
            sd_hijack.model_hijack.fixes = None  # an interrupted forward must not leave ours pending
            cond_cache.forget()

    def conditioning(self, prompts: list[str], width: int, height: int) -> Any:
        from modules import devices, prompt_parser

        if self._holder is not None:
            self._holder.take()  # back in place if an Extra Networks refresh reloaded the database
        batch = prompt_parser.SdConditioning(list(prompts), width=width, height=height)
        with devices.autocast():
            return self.m.get_learned_conditioning(batch)

    def loss(self, latents: Any, cond: Any, timesteps: Any, noise: Any) -> Any:
        """ldm's q_sample and targets (ddpm.py:354-363, :891-898) on the float32 schedule."""
        import torch
        from modules import devices

        dev = devices.device
        x0 = latents.to(dev, dtype=torch.float32)
        eps = noise.to(dev, dtype=torch.float32)
        t = timesteps.to(dev).long()
        abar = self._alphas.to(dev)[t].view(-1, 1, 1, 1)
        a, s = abar.sqrt(), (1.0 - abar).sqrt()
        c = dict(cond) if isinstance(cond, dict) else cond  # the webui's apply_model recasts dict values
        with devices.autocast():
            out = self.m.apply_model(a * x0 + s * eps, t, c)
        target = a * eps - s * x0 if self._v else eps
        return ((out.float() - target) ** 2).mean(dim=(1, 2, 3))

    def _check_still_loaded(self) -> None:
        if shared.sd_model is not self.m:
            raise Unavailable("the loaded model changed; start the training again")

    def _checked_parts(self, vectors: dict[str, Any]) -> dict[str, Any]:
        widths = self.parts()
        if set(vectors) != set(widths):
            raise ValueError(f"{self.family} needs the vector parts {sorted(widths)}, not {sorted(vectors)}")
        for part, v in vectors.items():
            if v.dim() != 2 or int(v.shape[1]) != widths[part]:
                raise ValueError(f"part {part!r} must be [n, {widths[part]}], not {list(v.shape)}")
        if len({int(v.shape[0]) for v in vectors.values()}) != 1:
            raise ValueError("every part needs the same number of vectors")
        return dict(vectors)


def _text_encoders(m: Any) -> dict[str, Any]:
    """Part → the webui's wrapper of that text encoder (modules/sd_hijack.py:205-244)."""
    if facts.family(m) != "SDXL":
        return {"*": m.cond_stage_model}
    return sdxl_encoders(m.conditioner)


def _token_owner(wrapper: Any) -> Any:
    """What holds the wrapper's token embedding (SD1/clip_l: HF CLIP's embeddings, SD2/clip_g:
    the open_clip model; modules/sd_hijack.py:237-244, :213-223), or None for another encoder."""
    w: Any = getattr(wrapper, "wrapped", None)
    if hasattr(w, "transformer"):
        return w.transformer.text_model.embeddings
    return getattr(w, "model", None)


def _token_width(wrapper: Any) -> int:
    """The width of the raw token table under the wrapper's ``EmbeddingsWithFixes``."""
    return int(_token_owner(wrapper).token_embedding.wrapped.weight.shape[1])


def _pixels(im: Any) -> Any:
    """An RGB PIL image → ``[1, 3, H, W]`` float32 in [-1, 1] (modules/textual_inversion/dataset.py:88-90)."""
    import numpy as np
    import torch

    a = np.asarray(im.convert("RGB"), dtype=np.float32) / 127.5 - 1.0
    return torch.from_numpy(a).permute(2, 0, 1)[None]


@contextmanager
def _frozen_weights(m: Any) -> Iterator[None]:
    """No weight of the model requires grad or holds a gradient during the session; afterwards each
    requires grad as before and none holds a gradient."""
    params = list(m.parameters())
    before = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad_(False)
        p.grad = None
    try:
        yield
    finally:
        for p, was in zip(params, before, strict=True):
            p.grad = None
            p.requires_grad_(was)


@contextmanager
def _trainable_embedders(wrappers: list[Any]) -> Iterator[None]:
    """sgm's GeneralConditioner runs an embedder that is not ``is_trainable`` under ``torch.no_grad``
    (repositories/generative-models/sgm/modules/encoders/modules.py:136-137); the webui's wrappers
    copied False at hijack time (modules/sd_hijack_clip.py:302)."""
    before = [w.is_trainable for w in wrappers]
    for w in wrappers:
        w.is_trainable = True
    try:
        yield
    finally:
        for w, was in zip(wrappers, before, strict=True):
            w.is_trainable = was


class _TokenHolder:
    """Our embedding under ``token`` in the webui's embedding database, and exactly what was there
    before put back afterwards. ``register_embedding_by_name`` drops an older entry only when its
    ``Embedding.name`` equals the token (textual_inversion.py:129-150), which a webui-trained
    embedding renamed to "<name>-<step>" does not (docs/webui-contract.md §10): such an entry with the
    same token ids is set aside too."""

    def __init__(self, m: Any, token: str, emb: Any) -> None:
        self.m, self.token, self.emb = m, token, emb
        self.ids = m.cond_stage_model.tokenize([token])[0]
        self._before: tuple[Any, list[Any] | None] | None = None

    def holds(self) -> bool:
        db = embedding_db()
        if db.word_embeddings.get(self.token) is not self.emb:
            return False
        return db.find_embedding_at_position(self.ids, 0)[0] is self.emb

    def take(self) -> None:
        if self.holds():
            return
        db = embedding_db()
        first = self.ids[0]
        if db.word_embeddings.get(self.token) is not self.emb:
            lookup = db.ids_lookup.get(first)
            self._before = (db.word_embeddings.get(self.token), None if lookup is None else list(lookup))
            db.register_embedding_by_name(self.emb, self.m, self.token)
        db.ids_lookup[first] = [e for e in db.ids_lookup[first] if e[1] is self.emb or e[0] != self.ids]

    def release(self) -> None:
        db = embedding_db()
        if self._before is None or db.word_embeddings.get(self.token) is not self.emb:
            return  # never taken, or the database was reloaded from the files since
        previous, lookup = self._before
        first = self.ids[0]
        if lookup is None:
            db.ids_lookup.pop(first, None)
        else:
            db.ids_lookup[first] = lookup
        if previous is None:
            del db.word_embeddings[self.token]
        else:
            db.word_embeddings[self.token] = previous
