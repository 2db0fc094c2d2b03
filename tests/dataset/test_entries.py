"""Every entry of a scanned folder is accounted for: its images get a row each, and everything
else (captions, hidden files, sub-folders, links that lead nowhere, files without an extension,
other files) a line saying what our steps do with it and what the webui's trainer does."""

from __future__ import annotations

import os

import pytest

from lib_textinv.dataset.entries import EntryKind
from lib_textinv.dataset.scan import scan_folder
from lib_textinv.dataset.section import OTHER_STATUS, table_rows
from tests.photos import photo, write_photos


@pytest.fixture
def mixed(tmp_path):
    d = tmp_path / "mixed"
    write_photos(d, ["astronaut", "chelsea"], size=(96, 96))
    (d / "astronaut.txt").write_text("an astronaut")
    (d / "lonely.txt").write_text("whose caption?")
    small = photo("coffee").resize((64, 48))
    small.save(d / ".hidden.png")
    (d / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1" + bytes(100))
    write_photos(d / "sub", ["rocket", "coins"], size=(64, 64))
    (d / "sub" / "notes.md").write_text("x")
    (d / ".git").mkdir()
    os.symlink("loop", d / "loop")
    os.symlink("loop.jpg", d / "loop.jpg")
    os.symlink(d / "gone.png", d / "dangling")
    os.symlink(d / "sub", d / "linked-folder")
    small.save(d / "no-extension", "PNG")
    (d / "README").write_text("read me")
    small.save(d / "picture.tga")
    (d / "crops.json").write_text("{}")
    os.mkfifo(d / "pipe")
    return d


def test_every_entry_gets_a_row_or_a_line(mixed):
    report = scan_folder(mixed)
    listed = [f.name for f in report.files] + [e.name.rstrip("/") for e in report.others]
    assert sorted(listed) == sorted(os.listdir(mixed))
    assert len(table_rows(report)) == len(os.listdir(mixed))
    assert {f.name for f in report.files} == {"astronaut.jpg", "chelsea.jpg", "loop.jpg"}
    loop_jpg = next(f for f in report.files if f.name == "loop.jpg")
    assert (
        loop_jpg.problems[0].message == "cannot be read: a link that leads back to itself (a loop of links)"
    )


def test_what_happens_to_each_entry(mixed):
    others = {e.name: e for e in scan_folder(mixed).others}
    kinds = {n: e.kind for n, e in others.items()}
    assert kinds == {
        ".DS_Store": EntryKind.HIDDEN,
        ".git/": EntryKind.HIDDEN,
        ".hidden.png": EntryKind.HIDDEN,
        "astronaut.txt": EntryKind.CAPTION,
        "crops.json": EntryKind.OTHER,
        "dangling": EntryKind.BROKEN_LINK,
        "linked-folder/": EntryKind.FOLDER,
        "lonely.txt": EntryKind.LONE_CAPTION,
        "loop": EntryKind.LINK_LOOP,
        "no-extension": EntryKind.NO_EXTENSION,
        "picture.tga": EntryKind.OTHER,
        "pipe": EntryKind.SPECIAL,
        "README": EntryKind.NO_EXTENSION,
        "sub/": EntryKind.FOLDER,
    }
    # pictures our steps never take, but the trainer trains on whatever Pillow opens
    for name in (".hidden.png", "no-extension", "picture.tga"):
        assert others[name].trainer.startswith("trains on it: Pillow opens it as a 64×48"), others[name]
    assert "TGA" in others["picture.tga"].trainer
    assert others[".hidden.png"].ours == "skipped: a hidden file"
    for name in (".DS_Store", "README", "crops.json"):
        assert others[name].trainer == "skips it: Pillow cannot open it", others[name]
    assert others["astronaut.txt"].trainer == "reads it as the caption of astronaut.jpg"
    assert "no image named lonely.*" in others["lonely.txt"].ours
    assert others["sub/"].ours.endswith("(it holds 3 entries, 2 named as images)")
    assert others["sub/"].trainer == "skips it: it reads only the files directly in the folder"
    assert others["dangling"].ours == f"skipped: a link to {mixed / 'gone.png'}, which does not exist"
    assert others["loop"].ours == "skipped: a link that leads back to itself, a loop of links"


def test_the_summary_and_the_json_name_the_other_entries(tmp_path):
    write_photos(tmp_path, ["chelsea"], size=(96, 96))
    (tmp_path / "chelsea.txt").write_text("a cat")
    (tmp_path / "sub").mkdir()
    report = scan_folder(tmp_path)
    assert report.summary.endswith("; 2 other entries (1 caption, 1 folder)"), report.summary
    assert report.to_dict()["others"] == [
        {
            "name": "chelsea.txt",
            "kind": "caption",
            "ours": "the caption of chelsea.jpg: copied along by Crop, edited in Captions",
            "trainer": "reads it as the caption of chelsea.jpg",
        },
        {
            "name": "sub/",
            "kind": "folder",
            "ours": "not read: Dataset, Crop and Captions take the files directly in the folder, "
            "not sub-folders (it is empty)",
            "trainer": "skips it: it reads only the files directly in the folder",
        },
    ]
    rows = table_rows(report)
    assert rows[1][:4] == ["chelsea.txt", "caption", "", OTHER_STATUS]
