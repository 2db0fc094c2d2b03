"""Safe file output: atomic writes and destination checks.

Rules (DEVELOPERS.md): never modify a user's source files; write outputs atomically (temp file in
the same folder + ``os.replace``); refuse output folders equal to, or overwriting, the input.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO


class UnsafeDestination(ValueError):
    """The chosen output location would overwrite or mix with the user's sources."""


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "wb", encoding: str | None = None) -> Iterator[IO]:
    """Open a temp file beside ``path``; on success it replaces ``path`` in one rename, on any
    error (or interrupt) it is removed, so readers never see a partial file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temp(path)
    try:
        with os.fdopen(fd, mode, encoding=encoding, newline="" if "b" not in mode else None) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _create_temp(path: Path) -> tuple[int, str]:
    """A new temp file beside ``path``, created with mode 0666 so the kernel applies the user's
    umask, as for any file the user creates (``mkstemp`` would make it owner-only 0600)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = str(path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"{path.parent}: could not create a temporary file for {path.name}")


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_open(path, "wb") as f:
        f.write(data)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """UTF-8 text, newlines written exactly as given."""
    with atomic_open(path, "w", encoding="utf-8") as f:
        f.write(text)


def atomic_save_image(image, path: str | os.PathLike, format: str | None = None, **params) -> None:
    """Save a PIL image atomically; ``format`` defaults to the file extension."""
    path = Path(path)
    fmt = format or {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP"}.get(path.suffix.lower())
    with atomic_open(path, "wb") as f:
        image.save(f, format=fmt, **params)


def _real(p: str | os.PathLike) -> Path:
    return Path(os.path.realpath(os.path.expanduser(os.fspath(p))))


def is_same_or_inside(child: str | os.PathLike, parent: str | os.PathLike) -> bool:
    c, p = _real(child), _real(parent)
    return c == p or p in c.parents


def check_output_dir(
    source_dir: str | os.PathLike, dest_dir: str | os.PathLike, source_files: Sequence[str | os.PathLike] = ()
) -> Path:
    """Return the resolved destination, or raise ``UnsafeDestination`` when it is the source
    folder itself or a path that would overwrite one of ``source_files``."""
    src, dst = _real(source_dir), _real(dest_dir)
    if src == dst:
        raise UnsafeDestination(
            f"the destination {dest_dir} is the source folder itself; choose another folder"
        )
    real_sources = {_real(f) for f in source_files}
    if dst in real_sources:
        raise UnsafeDestination(f"the destination {dest_dir} is one of the source files")
    return dst


def would_overwrite_source(out_file: str | os.PathLike, source_files) -> bool:
    out = _real(out_file)
    return any(out == _real(f) for f in source_files)


def resolve_existing_dir(path: str | os.PathLike) -> Path:
    """A user-given folder: must exist and be a directory. Raises ``ValueError`` with a clear message."""
    if not str(path).strip():
        raise ValueError("no folder given")
    p = _real(path)
    if not p.exists():
        raise ValueError(f"folder not found: {path}")
    if not p.is_dir():
        raise ValueError(f"not a folder: {path}")
    return p
