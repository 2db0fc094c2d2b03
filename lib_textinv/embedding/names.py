"""Checks on a new embedding's name before ``<embeddings_dir>/<name>.pt`` (SD1/SD2, written by the
webui) or ``<name>.safetensors`` (SDXL, written by us) is created.

Errors stop the creation; warnings are shown and the user may go on. The name is also the prompt
token, so besides file-system rules it matters how the text encoder sees it: CLIP lower-cases
text (names differing only in case are the same token sequence), and a name that is an ordinary
word or one vocabulary token is triggered by every prompt that uses that word.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from lib_textinv.embedding.init_text import STOP_WORDS, TokenCounter
from lib_textinv.kit.embedding_file import EMBEDDING_EXTENSIONS
from lib_textinv.kit.host import EmbeddingInfo
from lib_textinv.kit.token_prefix import check_trigger

# Windows refuses these as file names, with or without an extension (CON.pt, nul.txt).
WINDOWS_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL"] + [f"COM{i}" for i in range(1, 10)] + [f"LPT{i}" for i in range(1, 10)]
)
WINDOWS_FORBIDDEN = '<>:"|?*'
PATH_SEPARATORS = "/\\"
# <name>-<step>.pt.optim, <name>-<step>.png and the run folder all carry the name; 100 characters
# keeps those well inside the 255-byte file-name limit and Windows' 260-character paths.
MAX_NAME_CHARS = 100
# Words a prompt is likely to contain anyway (the tokenizer check catches most others).
_COMMON_TEXT = """
    art style man woman girl boy person people face portrait painting drawing sketch illustration
    cat dog animal house car tree flower sky water city street landscape night day light dark red
    green blue yellow black white color colour beautiful old new young big small little embedding
    token name test model detailed realistic anime cartoon
