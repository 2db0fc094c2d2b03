"""The size of a picture once it stands upright: an EXIF orientation of 5-8 turns it by 90°, so
its width and height swap. The size the user sees, that Dataset reports against the training size,
that Crop's boxes and ``crops.json`` are measured in: one rule for every step."""

from __future__ import annotations

import os

from lib_textinv.kit.images import exif_orientation, open_image

# EXIF orientations that turn the picture by 90° (5, 7 also mirror it): width and height swap.
QUARTER_TURNS = frozenset({5, 6, 7, 8})


def upright_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    """``size`` as stored in the file → the size after applying ``orientation``."""
    w, h = size
    return (h, w) if orientation in QUARTER_TURNS else (w, h)


def oriented_size(path: str | os.PathLike) -> tuple[int, int]:
    """The upright size of an image file, from its header (read from memory: ``kit.images``)."""
    with open_image(path) as im:
        return upright_size(im.size, exif_orientation(im))
