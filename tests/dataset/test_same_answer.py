"""Scans give the same answer every run, on any folder: compressed TIFFs beside PNGs and JPEGs,
scanned over and over by parallel workers (Pillow 9.5's libtiff decoder closed a file descriptor
twice, so parallel decoders hit each other's files: "Bad file descriptor", a good PNG "corrupt")."""

from __future__ import annotations

from lib_textinv.dataset.scan import ScanOptions, scan_folder
from tests.photos import write_compressed_tiff_mix

RUNS = 30


def test_scans_of_compressed_tiffs_are_the_same_every_run(tmp_path):
    folder = tmp_path / "tiffs"
    names = sorted(p.name for p in write_compressed_tiff_mix(folder))
    opts = ScanOptions(width=128, height=128, workers=8)
    first = None
    for run in range(RUNS):
        report = scan_folder(folder, opts).to_dict()
        assert sorted(f["name"] for f in report["files"]) == names
        refused = [(f["name"], f["problems"]) for f in report["files"] if f["status"] == "refused"]
        assert refused == [], f"run {run}: {refused}"
        if first is None:
            first = report
        assert report == first, f"run {run} differs from the first"
