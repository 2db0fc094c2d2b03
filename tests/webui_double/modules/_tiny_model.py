"""Double only (no webui counterpart): the loaded-model stand-ins behind ``sd_models.make_model``.

They have the shape of a model after ``sd_hijack.model_hijack.hijack`` (sd_hijack.py:205-262):

* SD1: ``cond_stage_model`` is a ``FrozenCLIPEmbedderWithCustomWords`` (sd_hijack_clip.py:316-319):
  ``.tokenizer`` (an HF-like tokenizer), ``.wrapped`` the original ``FrozenCLIPEmbedder`` whose
  ``transformer.text_model.embeddings.token_embedding`` is an ``EmbeddingsWithFixes`` with the raw
  ``nn.Embedding`` as ``.wrapped`` (sd_hijack.py:340-366).
* SD2: ``FrozenOpenCLIPEmbedderWithCustomWords`` (sd_hijack_open_clip.py:10-36): no ``.tokenizer``
  attribute (it uses ``open_clip.tokenizer._tokenizer``), ``.wrapped.model.token_embedding.wrapped``.
* SDXL: ``cond_stage_model`` is the ``GeneralConditioner`` (two text encoders), with the
  ``tokenize`` the webui patches in (sd_models_xl.py:65-85); no ``p_losses`` (sgm's DiffusionEngine).

SD1/SD2 models have ``encode_first_stage``/``scale_factor``/``p_losses`` like ldm's LatentDiffusion
(ddpm.py ``p_losses(x_start, cond, t, noise=None) -> (loss, loss_dict)``), computed by a tiny
deterministic network. Prompts are split into lower-case words and punctuation (CLIP lower-cases);
words of a small base vocabulary get fixed ids, other words a crc32-derived id. The conditioning
puts an embedding's vectors where its name is found in ``embedding_db.ids_lookup``, as the
webui's ``EmbeddingsWithFixes`` does. torch is imported lazily (start-up tests).
"""

from __future__ import annotations

import re
import types
import zlib

VOCAB_SIZE = 512
CONTEXT = 77
BASE_WORDS = [
    *("<|startoftext|>", "<|endoftext|>", "!", ",", "-", ".", ":", "(", ")", "[", "]"),
    *("a", "an", "the", "of", "by", "in", "on", "with", "and", "photo", "painting", "drawing", "art"),
    *("style", "cat", "dog", "man", "woman", "portrait", "picture", "charcoal", "red", "blue", "green"),
]


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


class _Lazy:
    """Builds the torch modules on first use so that making a model does not import torch."""

    def __init__(self, width, seed):
        self.width, self.seed, self._built = width, seed, None

    def get(self):
        if self._built is None:
            import torch

            g = torch.Generator().manual_seed(self.seed)
            emb = torch.nn.Embedding(VOCAB_SIZE, self.width)
            with torch.no_grad():
                emb.weight.copy_(torch.randn(VOCAB_SIZE, self.width, generator=g) * 0.02)
            emb.weight.requires_grad_(False)
            self._built = emb
        return self._built


class TextEncoder:
    """``FrozenCLIPEmbedderWithCustomWords`` (SD1) / ``FrozenOpenCLIPEmbedderWithCustomWords`` (SD2)."""

    def __init__(self, family, width):
        self.family = family
        self.width = width
        self._toy = ToyTokenizer()
        self._embedding = _Lazy(width, seed=width)
        if family == "SD1":
            self.tokenizer = self._toy  # sd_hijack_clip.py:319; SD2 has none (open_clip's global)

    @property
    def wrapped(self):
        fixes = types.SimpleNamespace(wrapped=self._embedding.get())  # EmbeddingsWithFixes
        if self.family == "SD1":  # ldm FrozenCLIPEmbedder
            embeddings = types.SimpleNamespace(token_embedding=fixes)
            return types.SimpleNamespace(
                transformer=types.SimpleNamespace(text_model=types.SimpleNamespace(embeddings=embeddings))
            )
        # ldm FrozenOpenCLIPEmbedder
        return types.SimpleNamespace(model=types.SimpleNamespace(token_embedding=fixes))

    def tokenize(self, texts):  # sd_hijack_clip.py:320-, sd_hijack_open_clip.py:18-23: ids without start/end
        return [self._toy.encode_words(t) for t in texts]

    def encode_embedding_init_text(self, init_text, nvpt):  # sd_hijack_clip.py / _open_clip.py:31-36
        import torch

        ids = torch.tensor(self.tokenize([init_text])[0] or [0])
        return self._embedding.get()(ids)

    def found(self, text):
        """Double only: the prompt's tokens and ``(offset, embedding, n_ids)`` for each embedding
        name in it (the webui's PromptChunk.fixes, found with embedding_db.find_embedding_at_position
        in tokenize_line, sd_hijack_clip.py:81-175)."""
        from modules import sd_hijack

        db = sd_hijack.model_hijack.embedding_db
        tokens, out, i = self.tokenize([text])[0], [], 0
        while i < len(tokens):
            emb, n = db.find_embedding_at_position(tokens, i)
            if emb is None:
                i += 1
                continue
            out.append((i, emb, n))
            i += n
        return tokens, out

    def record_ti_hashes(self, hits_per_text):
        """sd_hijack_clip.py:230-243: every forward pass lists the embeddings it used in "TI hashes",
        before those an earlier pass of the same generation listed (names without ':' and ',')."""
        from modules import sd_hijack, shared

        used = {emb.name: emb for hits in hits_per_text for _offset, emb, _n in hits}
        if not (shared.opts.textual_inversion_add_hashes_to_infotext and used):
            return
        hashes = [
            f"{name.replace(':', '').replace(',', '')}: {emb.shorthash}"
            for name, emb in used.items()
            if emb.shorthash
        ]
        if hashes:
            params = sd_hijack.model_hijack.extra_generation_params
            if params.get("TI hashes"):
                hashes.append(params["TI hashes"])
            params["TI hashes"] = ", ".join(hashes)

    def forward_keys(self, texts):
        """Double only: the forward pass (sd_hijack_clip.py:200-248) as one key per text, naming the
        prompt and the name, hash and vectors of each embedding put into it (what the conditioning
        holds), recording "TI hashes" as the real pass does."""
        hits_per_text = [self.found(text)[1] for text in texts]
        self.record_ti_hashes(hits_per_text)
        return [
            f"{text}|" + ";".join(f"{e.name}:{e.shorthash}:{vec_sum(e.vec):.6f}" for _o, e, _n in hits)
            for text, hits in zip(texts, hits_per_text, strict=True)
        ]

    def __call__(self, texts):
        """[n, 77, width]: start token, token vectors with embeddings' vectors put in, end padding."""
        import torch

        table = self._embedding.get().weight
        rows_all = []
        self.record_ti_hashes([self.found(text)[1] for text in texts])
        for text in texts:
            tokens, found = self.found(text)
            at = {i: (emb, n) for i, emb, n in found}
            rows, i = [table[0]], 0
            while i < len(tokens):
                if i in at:
                    emb, n = at[i]
                    vec = emb.vec["clip_l"] if isinstance(emb.vec, dict) else emb.vec
                    rows.extend(vec.to(table.dtype))
                    i += n
                else:
                    rows.append(table[tokens[i]])
                    i += 1
            rows = rows[: CONTEXT - 1]
            rows += [table[1]] * (CONTEXT - len(rows))
            rows_all.append(torch.stack(rows))
        return torch.stack(rows_all)


