"""crops.json: round trip, deterministic text, version 1 still read, clear errors for broken files."""

from __future__ import annotations

import json

import pytest

from lib_textinv.crop import sidecar as crop_sidecar
from lib_textinv.crop.box import Box
from lib_textinv.crop.sidecar import CropEntry, CropsRecord, Sidecar, SidecarError, WrittenFile


def sample() -> Sidecar:
    return Sidecar(
        target=(512, 768),
        options={"format": "PNG", "flip": True},
        weights={"face": 0.9, "corners": 0.5, "entropy": 0.15},
        images={
            "b.jpg": CropEntry(
                "b.jpg",
                (4000, 3000),
                123,
                Box(0, 0, 2000, 3000),
                Box(10, 0, 2000, 3000),
                outputs=("b.png", "b-flip.png"),
            ),
            "a.png": CropEntry("a.png", (600, 600), 9, None, None, excluded=True),
        },
    )


def record(source: str) -> CropsRecord:
    return CropsRecord(
        exports={source: sample()},
        files={
            "b.png": WrittenFile(source, "ab" * 32),
            "a.png": WrittenFile("/elsewhere", "cd" * 32),
        },
    )


def test_round_trip_and_deterministic_text(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    r = record(str(src))
    crop_sidecar.save(tmp_path, r)
    text = (tmp_path / "crops.json").read_text(encoding="utf-8")
    back = crop_sidecar.load(tmp_path)
    assert back == r
    assert back.to_text() == text
    assert back.for_source(src) == sample() and back.for_source(tmp_path) is None
    assert text.index('"a.png"') < text.index('"b.jpg"')  # sorted, whatever the insertion order


def test_a_version_1_record_still_restores_its_crops(tmp_path):
    v1 = sample().to_json() | {"version": 1}
    (tmp_path / "crops.json").write_text(json.dumps(v1), encoding="utf-8")
    back = crop_sidecar.load(tmp_path)
    assert back.for_source("/any/source") == sample()  # boxes apply only to the same file (restorable)
    assert back.files == {}  # no record of what was written: nothing is replaced or removed


def test_missing_sidecar_is_none(tmp_path):
    assert crop_sidecar.load(tmp_path) is None
    assert crop_sidecar.load_quietly(tmp_path) == (None, None)


@pytest.mark.parametrize(
    "text",
    [
        "{broken",
        "[]",
        '{"version": 99, "target": [512, 512]}',
        '{"version": 1, "target": "big"}',
        '{"version": 1, "target": [512, 512], "images": {"a.jpg": {"box": [1, 2]}}}',
        '{"version": 1, "target": [512, 512], "images": {"a.jpg": 5}}',
        '{"version": 2, "exports": [], "files": {}}',
        '{"version": 2, "exports": {"/a": 5}, "files": {}}',
        '{"version": 2, "exports": {}, "files": {"a.png": {"sha256": "00"}}}',
    ],
)
def test_broken_sidecars_raise_a_clear_error(tmp_path, text):
    (tmp_path / "crops.json").write_text(text, encoding="utf-8")
    with pytest.raises(SidecarError):
        crop_sidecar.load(tmp_path)
    side, note = crop_sidecar.load_quietly(tmp_path)
    assert side is None and "crops.json" in note


def test_restorable_only_for_the_same_file():
    e = CropEntry("a.jpg", (100, 50), 1000)
    assert crop_sidecar.restorable(e, (100, 50), 1000)
    assert not crop_sidecar.restorable(e, (50, 100), 1000)
    assert not crop_sidecar.restorable(e, (100, 50), 999)
    assert not crop_sidecar.restorable(None, (100, 50), 1000)
