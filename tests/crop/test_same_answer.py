"""Exports give the same answer every run, on any folder: compressed TIFFs beside PNGs and JPEGs,
exported over and over by parallel workers (Pillow 9.5's libtiff decoder closed a file descriptor
twice, so parallel decoders hit each other's files: an export failed a file at random, or stopped
without writing crops.json)."""

from __future__ import annotations

import hashlib

from lib_textinv.crop.export import export_folder
from lib_textinv.crop.focal import FocalWeights
from tests.photos import write_compressed_tiff_mix

RUNS = 30


def test_exports_of_compressed_tiffs_are_the_same_every_run(tmp_path):
    source = tmp_path / "tiffs"
    names = sorted(p.name for p in write_compressed_tiff_mix(source, side=128))
    weights = FocalWeights(face=0)  # the Haar cascade costs time and proves nothing here
    first = None
    for run in range(RUNS):
        dest = tmp_path / f"out{run}"
        summary = export_folder(source, (64, 64), dest, weights=weights, workers=8)
        assert summary.failed == [], f"run {run}: {summary.failed}"
        assert summary.written == names
        files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(dest.iterdir())}
        outcome = (summary.written, summary.files, files)
        if first is None:
            first = outcome
        assert outcome == first, f"run {run} differs from the first"
