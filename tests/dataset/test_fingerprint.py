"""Near-duplicate detection on every image mode the scan accepts: a picture in any mode is found
to be the same as an 8-bit copy of it, and never "identical" to an unrelated or a plain white one
(a 16-bit PNG was fingerprinted as all white: PIL's convert("L") clips 16-bit values at 255)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from lib_textinv.dataset.scan import ScanOptions, scan_folder
from lib_textinv.kit.images import to_rgb
from tests.photos import photo

SIDE = 256


def grey() -> np.ndarray:
    """The photo in 8-bit grey, without its darkest tones: as 16-bit values, all above 255."""
    a = np.asarray(photo("astronaut", "L").resize((SIDE, SIDE), Image.LANCZOS))
    return np.clip(a, 16, 255)


def with_alpha(im: Image.Image) -> Image.Image:
    """``im`` with a left-to-right alpha ramp: training sees it composited on the background."""
    alpha = Image.linear_gradient("L").rotate(90).resize(im.size)
    out = im.copy()
    out.putalpha(alpha)
    return out


def rgb() -> Image.Image:
    return photo("astronaut").resize((SIDE, SIDE), Image.LANCZOS)


# mode → (the picture in that mode, the format that keeps the mode, the mode Pillow reads back)
CASES = {
    "1": (lambda: rgb().convert("1"), "PNG", "1"),
    "L": (lambda: rgb().convert("L"), "PNG", "L"),
    "LA": (lambda: with_alpha(rgb().convert("L")), "PNG", "LA"),
    "P": (lambda: rgb().convert("P", palette=Image.ADAPTIVE), "PNG", "P"),
    "PA": (lambda: with_alpha(rgb().convert("P", palette=Image.ADAPTIVE)).convert("PA"), "TIFF", "PA"),
    "RGB": (rgb, "PNG", "RGB"),
    "RGBA": (lambda: with_alpha(rgb()), "PNG", "RGBA"),
    "CMYK": (lambda: rgb().convert("CMYK"), "TIFF", "CMYK"),
    # 16-bit grey: Pillow 9.5 reads a PNG as mode I, a TIFF as I;16
    "I;16 PNG": (lambda: Image.fromarray(grey().astype("uint16") * 257, "I;16"), "PNG", "I"),
    "I;16": (lambda: Image.fromarray(grey().astype("uint16") * 257, "I;16"), "TIFF", "I;16"),
    "I": (lambda: Image.fromarray(grey().astype("int32") * 1000, "I"), "TIFF", "I"),
    "F": (lambda: Image.fromarray(grey().astype("float32") / 255.0, "F"), "TIFF", "F"),
}


def eight_bit_copy(im: Image.Image) -> Image.Image:
    """What the picture looks like, as an ordinary 8-bit RGB file would hold it."""
    if im.mode in ("I;16", "I", "F"):
        return Image.fromarray(grey()).convert("RGB")
    return to_rgb(im)


def near_duplicates(report) -> dict[str, list[str]]:
    return {f.name: [p.message for p in f.problems if p.code == "near_duplicate"] for f in report.files}


@pytest.mark.parametrize("case", list(CASES))
def test_every_mode_is_fingerprinted_as_the_picture_it_holds(tmp_path, case):
    make, fmt, read_mode = CASES[case]
    im = make()
    name = f"a-picture.{fmt.lower()}"
    im.save(tmp_path / name, fmt)
    with Image.open(tmp_path / name) as back:
        assert back.mode == read_mode  # the case tests the mode it names
    eight_bit_copy(im).save(tmp_path / "b-copy.jpg", quality=90)
    photo("coffee").resize((SIDE, SIDE)).save(tmp_path / "c-other.png")
    Image.new("RGB", (SIDE, SIDE), "white").save(tmp_path / "d-white.png")
    marks = near_duplicates(scan_folder(tmp_path, ScanOptions(width=256, height=256)))
    assert len(marks["b-copy.jpg"]) == 1 and marks["b-copy.jpg"][0].endswith(f"of {name}"), marks
    assert marks["c-other.png"] == [] and marks["d-white.png"] == [], marks


def test_an_upright_copy_of_a_rotated_photo_is_its_duplicate(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # stored on its side, shown turned by 90°
    rgb().rotate(90).save(tmp_path / "a-sideways.jpg", quality=92, exif=exif.tobytes())
    rgb().save(tmp_path / "b-upright.jpg", quality=92)
    marks = near_duplicates(scan_folder(tmp_path, ScanOptions(width=256, height=256)))
    assert len(marks["b-upright.jpg"]) == 1, marks
