"""Caption files: modes, atomic writes, unicode, CRLF, flipped copies, the trainer's view."""

from __future__ import annotations

import os

import pytest

from lib_textinv.captions import files as cf
from lib_textinv.kit import files as fsio
from tests.photos import photo, write_photos


@pytest.fixture
def img(tmp_path):
    return write_photos(tmp_path / "set", ("chelsea",))[0]


def test_caption_path_and_missing(img):
    assert cf.caption_path(img) == img.with_name("chelsea.txt")
    assert cf.read_caption(img) is None
    assert not cf.has_caption(img)


def test_overwrite_writes_utf8_without_bom_or_newline(img):
    res = cf.write_caption(img, "  a cat, 猫, café  ", "overwrite")
    assert res.action == "written"
    assert cf.caption_path(img).read_bytes() == "a cat, 猫, café".encode()
    assert cf.read_caption(img) == "a cat, 猫, café"


def test_skip_keeps_existing_caption(img):
    cf.caption_path(img).write_text("mine", encoding="utf-8")
    res = cf.write_caption(img, "blip says", "skip")
    assert res.action == "skipped" and res.text == "mine"
    assert cf.caption_path(img).read_text(encoding="utf-8") == "mine"


def test_skip_fills_blank_caption_file(img):
    cf.caption_path(img).write_text("  \n", encoding="utf-8")
    assert cf.write_caption(img, "blip says", "skip").action == "written"
    assert cf.read_caption(img) == "blip says"


def test_append_joins_with_separator_and_is_idempotent(img):
    cf.caption_path(img).write_text("mine", encoding="utf-8")
    assert cf.write_caption(img, "blip says", "append").action == "appended"
    assert cf.read_caption(img) == "mine, blip says"
    assert cf.write_caption(img, "blip says", "append").action == "unchanged"
    assert cf.read_caption(img) == "mine, blip says"


def test_append_to_nothing_is_plain_write(img):
    assert cf.write_caption(img, "blip says", "append").action == "written"
    assert cf.read_caption(img) == "blip says"


def test_unknown_mode_refused(img):
    with pytest.raises(ValueError, match="unknown caption mode"):
        cf.write_caption(img, "x", "merge")


def test_unchanged_file_is_not_rewritten(img):
    cf.write_caption(img, "same", "overwrite")
    p = cf.caption_path(img)
    os.utime(p, (1_000_000, 1_000_000))
    assert cf.write_caption(img, "same", "overwrite").action == "unchanged"
    assert p.stat().st_mtime == 1_000_000


def test_crlf_caption_read_normalised_and_style_kept(img):
    p = cf.caption_path(img)
    p.write_bytes(b"line one\r\nline two\r\n")
    assert cf.read_caption(img) == "line one\nline two"
    # The trainer reads text mode: universal newlines, not stripped.
    assert cf.trainer_caption(img) == "line one\nline two\n"
    cf.write_caption(img, "new one\nnew two", "overwrite")
    assert p.read_bytes() == b"new one\r\nnew two"
    cf.write_caption(img, "more", "append")
    assert p.read_bytes() == b"new one\r\nnew two, more"


def test_bom_file_is_read_and_rewritten_without_bom(img):
    p = cf.caption_path(img)
    p.write_bytes("\ufeffa dog".encode())
    assert cf.read_caption(img) == "a dog"
    cf.write_caption(img, "a dog, running", "overwrite")
    assert p.read_bytes() == b"a dog, running"


def test_atomic_write_leaves_old_file_when_rename_fails(img, monkeypatch):
    p = cf.caption_path(img)
    p.write_text("old", encoding="utf-8")

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(fsio.os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        cf.write_caption(img, "new", "overwrite")
    assert p.read_text(encoding="utf-8") == "old"
    assert sorted(x.name for x in p.parent.iterdir()) == ["chelsea.jpg", "chelsea.txt"]


def test_writing_caption_never_touches_the_image(img, checksums):
    before = checksums(img.parent)
    cf.write_caption(img, "a cat", "overwrite")
    after = checksums(img.parent)
    assert after["chelsea.jpg"] == before["chelsea.jpg"]


def test_trainer_caption_filename_fallback(tmp_path):
    p = tmp_path / "0012-  red car.png"
    photo("rocket").save(p)
    assert cf.trainer_caption(p) == "red car"
    assert cf.trainer_caption(p, word_regex=r"\w+", join_string="_") == "red_car"


def test_shared_caption_files(tmp_path):
    a, b, c = tmp_path / "a.jpg", tmp_path / "a.png", tmp_path / "b.png"
    assert cf.shared_caption_files([a, b, c]) == {tmp_path / "a.txt": [a, b]}


def test_load_folder_and_save_changed(tmp_path):
    ims = write_photos(tmp_path / "set", ("astronaut", "chelsea", "coffee"))
    cf.write_caption(ims[0], "astro", "overwrite")
    (tmp_path / "set" / "notes.txt").write_text("not a caption", encoding="utf-8")
    fc = cf.load_folder_captions(tmp_path / "set")
    assert fc.captions == {"astronaut.jpg": "astro", "chelsea.jpg": "", "coffee.jpg": ""}
    assert fc.has_file == {"astronaut.jpg": True, "chelsea.jpg": False, "coffee.jpg": False}
    mtime = cf.caption_path(ims[0]).stat().st_mtime_ns
    written = cf.save_changed(tmp_path / "set", {"astronaut.jpg": "astro", "chelsea.jpg": "a cat ✓"})
    assert written == ["chelsea.jpg"]
    assert cf.caption_path(ims[0]).stat().st_mtime_ns == mtime
    assert cf.read_caption(ims[1]) == "a cat ✓"
    assert not cf.caption_path(ims[2]).exists()


@pytest.mark.parametrize("name", ["../x.jpg", "sub/x.jpg", "..", "", "notes.txt", "missing.jpg", "a\\b.jpg"])
def test_save_changed_refuses_bad_names_before_writing(tmp_path, name):
    ims = write_photos(tmp_path / "set", ("astronaut",))
    with pytest.raises(cf.CaptionNameError):
        cf.save_changed(tmp_path / "set", {"astronaut.jpg": "ok", name: "evil"})
    assert not cf.caption_path(ims[0]).exists()
