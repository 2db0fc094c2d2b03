"""Which folders a request may read and write, decided in one place for the tab and the API.

A webui reachable from other machines (``--listen``, ``--share``, ``--ngrok``, ``--server-name``)
refuses to install extensions unless ``--enable-insecure-extension-access`` is given
(``modules/shared_cmd_options.py:17-18`` of webui 1.10.1). We follow that convention: in that case
every folder a user names must lie under an allowed root (the webui's data folder and the folders
listed in the ``textinv_allowed_folders`` setting), else ``Forbidden`` (HTTP 403) says why. On a
local webui any folder keeps working. Either way a folder must be an absolute path: a relative one
would resolve against the server's working directory, which the user cannot see.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


class Forbidden(PermissionError):
    """The folder lies outside the allowed roots of an exposed webui."""


class BadFolder(ValueError):
    """The text is not a usable absolute folder path."""


@dataclass(frozen=True)
class FileAccess:
    """``restricted``: the host is reachable from other machines; then only ``roots`` are allowed."""

    restricted: bool = False
    roots: tuple[str, ...] = ()
    why: str = ""  # e.g. "the webui runs with --listen"


def parse_roots(text: str) -> list[str]:
    """The setting's text: one folder per line or separated by ``;`` (empty entries ignored)."""
    parts = [p.strip() for line in (text or "").splitlines() for p in line.split(";")]
    return [p for p in parts if p]


def _real(p: str | os.PathLike) -> Path:
    return Path(os.path.realpath(os.path.expanduser(os.fspath(p))))


def checked_folder(text: str | os.PathLike, access: FileAccess, what: str = "folder") -> Path:
    """``text`` as an absolute, resolved path that ``access`` allows (it need not exist yet)."""
    raw = os.fspath(text).strip() if text is not None else ""
    if not raw:
        raise BadFolder(f"no {what} given")
    if "\x00" in raw:
        raise BadFolder(f"{what} {raw!r}: contains a NUL character")
    expanded = os.path.expanduser(raw)
    if not os.path.isabs(expanded):
        raise BadFolder(f"{what} {raw!r}: give an absolute path (relative paths are not resolved)")
    resolved = _real(expanded)
    if access.restricted and not any(_inside(resolved, _real(r)) for r in access.roots):
        allowed = ", ".join(access.roots) or "none configured"
        raise Forbidden(
            f"{what} {raw}: outside the allowed folders ({allowed}); {access.why}, so only those are "
            "reachable. Add the folder to Settings → Textual Inversion Helper → allowed folders, or run "
            "the webui with --enable-insecure-extension-access."
        )
    return resolved


def _inside(child: Path, root: Path) -> bool:
    return child == root or root in child.parents
