"""Our long work as a webui job: under its queue lock (never beside a txt2img), with its job state
and task id, so the webui's progress bar and Interrupt button work on it (docs/webui-contract.md
§6 queue lock, §7 job state and Interrupt)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from modules import shared

from lib_textinv.kit.progress import ForwardingProgress, Progress

T = TypeVar("T")


def stop_requested(state: Any) -> bool:
    """The webui's Interrupt: at once (``interrupted``) or after the current image
    (``stopping_generation``, 1.8+; modules/shared_state.py:83-85)."""
    return bool(state.interrupted or getattr(state, "stopping_generation", False))


def _task_id() -> str:
    from modules import progress as webui_progress

    create = getattr(webui_progress, "create_task_id", None)  # 1.7+
    return create("textinv") if create else f"task(textinv-{uuid.uuid4().hex[:12]})"


class JobRunner:
    """Runs one job at a time and remembers it, so our Stop interrupts only our own job."""

    def __init__(self) -> None:
        self.active: Progress | None = None

    def run(self, title: str, fn: Callable[[Progress], T], progress: Progress | None = None) -> T:
        """modules/call_queue.py:8-46 (the lock), modules/progress.py:23-53 (the task)."""
        from modules import progress as webui_progress
        from modules.call_queue import queue_lock

        state = shared.state
        task_id = _task_id()
        webui_progress.add_task_to_queue(task_id)

        def sync(p: Progress) -> None:
            state.job_count = max(1, p.total)
            state.job_no = min(p.done, max(0, p.total - 1)) if p.total else 0
            state.textinfo = p.text

        inner = progress or Progress(text=title)
        with queue_lock:
            state.begin(job=f"textinv: {title}")
            webui_progress.start_task(task_id)
            fp = ForwardingProgress(inner, on_update=sync, is_cancelled=lambda: stop_requested(state))
            self.active = fp
            try:
                return fn(fp)
            finally:
                self.active = None
                webui_progress.finish_task(task_id)
                state.end()

    def interrupt(self) -> None:
        # Only our own job: never interrupt a txt2img that someone else is running.
        if self.active is not None:
            shared.state.interrupt()
