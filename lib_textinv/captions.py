"""Caption files: ``<image stem>.txt`` (UTF-8) beside each image, as the webui's dataset reads
them (webui-api.md §3.12)."""

from __future__ import annotations

import os
from pathlib import Path


def caption_path(image: str | os.PathLike) -> Path:
    p = Path(image)
    return p.with_suffix(".txt")


def read_caption(image: str | os.PathLike) -> str | None:
    """The caption text of an image (BOM and surrounding whitespace removed), or None when the
    image has no caption file."""
    p = caption_path(image)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        return None
    return raw.decode("utf-8-sig", errors="replace").strip()
