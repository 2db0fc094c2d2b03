"""Focal point on real photos: faces found, subjects kept, deterministic, degrades without cascades."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from lib_textinv.crop import box as crop_box
from lib_textinv.crop import focal
from lib_textinv.crop.box import Box
from lib_textinv.crop.focal import FocalWeights
from tests.photos import photo

# Where her face is in the 512×512 photo (checked by eye and with the cascade at full size).
ASTRONAUT_FACE = Box(175, 65, 95, 100)


def contains(box: Box, region: Box) -> bool:
    return (
        box.x <= region.x and box.y <= region.y and box.right >= region.right and box.bottom >= region.bottom
    )


def test_cascade_finds_her_face_on_the_small_copy():
    assert focal.face_cascade_reason() is None
    grey = focal.small_grey(photo("astronaut"))
    assert max(grey.shape) == focal.ANALYSIS_SIDE
    faces = focal.detect_faces(grey)
    assert faces, "no face found in the astronaut photo"
    s = 512 / focal.ANALYSIS_SIDE
    x, y, w, h = (v * s for v in faces[0])
    cx, cy = x + w / 2, y + h / 2
    assert 150 <= cx <= 250 and 50 <= cy <= 200


@pytest.mark.parametrize("target", [(512, 512), (256, 512), (128, 512), (512, 256), (512, 768), (768, 512)])
def test_astronaut_box_contains_her_face(target):
    im = photo("astronaut")
    f = focal.focal_point(focal.small_grey(im), *target)
    assert "face" in f.found
    box = focal.propose_box(512, 512, *target, f)
    assert box.inside(512, 512)
    assert contains(box, ASTRONAUT_FACE), box


def _canvas_with(subject: Image.Image, width: int, where: str) -> tuple[Image.Image, Box]:
    """A plain grey-gradient canvas with the subject at one edge; returns the subject's box."""
    h = subject.height
    ramp = np.linspace(90, 140, width, dtype=np.float32)[None, :, None].repeat(h, 0).repeat(3, 2)
    canvas = Image.fromarray(ramp.astype("uint8"))
    x = 0 if where == "left" else width - subject.width
    canvas.paste(subject, (x, 0))
    return canvas, Box(x, 0, subject.width, subject.height)


@pytest.mark.parametrize("where", ["left", "right"])
def test_face_at_one_edge_is_kept(where):
    canvas, placed = _canvas_with(photo("astronaut"), 1600, where)
    face = Box(placed.x + ASTRONAUT_FACE.x, ASTRONAUT_FACE.y, ASTRONAUT_FACE.w, ASTRONAUT_FACE.h)
    f = focal.focal_point(focal.small_grey(canvas), 512, 512)
    box = focal.propose_box(*canvas.size, 512, 512, f)
    assert contains(box, face), (box, face)
    # A centre crop would have lost her entirely: the test is not trivially true.
    centre = crop_box.centred_on(*canvas.size, 512, 512, 800, 256)
    assert not contains(centre, face)


@pytest.mark.parametrize("where", ["left", "right"])
def test_object_without_face_at_one_edge_is_kept(where):
    cup = photo("coffee").resize((300, 200), Image.LANCZOS)  # a cup on a table, no face
    canvas, placed = _canvas_with(cup, 1200, where)
    f = focal.focal_point(focal.small_grey(canvas), 256, 256)
    assert "face" not in f.found
    box = focal.propose_box(*canvas.size, 256, 256, f)
    overlap = max(0, min(box.right, placed.right) - max(box.x, placed.x))
    assert overlap >= 0.6 * box.w, (box, placed)


def test_deterministic_same_image_same_box(tmp_path):
    p = tmp_path / "a.jpg"
    photo("chelsea").save(p, quality=90)
    results = {focal.analyse_file(p, 512, 768).box for _ in range(3)}
    assert len(results) == 1


def test_analyse_file_uses_oriented_coordinates(tmp_path):
    # A landscape photo stored sideways with EXIF orientation 6: boxes live in the upright frame.
    im = photo("chelsea")  # 451×300
    exif = Image.Exif()
    exif[0x0112] = 6
    p = tmp_path / "rot.jpg"
    im.transpose(Image.Transpose.ROTATE_90).save(p, quality=90, exif=exif)
    a = focal.analyse_file(p, 512, 512, preview_side=128)
    assert a.size == (451, 300)
    assert a.box.inside(451, 300) and a.box.w == a.box.h == 300
    assert a.preview.size[0] > a.preview.size[1]


def test_without_face_cascades_corners_and_entropy_still_work(monkeypatch):
    monkeypatch.setattr(focal, "face_cascade_reason", lambda: "faces skipped: no cascades here")
    f = focal.focal_point(focal.small_grey(photo("astronaut")), 256, 512)
    assert "face" not in f.found and f.found
    assert f.notes == ("faces skipped: no cascades here",)


def test_all_weights_zero_gives_the_centre():
    f = focal.focal_point(focal.small_grey(photo("rocket")), 512, 512, FocalWeights(0, 0, 0))
    assert (f.x, f.y) == (0.5, 0.5)


def test_weights_validation():
    assert FocalWeights.from_dict({"face": 2}).face == 2.0
    with pytest.raises(ValueError):
        FocalWeights.from_dict({"corners": -1})
