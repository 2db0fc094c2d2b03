"""Crop boxes: integer rectangles in source-pixel coordinates (after EXIF orientation) with exactly
the target's aspect ratio, always inside the image.

Exactness: a box is ``k`` whole "aspect units" (``W/g × H/g`` with ``g = gcd(W, H)``), so
``box.w * H == box.h * W`` holds in integers and the export resize never stretches. An image
smaller than one unit (only possible with odd targets such as 513×512 on a tiny image) gets the
nearest integer box instead; the output still has the exact target size.

The JavaScript editor (javascript/textinv_crop.js) uses the same rules; Python re-applies
``clamp`` to every box it receives, so a hand-edited sidecar or API request cannot escape.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h

    @property
    def centre(self) -> tuple[float, float]:
        return (self.x + self.w / 2, self.y + self.h / 2)

    def as_list(self) -> list[int]:
        return [self.x, self.y, self.w, self.h]

    def pil_box(self) -> tuple[int, int, int, int]:
        """(left, upper, right, lower) as PIL's crop/resize want it."""
        return (self.x, self.y, self.right, self.bottom)

    @classmethod
    def from_list(cls, values) -> Box:
        """From ``[x, y, w, h]`` (JSON); raises ValueError with the reason when malformed."""
        if not isinstance(values, list | tuple) or len(values) != 4:
            raise ValueError(f"a box is [x, y, width, height], got {values!r}")
        try:
            x, y, w, h = (round(float(v)) for v in values)
        except (TypeError, ValueError) as e:
            raise ValueError(f"a box needs four numbers, got {values!r}") from e
        return cls(x, y, w, h)

    def inside(self, img_w: int, img_h: int) -> bool:
        return (
            self.x >= 0
            and self.y >= 0
            and self.w >= 1
            and self.h >= 1
            and self.right <= img_w
            and self.bottom <= img_h
        )


def aspect_unit(target_w: int, target_h: int) -> tuple[int, int]:
    """The smallest integer rectangle with the target's exact aspect."""
    if target_w < 1 or target_h < 1:
        raise ValueError(f"target size must be positive, got {target_w}×{target_h}")
    g = math.gcd(target_w, target_h)
    return target_w // g, target_h // g


def box_size(k: int, unit: tuple[int, int]) -> tuple[int, int]:
    return k * unit[0], k * unit[1]


def max_units(img_w: int, img_h: int, target_w: int, target_h: int) -> int:
    """How many aspect units fit the image (0 when not even one does)."""
    uw, uh = aspect_unit(target_w, target_h)
    return min(img_w // uw, img_h // uh)


def _nearest_size(img_w: int, img_h: int, target_w: int, target_h: int, want_w: float) -> tuple[int, int]:
    """Box size of the target aspect closest to width ``want_w``, within [1 unit, the image]."""
    kmax = max_units(img_w, img_h, target_w, target_h)
    uw, uh = aspect_unit(target_w, target_h)
    if kmax >= 1:
        k = kmax if want_w >= kmax * uw else max(1, round(want_w / uw))
        return box_size(k, (uw, uh))
    # Image smaller than one aspect unit: the largest integer box of nearly the right aspect.
    ratio = target_w / target_h
    if img_w / img_h > ratio:
        h = img_h
        w = min(img_w, max(1, round(h * ratio)))
    else:
        w = img_w
        h = min(img_h, max(1, round(w / ratio)))
    return w, h


def largest_size(img_w: int, img_h: int, target_w: int, target_h: int) -> tuple[int, int]:
    """The largest box of the target aspect that fits the image (what Auto proposes)."""
    return _nearest_size(img_w, img_h, target_w, target_h, float("inf"))


def _place(start: float, length: int, limit: int) -> int:
    """Clamp a 1-D interval start so ``[start, start+length]`` lies in ``[0, limit]``."""
    return int(min(max(0, round(start)), max(0, limit - length)))


def centred_on(
    img_w: int,
    img_h: int,
    target_w: int,
    target_h: int,
    cx: float,
    cy: float,
    width: float | None = None,
    keep: Box | None = None,
) -> Box:
    """A box of the target aspect centred on (cx, cy) as far as the image allows.

    ``width`` (default: largest) is rounded to whole aspect units. ``keep`` is a region (faces)
    the box should contain: when it fits, the box is shifted the least needed to include it."""
    w, h = _nearest_size(img_w, img_h, target_w, target_h, float("inf") if width is None else width)
    x = cx - w / 2
    y = cy - h / 2
    if keep is not None:
        if keep.w <= w:
            x = min(max(x, keep.right - w), keep.x)
        if keep.h <= h:
            y = min(max(y, keep.bottom - h), keep.y)
    return Box(_place(x, w, img_w), _place(y, h, img_h), w, h)


def clamp(box: Box, img_w: int, img_h: int, target_w: int, target_h: int) -> Box:
    """Repair any box: snap to the target aspect (nearest whole units, keeping its centre) and
    move it inside the image."""
    cx, cy = box.centre
    return centred_on(img_w, img_h, target_w, target_h, cx, cy, width=max(1, box.w))


def move(box: Box, dx: float, dy: float, img_w: int, img_h: int) -> Box:
    """Shift by (dx, dy) pixels, stopping at the image edges (the size never changes)."""
    return Box(_place(box.x + dx, box.w, img_w), _place(box.y + dy, box.h, img_h), box.w, box.h)


def resize(
    box: Box, width: float, img_w: int, img_h: int, target_w: int, target_h: int, anchor: str = "centre"
) -> Box:
    """New width (snapped to whole aspect units, within the image); ``anchor`` is the point that
    stays put: "centre" or a corner "tl", "tr", "bl", "br" (the corner opposite the one dragged)."""
    w, h = _nearest_size(img_w, img_h, target_w, target_h, width)
    if anchor == "centre":
        cx, cy = box.centre
        x, y = cx - w / 2, cy - h / 2
    elif anchor in ("tl", "tr", "bl", "br"):
        x = box.x if anchor[1] == "l" else box.right - w
        y = box.y if anchor[0] == "t" else box.bottom - h
    else:
        raise ValueError(f"anchor must be centre, tl, tr, bl or br, got {anchor!r}")
    return Box(_place(x, w, img_w), _place(y, h, img_h), w, h)


def scale_factor(box: Box, target_w: int, target_h: int) -> float:
    """Source pixels per output pixel (< 1 means the export must upscale)."""
    return min(box.w / target_w, box.h / target_h)
