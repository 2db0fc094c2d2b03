"""The Embedding section's handlers, as plain functions of the host and the inputs' values;
``section.wire`` binds them to the components."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from lib_textinv.embedding import families
from lib_textinv.embedding.create import CreateResult, create
from lib_textinv.embedding.folder_advice import (
    RECOMMEND_KEY,
    EmbedderLoader,
    FolderAdvice,
    advise,
    recommend_folder,
    recommend_title,
)
from lib_textinv.embedding.names import check_name
from lib_textinv.embedding.tokens import token_counter
from lib_textinv.kit import longwork
from lib_textinv.kit.host import Host, Unavailable
from lib_textinv.kit.progress import Cancelled

# What ends a recommendation early, each with what the user reads (a relative folder is a
# ValueError, one outside the allowed folders a PermissionError).
RECOMMEND_REFUSED = (ValueError, OSError, longwork.Busy, Unavailable, Cancelled)


def advice_html(advice: FolderAdvice) -> str:
    rec = advice.recommendation
    skipped = ""
    if advice.skipped:
        items = "".join(f"<li>{html.escape(s)}</li>" for s in advice.skipped[:20])
        skipped = (
            f"<details><summary>{len(advice.skipped)} image(s) skipped</summary><ul>{items}</ul></details>"
        )
    return (
        f'<div class="textinv-summary {"textinv-good" if rec.trainable else "textinv-warn"}" '
        f'data-vectors="{rec.vectors}" data-range="{rec.range_text}">'
        f"<b>Recommended: {rec.vectors} vector{'s' if rec.vectors != 1 else ''} per token</b> "
        f"(range {rec.range_text})<br>{html.escape(rec.explanation)}"
        f"<br><i>Initialization text:</i> {html.escape(advice.init_text.note)}{skipped}</div>"
    )


def refused_html(e: BaseException) -> str:
    """Why no recommendation came: stopped, already running, a bad folder…"""
    text = "Stopped before the recommendation was ready." if isinstance(e, Cancelled) else str(e)
    return f'<div class="textinv-summary textinv-bad">{html.escape(text)}</div>'


def variety_text(advice: FolderAdvice) -> str:
    d = advice.diversity
    if d is None:
        return f"not measured — {advice.clip_reason}"
    return d.describe()


def do_recommend(
    host: Host, folder: str, bar: Callable | None = None, loader: EmbedderLoader | None = None
) -> tuple[str, str, int, str, str]:
    """(recommendation html, variety, vectors to pre-fill, init text (or "" for none), its token
    count). Runs as the recommendation job, with progress and ETA on ``bar``; raises one of
    ``RECOMMEND_REFUSED``."""
    folder = str(recommend_folder(host, folder))  # refused before a job starts
    advice = longwork.run(
        host, RECOMMEND_KEY, recommend_title(folder), lambda p: advise(host, folder, p, loader=loader), bar
    )
    rec, text = advice.recommendation, advice.init_text.text
    note = init_tokens_text(host, text, rec.vectors) if text else ""
    return advice_html(advice), variety_text(advice), rec.vectors, text, note


def init_tokens_text(host: Host, text: str, vectors: int | float | None) -> str:
    """Live token count of the initialization text under the model's tokenizer."""
    counter, how = token_counter(host)
    if counter is None:
        return "Token count unavailable (no tokenizer)."
    if not (text or "").strip():
        return "Empty: the vectors start at zero."
    n = counter.count_tokens(text)
    out = f"{n} token{'s' if n != 1 else ''} ({how})."
    v = int(vectors or 0)
    note = families.init_text_note(_family(host), n, v) if v else None
    if note:
        out += f" More than the {v} vectors: {note}."
    return out


def _family(host: Host) -> str:
    facts = host.model_facts()
    return facts.family if facts.loaded else "none"


def name_check_text(host: Host, name: str, overwrite: bool) -> str:
    if not (name or "").strip():
        return ""
    counter, _ = token_counter(host)
    suffix = families.suffix(_family(host))
    check = check_name(name, host.embeddings(), bool(overwrite), counter, host.paths().embeddings_dir, suffix)
    return check.message() or f"✓ “{name}” is a good name ({check.file_name})."


def do_create(
    host: Host, name: str, vectors: Any, init_text: str, overwrite: bool
) -> tuple[str, str | None, CreateResult]:
    """(message, value for the shared embedding-name box or None to leave it, result)."""
    try:
        v = int(vectors)
    except (TypeError, ValueError):
        v = -1
    ok, why = host.feature("create")
    if not ok:
        result = CreateResult(ok=False, name=name or "", errors=[why], message=f"Not created:\n✗ {why}")
        return result.message, None, result
    result = create(
        host,
        (name or ""),
        v,
        init_text or "",
        bool(overwrite),
        model=host.model_facts(),
        embeddings_dir=host.paths().embeddings_dir,
    )
    return result.message, (result.name if result.ok else None), result
