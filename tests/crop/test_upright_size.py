"""Dataset and Crop measure a turned photo the same way (``dataset.upright``, one rule): Dataset's
size warning, Auto's proposal and the export's ``crops.json`` all see the upright size."""

from __future__ import annotations

from PIL import Image

from lib_textinv.crop.auto import propose_boxes
from lib_textinv.crop.export import export_folder
from lib_textinv.crop.sidecar import load as load_sidecar
from lib_textinv.dataset.scan import ScanOptions, scan_folder
from lib_textinv.dataset.upright import oriented_size
from tests.photos import photo


def turned_jpeg(path, orientation: int) -> None:
    """coffee.jpg stored 600×400 with an EXIF orientation tag."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    photo("coffee").resize((600, 400)).save(path, "JPEG", quality=90, exif=exif.tobytes())


def test_scan_and_crop_measure_the_same_upright_size(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    turned_jpeg(src / "turned.jpg", 6)
    turned_jpeg(src / "flat.jpg", 1)
    assert oriented_size(src / "turned.jpg") == (400, 600)
    assert oriented_size(src / "flat.jpg") == (600, 400)

    files = {f.name: f for f in scan_folder(src, ScanOptions(width=512, height=512)).files}
    # the table shows the stored size; the warning names the size the user sees
    assert (files["turned.jpg"].width, files["turned.jpg"].height) == (600, 400)
    too_small = {n: next(p.message for p in f.problems if p.code == "too_small") for n, f in files.items()}
    assert too_small["turned.jpg"].startswith("400×600 ")
    assert too_small["flat.jpg"].startswith("600×400 ")

    props = {p.name: p for p in propose_boxes(src, (512, 512))[0]}
    assert props["turned.jpg"].size == (400, 600) and props["flat.jpg"].size == (600, 400)
    summary = export_folder(src, (512, 512))
    entries = load_sidecar(summary.destination).for_source(src).images
    assert entries["turned.jpg"].size == (400, 600) and entries["flat.jpg"].size == (600, 400)
