"""What a crop run works from, before any pixel: the target size, the destination (never the
source), each image's box and exclusion (the caller's, else ``crops.json``'s for the same file and
size), output names without collisions, and one worker thread per core."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lib_textinv.crop import sidecar as crop_sidecar
from lib_textinv.crop.box import Box
from lib_textinv.crop.focal import opencv_threads
from lib_textinv.crop.sidecar import CropEntry, Sidecar
from lib_textinv.dataset.upright import oriented_size
from lib_textinv.kit import files as fsio

MIN_SIDE, MAX_SIDE = 64, 4096
SIZE_STEP = 64  # what the tab and the API ask for: the trainer's sizes are multiples of 64


def check_target(width: int, height: int) -> tuple[int, int]:
    """Any size the export can make exactly (odd sizes too: the core and its tests use them)."""
    w, h = int(width), int(height)
    for side in (w, h):
        if not MIN_SIDE <= side <= MAX_SIDE:
            raise ValueError(f"target size must be between {MIN_SIDE} and {MAX_SIDE} px, got {w}×{h}")
    return w, h


def check_side(side: int) -> int:
    """One side of a requested size: a multiple of ``SIZE_STEP`` (ValueError says the nearest)."""
    if side % SIZE_STEP:
        nearest = max(SIZE_STEP, round(side / SIZE_STEP) * SIZE_STEP)
        raise ValueError(f"must be a multiple of {SIZE_STEP} (got {side}; try {nearest})")
    return side


def default_destination(source: str | os.PathLike, width: int, height: int) -> Path:
    return Path(source) / f"{width}x{height}"


def check_destination(source: Path, dest: Path, images: Sequence[Path]) -> Path:
    """Resolve and vet the destination (raises fsio.UnsafeDestination)."""
    dest = fsio.check_output_dir(source, dest, list(images))
    if dest.exists() and not dest.is_dir():
        raise fsio.UnsafeDestination(f"the destination {dest} exists and is not a folder")
    return dest


def output_stems(names: list[str]) -> dict[str, str]:
    """Output stem per source name: the source stem, or ``stem-ext`` when two sources share a stem
    (``a.jpg`` and ``a.png`` would both become ``a.png``)."""
    stems: dict[str, list[str]] = {}
    for n in names:
        stems.setdefault(Path(n).stem.lower(), []).append(n)
    out = {}
    for n in names:
        p = Path(n)
        clash = len(stems[p.stem.lower()]) > 1
        out[n] = f"{p.stem}-{p.suffix.lstrip('.').lower()}" if clash else p.stem
    return out


def _restore(entry: CropEntry, path: Path, target: tuple[int, int], old: Sidecar) -> None:
    """The old sidecar's exclusion and outputs for the same file; its boxes for the same size too."""
    prev = old.images.get(path.name)
    if prev is None:
        return
    try:
        same_file = crop_sidecar.restorable(prev, oriented_size(path), path.stat().st_size)
    except Exception:  # noqa: BLE001 - unreadable now: the worker reports the reason
        return
    if same_file:
        entry.excluded, entry.outputs = prev.excluded, prev.outputs
        if old.target == target:
            entry.auto, entry.box = prev.auto, prev.box


def _apply(entry: CropEntry, given: Any) -> None:
    """The caller's box/exclusion for this image (``{"box": [x, y, w, h], "excluded": bool}``)."""
    if not isinstance(given, dict):
        raise ValueError(f"boxes[{entry.name!r}] must be an object with 'box' and/or 'excluded'")
    if given.get("box") is not None:
        entry.box = Box.from_list(given["box"])
    if "excluded" in given:
        entry.excluded = bool(given["excluded"])


def plan_entries(
    images: list[Path], target: tuple[int, int], boxes: dict | None, old: Sidecar | None
) -> dict[str, CropEntry]:
    """Per image: the caller's box/exclusion first, else the sidecar's (same file, same target)."""
    entries: dict[str, CropEntry] = {}
    for p in images:
        entry = CropEntry(name=p.name)
        if old is not None:
            _restore(entry, p, target, old)
        given = (boxes or {}).get(p.name)
        if given is not None:
            _apply(entry, given)
        entries[p.name] = entry
    return entries


def cpu_cores() -> int:
    """Cores this process may use (its CPU affinity), for one worker thread per core."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def one_thread_each(workers: int) -> contextlib.AbstractContextManager[None]:
    """With one worker per core, OpenCV's own threads would only oversubscribe the cores."""
    return opencv_threads(1) if workers > 1 else contextlib.nullcontext()
