"""An export replaces or removes only what it wrote itself for the same source folder, and says so;
a caption the user edited in the prepared folder is kept unless they choose to overwrite it; every
file it writes gets the user's umask permissions."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from lib_textinv.crop import section as ui_crop
from lib_textinv.crop import sidecar as crop_sidecar
from lib_textinv.crop.export import ExportOptions, export_folder
from lib_textinv.crop.focal import FocalWeights
from lib_textinv.kit.host import StandaloneHost
from lib_textinv.kit.ids import API_PREFIX
from tests.api_client import api_client, wait_job
from tests.photos import write_photos

NO_FACES = FocalWeights(face=0)  # the Haar cascade costs time and proves nothing here


def digests(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()
    }


def source(
    tmp_path: Path, name: str, photos: tuple[str, ...], captions: bool = False, size=(160, 120)
) -> Path:
    folder = tmp_path / name
    write_photos(folder, photos, size=size)
    if captions:
        for p in photos:
            (folder / f"{p}.txt").write_text(f"{p}, from {name}", encoding="utf-8")
    return folder


def export(src: Path, dest: Path, **options):
    return export_folder(src, (64, 64), dest, options=ExportOptions(**options), weights=NO_FACES)


def test_exporting_another_folder_keeps_the_first_folders_files(tmp_path):
    a = source(tmp_path, "a", ("astronaut", "chelsea"))
    b = source(tmp_path, "b", ("coffee", "chelsea"), size=(90, 160))  # chelsea: in both, another crop
    dest = tmp_path / "prepared"
    export(a, dest)
    a_files = {n: d for n, d in digests(dest).items() if n != "crops.json"}
    assert set(a_files) == {"astronaut.png", "chelsea.png"}

    s = export(b, dest)
    after = digests(dest)
    assert {n: after[n] for n in a_files} == a_files  # nothing of a's export removed or overwritten
    assert s.removed == [] and s.written == ["coffee.jpg"]
    assert [(k.name, k.reason) for k in s.kept] == [
        ("chelsea.png", f"written by the export of {a}: not overwritten")
    ]
    record = crop_sidecar.load(dest)
    assert record.for_source(a) is not None and record.for_source(b) is not None  # both kept
    assert {n: f.source for n, f in record.files.items()} == {
        "astronaut.png": str(a),
        "chelsea.png": str(a),
        "coffee.png": str(b),
    }
    # exporting a again (chelsea excluded) removes only a's own chelsea.png, and says so
    s = export_folder(a, (64, 64), dest, boxes={"chelsea.jpg": {"excluded": True}}, weights=NO_FACES)
    assert s.removed == ["chelsea.png"] and s.kept == []
    assert set(digests(dest)) == {"astronaut.png", "coffee.png", "crops.json"}


def test_a_file_the_export_did_not_write_is_never_overwritten_or_removed(tmp_path):
    a = source(tmp_path, "a", ("astronaut", "chelsea"))
    dest = tmp_path / "prepared"
    dest.mkdir()
    (dest / "astronaut.png").write_bytes(b"the user's own picture")
    s = export(a, dest)
    assert (dest / "astronaut.png").read_bytes() == b"the user's own picture"
    assert s.written == ["chelsea.jpg"]
    assert [(k.name, k.reason) for k in s.kept] == [
        ("astronaut.png", "already there and not written by an export: not overwritten")
    ]
    # an output of ours that the user changed is not removed when its image is excluded
    (dest / "chelsea.png").write_bytes(b"retouched by hand")
    s = export_folder(a, (64, 64), dest, boxes={"chelsea.jpg": {"excluded": True}}, weights=NO_FACES)
    assert s.removed == [] and (dest / "chelsea.png").read_bytes() == b"retouched by hand"
    assert ("chelsea.png", "an earlier export's file, changed since: not removed") in [
        (k.name, k.reason) for k in s.kept
    ]


def test_an_edited_caption_is_kept_unless_the_user_chooses_to_overwrite_it(tmp_path):
    a = source(tmp_path, "a", ("astronaut", "chelsea"), captions=True)
    dest = tmp_path / "prepared"
    export(a, dest)
    assert (dest / "astronaut.txt").read_text() == "astronaut, from a"
    (dest / "astronaut.txt").write_text("an astronaut in a white suit, edited")  # edited in Captions
    (a / "chelsea.txt").write_text("a cat, recaptioned at the source")  # the source changed

    s = export(a, dest)
    assert (dest / "astronaut.txt").read_text() == "an astronaut in a white suit, edited"
    assert (dest / "chelsea.txt").read_text() == "a cat, recaptioned at the source"  # unedited: updated
    assert [k.name for k in s.kept] == ["astronaut.txt"]
    assert s.kept[0].reason.startswith("edited since the last export: kept")
    assert s.written == ["astronaut.jpg", "chelsea.jpg"]  # the pictures themselves are exported
    # still kept the next time (the record keeps what the export wrote, not the edit)
    assert [k.name for k in export(a, dest).kept] == ["astronaut.txt"]

    s = export(a, dest, overwrite_edited_captions=True)
    assert (dest / "astronaut.txt").read_text() == "astronaut, from a" and s.kept == []


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o002])
def test_outputs_get_the_umask_permissions(tmp_path, umask):
    a = source(tmp_path, "a", ("astronaut",), captions=True)
    dest = tmp_path / "prepared"
    old = os.umask(umask)
    try:
        export(a, dest, flip=True)
    finally:
        os.umask(old)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in dest.iterdir()}
    assert set(modes) == {
        "astronaut.png",
        "astronaut-flip.png",
        "astronaut.txt",
        "astronaut-flip.txt",
        "crops.json",
    }
    assert modes == dict.fromkeys(modes, 0o666 & ~umask)
    assert stat.S_IMODE(dest.stat().st_mode) == 0o777 & ~umask


def test_the_tab_and_the_api_say_what_was_removed_and_kept(tmp_path):
    a = source(tmp_path, "a", ("astronaut", "chelsea"), captions=True)
    dest = tmp_path / "prepared"
    export(a, dest)
    (dest / "astronaut.txt").write_text("edited")
    host = StandaloneHost()
    boxes = '{"target": [64, 64], "images": {"chelsea.jpg": {"excluded": true}}}'
    args = ("PNG", 95, False, True, "Lanczos", "#fff", 0, 0.5, 0.15)
    html_out, _ = ui_crop.do_export(host, str(a), 64, 64, str(dest), boxes, *args)
    assert 'data-removed="2" data-kept="1"' in html_out
    assert "Removed what an earlier export of this folder wrote: chelsea.png, chelsea.txt" in html_out
    assert "Kept: astronaut.txt — edited since the last export" in html_out
    assert (dest / "astronaut.txt").read_text() == "edited"

    client = api_client(host)
    body = {"folder": str(a), "width": 64, "height": 64, "destination": str(dest)}
    body["options"] = {"overwrite_edited_captions": True}
    body["boxes"] = {"chelsea.jpg": {"excluded": False}}
    r = client.post(f"{API_PREFIX}/crop", json=body)
    assert r.status_code == 200, r.text
    result = wait_job(client, r.json()["job_id"])["result"]
    assert result["kept"] == [] and result["removed"] == []
    assert (dest / "astronaut.txt").read_text() == "astronaut, from a"
    body["boxes"] = {"astronaut.jpg": {"excluded": True}}
    (dest / "astronaut.txt").write_text("edited again")
    result = wait_job(client, client.post(f"{API_PREFIX}/crop", json=body).json()["job_id"])["result"]
    assert result["removed"] == ["astronaut.png"]
    assert result["kept"] == [
        {"name": "astronaut.txt", "reason": "an earlier export's file, changed since: not removed"}
    ]


def test_the_same_bytes_from_another_folder_stay_the_first_folders(tmp_path):
    a = source(tmp_path, "a", ("chelsea",))
    b = source(tmp_path, "b", ("chelsea", "coffee"))  # the very same chelsea picture
    dest = tmp_path / "prepared"
    export(a, dest)
    s = export(b, dest)
    assert s.written == ["chelsea.jpg", "coffee.jpg"] and s.kept == []  # chelsea.png is already right
    assert crop_sidecar.load(dest).files["chelsea.png"].source == str(a)
    # so b dropping its chelsea does not remove the file a's export wrote
    s = export_folder(b, (64, 64), dest, boxes={"chelsea.jpg": {"excluded": True}}, weights=NO_FACES)
    assert s.removed == [] and (dest / "chelsea.png").exists()
