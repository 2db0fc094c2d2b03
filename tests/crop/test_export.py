"""Crop export on real photos in real folders: sizes, pixels, safety, bad files, sidecar, interrupt."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from lib_textinv.crop import sidecar as crop_sidecar
from lib_textinv.crop.auto import propose_boxes
from lib_textinv.crop.box import Box
from lib_textinv.crop.export import ExportOptions, export_folder
from lib_textinv.crop.resample import draft_for
from lib_textinv.kit.files import UnsafeDestination
from lib_textinv.kit.progress import RecordingProgress
from tests.photos import photo, write_photos


def diff(a: Image.Image, b: Image.Image) -> float:
    return float(np.abs(np.asarray(a, dtype=np.int16) - np.asarray(b, dtype=np.int16)).mean())


def test_export_writes_exact_sizes_and_never_touches_sources(photo_dir, checksums):
    (photo_dir / "astronaut.txt").write_text("photo of sks person\n", encoding="utf-8")
    before = checksums(photo_dir)
    s = export_folder(photo_dir, (192, 256), options=ExportOptions(flip=True), progress=RecordingProgress())
    dest = photo_dir / "192x256"
    assert s.destination == str(dest)
    assert s.written == ["astronaut.jpg", "chelsea.jpg", "coffee.jpg", "rocket.jpg"]
    assert not s.failed and not s.upscaled
    for name in s.written:
        stem = Path(name).stem
        for out in (f"{stem}.png", f"{stem}-flip.png"):
            with Image.open(dest / out) as im:
                assert im.size == (192, 256) and im.mode == "RGB"
    # Caption carried to the image and its flipped copy, byte for byte.
    assert (dest / "astronaut.txt").read_bytes() == b"photo of sks person\n"
    assert (dest / "astronaut-flip.txt").read_bytes() == b"photo of sks person\n"
    assert not (dest / "chelsea.txt").exists()
    flipped = Image.open(dest / "rocket-flip.png").transpose(Image.FLIP_LEFT_RIGHT)
    assert diff(flipped, Image.open(dest / "rocket.png")) == 0
    # Sources unchanged: compare everything except the new destination subfolder.
    after = {k: v for k, v in checksums(photo_dir).items() if not k.startswith("192x256")}
    assert after == before


def test_exported_pixels_come_from_the_box(tmp_path):
    src = tmp_path / "src"
    write_photos(src, ("astronaut",), fmt="PNG")
    box = Box(300, 200, 200, 300)  # far from where Auto would go
    s = export_folder(src, (128, 192), boxes={"astronaut.png": {"box": box.as_list()}})
    out = Image.open(Path(s.destination) / "astronaut.png").convert("RGB")
    expected = photo("astronaut").crop(box.pil_box()).resize((128, 192), Image.LANCZOS)
    assert diff(out, expected) < 1.0
    auto = photo("astronaut").crop((0, 0, 341, 512)).resize((128, 192), Image.LANCZOS)
    assert diff(out, auto) > 10


def test_draft_decoding_keeps_quality(tmp_path):
    # A 12-MP JPEG: the export decodes a draft but must match a full-resolution crop closely.
    src = tmp_path / "src"
    src.mkdir()
    big = photo("chelsea").resize((4000, 2660), Image.LANCZOS)
    big.save(src / "cat.jpg", quality=95)
    box = Box(1200, 100, 2400, 2400)
    s = export_folder(src, (512, 512), boxes={"cat.jpg": {"box": box.as_list()}})
    out = Image.open(Path(s.destination) / "cat.png")
    full = Image.open(src / "cat.jpg").convert("RGB").crop(box.pil_box()).resize((512, 512), Image.LANCZOS)
    # 2400 box px per 512 output px: the decoder may shrink by up to that ratio (2660 / 4.69 = 568)
    assert draft_for(box, (512, 512), (4000, 2660)) == (568, 568)
    assert diff(out, full) < 2.0


@pytest.mark.parametrize(("fmt", "ext"), [("JPEG", ".jpg"), ("WEBP", ".webp"), ("PNG", ".png")])
def test_formats_and_quality(photo_dir, fmt, ext):
    s = export_folder(
        photo_dir,
        (128, 128),
        tmp := tempfile.mkdtemp(dir=photo_dir.parent),
        options=ExportOptions(format=fmt, quality=80),
    )
    assert s.destination == tmp
    with Image.open(Path(tmp) / f"coffee{ext}") as im:
        assert im.format == fmt and im.size == (128, 128)


def test_small_images_are_upscaled_by_the_chosen_upscaler(tmp_path):
    src = tmp_path / "src"
    write_photos(src, ("chelsea", "coffee"), size=(200, 150))

    class FakeHost:
        def __init__(self):
            self.calls = []

        def list_upscalers(self):
            return ["None", "Lanczos", "R-ESRGAN 4x+"]

        def upscale(self, image, width, height, name):
            self.calls.append((image.size, width, height, name))
            return image.resize((width * 2, height * 2), Image.NEAREST)  # wrong size on purpose

    host = FakeHost()
    s = export_folder(src, (512, 512), options=ExportOptions(upscaler="R-ESRGAN 4x+"), upscaler=host)
    assert s.upscaled == ["chelsea.jpg", "coffee.jpg"]
    assert sorted(host.calls) == [((150, 150), 512, 512, "R-ESRGAN 4x+")] * 2
    assert Image.open(Path(s.destination) / "coffee.png").size == (512, 512)
    with pytest.raises(ValueError, match="unknown upscaler"):
        export_folder(src, (512, 512), options=ExportOptions(upscaler="SwinIR"), upscaler=host)
    with pytest.raises(ValueError, match="unknown upscaler"):
        export_folder(src, (512, 512), options=ExportOptions(upscaler="SwinIR"))


def test_unsafe_destinations_are_refused(photo_dir, tmp_path, checksums):
    before = checksums(photo_dir)
    with pytest.raises(UnsafeDestination):
        export_folder(photo_dir, (512, 512), photo_dir)
    link = tmp_path / "link"
    link.symlink_to(photo_dir, target_is_directory=True)
    with pytest.raises(UnsafeDestination):
        export_folder(photo_dir, (512, 512), link)
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(UnsafeDestination):
        export_folder(photo_dir, (512, 512), a_file)
    with pytest.raises(UnsafeDestination):
        export_folder(photo_dir, (512, 512), photo_dir / "astronaut.jpg")
    assert checksums(photo_dir) == before


def test_an_output_that_would_overwrite_a_source_is_refused(tmp_path, checksums):
    # dest/astronaut.png is a link to the source file: writing through it must not happen.
    src = tmp_path / "src"
    write_photos(src, ("astronaut", "rocket"), fmt="PNG")
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "astronaut.png").symlink_to(src / "astronaut.png")
    before = checksums(src)
    s = export_folder(src, (128, 128), dest)
    assert s.written == ["rocket.png"]
    assert s.failed and s.failed[0][0] == "astronaut.png" and "overwrite a source" in s.failed[0][1]
    assert checksums(src) == before


def make_bad_files(folder: Path) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "empty.jpg").write_bytes(b"")
    photo("rocket").save(folder / "whole.jpg", quality=90)
    raw = (folder / "whole.jpg").read_bytes()
    (folder / "truncated.jpg").write_bytes(raw[: len(raw) // 3])
    (folder / "whole.jpg").unlink()
    (folder / "notes.png").write_text("this is not a picture", encoding="utf-8")
    # A PNG header claiming 20000×20000 pixels: refused before any pixel is decoded.
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    (folder / "bomb.png").write_bytes(
        b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    )
    return ["bomb.png", "empty.jpg", "notes.png", "truncated.jpg"]


def test_bad_files_fail_with_reasons_and_the_batch_goes_on(photo_dir, checksums):
    bad = make_bad_files(photo_dir)
    # Tricky but valid files: RGBA PNG, 16-bit grey PNG, EXIF-rotated JPEG.
    rgba = photo("coffee").convert("RGBA")
    rgba.putalpha(128)
    rgba.save(photo_dir / "alpha.png")
    Image.fromarray(np.asarray(photo("camera", "L"), dtype=np.uint16) * 257).save(photo_dir / "deep.png")
    exif = Image.Exif()
    exif[0x0112] = 6
    photo("chelsea").transpose(Image.Transpose.ROTATE_90).save(photo_dir / "turned.jpg", exif=exif)
    before = checksums(photo_dir)
    s = export_folder(photo_dir, (256, 256), progress=RecordingProgress())
    assert sorted(n for n, _ in s.failed) == bad
    assert all(reason for _, reason in s.failed)
    assert {"alpha.png", "deep.png", "turned.jpg", "astronaut.jpg"} <= set(s.written)
    dest = Path(s.destination)
    assert not [p for p in dest.iterdir() if p.name.endswith(".tmp")]
    # The rotated file comes out upright: same content as exporting the upright photo.
    crop = crop_sidecar.load(dest).for_source(photo_dir).images["turned.jpg"].auto
    assert crop is not None and crop.inside(*photo("chelsea").size)  # measured on the upright photo
    upright = photo("chelsea").crop(crop.pil_box())
    assert diff(Image.open(dest / "turned.png"), upright.resize((256, 256), Image.LANCZOS)) < 6
    # Alpha composited on white; 16-bit scaled, not clipped.
    assert np.asarray(Image.open(dest / "alpha.png")).mean() > np.asarray(photo("coffee")).mean()
    assert np.asarray(Image.open(dest / "deep.png")).std() > 20
    after = {k: v for k, v in checksums(photo_dir).items() if not k.startswith("256x256")}
    assert after == before


def test_rerun_with_sidecar_is_byte_identical_and_restores_edits(photo_dir):
    boxes = {"astronaut.jpg": {"box": [10, 20, 300, 300]}, "coffee.jpg": {"excluded": True}}
    opts = ExportOptions(format="WEBP", quality=90, flip=True)
    s1 = export_folder(photo_dir, (256, 256), boxes=boxes, options=opts)
    dest = Path(s1.destination)
    first = {p.name: p.read_bytes() for p in dest.iterdir()}
    assert s1.excluded == ["coffee.jpg"] and "coffee.webp" not in first
    side = crop_sidecar.load(dest).for_source(photo_dir)
    assert side.images["astronaut.jpg"].box == Box(10, 20, 300, 300)
    assert side.images["coffee.jpg"].excluded
    # Re-run without boxes: the sidecar's edits apply, every file is identical.
    s2 = export_folder(photo_dir, (256, 256), options=opts)
    second = {p.name: p.read_bytes() for p in dest.iterdir()}
    assert second == first
    assert s2.excluded == ["coffee.jpg"]
    # Reopening: Auto restores the edit and the exclusion for the editor.
    props, _ = propose_boxes(photo_dir, (256, 256))
    by = {p.name: p for p in props}
    assert by["astronaut.jpg"].box == Box(10, 20, 300, 300) and by["astronaut.jpg"].as_dict()["edited"]
    assert by["coffee.jpg"].excluded
    assert by["rocket.jpg"].box is None and by["rocket.jpg"].auto == side.images["rocket.jpg"].auto


def test_excluding_later_removes_the_earlier_output(photo_dir):
    s = export_folder(photo_dir, (128, 128))
    dest = Path(s.destination)
    assert (dest / "rocket.png").exists()
    (dest / "mine.txt").write_text("the user's own file")
    s = export_folder(photo_dir, (128, 128), boxes={"rocket.jpg": {"excluded": True}})
    assert not (dest / "rocket.png").exists() and s.removed == ["rocket.png"]
    assert (dest / "mine.txt").exists()


def test_changed_source_drops_its_old_box(photo_dir):
    export_folder(photo_dir, (128, 128), boxes={"rocket.jpg": {"box": [0, 0, 100, 100]}})
    photo("camera").save(photo_dir / "rocket.jpg", quality=90)  # replaced by another picture
    props, _ = propose_boxes(photo_dir, (128, 128))
    assert {p.name: p for p in props}["rocket.jpg"].box is None


def test_interrupt_leaves_no_partial_file(photo_dir):
    progress = RecordingProgress(cancel_after=1)
    s = export_folder(photo_dir, (128, 128), options=ExportOptions(flip=True), progress=progress, workers=1)
    assert s.interrupted
    dest = Path(s.destination)
    names = {p.name for p in dest.iterdir()}
    assert not [n for n in names if n.endswith(".tmp")]
    assert len(s.written) == 1  # one worker, cancelled after the first image
    for n in s.written:  # every started unit is complete
        stem = Path(n).stem
        assert {f"{stem}.png", f"{stem}-flip.png"} <= names
    assert len([n for n in names if n.endswith(".png")]) == 2


def test_stem_collisions_get_distinct_names(tmp_path):
    src = tmp_path / "src"
    write_photos(src, ("rocket",), fmt="JPEG")
    photo("coffee").save(src / "rocket.png")
    s = export_folder(src, (64, 64))
    assert sorted(s.files) == ["rocket-jpg.png", "rocket-png.png"]


def test_bad_requests_are_refused_before_writing(photo_dir, tmp_path):
    with pytest.raises(ValueError, match="between"):
        export_folder(photo_dir, (32, 512))
    with pytest.raises(ValueError, match="format"):
        export_folder(photo_dir, (512, 512), options=ExportOptions(format="GIF"))
    with pytest.raises(ValueError, match="folder not found"):
        export_folder(tmp_path / "nope", (512, 512))
    with pytest.raises(ValueError, match="box"):
        export_folder(photo_dir, (512, 512), boxes={"rocket.jpg": {"box": [1, 2]}})
    assert not (photo_dir / "512x512").exists()


def test_an_unusable_crops_json_is_not_replaced(photo_dir):
    """It may be another tool's file, or an edit gone wrong: the export refuses before writing."""
    dest = photo_dir / "128x128"
    dest.mkdir()
    (dest / "crops.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(crop_sidecar.SidecarError, match=r"crops\.json cannot be used .*not replaced"):
        export_folder(photo_dir, (128, 128))
    assert [p.name for p in dest.iterdir()] == ["crops.json"]
    assert (dest / "crops.json").read_text(encoding="utf-8") == "{not json"
    # Auto only reads it: it goes on, with a note
    _, notes = propose_boxes(photo_dir, (128, 128))
    assert any("crops.json" in n for n in notes)


@settings(max_examples=25, deadline=None)
@given(
    st.integers(1, 300),
    st.integers(1, 300),
    st.integers(64, 700),
    st.integers(64, 700),
    st.floats(0, 1),
    st.floats(0, 1),
)
def test_any_sizes_give_exact_output_size(iw, ih, tw, th, fx, fy):
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / "src"
        src.mkdir()
        photo("astronaut").resize((iw, ih)).save(src / "p.png")
        box = [round(fx * iw), round(fy * ih), max(1, iw // 2), max(1, ih // 2)]
        s = export_folder(src, (tw, th), boxes={"p.png": {"box": box}}, workers=1)
        assert s.written == ["p.png"], s.failed
        with Image.open(Path(s.destination) / "p.png") as im:
            assert im.size == (tw, th)
        side = crop_sidecar.load(s.destination).for_source(src).images["p.png"]
        assert side.box.inside(iw, ih)
        assert sorted(p.name for p in Path(s.destination).iterdir()) == ["crops.json", "p.png"]


def test_survives_the_intake_bad_file_corpus(tmp_path, checksums):
    from tests.badfiles import REFUSED_KINDS, WARNING_KINDS, make_corpus

    src = tmp_path / "corpus"
    make_corpus(src)
    before = checksums(src)
    s = export_folder(src, (256, 256), tmp_path / "out", progress=RecordingProgress())
    failed = dict(s.failed)
    for name in REFUSED_KINDS:  # refused: reported with a reason (a dangling link is not even listed)
        assert name in failed or (name == "dangling.jpg" and name not in s.written), name
        assert name not in s.written
    assert set(WARNING_KINDS) <= set(s.written), failed
    assert "tiny.png" in s.upscaled
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.endswith(".tmp")]
    assert checksums(src) == before
