"""A picture's perceptual fingerprint (difference hash), taken of the picture as training sees it:
upright, alpha composited on the background, in any mode the scan accepts. Two files whose
fingerprints differ in a few bits hold the same picture (re-encoded, resized, converted).

Deep modes (16-bit grey ``I;16``, 32-bit ``I``, float ``F``) are compared in their own values:
PIL's ``convert("L")`` clips them at 255, which made a 16-bit PNG look all white, "identical" to
any white picture. A difference hash only asks whether a pixel is lighter than its neighbour, so
the 16-bit picture and its 8-bit copy get the same bits.
"""

from __future__ import annotations

from PIL import Image, ImageOps

from lib_textinv.kit.images import Background, to_rgb

HASH_SIZE = 8  # dHash 8×8 = 64 bits
THUMBNAIL = (HASH_SIZE + 1, HASH_SIZE)
DEEP_MODES = ("I", "F")  # and every "I;16…": more than 8 bits per pixel


def _is_deep(mode: str) -> bool:
    return mode in DEEP_MODES or mode.startswith("I;16")


def thumbnail(im: Image.Image, background: Background) -> Image.Image:
    """``im`` (loaded) as a 9×8 grey thumbnail, upright and flattened on ``background``; deep
    modes keep their values (mode I or F), never clipped to 8 bits."""
    upright = ImageOps.exif_transpose(im)
    if _is_deep(upright.mode):
        deep = upright if upright.mode in DEEP_MODES else upright.convert("I")  # I;16 cannot resize
        return deep.resize(THUMBNAIL, Image.BILINEAR)
    return to_rgb(upright, background).convert("L").resize(THUMBNAIL, Image.BILINEAR)


def fingerprint(im: Image.Image, background: Background) -> int:
    """64 bits, one per pixel of the thumbnail's 8 left columns: lighter than its right neighbour
    or not. Robust to re-encoding, resizing and mode conversions."""
    px = list(thumbnail(im, background).getdata())
    bits = 0
    for y in range(HASH_SIZE):
        row = px[y * (HASH_SIZE + 1) : (y + 1) * (HASH_SIZE + 1)]
        for x in range(HASH_SIZE):
            bits = (bits << 1) | (1 if row[x] > row[x + 1] else 0)
    return bits
