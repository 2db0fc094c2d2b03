"""Create a new embedding and make it usable at once, without restarting the webui.

Order: check the name, vector count, model family and initialization text; create the file
(SD1/SD2: through the webui, ``textual_inversion.create_embedding``, docs/webui-contract.md §11
Creating an embedding; SDXL, which the webui cannot create: ``<name>.safetensors`` with clip_l and
clip_g vectors from each encoder's own token table, written by us, §25 SDXL embeddings); force a
reload of the embedding database (§10 Embedding database: a forced reload also catches an
overwrite in place, which a plain reload misses); then confirm the database lists the new name
with the right vector count. Creation and reload run inside ``host.run_job`` (the webui's queue
lock: the database has no lock of its own and a reload clears the dicts a running generation
reads).
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lib_textinv.embedding import families
from lib_textinv.embedding.init_vectors import init_parts
from lib_textinv.embedding.names import check_name
from lib_textinv.embedding.recommend import MAX_VECTORS, PROMPT_TOKENS
from lib_textinv.embedding.tokens import host_counter
from lib_textinv.kit.embedding_file import write_embedding
from lib_textinv.kit.host import Host, ModelFacts, Unavailable
from lib_textinv.kit.progress import Progress

logger = logging.getLogger(__name__)


@dataclass
class CreateResult:
    ok: bool
    name: str
    path: str | None = None
    vectors: int | None = None
    width: int | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    message: str = ""
    conflict: bool = False  # refused because the name is taken (overwrite not ticked)
    suggested_name: str | None = None  # a name whose tokens clash with no loaded embedding's
    dry_run: bool = False  # only checked: nothing was written

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RequestCheck:
    """What a creation request would meet, found without creating anything."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    conflict: bool = False  # the name is taken and overwrite is off
    suggested_name: str | None = None  # set when the name's tokens clash with a loaded embedding's


def check_request(
    host: Host,
    name: str,
    vectors: int,
    init_text: str,
    overwrite: bool,
    model: ModelFacts | None = None,
    embeddings_dir: str | None = None,
) -> RequestCheck:
    """Errors, warnings and a better name for a creation request, without creating anything."""
    check = RequestCheck()
    errors, warnings = check.errors, check.warnings
    problem = _model_error(model) if model is not None else None
    if problem:
        errors.append(problem)
    if not isinstance(vectors, int) or isinstance(vectors, bool) or not 1 <= vectors <= PROMPT_TOKENS:
        errors.append(
            f"Vectors per token must be a whole number from 1 to {PROMPT_TOKENS} (got {vectors!r})."
        )
    elif vectors > MAX_VECTORS:
        warnings.append(
            f"{vectors} vectors leave only {PROMPT_TOKENS - vectors} tokens for the rest of the prompt, "
            f"and more than {MAX_VECTORS} rarely help (Gal et al. 2022)."
        )
    counter = host_counter(host)
    family = model.family if model is not None else ""
    suffix = families.suffix(family)
    names = check_name(name, host.embeddings(), overwrite, counter, embeddings_dir, suffix)
    errors += names.errors
    warnings += names.warnings
    check.conflict = names.exists and not overwrite
    check.suggested_name = names.suggestion
    if not (init_text or "").strip():
        warnings.append("The initialization text is empty: the vectors start at zero instead of from words.")
    elif counter is not None and isinstance(vectors, int) and vectors >= 1:
        n = counter.count_tokens(init_text)
        note = families.init_text_note(family, n, vectors)
        if note:
            warnings.append(f"The initialization text is {n} tokens for {vectors} vectors: {note}.")
    return check


def _model_error(model: ModelFacts) -> str | None:
    """Why no embedding can be created for the loaded model, None when one can."""
    if not model.loaded:
        return f"No model is loaded ({model.reason}): the webui needs one to create an embedding."
    if families.parts(model.family) is None:
        return f"The loaded model ({model.family}) cannot get a new embedding: SD1, SD2 and SDXL only."
    if model.family in families.OWN_WRITER:  # written by us, whatever the webui's trainer can do
        return None
    if not model.trainable:
        return f"The loaded model ({model.family}) cannot get a new embedding: {model.reason}."
    return None


