"""One upright-size rule: EXIF orientations 5-8 turn the picture by 90°, so width and height swap
(tests/crop/test_upright_size.py: Dataset and Crop measure with it alike)."""

from __future__ import annotations

import pytest

from lib_textinv.dataset.upright import upright_size


@pytest.mark.parametrize(
    ("orientation", "expected"),
    [(0, (600, 400)), (1, (600, 400)), (2, (600, 400)), (3, (600, 400)), (4, (600, 400))]
    + [(o, (400, 600)) for o in (5, 6, 7, 8)],
)
def test_quarter_turns_swap_the_axes(orientation, expected):
    assert upright_size((600, 400), orientation) == expected
