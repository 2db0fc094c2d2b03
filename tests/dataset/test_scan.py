"""Dataset intake: real photos and a generated corpus of problem files."""

from __future__ import annotations

import os
import shutil

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib_textinv.dataset.scan import (
    NEAR_DUPLICATE_BITS,
    OK,
    REFUSED,
    WARNING,
    ScanOptions,
    list_images,
    mark_near_duplicates,
    scan_file,
    scan_folder,
)
from lib_textinv.kit.progress import RecordingProgress
from tests.badfiles import REFUSED_KINDS, WARNING_KINDS, make_corpus
from tests.photos import write_photos


@pytest.fixture
def corpus(tmp_path):
    d = tmp_path / "corpus"
    expected = make_corpus(d)
    return d, expected


def by_name(report):
    return {f.name: f for f in report.files}


def test_good_photos_are_ok(photo_dir):
    rep = scan_folder(photo_dir, ScanOptions(width=256, height=256))
    assert [f.status for f in rep.files] == [OK] * 4, [f.problems for f in rep.files]
    assert rep.summary.startswith("4 usable, 0 with warnings, 0 refused")
    astro = by_name(rep)["astronaut.jpg"]
    assert (astro.width, astro.height, astro.format) == (512, 512, "JPEG")


def test_corpus_has_at_least_15_kinds_each_with_its_own_reason(corpus):
    folder, expected = corpus
    assert len(set(expected.values())) >= 15
    rep = scan_folder(folder, ScanOptions(width=512, height=512))
    files = by_name(rep)
    for name, code in expected.items():
        codes = [p.code for p in files[name].problems]
        assert code in codes, f"{name}: expected {code}, got {files[name].problems}"
    for name in REFUSED_KINDS:
        assert files[name].status == REFUSED, name
    for name in WARNING_KINDS:
        assert files[name].status == WARNING, (name, files[name].problems)
    # each refused kind says something different (its own reason), and names no generic error
    messages = {files[n].problems[0].message.split(":")[0] for n in REFUSED_KINDS}
    assert len(messages) >= 5


def test_specific_messages(corpus):
    folder, _ = corpus
    files = by_name(scan_folder(folder))
    assert "HTML" in files["page.jpg"].problems[0].message
    assert "PDF" in files["document.jpg"].problems[0].message
    assert "text" in files["notes.png"].problems[0].message
    assert "binary" in files["noise.webp"].problems[0].message
    assert "16-bit" in files["deep.png"].problems[0].message
    assert "40000×40000" in files["bomb.png"].problems[0].message
    dup = next(p for p in files["astronaut2.jpg"].problems if p.code == "near_duplicate")
    assert "astronaut.jpg" in dup.message
    assert "×6.74" in next(p.message for p in files["tiny.png"].problems if p.code == "too_small")
    assert "#ffffff" in next(p.message for p in files["alpha.png"].problems if p.code == "alpha")
    # EXIF orientation 6 swaps the axes the user sees: 600×400 becomes 400×600 (short side 400 < 512)
    rotated = files["rotated.jpg"]
    assert (rotated.width, rotated.height) == (600, 400)
    assert files["rotated.jpg"].action == "use (rotate, upscale)"
    assert "400×600" in next(p.message for p in rotated.problems if p.code == "too_small")


def test_background_colour_is_reported(corpus):
    from lib_textinv.kit.images import Background

    folder, _ = corpus
    rep = scan_folder(folder, ScanOptions(background=Background.parse("#102030")))
    assert "#102030" in by_name(rep)["alpha.png"].problems[0].message


def test_bomb_is_never_decoded(tmp_path, monkeypatch):
    from PIL import ImageFile

    from tests.badfiles import bomb_png

    (tmp_path / "bomb.png").write_bytes(bomb_png(20000, 20000))

    def no_load(self):
        raise AssertionError("decoded a refused image")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_load)
    rep = scan_file(tmp_path / "bomb.png", ScanOptions(max_pixels=50_000_000))
    assert rep.status == REFUSED and rep.problems[0].code == "too_large"


def test_permission_denied_is_reported(tmp_path, monkeypatch):
    # Tests run as root in CI, where chmod 000 does not stop reads: make open() refuse instead.
    write_photos(tmp_path, ["chelsea"])
    target = str(tmp_path / "chelsea.jpg")
    real_open = open

    def guarded_open(file, *a, **kw):
        if os.fspath(file) == target:
            raise PermissionError(13, "Permission denied", target)
        return real_open(file, *a, **kw)

    monkeypatch.setattr("builtins.open", guarded_open)
    rep = scan_file(tmp_path / "chelsea.jpg", ScanOptions())
    assert rep.status == REFUSED and "permission denied" in rep.problems[0].message


def test_scan_never_modifies_sources(corpus, checksums):
    folder, _ = corpus
    before = checksums(folder)
    listed = sorted(os.listdir(folder))
    mtimes = {p.name: p.stat().st_mtime_ns for p in folder.iterdir() if p.is_file()}
    scan_folder(folder)
    assert checksums(folder) == before
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir() if p.is_file()} == mtimes
    assert sorted(os.listdir(folder)) == listed  # nothing added (no temp files), nothing removed


