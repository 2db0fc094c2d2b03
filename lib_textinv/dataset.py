"""Dataset intake: list and check the images of a folder (filled in below)."""

from __future__ import annotations

import os
from pathlib import Path

from lib_textinv.images import is_image_name


def list_images(folder: str | os.PathLike) -> list[Path]:
    """Image files directly in ``folder`` (not recursive, like the webui's trainer), sorted by name;
    hidden and temp files skipped."""
    folder = Path(folder)
    return sorted(
        (p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".") and is_image_name(p.name)),
        key=lambda p: p.name.lower(),
    )
