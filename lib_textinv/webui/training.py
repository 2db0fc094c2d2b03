"""The webui's own Train-tab call, and what it hides: it reports errors raised inside its training
loop through ``errors.report`` and returns normally, so the bridge records the console text, the
step reached and the interrupt flag for the train step to judge what happened
(docs/webui-contract.md §12 training call, §14 files written by training)."""

from __future__ import annotations

import contextlib
import re
import threading
import traceback
from collections.abc import Iterator
from typing import Any

from modules import shared

from lib_textinv.kit.progress import Progress
from lib_textinv.train.outcome import RawTrainResult
from lib_textinv.train.params import TrainArgs
from lib_textinv.webui.embeddings import embedding_db, reload_embeddings
from lib_textinv.webui.facts import version_text
from lib_textinv.webui.generation import samplers

MIRROR_EVERY_S = 0.5


def templates() -> dict[str, str]:
    """The training prompt templates by file name (modules/textual_inversion/textual_inversion.py:23-36)."""
    try:
        from modules.textual_inversion import textual_inversion as ti
    except ImportError:
        return {}
    if not ti.textual_inversion_templates:
        ti.list_textual_inversion_templates()
    return {name: t.path for name, t in ti.textual_inversion_templates.items()}


def strip_html(text: Any) -> str:
    return re.sub(r"<[^>]+>", " ", str(text or "")).strip()


@contextlib.contextmanager
def console_errors() -> Iterator[list[str]]:
    """Everything reported through ``errors.report`` meanwhile (message and traceback), still
    passed on to the webui's console. The trainer looks ``errors.report`` up at call time."""
    from modules import errors

    original = errors.report
    captured: list[str] = []

    def report(message: str, *a: Any, exc_info: bool = False, **kw: Any) -> Any:
        captured.append(str(message) + ("\n" + traceback.format_exc() if exc_info else ""))
        return original(message, *a, exc_info=exc_info, **kw)

    errors.report = report
    try:
        yield captured
    finally:
        errors.report = original


@contextlib.contextmanager
def mirrored_state(progress: Progress) -> Iterator[None]:
    """The webui's job state → our Progress while its trainer (which blocks) runs."""
    state, done = shared.state, threading.Event()

    def mirror() -> None:
        while not done.wait(MIRROR_EVERY_S):
            for p in (progress, getattr(progress, "inner", None)):
                if p is not None and state.job_count and state.job_count > 0:
                    p.total, p.done, p.text = state.job_count, state.job_no, strip_html(state.textinfo)

    watcher = threading.Thread(target=mirror, name="textinv-train-progress", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join(5)


@contextlib.contextmanager
def loss_csv_every_step(every: int | None) -> Iterator[None]:
    """The trainer's "write the loss CSV every N steps" option, set for this run only."""
    saved = getattr(shared.opts, "training_write_csv_every", None)
    if every:
        shared.opts.training_write_csv_every = int(every)
    try:
        yield
    finally:
        if every and saved is not None:
            shared.opts.training_write_csv_every = saved


def train(args: TrainArgs, progress: Progress, loss_csv_every: int | None = None) -> RawTrainResult:
    """modules/textual_inversion/ui.py:17-37: the Train tab's function (the --lowvram refusal and
    the cross-attention optimisation swap around textual_inversion.train_embedding)."""
    from modules.textual_inversion import ui as ti_ui

    result = RawTrainResult()
    positional = args.to_positional(version_text(), samplers())
    with console_errors() as captured, mirrored_state(progress), loss_csv_every_step(loss_csv_every):
        try:
            message, _ = ti_ui.train_embedding(*positional)
            result.message = str(message or "")
        # Anything raised before the loop (AssertionError, KeyError, schedule errors) is the
        # run's outcome, reported to the user, not re-raised.
        except Exception as e:  # noqa: BLE001
            result.exception = f"{type(e).__name__}: {e}"
            captured.append(traceback.format_exc())
    db = embedding_db()
    emb = db.word_embeddings.get(args.embedding_name) if db is not None else None
    result.final_step = getattr(emb, "step", None)
    state = shared.state
    result.interrupted = bool(state.interrupted)
    result.console_error = "\n".join(captured)
    if state.textinfo and not result.message:
        result.message = strip_html(state.textinfo)
    # After a swallowed error the live object may be renamed <name>-<N>: reload it from its file.
    reload_embeddings(force=True)
    return result
