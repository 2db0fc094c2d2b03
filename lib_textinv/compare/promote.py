"""Promote a chosen checkpoint: copy it into ``embeddings/`` under a trigger name, safely.

The webui names an embedding after the FILE STEM (webui-api.md §3.4, §3.16), so the tutorial's
``charcoalstyle-500`` is simply ``embeddings/charcoalstyle-500.pt``. Rules:

* the trigger name is validated (a plain file stem: no folders, no traversal);
* an existing embedding with the same token (any extension, any sub-folder, any letter case —
  CLIP lower-cases prompts) is never replaced unless the caller says so, and a same-token file
  at another path is never removed: that is refused with the reason;
* the copy is atomic (temp file + rename) and gets a FRESH mtime: the webui caches the file's
  sha256 under ``textual_inversion/<token>`` and re-hashes only when the mtime is newer (§3.16,
  hashes.py:22-66), so a copy keeping the checkpoint's old mtime would report a stale "TI hashes";
* the vectors must fit the loaded model (width), and unsafe pickles are refused before copying;
* afterwards the host force-reloads the embedding database (an overwrite in place does not
  change the folder mtime, §3.17) — under the queue lock, which is the bridge's job.
"""

from __future__ import annotations

import logging
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from lib_textinv.compare.sweep_plan import DEFAULT_PROMPTS, place_trigger
from lib_textinv.kit.embedding_file import (
    EMBEDDING_EXTENSIONS,
    EmbeddingFileError,
    check_width,
    load_embedding,
)
from lib_textinv.kit.files import atomic_open

logger = logging.getLogger(__name__)

# Fallback when lib_textinv.embedding.names is absent: letters, digits, ".", "_", "-", starting with a
# letter or digit (the webui's own sanitising of embedding names, minus spaces).
_TRIGGER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_TOKEN_FILE_EXTENSIONS = (*EMBEDDING_EXTENSIONS, ".png", ".webp", ".jxl", ".avif")
SAMPLE_PROMPT = DEFAULT_PROMPTS[0]


class PromoteError(ValueError):
    """The promotion was refused; the message names the file and the reason."""


class PromoteHost(Protocol):
    def reload_embeddings(self, force: bool = True) -> None:
        """Reload the webui's embedding database (forced), under the queue lock."""


@dataclass(frozen=True)
class PromoteResult:
    path: str
    token: str
    overwritten: bool
    text_to_type: str
    optimizer_copied: bool = False

    @property
    def message(self) -> str:
        verb = "replaced" if self.overwritten else "saved"
        return f"{verb} {self.path}; type this in txt2img: {self.text_to_type}"


def validate_trigger(name: str) -> str:
    """The embedding engineer's ``names.check_name`` (file-system and webui rules; its
    existence check is replaced by ``same_token_files`` below, which also looks in sub-folders and
    at other extensions); the local strict pattern only where that module is missing."""
    name = (name or "").strip()
    if not name:
        raise PromoteError("give a trigger name")
    if name.lower().endswith(_TOKEN_FILE_EXTENSIONS):
        raise PromoteError(f"trigger name {name!r}: leave out the file extension")
    try:
        from lib_textinv.embedding.names import check_name
    except ImportError:
        check_name = None
    if check_name is not None:
        errors = check_name(name).errors
        if errors:
            raise PromoteError(f"trigger name {name!r}: " + " ".join(errors))
        return name
    if "/" in name or "\\" in name or name in (".", ".."):
        raise PromoteError(f"trigger name {name!r} must be a plain name, not a path")
    if not _TRIGGER.match(name):
        raise PromoteError(
            f"trigger name {name!r}: use letters, digits, '.', '_' or '-' "
            "(starting with a letter or digit, at most 100 characters)"
        )
    return name


def same_token_files(embeddings_dir: Path, token: str) -> list[Path]:
    """Files anywhere under ``embeddings_dir`` that the webui would load as ``token`` (it walks
    sub-folders and the token is the stem, case-insensitively for the tokenizer)."""
    out = []
    if not embeddings_dir.is_dir():
        return out
    for root, _dirs, files in os.walk(embeddings_dir, followlinks=True):
        for f in files:
            p = Path(root, f)
            if (
                p.suffix.lower() in _TOKEN_FILE_EXTENSIONS
                and p.stem.lower() == token.lower()
                and ".preview" not in p.name.lower()
            ):
                out.append(p)
    return sorted(out)


def _copy_fresh(src: Path, dest: Path) -> None:
    """Atomic byte copy; the new file's mtime is now and strictly newer than the file it replaces."""
    old_mtime = dest.stat().st_mtime if dest.exists() else None
    with atomic_open(dest, "wb") as out, open(src, "rb") as inp:
        while chunk := inp.read(1 << 20):
            out.write(chunk)
    now = time.time()
    mtime = now if old_mtime is None or now > old_mtime else old_mtime + 1.0
    os.utime(dest, (mtime, mtime))


def promote_file(
    source: str | os.PathLike,
    embeddings_dir: str | os.PathLike,
    trigger: str,
    *,
    overwrite: bool = False,
    expected_width: int | None = None,
    sample_prompt: str = SAMPLE_PROMPT,
    copy_optimizer: bool = True,
) -> PromoteResult:
    """Copy ``source`` to ``<embeddings_dir>/<trigger><ext>``. Does not reload anything."""
    src = Path(source)
    token = validate_trigger(trigger)
    if not embeddings_dir or not Path(embeddings_dir).is_dir():
        raise PromoteError(f"embeddings folder not found: {embeddings_dir}")
    emb_dir = Path(embeddings_dir)
    try:
        emb = load_embedding(src)
    except EmbeddingFileError as e:
        raise PromoteError(str(e)) from e
    reason = check_width(emb, expected_width)
    if reason:
        raise PromoteError(reason)
    ext = src.suffix.lower()
    dest = emb_dir / f"{token}{ext}"
    if dest.resolve() == src.resolve():
        raise PromoteError(f"{src.name} is already in the embeddings folder under that name")
    existing = same_token_files(emb_dir, token)
    others = [p for p in existing if p.resolve() != dest.resolve()]
    if others:
        raise PromoteError(
            f"an embedding with the trigger {token!r} already exists as {others[0]}; "
            "choose another name (that file is left alone)"
        )
    overwritten = dest.exists()
    if overwritten and not overwrite:
        raise PromoteError(f"{dest} already exists; tick 'overwrite' to replace it or choose another name")
    _copy_fresh(src, dest)
    optim_copied = False
    optim = src.with_name(src.name + ".optim")
    dest_optim = dest.with_name(dest.name + ".optim")
    if copy_optimizer and optim.is_file() and (overwrite or not dest_optim.exists()):
        # Training resumes from it only if it matches the vectors (webui checksum), so it travels along.
        _copy_fresh(optim, dest_optim)
        optim_copied = True
    logger.info("promoted %s to %s", src, dest)
    return PromoteResult(
        path=str(dest),
        token=token,
        overwritten=overwritten,
        text_to_type=place_trigger(sample_prompt or SAMPLE_PROMPT, token),
        optimizer_copied=optim_copied,
    )


def promote(
    host: PromoteHost, source: str | os.PathLike, embeddings_dir: str | os.PathLike, trigger: str, **kwargs
) -> PromoteResult:
    """``promote_file`` then a forced reload of the webui's embedding database."""
    result = promote_file(source, embeddings_dir, trigger, **kwargs)
    host.reload_embeddings(force=True)
    return result
