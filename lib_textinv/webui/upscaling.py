"""The webui's upscalers, for the Crop section's resize to the training size
(docs/webui-contract.md §21)."""

from __future__ import annotations

from typing import Any

from modules import shared


def list_upscalers() -> list[str]:
    """``shared.sd_upscalers`` by name, without "None": images.resize_image treats it as plain
    Lanczos (modules/images.py:270-271), which the Crop section already offers as "Lanczos"."""
    return [u.name for u in getattr(shared, "sd_upscalers", []) if u.name not in (None, "None")]


def upscale(image: Any, width: int, height: int, name: str) -> Any:
    """images.resize_image "Just resize" with the chosen upscaler (modules/images.py:252-326)."""
    from modules import images

    return images.resize_image(0, image, int(width), int(height), upscaler_name=name)
