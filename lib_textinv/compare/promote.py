"""Promote a chosen checkpoint: copy it into ``embeddings/`` under a trigger name, safely.

The webui names an embedding after the FILE STEM (docs/webui-contract.md §10 "Embedding database";
textual_inversion.py:157-192), so the tutorial's ``charcoalstyle-500`` is simply
``embeddings/charcoalstyle-500.pt``. Rules, the same for the tab and the API (``promote_checkpoint``):

* the checkpoint must exist in the run and be usable, and the embeddings folder must be known;
* the trigger name is validated (a plain file stem: no folders, no traversal);
* an existing embedding with the same token (any extension, any sub-folder, any letter case —
  CLIP lower-cases prompts) is never replaced unless the caller says so, and a same-token file
  at another path is never removed: that is refused with the reason;
* the copy is atomic (temp file + rename) and gets a FRESH mtime: the webui caches the file's
  sha256 under ``textual_inversion/<token>`` and re-hashes only when the mtime is newer
  (modules/hashes.py:22-66), so a copy keeping the checkpoint's old mtime would report a stale
  "TI hashes";
* the vectors must fit the loaded model (width), and unsafe pickles are refused before copying;
* afterwards the host force-reloads the embedding database (an overwrite in place does not
  change the folder mtime, docs/webui-contract.md §10 "Embedding database"; the bridge also drops
  the webui's cached conditioning, §16);
* a trigger whose tokens begin another loaded embedding's, or the other way round
  (``charcoalstyle-50`` / ``charcoalstyle-500``: CLIP splits digits), is promoted with a warning
  and a suggested name that clashes with nothing (``kit.token_prefix``).
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from lib_textinv.compare.checkpoints import Checkpoint
from lib_textinv.compare.sweep_plan import DEFAULT_PROMPTS, place_trigger
from lib_textinv.embedding.names import check_name
from lib_textinv.kit.embedding_file import (
    EMBEDDING_EXTENSIONS,
    EmbeddingFileError,
    check_width,
    load_embedding,
)
from lib_textinv.kit.files import atomic_open
from lib_textinv.kit.host import Host
from lib_textinv.kit.token_prefix import check_trigger

logger = logging.getLogger(__name__)

_TOKEN_FILE_EXTENSIONS = (*EMBEDDING_EXTENSIONS, ".png", ".webp", ".jxl", ".avif")
SAMPLE_PROMPT = DEFAULT_PROMPTS[0]


class Refusal(enum.Enum):
    """Why a promotion was refused (the API answers each with its own status)."""

    NOT_FOUND = "no such checkpoint"
    NOT_USABLE = "the checkpoint cannot be used"
    NO_FOLDER = "no embeddings folder"
    BAD_NAME = "bad trigger name"
    EXISTS = "the trigger is taken"
    BAD_FILE = "the file cannot be promoted"


class PromoteError(ValueError):
    """The promotion was refused; the message names the file and the reason, ``kind`` says which."""

    def __init__(self, message: str, kind: Refusal = Refusal.BAD_FILE) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class PromoteResult:
    path: str
    token: str
    overwritten: bool
    text_to_type: str
    optimizer_copied: bool = False
    warning: str = ""  # a token-prefix clash with a loaded embedding ("" when none)
    suggested_trigger: str | None = None  # a name that clashes with none of them

    @property
    def message(self) -> str:
        verb = "replaced" if self.overwritten else "saved"
        text = f"{verb} {self.path}; type this in txt2img: {self.text_to_type}"
        return text + (f"\n⚠ {self.warning}" if self.warning else "")


def validate_trigger(name: str) -> str:
    """The Embedding step's name rules (file system and webui); whether the token is taken is
    checked by ``same_token_files`` below, which also looks in sub-folders and at other extensions."""
    name = (name or "").strip()
    if not name:
        raise PromoteError("give a trigger name", Refusal.BAD_NAME)
    if name.lower().endswith(_TOKEN_FILE_EXTENSIONS):
        raise PromoteError(f"trigger name {name!r}: leave out the file extension", Refusal.BAD_NAME)
    errors = check_name(name).errors
    if errors:
        raise PromoteError(f"trigger name {name!r}: " + " ".join(errors), Refusal.BAD_NAME)
    return name


def same_token_files(embeddings_dir: Path, token: str) -> list[Path]:
    """Files anywhere under ``embeddings_dir`` that the webui would load as ``token`` (it walks
    sub-folders and the token is the stem, case-insensitively for the tokenizer)."""
    out: list[Path] = []
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
        raise PromoteError(f"embeddings folder not found: {embeddings_dir}", Refusal.NO_FOLDER)
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
            "choose another name (that file is left alone)",
            Refusal.EXISTS,
        )
    overwritten = dest.exists()
    if overwritten and not overwrite:
        raise PromoteError(
            f"{dest} already exists; tick 'overwrite' to replace it or choose another name", Refusal.EXISTS
        )
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
    host: Host, source: str | os.PathLike, embeddings_dir: str | os.PathLike, trigger: str, **kwargs
) -> PromoteResult:
    """``promote_file`` then a forced reload of the webui's embedding database."""
    result = promote_file(source, embeddings_dir, trigger, **kwargs)
    host.reload_embeddings(force=True)
    return result


def promote_checkpoint(
    host: Host,
    checkpoint: Checkpoint | None,
    trigger: str = "",
    *,
    missing: str = "no such checkpoint in the run",
    overwrite: bool = False,
    sample_prompt: str = SAMPLE_PROMPT,
) -> PromoteResult:
    """The one way the tab and the API promote a checkpoint of a run: it must be there (else
    ``missing``) and usable, the embeddings folder known; the trigger defaults to its token."""
    if checkpoint is None:
        raise PromoteError(missing, Refusal.NOT_FOUND)
    if not checkpoint.usable:
        raise PromoteError(checkpoint.error or f"{checkpoint.path} cannot be used", Refusal.NOT_USABLE)
    emb_dir = host.paths().embeddings_dir
    if not emb_dir:
        raise PromoteError(
            "no embeddings folder known (standalone mode): run the tab inside the webui", Refusal.NO_FOLDER
        )
    result = promote(
        host,
        checkpoint.path,
        emb_dir,
        trigger or checkpoint.token,
        overwrite=overwrite,
        expected_width=host.model_facts().embedding_width,
        sample_prompt=sample_prompt,
    )
    return with_prefix_check(host, result)


def with_prefix_check(host: Host, result: PromoteResult) -> PromoteResult:
    """``result`` with a warning when its trigger and a loaded embedding are token prefixes of
    each other (the database was just reloaded, so the new trigger is among them)."""
    loaded = [e.name for e in host.embeddings() if e.loaded]
    check = check_trigger(result.token, loaded)
    return dataclasses.replace(result, warning=check.warning, suggested_trigger=check.suggestion)
