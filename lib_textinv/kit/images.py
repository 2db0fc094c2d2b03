"""Reading user images the same way everywhere: guarded, EXIF-aware, converted to 8-bit RGB.

The intake scan (``dataset``) decides what a file needs; crop export and captioning call
``load_rgb`` so that every feature sees the same pixels the report promised.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff")
# Formats we decode. Restricting them matters: PIL's lenient TGA reader "opens" random bytes.
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF")  # JPEG also opens MPO (phones)
DEFAULT_MAX_PIXELS = 100_000_000  # decompression-bomb guard (100 MP); never decode beyond it
EXIF_ORIENTATION = 0x0112


class ImageRefused(ValueError):
    """The file is not loaded; the message names the reason."""


@dataclass(frozen=True)
class Background:
    """Colour alpha is composited on (user-chosen; default white)."""

    r: int = 255
    g: int = 255
    b: int = 255

    @classmethod
    def parse(cls, value: str | tuple | None) -> Background:
        if value is None or value == "":
            return cls()
        if isinstance(value, tuple | list):
            return cls(*[int(v) for v in value[:3]])
        s = str(value).strip().lstrip("#")
        if len(s) == 3:
            s = "".join(c * 2 for c in s)
        if len(s) != 6:
            raise ValueError(f"background colour must look like #ffffff, got {value!r}")
        return cls(int(s[0:2], 16), int(s[2:4], 16), int(s[4:6], 16))

    def rgb(self) -> tuple[int, int, int]:
        return (self.r, self.g, self.b)


WHITE = Background()


def is_image_name(name: str) -> bool:
    return name.lower().endswith(IMAGE_EXTENSIONS)


def open_guarded(path: str | os.PathLike, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """``Image.open`` that refuses images above ``max_pixels`` before decoding any pixel."""
    try:
        im = Image.open(path, formats=ACCEPTED_FORMATS)
    except Image.DecompressionBombError as e:
        raise ImageRefused(f"larger than the pixel limit ({e})") from e
    w, h = im.size
    if w * h > max_pixels:
        im.close()
        raise ImageRefused(f"{w}×{h} = {w * h / 1e6:.0f} MP is above the {max_pixels / 1e6:.0f} MP limit")
    return im


def exif_orientation(im: Image.Image) -> int:
    try:
        return int(im.getexif().get(EXIF_ORIENTATION, 1) or 1)
    except (ValueError, TypeError, OSError):
        return 1


def to_rgb(im: Image.Image, background: Background = WHITE) -> Image.Image:
    """8-bit RGB: alpha composited on ``background``, palette/CMYK/16-bit/grey converted."""
    if im.mode == "RGB":
        return im
    if im.mode == "P":
        im = im.convert("RGBA") if "transparency" in im.info else im.convert("RGB")
    if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        im = _grey_to_8bit(im)
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        base = Image.new("RGB", rgba.size, background.rgb())
        base.paste(rgba, mask=rgba.getchannel("A"))
        return base
    return im.convert("RGB")


# White levels high-bit-depth grey pictures are usually stored against, smallest first.
_WHITE_LEVELS = {"F": (1.0, 255.0), "I": (255.0, 65535.0)}


def _grey_to_8bit(im: Image.Image) -> Image.Image:
    """16/32-bit integer or float grey → 8-bit "L", scaled (PIL's ``convert("L")`` clips at 255, so
    a 16-bit picture turns white and a 0..1 float one black). The white level is the smallest usual
    one that holds the brightest value (float: 1.0 or 255; integer: 255 or 65535), else the brightest
    value itself; negative values count as black."""
    import numpy as np

    a = np.asarray(im, dtype=np.float64)
    top = float(a.max()) if a.size else 0.0
    levels = _WHITE_LEVELS["F" if im.mode == "F" else "I"]
    white = next((w for w in levels if top <= w), top) or 1.0
    return Image.fromarray(np.clip(a / white * 255.0 + 0.5, 0, 255).astype("uint8"), "L")


def load_rgb(
    path: str | os.PathLike,
    background: Background = WHITE,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    draft: tuple[int, int] | None = None,
) -> Image.Image:
    """Decode the first frame, apply EXIF orientation, convert to RGB.

    ``draft=(w, h)`` lets JPEG decoding scale by 1/2, 1/4 or 1/8 in the DCT while staying at
    least that size (much faster for 12-MP photos that end as 512-px crops). Raises
    ``ImageRefused`` (over the pixel limit) or ``OSError``/``ValueError`` for broken files.
    """
    with open_guarded(path, max_pixels) as im:
        if draft is not None and im.format == "JPEG":
            # EXIF rotation swaps axes: ask the decoder for enough pixels both ways.
            side = max(draft)
            im.draft("RGB", (side, side))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            im.seek(0)
            im.load()
        out = ImageOps.exif_transpose(im)
        return to_rgb(out, background).copy()
