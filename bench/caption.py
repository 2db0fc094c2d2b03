"""Batched vs one-image-at-a-time captioning through the same model and greedy decoding.

Measures images/s at batch 1, 4 and 16 and checks that every batched caption equals the caption
of the same image captioned alone. The model comes through the ``CaptionModel`` protocol
(``caption_batch(images) -> list[str]``):

* standalone (default): a stand-in with BLIP's shape built here with random weights — 384 px
  input with BLIP/CLIP normalisation, a ViT patch encoder, and a transformer decoder with
  cross-attention that decodes greedily token by token with ``min_length``/``max_length`` like
  ``blip_model.generate(sample=False, num_beams=1)``. Runs on CPU in well under a minute
  (``--preset small``, the CPU default).
* ``--factory module:function``: any callable returning a CaptionModel, e.g. the webui bridge's
  BLIP captioner inside a webui process, to measure the real architecture on a GPU.

Usage: ``python bench/caption.py [--device cuda] [--images 32] [--factory mod:fn]``.
The last line printed is the ratio at the largest batch size (batched / one at a time).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BATCH_SIZES = (1, 4, 16)
# Stand-in sizes: "small" keeps a CPU run short; "base" is BLIP-base-like (ViT-B/16 width,
# BERT-base vocabulary, the webui's default min/max caption length 24/48) for a GPU.
PRESETS = {
    "small": {
        "patch": 32,
        "dim": 128,
        "enc_layers": 2,
        "dec_layers": 2,
        "heads": 4,
        "vocab": 1000,
        "min_length": 8,
        "max_length": 16,
    },
    "base": {
        "patch": 16,
        "dim": 768,
        "enc_layers": 6,
        "dec_layers": 6,
        "heads": 12,
        "vocab": 30524,
        "min_length": 24,
        "max_length": 48,
    },
}
MEAN = (0.48145466, 0.4578275, 0.40821073)  # BLIP/CLIP normalisation (interrogate.py:173-183)
STD = (0.26862954, 0.26130258, 0.27577711)


class StandInBlip:
    """Random-weight image encoder + greedy autoregressive text decoder, BLIP-shaped but small."""

    def __init__(
        self,
        device: str = "cpu",
        image_size: int = 384,
        patch: int = 16,
        dim: int = 256,
        enc_layers: int = 2,
        dec_layers: int = 2,
        heads: int = 4,
        vocab: int = 3000,
        min_length: int = 8,
        max_length: int = 20,
        seed: int = 0,
    ) -> None:
        import torch
        from torch import nn

        torch.manual_seed(seed)
        self.torch = torch
        self.device = torch.device(device)
        self.image_size, self.patch = image_size, patch
        self.vocab, self.min_length, self.max_length = vocab, min_length, max_length
        self.bos, self.eos = 1, 2
        n_patches = (image_size // patch) ** 2
        self.patch_embed = nn.Conv2d(3, dim, patch, patch)
        self.pos = nn.Parameter(torch.randn(1, n_patches + 1, dim) * 0.02)
        self.cls = nn.Parameter(torch.randn(1, 1, dim) * 0.02)
        enc = nn.TransformerEncoderLayer(dim, heads, dim * 4, dropout=0.0, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(enc, enc_layers, enable_nested_tensor=False)
        self.tok = nn.Embedding(vocab, dim)
        self.tok_pos = nn.Parameter(torch.randn(1, max_length + 1, dim) * 0.02)
        dec = nn.TransformerDecoderLayer(dim, heads, dim * 4, dropout=0.0, batch_first=True, norm_first=True)
        self.decoder = nn.TransformerDecoder(dec, dec_layers)
        self.head = nn.Linear(dim, vocab)
        self.modules = nn.ModuleList([self.patch_embed, self.encoder, self.tok, self.decoder, self.head])
        self.params = nn.ParameterList([self.pos, self.cls, self.tok_pos])
        for m in (self.modules, self.params):
            m.to(self.device).eval()
        self.mean = torch.tensor(MEAN, device=self.device).view(1, 3, 1, 1)
        self.std = torch.tensor(STD, device=self.device).view(1, 3, 1, 1)

    def preprocess(self, images):
        import numpy as np
        from PIL import Image

        arrs = [
            np.asarray(
                im.convert("RGB").resize((self.image_size, self.image_size), Image.BICUBIC), dtype=np.float32
            )
            for im in images
        ]
        x = self.torch.from_numpy(np.stack(arrs)).permute(0, 3, 1, 2).to(self.device) / 255.0
        return (x - self.mean) / self.std

    def caption_batch(self, images) -> list[str]:
        torch = self.torch
        with torch.inference_mode():
            x = self.preprocess(images)
            p = self.patch_embed(x).flatten(2).transpose(1, 2)
            p = torch.cat([self.cls.expand(p.shape[0], -1, -1), p], dim=1) + self.pos
            memory = self.encoder(p)
            n = memory.shape[0]
            seq = torch.full((n, 1), self.bos, dtype=torch.long, device=self.device)
            done = torch.zeros(n, dtype=torch.bool, device=self.device)
            for step in range(self.max_length):
                t = seq.shape[1]
                h = self.tok(seq) + self.tok_pos[:, :t]
                mask = torch.triu(torch.full((t, t), float("-inf"), device=self.device), diagonal=1)
                logits = self.head(self.decoder(h, memory, tgt_mask=mask)[:, -1])
                if step < self.min_length:
                    logits[:, self.eos] = float("-inf")
                nxt = logits.argmax(dim=-1)
                nxt = torch.where(done, torch.full_like(nxt, self.eos), nxt)
                seq = torch.cat([seq, nxt[:, None]], dim=1)
                done |= nxt == self.eos
                if bool(done.all()):
                    break
        out = []
        for row in seq[:, 1:].tolist():
            words = []
            for tok in row:
                if tok == self.eos:
                    break
                words.append(f"w{tok}")
            out.append(" ".join(words))
        return out


def _images(n: int):
    from tests.photos import ALL, photo

    ims = []
    for i in range(n):
        im = photo(ALL[i % len(ALL)])
        # different sizes and crops, as a prepared folder of mixed sources would hold
        w, h = im.size
        s = min(w, h) - (i * 7) % (min(w, h) // 3)
        ims.append(im.crop((0, 0, s, s)).resize((512, 512)))
    return ims


def _rate(model, images, batch: int) -> tuple[float, list[str]]:
    captions: list[str] = []
    t0 = time.perf_counter()
    for i in range(0, len(images), batch):
        captions += model.caption_batch(images[i : i + batch])
    _sync(model)
    return len(images) / (time.perf_counter() - t0), captions


def _sync(model) -> None:
    torch = getattr(model, "torch", None)
    if (
        torch is not None
        and torch.cuda.is_available()
        and str(getattr(model, "device", "")).startswith("cuda")
    ):
        torch.cuda.synchronize()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--images", type=int, default=32)
    ap.add_argument("--factory", default="", help="module:function returning a CaptionModel")
    ap.add_argument(
        "--preset", choices=sorted(PRESETS), default=None, help="stand-in size (default: small on CPU)"
    )
    ap.add_argument(
        "--threads", type=int, default=1, help="CPU threads for torch (1: steady timings on a busy machine)"
    )
    args = ap.parse_args(argv)

    import torch

    if args.device == "cpu" and args.threads > 0:
        torch.set_num_threads(args.threads)

    if args.factory:
        mod, fn = args.factory.split(":")
        model = getattr(importlib.import_module(mod), fn)()
        label = args.factory
    else:
        preset = args.preset or ("small" if args.device == "cpu" else "base")
        model = StandInBlip(device=args.device, **PRESETS[preset])
        label = f"stand-in BLIP-shaped model ({preset}, random weights) on {args.device}"
    images = _images(args.images)
    model.caption_batch(images[:2])  # warm-up (allocations, kernels)

    single_rate, single = _rate(model, images, 1)
    print(f"model: {label}; {len(images)} images")
    print(f"one at a time: {single_rate:.2f} images/s")
    ratios = {}
    for b in BATCH_SIZES:
        rate, caps = _rate(model, images, b)
        same = sum(a == c for a, c in zip(caps, single, strict=True))
        ratios[b] = rate / single_rate
        print(f"batch {b:>2}: {rate:.2f} images/s, {ratios[b]:.2f}x; identical captions {same}/{len(images)}")
        if same != len(images):
            print(f"MISMATCH at batch {b}: batched captions differ from one-at-a-time", file=sys.stderr)
            return 1
    print(f"distinct captions: {len(set(single))}/{len(images)} (example: {single[0]!r})")
    big = max(BATCH_SIZES)
    print(f"ratio batch {big} / one at a time: {ratios[big]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
