"""What an export may do to the files already in its destination, decided from the record of what
earlier exports wrote there (``crops.json``'s files: source folder and SHA-256 of each file).

An export writes a file where there is none, or where the same bytes already are. It replaces or
removes a file only when an export of the *same source* wrote it and it still holds exactly what
was written. Anything else is kept and said: a file it did not write (the user's, or another
source's export), and a file changed since it was written (a caption the user edited; with the
explicit choice ``overwrite_edited_captions`` such a caption is replaced).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from lib_textinv.crop.sidecar import SIDECAR_NAME, WrittenFile
from lib_textinv.kit import files as fsio

CAPTION_SUFFIX = ".txt"


class Decision(Enum):
    WRITE = "write"  # nothing there, or our own unchanged earlier output
    SAME = "same"  # the very bytes are already there: nothing to write
    KEEP = "keep"  # someone else's, or changed since: not overwritten


@dataclass(frozen=True)
class Kept:
    """A file left as it was, and why."""

    name: str
    reason: str


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _current_hash(path: Path) -> str | None:
    try:
        return sha256(path.read_bytes())
    except FileNotFoundError:
        return None


def is_caption(name: str) -> bool:
    return name.endswith(CAPTION_SUFFIX)


def decide(
    dest: Path,
    name: str,
    data: bytes,
    source: str,
    written: Mapping[str, WrittenFile],
    overwrite_edited_captions: bool = False,
) -> tuple[Decision, str]:
    """Whether this export may put ``data`` at ``dest/name``: (decision, the reason when KEEP)."""
    if (dest / name).is_dir():
        return Decision.KEEP, "a folder of that name is there: not replaced"
    current = _current_hash(dest / name)
    if current is None:
        return Decision.WRITE, ""
    if current == sha256(data):
        return Decision.SAME, ""
    record = written.get(name)
    if record is None:
        return Decision.KEEP, "already there and not written by an export: not overwritten"
    if record.source != source:
        return Decision.KEEP, f"written by the export of {record.source}: not overwritten"
    if current == record.sha256:
        return Decision.WRITE, ""
    if is_caption(name):
        if overwrite_edited_captions:
            return Decision.WRITE, ""
        return (
            Decision.KEEP,
            "edited since the last export: kept (choose 'overwrite edited captions' to replace it)",
        )
    return Decision.KEEP, "changed since the last export: not overwritten"


def remove_stale(
    dest: Path, source: str, written: Mapping[str, WrittenFile], produced: Iterable[str], sources: list[Path]
) -> tuple[list[str], list[Kept]]:
    """Remove the files an earlier export of ``source`` wrote that this one did not produce (an
    image excluded since, a format changed): left behind they would be trained on. Only files still
    holding what was written go; the others are kept and said. Returns (removed, kept)."""
    keep = set(produced)
    removed, kept = [], []
    for name, record in sorted(written.items()):
        p = dest / name
        if record.source != source or name in keep or Path(name).name != name or name == SIDECAR_NAME:
            continue
        if not p.is_file() or fsio.would_overwrite_source(p, sources):
            continue
        current = _current_hash(p)
        if current is None:
            continue
        if current != record.sha256:
            kept.append(Kept(name, "an earlier export's file, changed since: not removed"))
            continue
        p.unlink()
        removed.append(name)
    return removed, kept
