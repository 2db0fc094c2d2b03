"""A corpus of problem files, generated for real (no fixtures on disk).

``make_corpus(folder)`` writes one file per kind and returns {file name: expected problem code}.
Refused kinds cannot be used at all; warning kinds are usable with a conversion or a caveat.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

from PIL import Image

from tests.photos import photo


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def bomb_png(width: int = 40000, height: int = 40000) -> bytes:
    """A valid PNG header claiming a huge picture, with a tiny (wrong) IDAT: must never be decoded."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + _png_chunk(b"IEND", b"")
    )


def _jpeg_bytes(im: Image.Image, **kw) -> bytes:
    b = io.BytesIO()
    im.save(b, "JPEG", quality=90, **kw)
    return b.getvalue()


def _png_bytes(im: Image.Image) -> bytes:
    b = io.BytesIO()
    im.save(b, "PNG")
    return b.getvalue()


REFUSED_KINDS = {
    "zero.png": "empty",
    "notes.png": "not_image",
    "page.jpg": "not_image",
    "document.jpg": "not_image",
    "noise.webp": "not_image",
    "cut.jpg": "truncated",
    "cut.png": "truncated",
    "header-only.png": "truncated",
    "garbled.png": "corrupt",
    "bomb.png": "too_large",
    "dangling.jpg": "missing",
}

WARNING_KINDS = {
    "rotated.jpg": "exif_rotation",
    "cmyk.jpg": "cmyk",
    "deep.png": "16bit",
    "palette.png": "palette",
    "alpha.png": "alpha",
    "animated.gif": "animated",
    "tiny.png": "too_small",
    "panorama.jpg": "extreme_aspect",
    "astronaut2.jpg": "near_duplicate",
    "grey.png": "greyscale",
    "misnamed.jpg": "wrong_extension",
}


def make_corpus(folder: Path) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    astro = photo("astronaut")
    w = lambda name, data: (folder / name).write_bytes(data)  # noqa: E731

    # refused
    w("zero.png", b"")
    w("notes.png", b"a cat, charcoal drawing\n")
    w("page.jpg", b"<!DOCTYPE html><html><body>404</body></html>")
    w("document.jpg", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    w("noise.webp", bytes(range(256)) * 8)
    good_jpeg = _jpeg_bytes(astro)
    w("cut.jpg", good_jpeg[: len(good_jpeg) // 2])
    good_png = _png_bytes(photo("chelsea"))
    w("cut.png", good_png[: len(good_png) // 2])
    w("header-only.png", good_png[:40])
    garbled = bytearray(good_png)
    mid = len(garbled) // 2
    garbled[mid : mid + 2000] = bytes((i * 37) % 256 for i in range(2000))
    w("garbled.png", bytes(garbled))
    w("bomb.png", bomb_png())
    (folder / "dangling.jpg").symlink_to(folder / "does-not-exist.jpg")

    # warnings (usable)
    exif = Image.Exif()
    exif[0x0112] = 6
    w("rotated.jpg", _jpeg_bytes(photo("coffee"), exif=exif.tobytes()))
    w("cmyk.jpg", _jpeg_bytes(photo("rocket").convert("CMYK")))
    import numpy as np

    deep = Image.fromarray(np.asarray(photo("camera", "L")).astype("uint16") * 257, mode="I;16")
    w("deep.png", _png_bytes(deep))
    w("palette.png", _png_bytes(photo("coffee").convert("P", palette=Image.ADAPTIVE)))
    rgba = photo("chelsea").convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize(rgba.size))
    w("alpha.png", _png_bytes(rgba))
    frames = [photo("rocket").resize((256, 171)), photo("coffee").resize((256, 171))]
    b = io.BytesIO()
    frames[0].save(b, "GIF", save_all=True, append_images=frames[1:], duration=100)
    w("animated.gif", b.getvalue())
    w("tiny.png", _png_bytes(photo("coins").resize((96, 76))))
    w("panorama.jpg", _jpeg_bytes(photo("hubble_deep_field").crop((0, 0, 1000, 200))))
    w("astronaut.jpg", good_jpeg)
    w("astronaut2.jpg", _jpeg_bytes(astro.resize((400, 400)), optimize=True))
    w("grey.png", _png_bytes(photo("moon", "L")))
    w("misnamed.jpg", _png_bytes(photo("immunohistochemistry")))
    return {**REFUSED_KINDS, **WARNING_KINDS}
