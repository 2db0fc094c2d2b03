"""Caption files: ``<image stem>.txt`` (UTF-8) beside each image, as the webui's dataset reads
them (docs/webui-contract.md §15 Training dataset).

Reading for the editor normalises line endings and strips; ``trainer_caption`` returns exactly
what the trainer puts in ``[filewords]`` (the file as text, not stripped, or the file-name
fallback). Writing is atomic (temp file + rename, ``fsio``), UTF-8 without BOM, keeps a file's
CRLF style, and follows a mode: ``skip`` an image that already has a caption, ``overwrite`` it,
or ``append`` to it.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from lib_textinv.kit import files as fsio
from lib_textinv.kit.images import is_image_name

logger = logging.getLogger(__name__)

CaptionMode = Literal["skip", "overwrite", "append"]
MODES: tuple[str, ...] = ("skip", "overwrite", "append")
APPEND_SEPARATOR = ", "
# The webui's fallback when an image has no caption file: the stem minus leading digits/dashes.
_RE_NUMBERS_AT_START = re.compile(r"^[-\d]+\s*")


class CaptionNameError(ValueError):
    """A caption was addressed by a name that is not an image of the folder."""


def caption_path(image: str | os.PathLike) -> Path:
    p = Path(image)
    return p.with_suffix(".txt")


def normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_caption(image: str | os.PathLike) -> str | None:
    """The caption text of an image (BOM and surrounding whitespace removed, line endings as
    ``\\n``), or None when the image has no caption file."""
    p = caption_path(image)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        return None
    return normalize_newlines(raw.decode("utf-8-sig", errors="replace")).strip()


def trainer_caption(image: str | os.PathLike, word_regex: str = "", join_string: str = " ") -> str:
    """What the webui's trainer uses as ``[filewords]`` for this image (``dataset.py``): the caption
    file read as UTF-8 text with universal newlines and *not* stripped; without a file, the stem
    minus leading digits/dashes, then, if ``word_regex`` (``opts.dataset_filename_word_regex``)
    is set, its matches joined with ``join_string`` (``opts.dataset_filename_join_string``)."""
    p = caption_path(image)
    if p.exists():
        with open(p, encoding="utf-8", errors="replace") as f:
            return f.read()
    text = _RE_NUMBERS_AT_START.sub("", Path(image).stem)
    if word_regex:
        text = (join_string or "").join(re.findall(word_regex, text))
    return text


def _uses_crlf(raw: bytes) -> bool:
    return b"\r\n" in raw


def _encode_like(text: str, crlf: bool) -> str:
    text = normalize_newlines(text)
    return text.replace("\n", "\r\n") if crlf else text


WriteAction = Literal["written", "appended", "skipped", "unchanged"]


@dataclass(frozen=True)
class WriteResult:
    path: Path
    action: WriteAction
    text: str  # the caption now in the file (normalised), or the existing one when skipped


def write_caption(
    image: str | os.PathLike, text: str, mode: CaptionMode = "overwrite", separator: str = APPEND_SEPARATOR
) -> WriteResult:
    """Write ``text`` as the caption of ``image`` atomically.

    ``skip``: leave an existing non-blank caption alone. ``overwrite``: replace it. ``append``:
    existing + ``separator`` + text (no separator when the file is blank; unchanged when the
    caption already ends with the text). A file that used CRLF keeps CRLF. A file whose content
    would not change is not rewritten.
    """
    if mode not in MODES:
        raise ValueError(f"unknown caption mode {mode!r}: choose one of {', '.join(MODES)}")
    p = caption_path(image)
    text = normalize_newlines(text).strip()
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raw = None
    existing = None if raw is None else normalize_newlines(raw.decode("utf-8-sig", errors="replace")).strip()
    crlf = raw is not None and _uses_crlf(raw)

    action: WriteAction
    if existing:
        if mode == "skip":
            return WriteResult(p, "skipped", existing)
        if mode == "append":
            if existing == text or existing.endswith(separator + text) or not text:
                return WriteResult(p, "unchanged", existing)
            new, action = existing + separator + text, "appended"
        else:
            new, action = text, "written"
    else:
        new, action = text, "written"

    encoded = _encode_like(new, crlf)
    if raw is not None and raw == encoded.encode("utf-8"):
        return WriteResult(p, "unchanged", new)
    fsio.atomic_write_text(p, encoded)
    logger.debug("caption %s: %s", action, p)
    return WriteResult(p, action, new)


def has_caption(image: str | os.PathLike) -> bool:
    return bool(read_caption(image))


def shared_caption_files(images: Iterable[str | os.PathLike]) -> dict[Path, list[Path]]:
    """Caption files that more than one image would use (``a.jpg`` and ``a.png`` both read
    ``a.txt``): captioning them separately would make one overwrite the other."""
    by_txt: dict[Path, list[Path]] = {}
    for im in images:
        by_txt.setdefault(caption_path(im), []).append(Path(im))
    return {k: v for k, v in by_txt.items() if len(v) > 1}


@dataclass
class FolderCaptions:
    """The captions of a folder for the editor: image file name → caption ("" when none)."""

    folder: Path
    captions: dict[str, str] = field(default_factory=dict)
    has_file: dict[str, bool] = field(default_factory=dict)


def load_folder_captions(folder: str | os.PathLike) -> FolderCaptions:
    from lib_textinv.dataset.scan import list_images

    root = fsio.resolve_existing_dir(folder)
    out = FolderCaptions(root)
    for im in list_images(root):
        text = read_caption(im)
        out.captions[im.name] = text or ""
        out.has_file[im.name] = text is not None
    return out


def image_in_folder(folder: str | os.PathLike, name: str) -> Path:
    """The image ``name`` directly inside ``folder``; refuses paths, traversal and non-images."""
    if not name or name != os.path.basename(name) or name in (".", "..") or "\\" in name or "\0" in name:
        raise CaptionNameError(f"{name!r} is not a plain file name inside the folder")
    if not is_image_name(name):
        raise CaptionNameError(f"{name!r} is not an image file name")
    p = Path(folder) / name
    if not p.is_file():
        raise CaptionNameError(f"{name!r}: no such image in {folder}")
    return p


def save_changed(
    folder: str | os.PathLike, captions: Mapping[str, str], saved: Mapping[str, str] | None = None
) -> list[str]:
    """Write the captions that differ from ``saved`` (default: what is on disk now); returns the
    image names whose caption file was written. Every name is checked before anything is written."""
    root = fsio.resolve_existing_dir(folder)
    targets = {name: image_in_folder(root, name) for name in captions}
    written = []
    for name, text in captions.items():
        before = saved.get(name) if saved is not None else None
        if before is None:
            before = read_caption(targets[name]) or ""
        if normalize_newlines(text).strip() == normalize_newlines(before).strip():
            continue
        if write_caption(targets[name], text, "overwrite").action != "unchanged":
            written.append(name)
    return written
