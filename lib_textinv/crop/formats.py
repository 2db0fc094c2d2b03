"""The formats Crop writes, once: name, file extension, PIL encoder and its settings. The tab's
choices, the API's accepted spellings and the export's encoder all read this table."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PIL import Image


@dataclass(frozen=True)
class OutputFormat:
    name: str  # what the tab shows and crops.json records
    extension: str
    pil_format: str
    save_options: Callable[[int], dict[str, Any]]  # quality (1-100) → PIL save keywords
    aliases: tuple[str, ...] = ()  # other spellings a request may use

    def encode(self, image: Image.Image, quality: int) -> bytes:
        buf = io.BytesIO()
        image.save(buf, self.pil_format, **self.save_options(quality))
        return buf.getvalue()


FORMATS: tuple[OutputFormat, ...] = (
    # Level 3: a third of the default's time for ~8 % larger files (training sets are small).
    OutputFormat("PNG", ".png", "PNG", lambda q: {"compress_level": 3}),
    # Full-resolution colour at high quality; 4:2:0 below, like most cameras.
    OutputFormat(
        "JPEG", ".jpg", "JPEG", lambda q: {"quality": q, "subsampling": 0 if q >= 90 else 2}, ("JPG",)
    ),
    OutputFormat("WEBP", ".webp", "WEBP", lambda q: {"quality": q, "method": 4}),
)
NAMES: tuple[str, ...] = tuple(f.name for f in FORMATS)
DEFAULT = "PNG"
# Every accepted spelling, any case: what the API's request model checks.
PATTERN = "^(?i:" + "|".join(re.escape(s) for f in FORMATS for s in (f.name, *f.aliases)) + ")$"


def by_name(name: str) -> OutputFormat:
    """The format called ``name`` (any case, or an alias such as "jpg"); ValueError otherwise."""
    wanted = str(name).strip().upper()
    for f in FORMATS:
        if wanted == f.name or wanted in f.aliases:
            return f
    raise ValueError(f"format must be one of {', '.join(NAMES)}, got {name!r}")
