"""Tiny CLIP weights in OpenAI's file layout, saved where a loader would look for the real ones
(e.g. ``ViT-B-32.pt`` in the webui's ``models/CLIP``): the real loading path runs, nothing downloads."""

from __future__ import annotations

from pathlib import Path


def openai_style_tiny(seed: int = 0):
    """A tiny CLIP whose state dict has OpenAI's layout (heads = width / 64, QuickGELU)."""
    import torch
    from open_clip.model import CLIP, CLIPTextCfg, CLIPVisionCfg

    state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        return CLIP(
            embed_dim=32,
            vision_cfg=CLIPVisionCfg(layers=1, width=64, head_width=64, patch_size=16, image_size=64),
            text_cfg=CLIPTextCfg(context_length=77, vocab_size=49408, width=64, heads=1, layers=1),
            quick_gelu=True,
        ).eval()
    finally:
        torch.random.set_rng_state(state)  # don't disturb other tests' randomness


def save_tiny_openai_clip(folder: Path, model_name: str = "ViT-B-32", seed: int = 0) -> Path:
    import torch

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{model_name}.pt"
    torch.save(openai_style_tiny(seed).state_dict(), path)
    return path
