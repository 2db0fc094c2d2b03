"""Double only (no webui counterpart): the loaded-model stand-ins behind ``sd_models.make_model``.

They are torch modules with the shape of a model after ``sd_hijack.model_hijack.hijack``
(sd_hijack.py:205-262), tiny and deterministic, with what an own training loop touches:

* SD1/SD2 (ldm ``LatentDiffusion``): ``cond_stage_model`` is the webui's wrapper,
  ``FrozenCLIPEmbedderWithCustomWords`` (sd_hijack_clip.py:316-319, ``.tokenizer``,
  ``.wrapped.transformer.text_model.embeddings.token_embedding``) or
  ``FrozenOpenCLIPEmbedderWithCustomWords`` (sd_hijack_open_clip.py:10-37, no ``.tokenizer``,
  ``.wrapped.model.token_embedding``); the token embedding is an ``EmbeddingsWithFixes`` whose
  ``.wrapped`` is the raw ``nn.Embedding`` (sd_hijack.py:340-366). ``model`` is ldm's
  ``DiffusionWrapper`` (ddpm.py:1310-1357) around a tiny UNet; ``first_stage_model`` an
  ``AutoencoderKL`` (ldm autoencoder.py:82-86: ``encoder`` → ``quant_conv`` → a diagonal Gaussian).
* SDXL (sgm ``DiffusionEngine``): ``conditioner`` is a ``GeneralConditioner`` (sgm
  encoders/modules.py:80-173: embedders that are not ``is_trainable`` run under ``torch.no_grad``)
  holding the webui's wrappers ``FrozenCLIPEmbedderForSDXLWithCustomWords`` (clip_l, 768) and
  ``FrozenOpenCLIPEmbedder2WithCustomWords`` (clip_g, 1280, pooled output; its token embedding
  picks ``vec["clip_g"]``, sd_hijack.py:223) plus the three size embedders of the base config
  (sd_xl_base.yaml:62-78); ``cond_stage_model`` is the conditioner (sd_hijack.py:227-230);
  ``get_learned_conditioning``/``apply_model``/``get_first_stage_encoding`` as sd_models_xl.py
  patches them (:12-52), ``alphas_cumprod`` as ``extend_sdxl`` sets it (:90-104).

Weights: the UNet's parameters require grad, as the webui leaves them after loading; the VAE's
and the text encoders' do not (ldm ddpm.py:613-634, sgm diffusion.py:105-110, sgm
encoders/modules.py:94-98). ``apply_model`` casts as the webui's hijack does (sd_hijack_unet.py:40-54,
141-142). Prompts are split into lower-case words and punctuation (CLIP lower-cases); words of a
small base vocabulary get fixed ids, other words a crc32-derived id; one 77-token chunk per prompt
(the webui opens more chunks for longer prompts). ``conditioning_keys`` (double only) names each
prompt's conditioning for the processing double's "sampler".
"""

from __future__ import annotations

import contextlib
import math
import re
import zlib
from typing import ClassVar

import torch
from torch import nn

VOCAB_SIZE = 512
CONTEXT = 77
CHUNK = CONTEXT - 2  # TextConditionalModel.chunk_length (sd_hijack_clip.py:35)
ID_START, ID_END = 0, 1
BASE_WORDS = [
    *("<|startoftext|>", "<|endoftext|>", "!", ",", "-", ".", ":", "(", ")", "[", "]"),
    *("a", "an", "the", "of", "by", "in", "on", "with", "and", "photo", "painting", "drawing", "art"),
    *("style", "cat", "dog", "man", "woman", "portrait", "picture", "charcoal", "red", "blue", "green"),
]
# ldm make_beta_schedule("linear", linear_start=0.00085, linear_end=0.012), the SD1/SD2/SDXL configs
# (sgm LegacyDDPMDiscretization, sd_models_xl.py:101-102, is the same schedule).
BETAS = torch.linspace(0.00085**0.5, 0.012**0.5, 1000, dtype=torch.float64) ** 2
ALPHAS_CUMPROD = torch.cumprod(1.0 - BETAS, dim=0).float()


