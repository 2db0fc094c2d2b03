"""The folder a user names for captions (the tab's prepared folder, the API's ``folder``), checked
in one place: an absolute path (a relative one is refused: it would resolve against the server's
working directory), allowed by the host (``Forbidden``, HTTP 403, outside the allowed folders of a
webui reachable from other machines), an existing folder (ValueError naming what is wrong)."""

from __future__ import annotations

import os
from pathlib import Path

from lib_textinv.kit.files import resolve_existing_dir
from lib_textinv.kit.folder_guard import checked_folder
from lib_textinv.kit.host import Host


def captions_folder(host: Host, folder: str | os.PathLike) -> Path:
    return resolve_existing_dir(checked_folder(folder, host.file_access(), "captions folder"))
