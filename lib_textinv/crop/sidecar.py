"""``crops.json``: the record of the crop exports into a destination folder.

Per source folder (its resolved path) it holds the target size, the options and, per source image,
its size, the box Auto proposed, the box used (the user's edit), whether it was excluded and which
files were written. Beside that, every file any export wrote here, with the source it was written
for and the SHA-256 of what was written: an export replaces or removes only its own source's files,
and only while they still hold what it wrote (``crop.ledger``). Reopening the folder restores the
edits; exporting again with it reproduces every file byte for byte, so the record itself is written
deterministically (sorted keys, no timestamps).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from lib_textinv.crop.box import Box
from lib_textinv.kit.files import atomic_write_text

logger = logging.getLogger(__name__)

SIDECAR_NAME = "crops.json"
VERSION = 2
LEGACY_SOURCE = ""  # version 1 did not say which folder it was exported from


class SidecarError(ValueError):
    """crops.json exists but cannot be used; the message says why."""


@dataclass
class CropEntry:
    """One source image's crop. ``box`` None means: use Auto's box."""

    name: str
    size: tuple[int, int] | None = None  # pixels after EXIF orientation
    file_bytes: int | None = None  # detects a source replaced since the boxes were drawn
    auto: Box | None = None
    box: Box | None = None
    excluded: bool = False
    outputs: tuple[str, ...] = ()

    def to_json(self) -> dict:
        return {
            "size": list(self.size) if self.size else None,
            "file_bytes": self.file_bytes,
            "auto": self.auto.as_list() if self.auto else None,
            "box": self.box.as_list() if self.box else None,
            "excluded": bool(self.excluded),
            "outputs": list(self.outputs),
        }

    @classmethod
    def from_json(cls, name: str, d: dict) -> CropEntry:
        if not isinstance(d, dict):
            raise SidecarError(f"entry {name!r} is not an object")
        size = d.get("size")
        try:
            return cls(
                name=name,
                size=(int(size[0]), int(size[1])) if size else None,
                file_bytes=int(d["file_bytes"]) if d.get("file_bytes") is not None else None,
                auto=Box.from_list(d["auto"]) if d.get("auto") else None,
                box=Box.from_list(d["box"]) if d.get("box") else None,
                excluded=bool(d.get("excluded", False)),
                outputs=tuple(str(o) for o in d.get("outputs") or ()),
            )
        except (TypeError, ValueError, KeyError, IndexError) as e:
            raise SidecarError(f"entry {name!r}: {e}") from e


@dataclass
class Sidecar:
    """One source folder's crops."""

    target: tuple[int, int]
    options: dict = field(default_factory=dict)
    weights: dict = field(default_factory=dict)
    images: dict[str, CropEntry] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "target": list(self.target),
            "options": self.options,
            "weights": self.weights,
            "images": {name: self.images[name].to_json() for name in sorted(self.images)},
        }

    @classmethod
    def from_json(cls, data: dict) -> Sidecar:
        try:
            target = (int(data["target"][0]), int(data["target"][1]))
        except (KeyError, TypeError, ValueError, IndexError) as e:
            raise SidecarError(f"{SIDECAR_NAME}: bad target size ({e})") from e
        images = data.get("images") or {}
        if not isinstance(images, dict):
            raise SidecarError(f"{SIDECAR_NAME}: 'images' is not an object")
        return cls(
            target=target,
            options=dict(data.get("options") or {}),
            weights=dict(data.get("weights") or {}),
            images={str(n): CropEntry.from_json(str(n), d) for n, d in images.items()},
        )


@dataclass(frozen=True)
class WrittenFile:
    """A file an export wrote: for which source folder, and the SHA-256 of its bytes then."""

    source: str
    sha256: str


def source_key(source: str | os.PathLike) -> str:
    """How a source folder is named in the record: its resolved absolute path."""
    return os.path.realpath(os.fspath(source))


