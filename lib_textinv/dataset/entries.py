"""Every entry of a folder that is not one of its images: captions, hidden files, sub-folders,
links, files without an extension, anything else. Each gets a line saying what our steps do with
it and what the webui's trainer does with it when pointed at this folder.

The trainer (docs/webui-contract.md §15 Training dataset) lists the folder itself, not its
sub-folders, hidden files included (``os.listdir``, modules/textual_inversion/dataset.py:51);
trains on every entry Pillow can open and convert, whatever its name (``images.read`` with every
Pillow format, :62-72), skips the rest silently; and reads ``<stem>.txt`` beside an image as its
caption (:74-79). Our steps take only files named as images (``kit.images.IMAGE_EXTENSIONS``),
not hidden. So a hidden or oddly named picture is trained on there but never cropped here: say so.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from lib_textinv.kit.images import DEFAULT_MAX_PIXELS, all_formats, identify, is_image_name

PROBE_BYTES = 64 * 1024 * 1024  # larger files are not read to tell what the trainer makes of them
OUR_STEPS = "Dataset, Crop and Captions"


class EntryKind(str, Enum):
    CAPTION = "caption"
    LONE_CAPTION = "caption without image"
    HIDDEN = "hidden"
    FOLDER = "folder"
    LINK_LOOP = "link loop"
    BROKEN_LINK = "broken link"
    NO_EXTENSION = "no extension"
    SPECIAL = "not a regular file"
    OTHER = "other file"


@dataclass(frozen=True)
class OtherEntry:
    name: str
    kind: EntryKind
    ours: str  # what our steps do with it, and why
    trainer: str  # what the webui's trainer does with it

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind.value, "ours": self.ours, "trainer": self.trainer}


def trainer_view(path: Path) -> str:
    """What the trainer does with the file at ``path``: it trains on whatever Pillow opens."""
    try:
        if path.stat().st_size > PROBE_BYTES:
            return "tries to open it as a picture (too large for the scan to check what it holds)"
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return "skips it: it cannot be read"
    try:
        im = identify(data, all_formats())
    except (OSError, SyntaxError, ValueError, EOFError):
        return "skips it: Pillow cannot open it"
    with im:
        fmt, (w, h) = im.format or "a picture", im.size
        if w * h > DEFAULT_MAX_PIXELS:
            return f"tries to train on it: Pillow opens it as a {w}×{h} {fmt}"
        try:
            im.convert("RGB")
        except (OSError, SyntaxError, ValueError, EOFError, MemoryError):
            return f"skips it: Pillow opens it as {fmt} but cannot decode it"
    return f"trains on it: Pillow opens it as a {w}×{h} {fmt}, whatever its name"


def _folder_contents(path: Path) -> str:
    try:
        names = [e.name for e in os.scandir(path)]
    except OSError as e:
        return f"it cannot be listed: {e.strerror or e}"
    if not names:
        return "it is empty"
    images = sum(1 for n in names if is_image_name(n) and not n.startswith("."))
    return f"it holds {len(names)} entr{'y' if len(names) == 1 else 'ies'}, {images} named as images"


def _link_problem(path: Path) -> EntryKind | None:
    """BROKEN_LINK or LINK_LOOP for a link that leads nowhere; None otherwise."""
    if not path.is_symlink():
        return None
    try:
        path.stat()
    except OSError as e:
        return EntryKind.LINK_LOOP if e.errno == errno.ELOOP else EntryKind.BROKEN_LINK
    return None


def _linked(path: Path, kind: EntryKind) -> OtherEntry:
    target = os.readlink(path)
    what = "a link that leads back to itself" if kind is EntryKind.LINK_LOOP else f"a link to {target}"
    why = "a loop of links" if kind is EntryKind.LINK_LOOP else "which does not exist"
    return OtherEntry(path.name, kind, f"skipped: {what}, {why}", "skips it: it cannot open it")


def _folder(path: Path) -> OtherEntry:
    ours = f"not read: {OUR_STEPS} take the files directly in the folder, not sub-folders"
    return OtherEntry(
        path.name + "/",
        EntryKind.HIDDEN if path.name.startswith(".") else EntryKind.FOLDER,
        f"{ours} ({_folder_contents(path)})",
        "skips it: it reads only the files directly in the folder",
    )


def _caption(path: Path, captioned: dict[str, list[str]]) -> OtherEntry:
    images = captioned.get(path.name)
    if images:
        of = " and ".join(images)
        ours = f"the caption of {of}: copied along by Crop, edited in Captions"
        return OtherEntry(path.name, EntryKind.CAPTION, ours, f"reads it as the caption of {of}")
    stem = Path(path.name).stem
    ours = f"not used: no image named {stem}.* here, so it is nobody's caption"
    return OtherEntry(
        path.name, EntryKind.LONE_CAPTION, ours, "skips it: it is no image and nobody's caption"
    )


def _file(path: Path, captioned: dict[str, list[str]]) -> OtherEntry:
    name = path.name
    if name.startswith("."):
        return OtherEntry(name, EntryKind.HIDDEN, "skipped: a hidden file", trainer_view(path))
    if name.endswith(".txt"):
        return _caption(path, captioned)
    kind = EntryKind.OTHER if Path(name).suffix else EntryKind.NO_EXTENSION
    ours = f"not used: {OUR_STEPS} take only files named as images (.png, .jpg, .webp, …)"
    return OtherEntry(name, kind, ours, trainer_view(path))


def describe_entry(path: Path, captioned: dict[str, list[str]]) -> OtherEntry:
    """One entry of the folder that is not among its images."""
    broken = _link_problem(path)
    if broken is not None:
        return _linked(path, broken)
    if path.is_dir():
        return _folder(path)
    mode = path.stat().st_mode
    if not stat.S_ISREG(mode):
        ours = "skipped: not a regular file (a pipe, socket or device)"
        return OtherEntry(path.name, EntryKind.SPECIAL, ours, "tries to open it as a picture")
    return _file(path, captioned)


def other_entries(folder: Path, images: Sequence[Path]) -> list[OtherEntry]:
    """Every entry of ``folder`` but ``images``, by name."""
    captioned: dict[str, list[str]] = {}
    for p in images:
        # <stem>.txt beside the image (modules/textual_inversion/dataset.py:74)
        captioned.setdefault(p.with_suffix(".txt").name, []).append(p.name)
    taken = {p.name for p in images}
    entries = sorted((e for e in folder.iterdir() if e.name not in taken), key=lambda p: p.name.lower())
    return [describe_entry(p, captioned) for p in entries]
