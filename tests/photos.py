"""Real photographs for tests: scikit-image ships them inside its wheel (no download)."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
from PIL import Image

# All of these are bundled in scikit-image 0.21's wheel.
COLOUR = ("astronaut", "chelsea", "coffee", "rocket", "coins", "camera", "moon")
TEXTURES = ("brick", "grass", "gravel")
ALL = (
    "astronaut",
    "chelsea",
    "coffee",
    "rocket",
    "brick",
    "grass",
    "gravel",
    "camera",
    "coins",
    "moon",
    "page",
    "horse",
    "clock",
    "text",
    "hubble_deep_field",
    "immunohistochemistry",
)


@functools.cache
def photo_array(name: str) -> np.ndarray:
    from skimage import data

    a = getattr(data, name)()
    if a.dtype == bool:
        a = (a * 255).astype("uint8")
    if a.dtype != np.uint8:
        a = (255 * (a - a.min()) / max(1e-9, float(a.max() - a.min()))).astype("uint8")
    return a


def photo(name: str, mode: str = "RGB") -> Image.Image:
    im = Image.fromarray(photo_array(name))
    return im.convert(mode) if mode else im


def write_photos(
    folder: Path,
    names=("astronaut", "chelsea", "coffee", "rocket"),
    fmt: str = "JPEG",
    size: tuple[int, int] | None = None,
) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    ext = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}[fmt]
    out = []
    for n in names:
        im = photo(n)
        if size:
            im = im.resize(size, Image.LANCZOS)
        p = folder / f"{n}{ext}"
        im.save(p, fmt, **({"quality": 92} if fmt == "JPEG" else {}))
        out.append(p)
    return out


# Compressions Pillow writes through libtiff (its decoder is the one that owns a file descriptor).
TIFF_COMPRESSIONS = ("tiff_lzw", "tiff_adobe_deflate", "jpeg")


def write_compressed_tiff_mix(folder: Path, side: int = 192) -> list[Path]:
    """Compressed TIFFs (LZW, deflate, JPEG-in-TIFF) beside PNGs and JPEGs of other photos."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i, name in enumerate(COLOUR):
        im = photo(name).resize((side, side), Image.LANCZOS)
        for compression in TIFF_COMPRESSIONS:
            p = folder / f"{name}-{compression}.tif"
            im.save(p, "TIFF", compression=compression)
            out.append(p)
        p = folder / f"{name}.{'png' if i % 2 else 'jpg'}"
        im.save(p, "PNG" if i % 2 else "JPEG")
        out.append(p)
    return out