@dataclass
class CropsRecord:
    """The whole of ``crops.json``: each source's crops, and every file written here."""

    exports: dict[str, Sidecar] = field(default_factory=dict)  # source_key → its crops
    files: dict[str, WrittenFile] = field(default_factory=dict)  # file name → who wrote what

    def for_source(self, source: str | os.PathLike) -> Sidecar | None:
        """The crops of ``source``; a version-1 record's crops for any source (its boxes are
        restored only for the same file, ``restorable``)."""
        return self.exports.get(source_key(source)) or self.exports.get(LEGACY_SOURCE)

    def to_text(self) -> str:
        data = {
            "version": VERSION,
            "exports": {k: self.exports[k].to_json() for k in sorted(self.exports)},
            "files": {n: {"source": f.source, "sha256": f.sha256} for n, f in sorted(self.files.items())},
        }
        return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"

    @classmethod
    def from_text(cls, text: str) -> CropsRecord:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise SidecarError(f"{SIDECAR_NAME} is not valid JSON ({e})") from e
        if not isinstance(data, dict):
            raise SidecarError(f"{SIDECAR_NAME} is not an object")
        if data.get("version") == 1:  # one export, source unknown, no record of file contents
            return cls(exports={LEGACY_SOURCE: Sidecar.from_json(data)})
        if data.get("version") != VERSION:
            raise SidecarError(f"{SIDECAR_NAME} has an unknown layout (version {data.get('version')!r})")
        exports, files = data.get("exports", {}), data.get("files", {})
        if not isinstance(exports, dict) or not isinstance(files, dict):
            raise SidecarError(f"{SIDECAR_NAME}: 'exports' and 'files' must be objects")
        for name, d in exports.items():
            if not isinstance(d, dict):
                raise SidecarError(f"{SIDECAR_NAME}: the export of {name!r} is not an object")
        try:
            written = {str(n): WrittenFile(str(f["source"]), str(f["sha256"])) for n, f in files.items()}
        except (KeyError, TypeError) as e:
            raise SidecarError(f"{SIDECAR_NAME}: a written file lacks its source or hash ({e})") from e
        return cls({str(k): Sidecar.from_json(d) for k, d in exports.items()}, written)


def sidecar_path(dest: str | os.PathLike) -> Path:
    return Path(dest) / SIDECAR_NAME


def load(dest: str | os.PathLike) -> CropsRecord | None:
    """The record of ``dest``; None when there is none. Raises SidecarError when it is unusable."""
    p = sidecar_path(dest)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as e:
        raise SidecarError(f"cannot read {p}: {e}") from e
    return CropsRecord.from_text(text)


def load_quietly(dest: str | os.PathLike) -> tuple[CropsRecord | None, str | None]:
    """(record or None, a note for the user when one existed but was unusable)."""
    try:
        return load(dest), None
    except SidecarError as e:
        logger.warning("ignoring %s: %s", sidecar_path(dest), e)
        return None, f"ignored {SIDECAR_NAME}: {e}"


def load_for_export(dest: str | os.PathLike) -> CropsRecord | None:
    """The record an export will extend; SidecarError when one is there but unusable: it is not
    ours to replace (perhaps another tool's file), so the export does not start."""
    if not Path(dest).is_dir():
        return None
    try:
        return load(dest)
    except SidecarError as e:
        raise SidecarError(
            f"{sidecar_path(dest)} cannot be used ({e}); it is not replaced: move it away or choose "
            "another destination"
        ) from e


def save(dest: str | os.PathLike, record: CropsRecord) -> Path:
    p = sidecar_path(dest)
    atomic_write_text(p, record.to_text())
    return p


def restorable(entry: CropEntry | None, size: tuple[int, int], file_bytes: int) -> bool:
    """An old entry applies only to the same source file (same pixel size and byte length)."""
    return entry is not None and entry.size == tuple(size) and entry.file_bytes == file_bytes
