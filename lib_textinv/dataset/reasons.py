"""Why a file cannot be used, in plain words, decided in one place: the Dataset report, Crop's Auto
and Export, and Captions all say the same thing about the same file (never a raw Python error or
Pillow's own 178-megapixel limit)."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass

from PIL import UnidentifiedImageError

from lib_textinv.kit.images import ImageRefused, TooLarge

# Codes of what makes a file unusable (``FileReport.problems[].code``).
EMPTY, MISSING, UNREADABLE, NOT_IMAGE = "empty", "missing", "unreadable", "not_image"
TRUNCATED, CORRUPT, TOO_LARGE, FAILED = "truncated", "corrupt", "too_large", "failed"


@dataclass(frozen=True)
class Reason:
    code: str
    message: str


_MAGIC = [
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"<!DOCTYPE html", "an HTML page"),
    (b"<html", "an HTML page"),
    (b"\x7fELF", "a program"),
    (b"{", "JSON or text"),
    (b"GIF8", "a GIF"),
    (b"\x89PNG", "a PNG"),
    (b"\xff\xd8", "a JPEG"),
]
_IMAGE_SIGNATURES = ("a PNG", "a JPEG", "a GIF")
_TRUNCATION_WORDS = ("truncated", "end of file", "eof", "not enough data", "buffer is not large enough")


def sniff(head: bytes) -> str:
    """What the first bytes of a file look like, in words ("an HTML page", "text", …)."""
    h = head.lstrip()
    for magic, what in _MAGIC:
        if h[: len(magic)].lower() == magic.lower():
            return what
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return "unknown binary data"
    printable = sum(c.isprintable() or c in "\r\n\t" for c in text)
    return "text" if printable >= 0.95 * max(1, len(text)) else "unknown binary data"


def _head(path: str | os.PathLike | None, data: bytes | None) -> tuple[bytes, int]:
    if data is not None:
        return data[:64], len(data)
    if path is None:
        return b"", -1
    try:
        with open(path, "rb") as f:
            return f.read(64), os.stat(path).st_size
    except OSError:
        return b"", -1


def _not_identified(path: str | os.PathLike | None, data: bytes | None) -> Reason:
    head, size = _head(path, data)
    if size == 0:
        return Reason(EMPTY, "zero bytes: the file is empty")
    what = sniff(head)
    if what in _IMAGE_SIGNATURES:  # the right signature, an unreadable header
        code = TRUNCATED if 0 <= size < 1024 else CORRUPT
        return Reason(code, f"{code}: starts like {what} ({size} bytes) but its header cannot be read")
    return Reason(NOT_IMAGE, f"not an image: the content looks like {what}")


def _file_system(e: OSError, path: str | os.PathLike | None) -> Reason:
    if isinstance(e, FileNotFoundError):
        if path is not None and os.path.islink(path):
            return Reason(MISSING, f"a link to {os.readlink(os.fspath(path))}, which does not exist")
        return Reason(MISSING, "cannot be read: the file does not exist")
    if isinstance(e, PermissionError):
        return Reason(UNREADABLE, "cannot be read: permission denied")
    if isinstance(e, IsADirectoryError):
        return Reason(UNREADABLE, "cannot be read: it is a folder")
    if e.errno == errno.ELOOP:
        return Reason(UNREADABLE, "cannot be read: a link that leads back to itself (a loop of links)")
    return Reason(UNREADABLE, f"cannot be read: {e.strerror or e}")


def _undecodable(e: BaseException) -> Reason:
    msg = str(e) or type(e).__name__
    if isinstance(e, EOFError) or any(w in msg.lower() for w in _TRUNCATION_WORDS):
        return Reason(TRUNCATED, f"truncated: the file ends before the image data does ({msg})")
    return Reason(CORRUPT, f"corrupt: the image data cannot be decoded ({msg})")


def reason_for(
    error: BaseException, path: str | os.PathLike | None = None, data: bytes | None = None
) -> Reason:
    """The plain reason for ``error``, raised while reading or decoding the image at ``path``
    (``data``: its bytes when already read, to name what a non-image looks like)."""
    if isinstance(error, TooLarge):
        return Reason(TOO_LARGE, str(error))
    if isinstance(error, UnidentifiedImageError):
        return _not_identified(path, data)
    if isinstance(error, ImageRefused):
        return Reason(TOO_LARGE, str(error))
    if isinstance(error, OSError) and error.errno is not None:  # the file system's, not a decoder's
        return _file_system(error, path)
    if isinstance(error, OSError | SyntaxError | ValueError | EOFError | MemoryError):
        return _undecodable(error)
    return Reason(FAILED, f"{type(error).__name__}: {error}")  # not the file's fault (an upscaler…)
