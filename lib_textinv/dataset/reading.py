"""Opening a user's image the one way every step does: from its bytes, read in full.

Why bytes: Pillow 9.5 (the webui's version) hands libtiff a duplicate of the file's descriptor
while decoding a compressed TIFF, libtiff closes it, then Pillow closes the same number again. In
between, another thread may have opened a file under that number, which is then closed under it:
parallel scans and exports failed at random ("Bad file descriptor", a good PNG "corrupt"). Decoded
from memory, no decoder owns a descriptor, and the answer is the same every run.

Why our own format loop: ``Image.open`` refuses anything above Pillow's global 178-megapixel bomb
limit with its own message, before we can see the size; here every image is identified by Pillow's
own readers (header only), then measured against *our* pixel limit (``TooLarge``) before any
pixel is decoded.
"""

from __future__ import annotations

import io
import os
import struct
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

from lib_textinv.kit.images import (
    ACCEPTED_FORMATS,
    DEFAULT_MAX_PIXELS,
    WHITE,
    Background,
    ImageRefused,
    to_rgb,
)


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
