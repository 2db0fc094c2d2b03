"""Crop says what Dataset says about a file it cannot use: the same plain reason, from one place
(``dataset.reasons``), never a raw Python error or Pillow's own 178-megapixel limit."""

from __future__ import annotations

from lib_textinv.crop.auto import propose_boxes
from lib_textinv.crop.export import export_folder
from lib_textinv.crop.focal import FocalWeights
from lib_textinv.dataset.scan import scan_folder
from tests.badfiles import REFUSED_KINDS, bomb_png, make_corpus

RAW = ("Error", "Exception", "cannot identify image file", "178956970")


def scan_reasons(folder) -> dict[str, str]:
    return {f.name: f.problems[0].message for f in scan_folder(folder).files if not f.usable}


def test_auto_and_export_give_the_dataset_reports_reasons(tmp_path):
    src = tmp_path / "corpus"
    make_corpus(src)
    (src / "huge.png").write_bytes(bomb_png(20000, 10000))  # 200 MP: above Pillow's own limit too
    expected = scan_reasons(src)
    assert set(expected) == set(REFUSED_KINDS) | {"huge.png"}
    assert expected["huge.png"].startswith("20000×10000 (200 MP) is above the 100 MP pixel limit")

    proposals, _ = propose_boxes(src, (256, 256), tmp_path / "out", FocalWeights(face=0))
    auto = {p.name: p.error for p in proposals if p.error}
    summary = export_folder(src, (256, 256), tmp_path / "out", weights=FocalWeights(face=0))
    exported = dict(summary.failed)

    assert auto == expected
    assert exported == expected
    for message in expected.values():
        assert not any(raw in message for raw in RAW), message
