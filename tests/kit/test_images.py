"""Every accepted mode becomes the 8-bit RGB picture a person sees, not a clipped one."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from lib_textinv.kit.images import to_rgb

RAMP = np.linspace(0.0, 1.0, 64).reshape(8, 8)


@pytest.mark.parametrize(
    ("mode", "white"),
    [("I;16", 65535), ("I", 65535), ("I", 2**20), ("F", 1.0), ("F", 255.0), ("F", 4000.0)],
)
def test_high_bit_depth_grey_keeps_its_ramp(mode, white):
    values = RAMP * white
    if mode == "I;16":
        im = Image.fromarray(values.astype("uint16"), "I;16")
    elif mode == "I":
        im = Image.fromarray(values.astype("int32"), "I")
    else:
        im = Image.fromarray(values.astype("float32"), "F")
    out = np.asarray(to_rgb(im))[..., 0].astype(int)
    assert out.min() == 0 and out.max() == 255, (out.min(), out.max())
    assert np.all(np.diff(out.ravel()) >= 0)  # still a ramp, not a clipped or black block
    assert abs(out.ravel()[32] - 255 * RAMP.ravel()[32]) <= 2


def test_eight_bit_grey_and_palette_unchanged():
    grey = Image.fromarray((RAMP * 255).astype("uint8"), "L")
    assert np.array_equal(np.asarray(to_rgb(grey))[..., 0], np.asarray(grey))
