"""The "TI hashes" entry of an infotext: read it, replace it, merge several.

The webui writes, for every embedding the text encoder used, ``<name>: <shorthash>`` (names
without ``:`` and ``,``), all joined by ``", "`` into one parameter of the infotext's last line
(docs/webui-contract.md §16 "Checkpoints side by side in one batch"; modules/sd_hijack_clip.py:230-243).
It collects them for the whole batch, so the sweep rewrites each cell's entry to the cell's own
embeddings and gives the grid the entries of all its cells.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

KEY = "TI hashes"
# One "key: value" of the parameters line, as the webui parses it (modules/infotext_utils.py:16).
PARAM = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')


def quote(text: str) -> str:
    """A value as the webui writes it into the parameters line (modules/infotext_utils.py:56-60)."""
    if "," not in text and "\n" not in text and ":" not in text:
        return text
    return json.dumps(text, ensure_ascii=False)


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            return str(json.loads(value))
        except ValueError:
            return value
    return value


def _entry_span(params_line: str) -> tuple[int, int, str] | None:
    """(start, end, raw value) of the "TI hashes" parameter, its separating comma included."""
    for m in PARAM.finditer(params_line):
        if m.group(1).strip() == KEY:
            return m.start(), m.end(), m.group(2)
    return None


def entries(infotext: str) -> list[str]:
    """The ``name: hash`` entries of the infotext's "TI hashes" (none when it has no such entry)."""
    found = _entry_span(infotext.rsplit("\n", 1)[-1])
    if found is None:
        return []
    return [e.strip() for e in _unquote(found[2]).split(", ") if e.strip()]


def with_entries(infotext: str, new: Iterable[str]) -> str:
    """The infotext with its "TI hashes" set to ``new`` (removed when empty; added at the end of the
    parameters line when it had none)."""
    new = list(new)
    head, sep, line = infotext.rpartition("\n")
    found = _entry_span(line)
    value = f"{KEY}: {quote(', '.join(new))}" if new else ""
    if found is None:
        line = f"{line}, {value}" if value and line else (line or value)
    else:
        start, end, _raw = found
        before, after = line[:start], line[end:]  # ``before`` ends with the comma, ``after`` starts with " "
        if value:
            line = f"{before}{' ' if before else ''}{value}{',' if after else ''}{after}"
        elif not after:
            line = before.rstrip().rstrip(",")
        else:
            line = before + after if before else after.lstrip()
    return f"{head}{sep}{line}"


def merged(infotexts: Iterable[str]) -> list[str]:
    """Every entry of the given infotexts once, in order of first appearance."""
    out: list[str] = []
    for text in infotexts:
        out.extend(e for e in entries(text) if e not in out)
    return out
