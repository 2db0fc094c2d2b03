"""``crops.json``: the record of a crop export, kept in the destination folder.

It holds the target size, the options and, per source image, its size, the box Auto proposed,
the box used (the user's edit), whether it was excluded and which files were written. Reopening
the folder restores the edits; exporting again with it reproduces every file byte for byte, so
the sidecar itself is written deterministically (sorted keys, no timestamps).
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
VERSION = 1


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
    target: tuple[int, int]
    options: dict = field(default_factory=dict)
    weights: dict = field(default_factory=dict)
    images: dict[str, CropEntry] = field(default_factory=dict)

    def to_text(self) -> str:
        data = {
            "version": VERSION,
            "target": list(self.target),
            "options": self.options,
            "weights": self.weights,
            "images": {name: self.images[name].to_json() for name in sorted(self.images)},
        }
        return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"

    @classmethod
    def from_text(cls, text: str) -> Sidecar:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise SidecarError(f"{SIDECAR_NAME} is not valid JSON ({e})") from e
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise SidecarError(
                f"{SIDECAR_NAME} has an unknown layout (version {data.get('version')!r})"
                if isinstance(data, dict)
                else f"{SIDECAR_NAME} is not an object"
            )
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


def sidecar_path(dest: str | os.PathLike) -> Path:
    return Path(dest) / SIDECAR_NAME


def load(dest: str | os.PathLike) -> Sidecar | None:
    """The sidecar of ``dest``; None when there is none. Raises SidecarError when it is unusable."""
    p = sidecar_path(dest)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as e:
        raise SidecarError(f"cannot read {p}: {e}") from e
    return Sidecar.from_text(text)


def load_quietly(dest: str | os.PathLike) -> tuple[Sidecar | None, str | None]:
    """(sidecar or None, a note for the user when one existed but was unusable)."""
    try:
        return load(dest), None
    except SidecarError as e:
        logger.warning("ignoring %s: %s", sidecar_path(dest), e)
        return None, f"ignored {SIDECAR_NAME}: {e}"


def save(dest: str | os.PathLike, sidecar: Sidecar) -> Path:
    p = sidecar_path(dest)
    atomic_write_text(p, sidecar.to_text())
    return p


def restorable(entry: CropEntry | None, size: tuple[int, int], file_bytes: int) -> bool:
    """An old entry applies only to the same source file (same pixel size and byte length)."""
    return entry is not None and entry.size == tuple(size) and entry.file_bytes == file_bytes
