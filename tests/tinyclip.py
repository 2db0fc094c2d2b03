"""A tiny randomly initialised open_clip model, built locally (no download), for tests.

Real open_clip code paths (ViT image tower, text transformer, the BPE tokenizer that ships inside
open_clip, open_clip's eval image transform); only the weights are random. Deterministic for a seed.
"""

from __future__ import annotations

from lib_textinv.kit.clip_loader import ClipEmbedder

TINY_IMAGE = 64


def tiny_clip(seed: int = 0) -> ClipEmbedder:
    import open_clip
    import torch
    from open_clip.model import CLIP, CLIPTextCfg, CLIPVisionCfg

    gen_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        model = CLIP(
            embed_dim=32,
            vision_cfg=CLIPVisionCfg(layers=2, width=64, head_width=32, patch_size=8, image_size=TINY_IMAGE),
            text_cfg=CLIPTextCfg(context_length=77, vocab_size=49408, width=64, heads=2, layers=2),
        )
    finally:
        torch.random.set_rng_state(gen_state)  # don't disturb other tests' randomness
    model.eval()
    preprocess = open_clip.image_transform(TINY_IMAGE, is_train=False)
    tokenizer = open_clip.get_tokenizer("ViT-B-32")  # the bundled BPE tokenizer
    return ClipEmbedder(model, preprocess, tokenizer, device="cpu")