def create(
    host: Host,
    name: str,
    vectors: int,
    init_text: str = "*",
    overwrite: bool = False,
    model: ModelFacts | None = None,
    embeddings_dir: str | None = None,
    dry_run: bool = False,
) -> CreateResult:
    """Validate, create, force-reload, verify. Never raises for user errors: they come back in
    ``CreateResult.errors`` with the message the UI shows. ``dry_run``: validate only, so the
    warnings (a token clash, an ordinary word…) can be read before anything is written."""
    check = check_request(host, name, vectors, init_text, overwrite, model, embeddings_dir)
    result = CreateResult(
        ok=False,
        name=name,
        errors=check.errors,
        warnings=check.warnings,
        conflict=check.conflict,
        suggested_name=check.suggested_name,
        dry_run=dry_run,
    )
    if dry_run and not result.errors:
        result.ok = True
        result.message = "\n".join(
            [f"Nothing written (dry run): “{name}” can be created."] + [f"⚠ {w}" for w in result.warnings]
        )
        return result
    if not result.errors:
        if model is not None and model.family in families.OWN_WRITER:
            _write_own(host, result, vectors, init_text, overwrite, embeddings_dir, model)
        else:
            _write(host, result, vectors, init_text, overwrite, embeddings_dir)
    if not result.errors:
        _confirm_loaded(host, result, vectors)
    if result.errors:
        head = "" if result.path else "Not created:\n"  # written but not loaded: said in the error
        result.message = head + "\n".join(f"✗ {e}" for e in result.errors)
    return result


def _write(
    host: Host,
    result: CreateResult,
    vectors: int,
    init_text: str,
    overwrite: bool,
    embeddings_dir: str | None,
) -> None:
    """Create the file and force the database to reload, inside the webui's queue."""
    name = result.name

    def work(progress: Progress) -> str:
        progress.begin(2, f"creating embedding {name}")
        path = host.create_embedding(name, vectors, init_text or "", overwrite)
        progress.step(1, "reloading embeddings")
        # Forced: an overwrite in place leaves the folder mtime unchanged (docs/webui-contract.md
        # §10 Embedding database).
        host.reload_embeddings(True)
        progress.step(1)
        return path

    try:
        result.path = host.run_job(f"Create embedding {name}", work)
    except Unavailable as e:
        result.errors.append(str(e))
    except AssertionError as e:  # the webui asserts when the file appeared meanwhile (overwrite off)
        result.errors.append(f"The webui refused: {e}")
        result.conflict = bool(embeddings_dir) and os.path.exists(
            os.path.join(embeddings_dir or "", f"{name}.pt")
        )
    except (TypeError, RuntimeError, OSError) as e:  # SDXL's conditioner raises TypeError
        logger.exception("creating embedding %s failed", name)
        result.errors.append(f"Creating the embedding failed: {type(e).__name__}: {e}")


def _write_own(
    host: Host,
    result: CreateResult,
    vectors: int,
    init_text: str,
    overwrite: bool,
    embeddings_dir: str | None,
    model: ModelFacts,
) -> None:
    """``<embeddings_dir>/<name>.safetensors`` with one part per text encoder, each started from
    the init text through that encoder's own token table, then a forced reload; in the queue."""
    name, parts = result.name, list(families.parts(model.family) or {})
    embeddings_dir = embeddings_dir or host.paths().embeddings_dir
    if not embeddings_dir:
        result.errors.append("The webui's embeddings folder is not known: nowhere to write the embedding.")
        return
    path = Path(embeddings_dir) / f"{name}{families.suffix(model.family)}"

    def work(progress: Progress) -> str:
        progress.begin(2, f"creating embedding {name}")
        start = init_parts(host, parts, init_text, vectors)
        if path.exists() and not overwrite:  # appeared since the name was checked: never replaced
            raise FileExistsError(f"{path} already exists")
        write_embedding(
            path,
            start,
            name=name,
            step=0,
            sd_checkpoint=model.short_hash or None,
            sd_checkpoint_name=model.name or None,
        )
        progress.step(1, "reloading embeddings")
        host.reload_embeddings(True)  # forced: see _write
        progress.step(1)
        return str(path)

    try:
        result.path = host.run_job(f"Create embedding {name}", work)
    except Unavailable as e:
        result.errors.append(str(e))
    except FileExistsError as e:
        result.errors.append(f"Not replaced: {e}; tick “Overwrite” to replace it.")
        result.conflict = True
    except OSError as e:
        logger.exception("creating embedding %s failed", name)
        result.errors.append(f"Writing {path} failed: {type(e).__name__}: {e}")


def _confirm_loaded(host: Host, result: CreateResult, vectors: int) -> None:
    """The database must list the new name, loaded, with the vectors asked for."""
    name = result.name
    loaded = [e for e in host.embeddings() if e.name == name]
    if not loaded or not loaded[0].loaded:
        result.errors.append(
            f"The file {result.path} was written, but the webui did not load it as “{name}”"
            + (" (it was skipped: its width does not match the loaded model)" if loaded else "")
            + "; check the console."
        )
        return
    info = loaded[0]
    result.vectors, result.width = info.vectors, info.width
    if info.vectors != vectors:
        result.warnings.append(f"The webui reports {info.vectors} vectors, not {vectors}.")
    result.ok = True
    result.message = "\n".join(
        [
            f"✓ Created “{name}” ({info.vectors} vectors × {info.width}) at {result.path}; usable now in "
            "prompts, the Train section and Extra Networks (no restart)."
        ]
        + [f"⚠ {w}" for w in result.warnings]
    )
