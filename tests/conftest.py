"""Shared fixtures. Everything is real: real photos, real files in tmp folders, no downloads."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from tests.photos import write_photos

# Never let a test reach the network through HF/open_clip/torch hub by accident.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def photo_dir(tmp_path: Path) -> Path:
    """Four real photos (JPEG) in a fresh folder."""
    d = tmp_path / "photos"
    write_photos(d)
    return d


def tree_checksums(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder`` (relative path → digest): before/after checks that
    nothing of the user's was modified."""
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            out[str(p.relative_to(folder))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.fixture
def checksums():
    return tree_checksums
