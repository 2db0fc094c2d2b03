"""One source image → the training-size picture of its box: a JPEG draft just big enough that the
box keeps at least the target's pixels, EXIF orientation and colour conversion (``load_rgb``),
then one Lanczos crop-and-resize, or the chosen upscaler when the box is smaller than the target."""

from __future__ import annotations

import math
import os
import threading

from PIL import Image

from lib_textinv.crop import box as crop_box
from lib_textinv.crop.box import Box
from lib_textinv.crop.upscalers import LOCAL_UPSCALER, LanczosUpscaler
from lib_textinv.kit.host import Upscaling
from lib_textinv.kit.images import Background, load_rgb, open_image


def draft_for(box: Box, target: tuple[int, int], stored_size: tuple[int, int]) -> tuple[int, int] | None:
    """The draft request for ``images.load_rgb`` that keeps at least the target's pixels inside
    the box: JPEG DCT scaling divides by 1, 2, 4 or 8 up to ``min(side)//request``, so asking for
    ``ceil(min side / ratio)`` never reduces by more than ``ratio`` (source px per output px)."""
    ratio = crop_box.scale_factor(box, *target)
    if ratio < 2:
        return None
    side = math.ceil(min(stored_size) / ratio)
    return (side, side)


def crop_to_target(
    path: str | os.PathLike,
    box: Box,
    full_size: tuple[int, int],
    target: tuple[int, int],
    upscaler: Upscaling,
    upscaler_name: str,
    background: Background,
    upscale_lock: threading.Lock | None = None,
) -> tuple[Image.Image, bool]:
    """The cropped, resized RGB image of exactly ``target`` size, and whether it was upscaled."""
    with open_image(path) as im:
        stored = im.size
    image = load_rgb(path, background=background, draft=draft_for(box, target, stored))
    sx, sy = image.width / full_size[0], image.height / full_size[1]
    region = (box.x * sx, box.y * sy, min(image.width, box.right * sx), min(image.height, box.bottom * sy))
    if crop_box.scale_factor(box, *target) >= 1:
        return image.resize(target, Image.LANCZOS, box=region), False
    x0, y0, x1, y1 = (round(v) for v in region)
    crop = image.crop((x0, y0, x1, y1))
    if upscaler_name == LOCAL_UPSCALER or isinstance(upscaler, LanczosUpscaler):
        out = crop.resize(target, Image.LANCZOS)
    else:
        with upscale_lock or threading.Lock():  # GPU upscalers are not thread-safe
            out = upscaler.upscale(crop, target[0], target[1], upscaler_name)
        out = out.convert("RGB")
        if out.size != target:
            out = out.resize(target, Image.LANCZOS)
    return out, True