def _word_token(w):
    return w if w.startswith("<|") else f"{w}</w>"


class ToyTokenizer:
    """An HF ``CLIPTokenizer``-like vocabulary: ids ↔ token strings ("word</w>")."""

    def __init__(self):
        self.encoder = {_word_token(w): i for i, w in enumerate(BASE_WORDS)}
        self.decoder = {i: t for t, i in self.encoder.items()}

    def encode_words(self, text):
        ids = []
        for w in re.findall(r"\w+|[^\w\s]", text.lower()):
            tok = _word_token(w)
            if tok not in self.encoder:
                i = len(BASE_WORDS) + zlib.crc32(w.encode()) % (VOCAB_SIZE - len(BASE_WORDS))
                self.decoder.setdefault(i, tok)
                ids.append(i)
            else:
                ids.append(self.encoder[tok])
        return ids

    def convert_ids_to_tokens(self, ids):  # transformers PreTrainedTokenizer
        return [self.decoder.get(int(i), f"tok{int(i)}</w>") for i in ids]

    def get_vocab(self):
        return dict(self.encoder)


def _seeded(module, seed, scale=0.2):
    """Deterministic random weights (the same model every time), frozen as loaded text encoders are."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * scale)
    return module


def _frozen(module):
    for p in module.parameters():
        p.requires_grad_(False)
    return module


def timestep_embedding(timesteps, dim, max_period=10000):  # ldm openaimodel.py / sgm util
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32) / half)
    args = timesteps[:, None].float() * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


# -- text encoders --------------------------------------------------------------------------------
class EmbeddingsWithFixes(nn.Module):
    """sd_hijack.py:340-366: puts each embedding's vectors (``vec[key]`` for SDXL dicts) where
    ``model_hijack.fixes`` says, after the start token, and clears the fixes."""

    def __init__(self, wrapped, embeddings, textual_inversion_key="clip_l"):
        super().__init__()
        self.wrapped = wrapped
        self.embeddings = embeddings
        self.textual_inversion_key = textual_inversion_key

    def forward(self, input_ids):
        from modules import devices

        batch_fixes = self.embeddings.fixes
        self.embeddings.fixes = None
        inputs_embeds = self.wrapped(input_ids)
        if batch_fixes is None or len(batch_fixes) == 0 or max(len(x) for x in batch_fixes) == 0:
            return inputs_embeds
        vecs = []
        for fixes, row in zip(batch_fixes, inputs_embeds, strict=False):
            tensor = row
            for offset, embedding in fixes:
                vec = embedding.vec
                vec = vec[self.textual_inversion_key] if isinstance(vec, dict) else vec
                emb = devices.cond_cast_unet(vec)
                emb_len = min(tensor.shape[0] - offset - 1, emb.shape[0])
                tensor = torch.cat(
                    [tensor[0 : offset + 1], emb[0:emb_len], tensor[offset + 1 + emb_len :]]
                ).to(dtype=inputs_embeds.dtype)
            vecs.append(tensor)
        return torch.stack(vecs)


class _Mixer(nn.Module):
    """The transformer stand-in: each position plus a function of the mean of all positions
    (so the end token, the pooled output, sees every vector), then a layer norm."""

    def __init__(self, width):
        super().__init__()
        self.mix = nn.Linear(width, width)
        self.final_layer_norm = nn.LayerNorm(width)

    def forward(self, h):
        return self.final_layer_norm(h + torch.tanh(self.mix(h.mean(dim=1, keepdim=True))))


def _token_embedding(width, hijack, key):
    emb = nn.Embedding(VOCAB_SIZE, width)
    g = torch.Generator().manual_seed(width)
    with torch.no_grad():
        emb.weight.copy_(torch.randn(VOCAB_SIZE, width, generator=g) * 0.02)
    return EmbeddingsWithFixes(emb, hijack, key)


class _TextTransformer(nn.Module):  # transformers CLIPTextModel.text_model
    def __init__(self, width, hijack):
        super().__init__()
        self.embeddings = nn.Module()
        self.embeddings.token_embedding = _token_embedding(width, hijack, "clip_l")
        self.encoder = _seeded(_Mixer(width), seed=width + 1)


class _ClipTextModel(nn.Module):  # transformers CLIPTextModel
    def __init__(self, width, hijack):
        super().__init__()
        self.text_model = _TextTransformer(width, hijack)

    def forward(self, input_ids):
        return self.text_model.encoder(self.text_model.embeddings.token_embedding(input_ids))


class FrozenCLIPEmbedder(nn.Module):
    """ldm/sgm ``FrozenCLIPEmbedder`` (the HF CLIP text model): ``tokenizer``, ``transformer``."""

    def __init__(self, width, hijack):
        super().__init__()
        self.tokenizer = ToyTokenizer()
        self.transformer = _ClipTextModel(width, hijack)


class _OpenClipModel(nn.Module):  # open_clip CLIP (text tower)
    def __init__(self, width, hijack, key):
        super().__init__()
        self.token_embedding = _token_embedding(width, hijack, key)
        self.transformer = _seeded(_Mixer(width), seed=width + 1)
        self.text_projection = nn.Parameter(torch.eye(width))


class FrozenOpenCLIPEmbedder(nn.Module):
    """ldm ``FrozenOpenCLIPEmbedder`` (SD2) / sgm ``FrozenOpenCLIPEmbedder2`` (SDXL clip_g, which
    returns ``{"last", "penultimate", "pooled"}`` and is configured ``layer: penultimate,
    always_return_pooled: True``, sd_xl_base.yaml:51-60)."""

    def __init__(self, width, hijack, key, pooled=False):
        super().__init__()
        self.model = _OpenClipModel(width, hijack, key)
        self.layer = "penultimate"
        self.return_pooled = pooled

    def encode_with_transformer(self, tokens):
        z = self.model.transformer(self.model.token_embedding(tokens))
        if not self.return_pooled:
            return z
        end = (tokens == ID_END).int().argmax(dim=1)  # sgm pool(): the end token's features
        pooled = z[torch.arange(z.shape[0]), end] @ self.model.text_projection
        return {"last": z, "penultimate": z, "pooled": pooled}


class TextConditionalModel(nn.Module):
    """The webui's wrappers (sd_hijack_clip.py:30-313): ``is_trainable``, ``input_key`` and
    ``return_pooled`` copied from the wrapped encoder (:302-304), ``tokenize``, ``forward(texts)``
    (:199-251: the prompts' chunks, ``hijack.fixes`` set for the token embedding, "TI hashes")."""

    def __init__(self, wrapped, hijack):
        super().__init__()
        self.hijack = hijack
        self.wrapped = wrapped
        self.chunk_length = CHUNK
        self.id_start, self.id_end, self.id_pad = ID_START, ID_END, ID_END
        self.is_trainable = getattr(wrapped, "is_trainable", False)
        self.input_key = getattr(wrapped, "input_key", "txt")
        self.return_pooled = getattr(wrapped, "return_pooled", False)
        self.legacy_ucg_val = None  # for sgm codebase
        self._toy = ToyTokenizer()

    def tokenize(self, texts):  # :346-349 / sd_hijack_open_clip.py:19-24: ids without start/end
        return [self._toy.encode_words(t) for t in texts]

    def token_table(self):
        """Double only: the raw ``nn.Embedding`` under the ``EmbeddingsWithFixes``."""
        raise NotImplementedError

    def encode_embedding_init_text(self, init_text, nvpt):  # :362-367 / _open_clip.py:32-37
        ids = torch.tensor(self.tokenize([init_text])[0] or [0])
        return self.token_table()(ids)

    def found(self, text):
        """Double only: the prompt's tokens and ``(offset, embedding, n_ids)`` for each embedding
        name in it (found with embedding_db.find_embedding_at_position in tokenize_line, :81-175)."""
        db = self.hijack.embedding_db
        tokens, out, i = self.tokenize([text])[0], [], 0
        while i < len(tokens):
            emb, n = db.find_embedding_at_position(tokens, i)
            if emb is None:
                i += 1
                continue
            out.append((i, emb, n))
            i += n
        return tokens, out

    def tokenize_line(self, text):
        """:81-174 for one chunk: an embedding takes ``int(embedding.vectors)`` placeholder tokens
        and a fix ``(offset, embedding)``; padded with the end token; start and end added."""
        tokens, hits = self.found(text)
        at = {i: (emb, n) for i, emb, n in hits}
        chunk, fixes, i = [], [], 0
        while i < len(tokens):
            if i in at:
                emb, n = at[i]
                fixes.append((len(chunk), emb))
                chunk += [0] * int(emb.vectors)
                i += n
            else:
                chunk.append(tokens[i])
                i += 1
        chunk = chunk[:CHUNK] + [self.id_end] * max(0, CHUNK - len(chunk))
        return [self.id_start, *chunk, self.id_end], [f for f in fixes if f[0] < CHUNK]

    def record_ti_hashes(self, hits_per_text):
        """:230-243: every forward pass lists the embeddings it used in "TI hashes", before those
        an earlier pass of the same generation listed (names without ':' and ',')."""
        from modules import shared

        used = {emb.name: emb for hits in hits_per_text for _offset, emb, _n in hits}
        if not (shared.opts.textual_inversion_add_hashes_to_infotext and used):
            return
        hashes = [
            f"{name.replace(':', '').replace(',', '')}: {emb.shorthash}"
            for name, emb in used.items()
            if emb.shorthash
        ]
        if hashes:
            params = self.hijack.extra_generation_params
            if params.get("TI hashes"):
                hashes.append(params["TI hashes"])
            params["TI hashes"] = ", ".join(hashes)

    def forward_keys(self, texts):
        """Double only: the forward pass as one key per text, naming the prompt and the name, hash
        and vectors of each embedding put into it, recording "TI hashes" as the real pass does."""
        hits_per_text = [self.found(text)[1] for text in texts]
        self.record_ti_hashes(hits_per_text)
        return [
            f"{text}|" + ";".join(f"{e.name}:{e.shorthash}:{vec_sum(e.vec):.6f}" for _o, e, _n in hits)
            for text, hits in zip(texts, hits_per_text, strict=True)
        ]

    def encode_with_transformers(self, tokens):
        raise NotImplementedError

    def forward(self, texts):
        from modules import devices

        lines = [self.tokenize_line(text) for text in texts]
        self.record_ti_hashes([self.found(text)[1] for text in texts])
        self.hijack.fixes = [fixes for _tokens, fixes in lines]
        tokens = torch.asarray([t for t, _fixes in lines]).to(devices.device)
        z = self.encode_with_transformers(tokens)
        if self.return_pooled:
            z, pooled = z
            return z, pooled
        return z


class FrozenCLIPEmbedderWithCustomWords(TextConditionalModel):  # sd_hijack_clip.py:316-367
    def __init__(self, wrapped, hijack):
        super().__init__(wrapped, hijack)
        self.tokenizer = wrapped.tokenizer  # :319

    def token_table(self):
        return self.wrapped.transformer.text_model.embeddings.token_embedding.wrapped

    def encode_with_transformers(self, tokens):
        return self.wrapped.transformer(tokens)


class FrozenCLIPEmbedderForSDXLWithCustomWords(FrozenCLIPEmbedderWithCustomWords):  # :370-384
    pass


class FrozenOpenCLIPEmbedderWithCustomWords(TextConditionalModel):  # sd_hijack_open_clip.py:10-37
    def token_table(self):
        return self.wrapped.model.token_embedding.wrapped

    def encode_with_transformers(self, tokens):
        return self.wrapped.encode_with_transformer(tokens)


class FrozenOpenCLIPEmbedder2WithCustomWords(FrozenOpenCLIPEmbedderWithCustomWords):  # :40-71
    def encode_with_transformers(self, tokens):
        d = self.wrapped.encode_with_transformer(tokens)
        return d[self.wrapped.layer], d["pooled"]


class ConcatTimestepEmbedderND(nn.Module):
    """sgm encoders/modules.py:925-941: each of ``[B, d]`` embedded with ``outdim`` sinusoids."""

    def __init__(self, outdim, input_key):
        super().__init__()
        self.outdim = outdim
        self.input_key = input_key
        self.legacy_ucg_val = None

    def forward(self, x):
        b, dims = x.shape
        return timestep_embedding(x.reshape(-1), self.outdim).reshape(b, dims * self.outdim)


class GeneralConditioner(nn.Module):
    """sgm encoders/modules.py:80-173 (``forward``: an embedder that is not ``is_trainable`` runs
    under ``torch.no_grad``, :136-137) with the webui's additions (sd_models_xl.py:55-87)."""

    OUTPUT_DIM2KEYS: ClassVar[dict] = {2: "vector", 3: "crossattn", 4: "concat", 5: "concat"}
    KEY2CATDIM: ClassVar[dict] = {"vector": 1, "crossattn": 2, "concat": 1}

    def __init__(self, embedders):
        super().__init__()
        for e in embedders:  # :92-93, is_trainable False in the config (sd_xl_base.yaml:44-78)
            e.is_trainable = getattr(e, "is_trainable", False)
            e.ucg_rate = 0.0
        self.embedders = nn.ModuleList(embedders)

    def forward(self, batch, force_zero_embeddings=None):
        output = {}
        force_zero_embeddings = force_zero_embeddings or []
        for embedder in self.embedders:
            embedding_context = contextlib.nullcontext if embedder.is_trainable else torch.no_grad
            with embedding_context():
                emb_out = embedder(batch[embedder.input_key])
            if not isinstance(emb_out, (list, tuple)):
                emb_out = [emb_out]
            for out in emb_out:
                out_key = self.OUTPUT_DIM2KEYS[out.dim()]
                emb = torch.zeros_like(out) if embedder.input_key in force_zero_embeddings else out
                if out_key in output:
                    output[out_key] = torch.cat((output[out_key], emb), self.KEY2CATDIM[out_key])
                else:
                    output[out_key] = emb
        return output

    def text_embedders(self):
        return [e for e in self.embedders if isinstance(e, TextConditionalModel)]

    def encode_embedding_init_text(self, init_text, nvpt):  # sd_models_xl.py:55-62
        parts = [e.encode_embedding_init_text(init_text, nvpt) for e in self.text_embedders()]
        return torch.cat(parts, dim=1)

    def tokenize(self, texts):  # sd_models_xl.py:65-69
        for embedder in self.text_embedders():
            return embedder.tokenize(texts)
        raise AssertionError("no tokenizer available")

    def found(self, text):
        return self.text_embedders()[0].found(text)

    def forward_keys(self, texts):
        return self.text_embedders()[0].forward_keys(texts)


# -- UNet and VAE -------------------------------------------------------------------------------
class TinyUNet(nn.Module):
    """openaimodel ``UNetModel.forward(x, timesteps=None, context=None, y=None)`` (ldm
    openaimodel.py:775, sgm openaimodel.py:970): a conv, the timestep (and SDXL's ``y`` vector)
    added, one cross-attention over ``context``, a conv out."""

    def __init__(self, context_dim, adm_in_channels=None, channels=8, seed=7):
        super().__init__()
        self.channels = channels
        self.input_conv = nn.Conv2d(4, channels, 3, padding=1)
        self.time_embed = nn.Linear(channels, channels)
        self.label_emb = nn.Linear(adm_in_channels, channels) if adm_in_channels else None
        self.to_q = nn.Linear(channels, channels, bias=False)
        self.to_k = nn.Linear(context_dim, channels, bias=False)
        self.to_v = nn.Linear(context_dim, channels, bias=False)
        self.out = nn.Conv2d(channels, 4, 3, padding=1)
        _seeded(self, seed, scale=0.3)  # parameters keep requires_grad=True, as the webui loads them

    def forward(self, x, timesteps=None, context=None, y=None, **kwargs):
        h = self.input_conv(x)
        emb = self.time_embed(timestep_embedding(timesteps, self.channels).to(h.dtype))
        if self.label_emb is not None:
            emb = emb + self.label_emb(y)
        h = h + emb[:, :, None, None]
        b, c, hh, ww = h.shape
        q = self.to_q(h.flatten(2).transpose(1, 2))
        k, v = self.to_k(context), self.to_v(context)
        attn = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(c), dim=-1)
        h = h + (attn @ v).transpose(1, 2).reshape(b, c, hh, ww)
        return self.out(torch.nn.functional.silu(h))