def test_scan_continues_past_bad_files_in_a_large_folder(tmp_path):
    """1000 files, every fifth one broken: the scan completes and counts all of them."""
    folder = tmp_path / "many"
    folder.mkdir()
    src = write_photos(tmp_path / "src", ["chelsea"], size=(96, 64))[0].read_bytes()
    for i in range(1000):
        data = src if i % 5 else src[:200]
        (folder / f"img{i:04d}.jpg").write_bytes(data)
    progress = RecordingProgress()
    rep = scan_folder(folder, ScanOptions(width=64, height=64), progress)
    assert len(rep.files) == 1000
    assert rep.counts[REFUSED] == 200
    assert progress.done == 1000
    # identical files are marked as duplicates of the first
    assert "identical picture of img0001.jpg" in rep.files[2].problems[0].message


def test_scan_can_be_interrupted(tmp_path):
    write_photos(tmp_path, ["astronaut", "chelsea", "coffee", "rocket"])
    progress = RecordingProgress(cancel_after=2)
    rep = scan_folder(tmp_path, ScanOptions(workers=1), progress)
    assert rep.cancelled and len(rep.files) == 2
    assert "interrupted" in rep.summary


def test_list_images_ignores_captions_and_hidden(tmp_path):
    write_photos(tmp_path, ["chelsea", "coffee"])
    (tmp_path / "chelsea.txt").write_text("a cat")
    (tmp_path / ".hidden.jpg").write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    write_photos(tmp_path / "sub", ["rocket"])
    assert [p.name for p in list_images(tmp_path)] == ["chelsea.jpg", "coffee.jpg"]
    rep = scan_folder(tmp_path)
    assert [(e.name, e.kind.value) for e in rep.others] == [
        (".hidden.jpg", "hidden"),
        ("chelsea.txt", "caption"),
        ("sub/", "folder"),
    ]


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="folder not found"):
        scan_folder(tmp_path / "nope")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(ValueError, match="not a folder"):
        scan_folder(tmp_path / "file.txt")


def test_resized_copy_is_a_near_duplicate_but_different_photos_are_not(tmp_path):
    paths = write_photos(tmp_path, ["astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry"])
    shutil.copy(paths[0], tmp_path / "z-astronaut-again.jpg")
    rep = scan_folder(tmp_path)
    flagged = {f.name for f in rep.files if any(p.code == "near_duplicate" for p in f.problems)}
    assert flagged == {"z-astronaut-again.jpg"}


@st.composite
def hash_families(draw) -> list[int]:
    """Perceptual hashes where about half are relatives of an earlier one (a few bits flipped, as
    a re-encoded copy gives): random 64-bit hashes alone are almost never within 6 bits."""
    hashes = [draw(st.integers(0, 2**64 - 1))]
    for _ in range(draw(st.integers(1, 11))):
        if draw(st.booleans()):
            h = draw(st.sampled_from(hashes))
            for bit in draw(st.sets(st.integers(0, 63), max_size=2 * NEAR_DUPLICATE_BITS)):
                h ^= 1 << bit
        else:
            h = draw(st.integers(0, 2**64 - 1))
        hashes.append(h)
    return hashes


@settings(max_examples=80, deadline=None)
@given(hash_families())
def test_near_duplicate_marks_exactly_close_pairs(hashes):
    from hypothesis import event

    from lib_textinv.dataset.scan import FileReport

    files = [FileReport(name=f"f{i}", path="", dhash=h) for i, h in enumerate(hashes)]
    mark_near_duplicates(files)
    for i, f in enumerate(files):
        close = [g for g in files[:i] if bin(f.dhash ^ g.dhash).count("1") <= NEAR_DUPLICATE_BITS]
        marks = [p.message for p in f.problems if p.code == "near_duplicate"]
        assert len(marks) == (1 if close else 0)
        if close:  # named after the first earlier file it is close to
            assert marks[0].endswith(f" of {close[0].name}")
            event("has a near duplicate")


def test_near_duplicate_examples():
    from lib_textinv.dataset.scan import FileReport

    base = 0x0123_4567_89AB_CDEF
    six_off = base ^ 0b111111  # 6 bits differ: the same picture
    seven_off = base ^ 0b1111111  # 7 bits: another picture
    files = [FileReport(name=n, path="", dhash=h) for n, h in (("a", base), ("b", six_off), ("c", seven_off))]
    mark_near_duplicates(files)
    assert [[p.message for p in f.problems] for f in files] == [
        [],
        ["near-duplicate (6 of 64 hash bits differ) of a"],
        ["near-duplicate (1 of 64 hash bits differ) of b"],
    ]


@settings(max_examples=40, deadline=None)
@given(
    w=st.integers(8, 3000),
    h=st.integers(8, 3000),
    tw=st.sampled_from([256, 512, 768]),
    th=st.sampled_from([256, 512, 768]),
)
def test_size_notes_property(w, h, tw, th):
    from lib_textinv.dataset.scan import FileReport, _size_notes

    rep = FileReport(name="x", path="", width=w, height=h)
    _size_notes(rep, (w, h), ScanOptions(width=tw, height=th))
    codes = {p.code for p in rep.problems}
    assert ("too_small" in codes) == (w < tw or h < th)
    kept = min(w / h, tw / th) / max(w / h, tw / th)
    assert ("extreme_aspect" in codes) == (kept < 0.5)