class Conditioner:
    """sgm ``GeneralConditioner`` with the webui's additions (sd_models_xl.py:55-87)."""

    def __init__(self):
        self.embedders = [TextEncoder("SD1", 768), TextEncoder("SD2", 1280)]

    def tokenize(self, texts):  # sd_models_xl.py:65-69
        for embedder in self.embedders:
            return embedder.tokenize(texts)
        raise AssertionError("no tokenizer available")

    def found(self, text):
        return self.embedders[0].found(text)

    def forward_keys(self, texts):
        return self.embedders[0].forward_keys(texts)


class _Posterior:  # ldm DiagonalGaussianDistribution: .mode() is the mean
    def __init__(self, mean):
        self.mean = mean

    def mode(self):
        return self.mean

    def sample(self):
        import torch

        return self.mean + torch.randn_like(self.mean)


class TinyModel:
    """The loaded model (``shared.sd_model``) with the flags set_model_type sets (sd_models.py:379-402)."""

    scale_factor = 0.18215  # ldm LatentDiffusion (SD1/SD2 configs)
    num_timesteps = 1000

    def __init__(self, family, checkpoint_info, shorthash):
        self.is_sd1 = family == "SD1"
        self.is_sd2 = family in ("SD2", "SD2-v")
        self.is_sdxl = family == "SDXL"
        self.is_sd3 = False
        self.parameterization = "v" if family == "SD2-v" else "eps"
        self.embedding_width = {"SD1": 768, "SD2": 1024, "SD2-v": 1024, "SDXL": 2048}[family]
        self.sd_checkpoint_info = checkpoint_info
        self.sd_model_hash = shorthash  # sd_models.py:527
        if self.is_sdxl:
            self.cond_stage_model = Conditioner()
        else:
            self.cond_stage_model = TextEncoder("SD1" if self.is_sd1 else "SD2", self.embedding_width)
            self.encode_first_stage = self._encode_first_stage
            self.p_losses = self._p_losses
        self.calls = []  # double only: (method, shapes) of encode_first_stage/p_losses

    def get_learned_conditioning(self, texts):
        """ldm ddpm.py:662-669: the text encoder's forward pass (here its keys, see forward_keys)."""
        return self.cond_stage_model.forward_keys(texts)

    def _encode_first_stage(self, x):
        """[n, 3, H, W] in [-1, 1] → posterior of [n, 4, H/8, W/8] (a fixed average-pool "VAE")."""
        import torch

        self.calls.append(("encode_first_stage", tuple(x.shape)))
        z = torch.nn.functional.avg_pool2d(x.float(), 8)
        return _Posterior(torch.cat([z, z.mean(dim=1, keepdim=True)], dim=1))

    def _p_losses(self, x_start, cond, t, noise=None):
        """ldm's recipe (q_sample, model output, eps or v target, mean squared error) with a tiny
        "UNet": the noisy latent scaled, plus a per-sample offset from the conditioning."""
        import torch

        self.calls.append(("p_losses", tuple(x_start.shape), tuple(cond.shape), [int(v) for v in t]))
        noise = torch.randn_like(x_start) if noise is None else noise
        acp = torch.linspace(0.9991, 0.0047, self.num_timesteps, dtype=torch.float64)[t.cpu()].float()
        a, s = acp.sqrt()[:, None, None, None], (1 - acp).sqrt()[:, None, None, None]
        x_noisy = a * x_start + s * noise
        offset = (cond.float().mean(dim=1) * 50).tanh().mean(dim=1)[:, None, None, None]
        output = 0.5 * x_noisy + offset
        target = a * noise - s * x_start if self.parameterization == "v" else noise
        loss = ((output - target) ** 2).mean()
        return loss, {"val/loss": loss}


def vec_sum(vec):
    """Double only: one number standing for an embedding's vectors (SDXL: a dict of two)."""
    if isinstance(vec, dict):
        return sum(float(v.sum()) for v in vec.values())
    return float(vec.sum())