class DiffusionWrapper(nn.Module):
    """ldm ddpm.py:1310-1357 (``crossattn`` and ``hybrid``/``concat`` keys)."""

    def __init__(self, diffusion_model, conditioning_key="crossattn"):
        super().__init__()
        self.diffusion_model = diffusion_model
        self.conditioning_key = conditioning_key

    def forward(self, x, t, c_concat=None, c_crossattn=None, c_adm=None):
        if self.conditioning_key in ("hybrid", "concat"):
            raise NotImplementedError("double: image-conditioned UNets are not modelled")
        return self.diffusion_model(x, t, context=torch.cat(c_crossattn, 1))


class OpenAIWrapper(nn.Module):
    """sgm diffusionmodules/wrappers.py:23-34."""

    def __init__(self, diffusion_model):
        super().__init__()
        self.diffusion_model = diffusion_model

    def forward(self, x, t, c, **kwargs):
        x = torch.cat((x, c.get("concat", torch.Tensor([]).type_as(x))), dim=1)
        return self.diffusion_model(x, timesteps=t, context=c.get("crossattn"), y=c.get("vector"), **kwargs)


class DiagonalGaussianDistribution:  # ldm/sgm distributions.py:24-41
    def __init__(self, parameters):
        self.parameters = parameters
        self.mean, self.logvar = torch.chunk(parameters, 2, dim=1)
        self.logvar = torch.clamp(self.logvar, -30.0, 20.0)
        self.std = torch.exp(0.5 * self.logvar)

    def sample(self):  # the global RNG, as the real one
        return self.mean + self.std * torch.randn(self.mean.shape).to(device=self.parameters.device)

    def mode(self):
        return self.mean


