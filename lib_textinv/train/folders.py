"""The folders a user names for training (the dataset, the log folder, a run folder to show, the
folder "Crop them" writes), checked by the one rule of ``kit.folder_guard`` for the tab and the
API alike: absolute paths only, and on a webui reachable from other machines only under the
allowed folders (``BadFolder``: a ValueError; ``Forbidden``: a PermissionError, HTTP 403).

The host's own training log folder is allowed as well (docs/webui-contract.md §23 "A webui
reachable from other machines"): the webui's Train tab writes its runs there by default, and it
lies in the webui's folder but outside its data folder (§8 "The loaded model and the folders")."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from lib_textinv.kit.folder_guard import FileAccess, checked_folder
from lib_textinv.kit.host import Facts


def log_access(host: Facts) -> FileAccess:
    """The host's file access, with its training log folder among the allowed roots."""
    access, log_dir = host.file_access(), host.paths().ti_log_dir
    if access.restricted and log_dir:
        access = dataclasses.replace(access, roots=(*access.roots, log_dir))
    return access


def checked_dataset_folder(host: Facts, text: str) -> Path:
    return checked_folder(text, host.file_access(), "dataset folder")


def checked_crop_folder(host: Facts, text: str | Path) -> Path:
    return checked_folder(text, host.file_access(), "crop folder")


def checked_log_folder(host: Facts, text: str) -> Path:
    return checked_folder(text, log_access(host), "log folder")


def checked_run_folder(host: Facts, text: str) -> Path:
    return checked_folder(text, log_access(host), "run folder")
