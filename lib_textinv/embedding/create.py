"""Create a new embedding and make it usable at once, without restarting the webui.

Order: check the name, vector count, model family and initialization text; create the file
through the webui (``textual_inversion.create_embedding``, webui-api.md §3.5); force a reload of
the embedding database (§3.4, §3.17: a forced reload also catches an overwrite in place, which a
plain reload misses); then confirm the database lists the new name with the right vector count.
Creation and reload run inside ``host.run_job`` (the webui's queue lock: the database has no lock
of its own and a reload clears the dicts a running generation reads).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, TypeVar

from lib_textinv.embedding.names import check_name
from lib_textinv.embedding.recommend import MAX_VECTORS, PROMPT_TOKENS
from lib_textinv.kit.host import EmbeddingInfo, ModelFacts, Unavailable
from lib_textinv.kit.progress import Progress

logger = logging.getLogger(__name__)
T = TypeVar("T")


class EmbeddingHost(Protocol):
    def create_embedding(self, name: str, nvpt: int, init_text: str, overwrite: bool) -> str:
        """Write ``<embeddings_dir>/<name>.pt``; returns its path. The caller holds the queue lock."""
        ...

    def reload_embeddings(self, force: bool) -> None:
        """Reload the embedding database (the caller holds the queue lock)."""
        ...

    def embeddings(self) -> list[EmbeddingInfo]: ...

    def count_tokens(self, text: str) -> int: ...

    def run_job(self, title: str, fn: Callable[[Progress], T], progress: Progress | None = None) -> T: ...


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_request(
    host: EmbeddingHost,
    name: str,
    vectors: int,
    init_text: str,
    overwrite: bool,
    model: ModelFacts | None = None,
    embeddings_dir: str | None = None,
) -> tuple[list[str], list[str], bool]:
    """(errors, warnings, name taken and not overwriting) for a creation request, without creating
    anything."""
    errors: list[str] = []
    warnings: list[str] = []
    if model is not None and not model.trainable:
        if model.family == "SDXL":
            errors.append(
                "The loaded model is SDXL: the webui cannot create or train embeddings for SDXL. "
                "Load an SD1 or SD2 checkpoint first."
            )
        elif not model.loaded:
            errors.append(f"No model is loaded ({model.reason}): the webui needs one to create an embedding.")
        else:
            errors.append(f"The loaded model ({model.family}) cannot get a new embedding: {model.reason}.")
    if not isinstance(vectors, int) or isinstance(vectors, bool) or not 1 <= vectors <= PROMPT_TOKENS:
        errors.append(
            f"Vectors per token must be a whole number from 1 to {PROMPT_TOKENS} (got {vectors!r})."
        )
    elif vectors > MAX_VECTORS:
        warnings.append(
            f"{vectors} vectors leave only {PROMPT_TOKENS - vectors} tokens for the rest of the prompt, "
            f"and more than {MAX_VECTORS} rarely help (Gal et al. 2022)."
        )
    counter = _counter(host)
    names = check_name(name, host.embeddings(), overwrite, counter, embeddings_dir)
    errors += names.errors
    warnings += names.warnings
    conflict = names.exists and not overwrite
    if not (init_text or "").strip():
        warnings.append("The initialization text is empty: the vectors start at zero instead of from words.")
    elif counter is not None and isinstance(vectors, int) and vectors >= 1:
        n = counter.count_tokens(init_text)
        if n > vectors:
            warnings.append(
                f"The initialization text is {n} tokens for {vectors} vectors: SD1 starts from its first "
                f"{vectors} tokens only (SD2 spreads all of them over the vectors)."
            )
    return errors, warnings, conflict


class _HostCounter:
    def __init__(self, host: EmbeddingHost) -> None:
        self.host = host

    def count_tokens(self, text: str) -> int:
        return self.host.count_tokens(text)


def _counter(host: EmbeddingHost) -> _HostCounter | None:
    try:
        host.count_tokens("a")
    except (Unavailable, NotImplementedError, AttributeError):
        return None
    return _HostCounter(host)


def create(
    host: EmbeddingHost,
    name: str,
    vectors: int,
    init_text: str = "*",
    overwrite: bool = False,
    model: ModelFacts | None = None,
    embeddings_dir: str | None = None,
) -> CreateResult:
    """Validate, create, force-reload, verify. Never raises for user errors: they come back in
    ``CreateResult.errors`` with the message the UI shows."""
    errors, warnings, conflict = check_request(
        host, name, vectors, init_text, overwrite, model, embeddings_dir
    )
    result = CreateResult(ok=False, name=name, errors=errors, warnings=warnings, conflict=conflict)
    if errors:
        result.message = "Not created:\n" + "\n".join(f"✗ {e}" for e in errors)
        return result

    def work(progress: Progress) -> str:
        progress.begin(2, f"creating embedding {name}")
        path = host.create_embedding(name, vectors, init_text or "", overwrite)
        progress.step(1, "reloading embeddings")
        # Forced: an overwrite in place leaves the folder mtime unchanged (webui-api.md §3.17).
        host.reload_embeddings(True)
        progress.step(1)
        return path

    try:
        result.path = host.run_job(f"Create embedding {name}", work)
    except Unavailable as e:
        result.errors.append(str(e))
    except AssertionError as e:  # the webui asserts when the file appeared meanwhile (overwrite off)
        result.errors.append(f"The webui refused: {e}")
        result.conflict = "exists" in str(e)
    except (TypeError, RuntimeError, OSError) as e:  # SDXL's conditioner raises TypeError (§3.5)
        logger.exception("creating embedding %s failed", name)
        result.errors.append(f"Creating the embedding failed: {type(e).__name__}: {e}")
    if result.errors:
        result.message = "Not created:\n" + "\n".join(f"✗ {e}" for e in result.errors)
        return result

    loaded = [e for e in host.embeddings() if e.name == name]
    if not loaded or not loaded[0].loaded:
        result.errors.append(
            f"The file {result.path} was written, but the webui did not load it as “{name}”"
            + (" (it was skipped: its width does not match the loaded model)" if loaded else "")
            + "; check the console."
        )
        result.message = "\n".join(f"✗ {e}" for e in result.errors)
        return result
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
    return result
