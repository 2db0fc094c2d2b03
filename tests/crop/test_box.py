"""Box math: exact aspect, always inside the image, whatever the sizes (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib_textinv.crop import box as crop_box
from lib_textinv.crop.box import Box

sides = st.integers(min_value=1, max_value=6000)
targets64 = st.integers(min_value=1, max_value=32).map(lambda k: k * 64)
any_target = st.integers(min_value=1, max_value=2000)
fractions = st.floats(min_value=-0.5, max_value=1.5, allow_nan=False)


def exact(box: Box, tw: int, th: int) -> bool:
    return box.w * th == box.h * tw


def test_aspect_unit_and_largest():
    assert crop_box.aspect_unit(512, 768) == (2, 3)
    assert crop_box.largest_size(4000, 3000, 512, 512) == (3000, 3000)
    assert crop_box.largest_size(4000, 3000, 512, 768) == (2000, 3000)
    assert crop_box.largest_size(4000, 3000, 1024, 512) == (4000, 2000)
    with pytest.raises(ValueError):
        crop_box.aspect_unit(0, 512)


@settings(max_examples=300, deadline=None)
@given(sides, sides, targets64, targets64, fractions, fractions)
def test_proposed_box_inside_and_exact(iw, ih, tw, th, fx, fy):
    box = crop_box.centred_on(iw, ih, tw, th, fx * iw, fy * ih)
    assert box.inside(iw, ih)
    uw, uh = crop_box.aspect_unit(tw, th)
    if iw >= uw and ih >= uh:
        assert exact(box, tw, th)
        # The largest such box: one more unit would not fit.
        assert box.w + uw > iw or box.h + uh > ih


@settings(max_examples=300, deadline=None)
@given(sides, sides, any_target, any_target, fractions, fractions)
def test_any_target_inside_and_near_aspect(iw, ih, tw, th, fx, fy):
    box = crop_box.centred_on(iw, ih, tw, th, fx * iw, fy * ih)
    assert box.inside(iw, ih)
    uw, uh = crop_box.aspect_unit(tw, th)
    if iw >= uw and ih >= uh:
        assert exact(box, tw, th)
    else:  # image smaller than one aspect unit: nearest integer box, off by less than a pixel
        assert abs(box.w * th / tw - box.h) <= max(1.0, th / tw) or abs(box.h * tw / th - box.w) <= max(
            1, tw / th
        )


@settings(max_examples=300, deadline=None)
@given(
    sides,
    sides,
    targets64,
    targets64,
    st.integers(-9000, 9000),
    st.integers(-9000, 9000),
    st.floats(min_value=0, max_value=9000, allow_nan=False),
    st.sampled_from(["centre", "tl", "tr", "bl", "br"]),
)
def test_move_resize_clamp_stay_inside(iw, ih, tw, th, dx, dy, width, anchor):
    start = crop_box.centred_on(iw, ih, tw, th, iw / 2, ih / 2)
    moved = crop_box.move(start, dx, dy, iw, ih)
    assert moved.inside(iw, ih) and (moved.w, moved.h) == (start.w, start.h)
    sized = crop_box.resize(moved, width, iw, ih, tw, th, anchor)
    assert sized.inside(iw, ih)
    wild = Box(dx, dy, int(width) + 1, int(width / 3) + 1)
    fixed = crop_box.clamp(wild, iw, ih, tw, th)
    assert fixed.inside(iw, ih)
    uw, uh = crop_box.aspect_unit(tw, th)
    if iw >= uw and ih >= uh:
        assert exact(sized, tw, th) and exact(fixed, tw, th)


def test_resize_keeps_the_anchor_corner():
    box = Box(100, 100, 400, 400)
    smaller = crop_box.resize(box, 200, 1000, 1000, 512, 512, "br")
    assert (smaller.right, smaller.bottom) == (500, 500) and smaller.w == 200
    smaller = crop_box.resize(box, 200, 1000, 1000, 512, 512, "tl")
    assert (smaller.x, smaller.y) == (100, 100)
    with pytest.raises(ValueError):
        crop_box.resize(box, 200, 1000, 1000, 512, 512, "middle")


def test_keep_region_pulls_the_box_over_it():
    # Focal point at the far left, but the face is at the right: the box shifts just enough.
    face = Box(1300, 100, 150, 150)
    box = crop_box.centred_on(1600, 512, 512, 512, 0, 256, keep=face)
    assert box.x <= face.x and box.right >= face.right


def test_box_from_list_validation():
    assert Box.from_list([1, 2.4, "3", 4]) == Box(1, 2, 3, 4)
    for bad in (None, [1, 2, 3], ["a", 1, 1, 1], {"x": 1}):
        with pytest.raises(ValueError):
            Box.from_list(bad)
