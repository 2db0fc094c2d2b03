"""Recently scanned folders, newest first, kept in a small JSON file (written atomically)."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from lib_textinv.kit.files import atomic_write_text

logger = logging.getLogger(__name__)


class RecentFolders:
    def __init__(self, path: str | os.PathLike | None, limit: int = 10) -> None:
        self.path = Path(path) if path else None
        self.limit = limit

    def load(self) -> list[str]:
        if not self.path or not self.path.is_file():
            return []
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            logger.warning("ignoring unreadable recent-folders file %s: %s", self.path, e)
            return []
        return [str(x) for x in data if isinstance(x, str)][: self.limit] if isinstance(data, list) else []

    def add(self, folder: str) -> list[str]:
        items = [folder, *[f for f in self.load() if f != folder]][: self.limit]
        if self.path and self.limit > 0:
            try:
                atomic_write_text(self.path, json.dumps(items, indent=1))
            except OSError as e:  # a read-only data dir must not break scanning
                logger.warning("cannot remember recent folders in %s: %s", self.path, e)
        return items