"""
COMMON_WORDS = STOP_WORDS | frozenset(_COMMON_TEXT.split())


def webui_sanitise(name: str) -> str:
    """What ``textual_inversion.create_embedding`` keeps of a name (textual_inversion.py:275)."""
    return "".join(x for x in name if (x.isalnum() or x in "._- "))


@dataclass
class NameCheck:
    name: str
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    replaces: str | None = None  # the file an explicit overwrite will replace
    exists: bool = False  # an embedding or file of this name is already there
    suggestion: str | None = None  # a name whose tokens clash with no loaded embedding's
    suffix: str = ".pt"  # the new file's type (.safetensors for SDXL)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def file_name(self) -> str:
        return f"{self.name}{self.suffix}"

    def message(self) -> str:
        lines = [f"✗ {e}" for e in self.errors] + [f"⚠ {w}" for w in self.warnings]
        return "\n".join(lines)


def _existing(embeddings: Iterable[EmbeddingInfo | str]) -> list[EmbeddingInfo]:
    return [
        e if isinstance(e, EmbeddingInfo) else EmbeddingInfo(name=e, filename=None, vectors=0, width=None)
        for e in embeddings
    ]


def _same_file(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    return os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))


def check_name(
    name: str,
    embeddings: Iterable[EmbeddingInfo | str] = (),
    overwrite: bool = False,
    counter: TokenCounter | None = None,
    embeddings_dir: str | None = None,
    suffix: str = ".pt",
) -> NameCheck:
    """Validate ``name`` against the file system rules, the webui's sanitisation, the existing
    embeddings (``EmbeddingInfo`` or plain names) and the tokenizer (``counter``, optional);
    ``suffix`` is the type of the file that would be written."""
    check = NameCheck(name=name, suffix=suffix)
    if not name or not name.strip():
        check.errors.append("The name is empty.")
        return check
    check.errors += file_name_errors(name)
    if check.errors:
        return check
    existing = _existing(embeddings)
    _check_existing(check, existing, overwrite, embeddings_dir)
    lower = name.lower()
    case_twins = sorted({e.name for e in existing if e.name != name and e.name.lower() == lower})
    if case_twins:
        check.warnings.append(
            f"“{name}” differs only in case from {', '.join(f'“{t}”' for t in case_twins)}: CLIP lower-cases "
            "prompts, so both are the same token and a prompt cannot tell them apart (on Windows and macOS "
            "the files also collide)."
        )
    check.warnings += token_warnings(name, counter)
    prefix = check_trigger(name, [e.name for e in existing if e.loaded])
    if prefix.clashes:
        check.warnings.append(prefix.warning)
        check.suggestion = prefix.suggestion
    return check


def file_name_errors(name: str) -> list[str]:
    """What keeps ``name`` from being ``<name>.pt`` on every system, unchanged by the webui."""
    errors = []
    if any(c in PATH_SEPARATORS for c in name):
        errors.append(f"“{name}” contains a path separator (/ or \\); a name is a file name, not a path.")
    bad_win = sorted({c for c in name if c in WINDOWS_FORBIDDEN})
    if bad_win:
        errors.append(f"“{name}” contains {' '.join(bad_win)}, which Windows does not allow in file names.")
    controls = [c for c in name if unicodedata.category(c).startswith("C")]
    if controls:
        errors.append(f"“{name.encode('unicode_escape').decode()}” contains control characters.")
    dropped = sorted(
        {c for c in name if c not in PATH_SEPARATORS + WINDOWS_FORBIDDEN and c not in controls}
        - set(webui_sanitise(name))
    )
    if dropped:
        errors.append(
            f"The webui removes {' '.join(dropped)} from names (it keeps letters, digits, “.”, “_”, “-” and "
            f"spaces), so the file would be “{webui_sanitise(name)}.pt” and the token would not match; "
            "leave them out."
        )
    if name != name.strip():
        errors.append(
            "The name starts or ends with a space (Windows drops trailing spaces; prompts trim them)."
        )
    if name.endswith("."):
        errors.append("The name ends with a dot, which Windows drops from file names.")
    if name.startswith("."):
        errors.append(
            "The name starts with a dot: a hidden file on Linux and macOS (and “.”/“..” are folders)."
        )
    stem = name.split(".", maxsplit=1)[0].strip().upper()
    if stem in WINDOWS_RESERVED:
        errors.append(f"“{name}” is a reserved device name on Windows ({stem}); pick another name.")
    if len(name) > MAX_NAME_CHARS:
        errors.append(f"The name is {len(name)} characters long; keep it to {MAX_NAME_CHARS} or fewer.")
    return errors


def _check_existing(
    check: NameCheck, existing: list[EmbeddingInfo], overwrite: bool, embeddings_dir: str | None
) -> None:
    """An embedding or file of that name: refused, or replaced when overwrite is ticked (only the
    very file that would be written: another file of the same stem keeps competing for the token)."""
    name = check.name
    target = os.path.join(embeddings_dir, check.file_name) if embeddings_dir else None
    same = [e for e in existing if e.name == name]
    same += [
        EmbeddingInfo(name=name, filename=f, vectors=0, width=None)
        for f in _same_stem_files(embeddings_dir, name)
        if not _same_file(f, target) and not any(_same_file(f, e.filename) for e in same)
    ]
    if not same and not (target and os.path.exists(target)):
        return
    check.exists = True
    where = (same[0].filename if same and same[0].filename else target) or name
    if not overwrite:
        check.errors.append(
            f"An embedding named “{name}” already exists ({where}); tick “Overwrite” to replace it."
        )
        return
    others = [e for e in same if e.filename and target and not _same_file(e.filename, target)]
    if others:
        check.errors.append(
            f"“{name}” also exists as {others[0].filename}; overwriting would create {target} beside "
            "it and both would compete for the same token. Rename or remove the other file first."
        )
        return
    check.replaces = target or where
    check.warnings.append(
        f"“{name}” exists and will be replaced ({check.replaces}); its trained vectors are lost."
    )


def _same_stem_files(embeddings_dir: str | None, name: str) -> list[str]:
    """``<name>.pt``, ``<name>.safetensors``… at the top of the embeddings folder (the webui loads
    each as the token ``name``, docs/webui-contract.md §10 Embedding database)."""
    if not embeddings_dir:
        return []
    found = (os.path.join(embeddings_dir, f"{name}{ext}") for ext in EMBEDDING_EXTENSIONS)
    return [f for f in found if os.path.isfile(f)]


def token_warnings(name: str, counter: TokenCounter | None) -> list[str]:
    """A name every ordinary prompt would trigger: a common word, or one token the model knows."""
    lower = name.lower()
    words = lower.replace("_", " ").replace("-", " ").split()
    if lower in COMMON_WORDS or (words and all(w in COMMON_WORDS for w in words)):
        stem_word = words[0] if words else lower
        return [
            f"“{name}” is an ordinary word: every prompt that uses it would trigger the embedding. "
            f"A made-up name (e.g. “{stem_word}-ti” or “{stem_word}-emb”) avoids that."
        ]
    if counter is not None and counter.count_tokens(name) == 1:
        return [
            f"“{name}” is a single token the model already knows: prompts that use this word would trigger "
            "the embedding. A made-up name of two or more tokens avoids that."
        ]
    return []
