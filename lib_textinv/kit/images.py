"""Reading user images the same way everywhere: from their bytes, guarded, EXIF-aware, converted
to 8-bit RGB.

The intake scan (``dataset``) decides what a file needs; crop export and captioning call
``load_rgb`` so that every feature sees the same pixels the report promised.
"""

from __future__ import annotations

import io
import os
import struct
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

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


# -- opening a user's image: from its bytes, read in full --------------------------------------
# Opening a user's image the one way every step does: from its bytes, read in full.
#
# Why bytes: Pillow 9.5 (the webui's version) hands libtiff a duplicate of the file's descriptor
# while decoding a compressed TIFF, libtiff closes it, then Pillow closes the same number again. In
# between, another thread may have opened a file under that number, which is then closed under it:
# parallel scans and exports failed at random ("Bad file descriptor", a good PNG "corrupt"). Decoded
# from memory, no decoder owns a descriptor, and the answer is the same every run.
#
# Why our own format loop: ``Image.open`` refuses anything above Pillow's global 178-megapixel bomb
# limit with its own message, before we can see the size; here every image is identified by Pillow's
# own readers (header only), then measured against *our* pixel limit (``TooLarge``) before any
# pixel is decoded.


class TooLarge(ImageRefused):
    """The picture has more pixels than the limit; nothing of it was decoded."""

    def __init__(self, size: tuple[int, int], limit: int) -> None:
        self.size, self.limit = size, limit
        w, h = size
        super().__init__(
            f"{w}×{h} ({w * h / 1e6:.0f} MP) is above the {limit / 1e6:.0f} MP pixel limit: "
            "refused without decoding (decompression-bomb guard)"
        )


def identify(data: bytes, formats: tuple[str, ...] = ACCEPTED_FORMATS) -> Image.Image:
    """The image in ``data``, opened (header read, no pixel decoded) by the first of ``formats``
    whose reader accepts it; ``UnidentifiedImageError`` when none does. Pillow's own bomb check is
    not applied: the caller measures against its limit."""
    Image.init()
    prefix = data[:16]
    for fmt in formats:
        factory, accept = Image.OPEN[fmt]
        try:
            verdict = accept(prefix) if accept is not None else True
            if not verdict or isinstance(verdict, str):  # a str: this format, a variant it cannot read
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return factory(io.BytesIO(data), "")
        except (SyntaxError, IndexError, TypeError, struct.error):
            continue  # what Image.open treats as "not this format"
    raise UnidentifiedImageError("cannot identify image file")


def all_formats() -> tuple[str, ...]:
    """Every format Pillow reads, in ``Image.open``'s order (what the webui's trainer accepts)."""
    Image.init()
    return tuple(Image.ID)


def read_image_bytes(path: str | os.PathLike) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def open_image(path: str | os.PathLike, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """The image at ``path`` opened from memory; ``TooLarge`` above ``max_pixels``."""
    im = identify(read_image_bytes(path))
    if im.width * im.height > max_pixels:
        im.close()
        raise TooLarge(im.size, max_pixels)
    return im


def load_rgb(
    path: str | os.PathLike,
    background: Background = WHITE,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    draft: tuple[int, int] | None = None,
) -> Image.Image:
    """The first frame, upright (EXIF orientation applied), as 8-bit RGB (``kit.images.to_rgb``).

    ``draft=(w, h)`` lets a JPEG decode at 1/2, 1/4 or 1/8 scale in the DCT while staying at least
    that size both ways. Raises ``TooLarge`` or ``OSError``/``ValueError``/``SyntaxError`` for a
    broken file (``dataset.reasons`` says why in words)."""
    with open_image(path, max_pixels) as im:
        if draft is not None and im.format == "JPEG":
            side = max(draft)  # EXIF rotation swaps axes: enough pixels both ways
            im.draft("RGB", (side, side))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            im.seek(0)
            im.load()
        return to_rgb(ImageOps.exif_transpose(im), background).copy()