class _Encoder(nn.Module):
    """A fixed "encoder": 8×8 average of R, G, B and their mean as the 4 latent means; a learned-
    looking constant log-variance."""

    def __init__(self):
        super().__init__()
        self.logvar = nn.Parameter(torch.full((4,), -2.0))

    def forward(self, x):
        z = torch.nn.functional.avg_pool2d(x, 8)
        mean = torch.cat([z, z.mean(dim=1, keepdim=True)], dim=1)
        return torch.cat([mean, self.logvar.to(x.dtype)[None, :, None, None].expand_as(mean)], dim=1)


class AutoencoderKL(nn.Module):
    """ldm autoencoder.py:82-86 / sgm autoencoder.py:304-311 (``encode`` → posterior); sgm's
    ``AutoencoderKLInferenceWrapper`` (:319-321, the SDXL config) returns a sample instead."""

    def __init__(self, sample_on_encode=False):
        super().__init__()
        self.encoder = _Encoder()
        self.quant_conv = nn.Conv2d(8, 8, 1)
        with torch.no_grad():
            self.quant_conv.weight.copy_(torch.eye(8)[:, :, None, None])
            self.quant_conv.bias.zero_()
        self.sample_on_encode = sample_on_encode
        self.calls = 0  # double only: encodes

    def encode(self, x):
        self.calls += 1
        posterior = DiagonalGaussianDistribution(self.quant_conv(self.encoder(x)))
        return posterior.sample() if self.sample_on_encode else posterior


# -- the loaded model ---------------------------------------------------------------------------
class TinyModel(nn.Module):
    """The loaded model (``shared.sd_model``) with the flags set_model_type and load_model_weights
    set (sd_models.py:379-407, :448-459, :467/:486)."""

    num_timesteps = 1000

    def __init__(self, family, checkpoint_info, shorthash):
        super().__init__()
        self.is_sd1 = family == "SD1"
        self.is_sd2 = family in ("SD2", "SD2-v")
        self.is_sdxl = family == "SDXL"
        self.is_sd3 = False
        self.is_ssd = False
        self.is_sdxl_inpaint = False
        self.lowvram = False  # lowvram.py:31
        self.latent_channels = 4
        self.parameterization = "v" if family == "SD2-v" else "eps"
        self.embedding_width = {"SD1": 768, "SD2": 1024, "SD2-v": 1024, "SDXL": 2048}[family]
        self.sd_checkpoint_info = checkpoint_info
        self.sd_model_hash = shorthash  # sd_models.py:527
        self.alphas_cumprod = ALPHAS_CUMPROD.clone()
        self.alphas_cumprod_original = self.alphas_cumprod
        self.calls = []  # double only: (method, shapes) of apply_model
        self.first_stage_model = _frozen(AutoencoderKL(sample_on_encode=self.is_sdxl))
        if self.is_sdxl:
            self.scale_factor = 0.13025  # sd_xl_base.yaml:4
            self._build_sdxl()
        else:
            self.scale_factor = 0.18215  # v1-inference.yaml / v2-inference.yaml
            width, hijack = self.embedding_width, self._hijack()
            if self.is_sd1:
                enc = FrozenCLIPEmbedderWithCustomWords(FrozenCLIPEmbedder(width, hijack), hijack)
            else:
                wrapped = FrozenOpenCLIPEmbedder(width, hijack, "clip_l")
                enc = FrozenOpenCLIPEmbedderWithCustomWords(wrapped, hijack)
            self.cond_stage_model = _frozen(enc)
            self.model = DiffusionWrapper(TinyUNet(width))

    @staticmethod
    def _hijack():
        from modules import sd_hijack

        return sd_hijack.model_hijack

    def _build_sdxl(self):
        hijack = self._hijack()
        wrapped_l = FrozenCLIPEmbedder(768, hijack)
        wrapped_g = FrozenOpenCLIPEmbedder(1280, hijack, "clip_g", pooled=True)
        for w in (wrapped_l, wrapped_g):  # set by GeneralConditioner before the hijack (modules.py:92)
            w.is_trainable = False
        clip_l = FrozenCLIPEmbedderForSDXLWithCustomWords(wrapped_l, hijack)
        clip_g = FrozenOpenCLIPEmbedder2WithCustomWords(wrapped_g, hijack)
        sizes = [
            ConcatTimestepEmbedderND(256, key)
            for key in ("original_size_as_tuple", "crop_coords_top_left", "target_size_as_tuple")
        ]
        self.conditioner = _frozen(GeneralConditioner([clip_l, clip_g, *sizes]))
        self.conditioner.wrapped = nn.Module()  # extend_sdxl (sd_models_xl.py:104)
        self.cond_stage_model = self.conditioner  # sd_hijack.py:230
        self.model = OpenAIWrapper(TinyUNet(2048, adm_in_channels=1280 + 3 * 512))

    # -- ldm LatentDiffusion / sgm DiffusionEngine as the webui patches them
    def get_learned_conditioning(self, c):
        """ldm ddpm.py:662-672 (the text encoder's forward) / sd_models_xl.py:12-34 (the
        conditioner with the size conditioning from ``c.width``/``c.height``, default 1024)."""
        if not self.is_sdxl:
            return self.cond_stage_model(c)
        from modules import devices, shared

        for embedder in self.conditioner.embedders:
            embedder.ucg_rate = 0.0
        width = getattr(c, "width", 1024) or 1024
        height = getattr(c, "height", 1024) or 1024
        is_negative_prompt = getattr(c, "is_negative_prompt", False)
        opts = shared.opts
        low, high = opts.sdxl_refiner_low_aesthetic_score, opts.sdxl_refiner_high_aesthetic_score
        aesthetic = low if is_negative_prompt else high
        args = {"device": devices.device, "dtype": devices.dtype}
        n = len(c)
        sdxl_conds = {
            "txt": c,
            "original_size_as_tuple": torch.tensor([height, width], **args).repeat(n, 1),
            "crop_coords_top_left": torch.tensor([opts.sdxl_crop_top, opts.sdxl_crop_left], **args).repeat(
                n, 1
            ),
            "target_size_as_tuple": torch.tensor([height, width], **args).repeat(n, 1),
            "aesthetic_score": torch.tensor([aesthetic], **args).repeat(n, 1),
        }
        force_zero = is_negative_prompt and all(x == "" for x in c)
        return self.conditioner(sdxl_conds, force_zero_embeddings=["txt"] if force_zero else [])

    def conditioning_keys(self, texts):
        """Double only: what ``get_learned_conditioning`` gives the processing double's "sampler"
        (one key per prompt, recording "TI hashes" as the text encoder's forward pass does)."""
        return self.cond_stage_model.forward_keys(texts)

    def apply_model(self, x_noisy, t, cond):
        """ldm ddpm.py:848-863 / sd_models_xl.py:37-43, under the webui's hijack (sd_hijack_unet.py:40-54:
        dict values, ``x_noisy`` and ``t`` cast to ``devices.dtype_unet``, run in ``devices.autocast()``)."""
        from modules import devices

        if isinstance(cond, dict):
            for k in cond:
                cond[k] = cond[k].to(devices.dtype_unet)
            shape = {k: tuple(v.shape) for k, v in cond.items()}
        else:
            shape = tuple(cond.shape)
        self.calls.append(("apply_model", tuple(x_noisy.shape), shape, [int(v) for v in t]))
        x_noisy, t = x_noisy.to(devices.dtype_unet), t.to(devices.dtype_unet)
        with devices.autocast():
            if self.is_sdxl:
                if self.is_sdxl_inpaint:
                    raise NotImplementedError("double: the SDXL inpainting UNet is not modelled")
                return self.model(x_noisy, t, cond)
            key = "c_concat" if self.model.conditioning_key == "concat" else "c_crossattn"
            return self.model(x_noisy, t, **{key: [cond]})

    @torch.no_grad()
    def encode_first_stage(self, x):
        """ldm ddpm.py:829-830 (the posterior) / sgm diffusion.py:124-129 (scaled sample)."""
        z = self.first_stage_model.encode(x)
        return z * self.scale_factor if self.is_sdxl else z

    def get_first_stage_encoding(self, encoder_posterior):
        """ldm ddpm.py:653-660 (a sample of the posterior, scaled) / sd_models_xl.py:46-47."""
        if self.is_sdxl:
            return encoder_posterior
        if isinstance(encoder_posterior, DiagonalGaussianDistribution):
            return self.scale_factor * encoder_posterior.sample()
        return self.scale_factor * encoder_posterior


def vec_sum(vec):
    """Double only: one number standing for an embedding's vectors (SDXL: a dict of two)."""
    if isinstance(vec, dict):
        return sum(float(v.sum()) for v in vec.values())
    return float(vec.sum())
