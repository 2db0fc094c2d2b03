"""Long work from a gradio button: a progress bar (gradio's own, which the webui also shows) and a
Stop button that cancels it, whether the work runs in the webui's queue or standalone."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from lib_textinv.kit.host import Host
from lib_textinv.kit.progress import Progress

logger = logging.getLogger(__name__)


class GradioProgress(Progress):
    """Mirrors our Progress onto a ``gr.Progress`` (or any callable taking (done, total), desc)."""

    def __init__(self, bar: Callable | None = None) -> None:
        super().__init__()
        self._bar = bar

    def _show(self) -> None:
        if self._bar is None:
            return
        try:
            self._bar((self.done, max(self.total, 1)), desc=self.describe())
        except (TypeError, ValueError, AttributeError) as e:  # no bar outside a queued event
            logger.debug("progress bar unavailable: %s", e)
            self._bar = None

    def begin(self, total: int, text: str = "") -> None:
        super().begin(total, text)
        self._show()

    def step(self, n: int = 1, text: str | None = None) -> None:
        super().step(n, text)
        self._show()


_running: dict[str, Progress] = {}
_lock = threading.Lock()


def run(host: Host, key: str, title: str, fn: Callable[[Progress], Any], bar: Callable | None = None) -> Any:
    """Run ``fn`` through ``host.run_job`` under a Progress that ``stop(key)`` can cancel."""
    progress = GradioProgress(bar)
    with _lock:
        if key in _running:
            raise RuntimeError(f"{title}: already running — press Stop or wait for it to finish")
        _running[key] = progress
    try:
        return host.run_job(title, fn, progress)
    finally:
        with _lock:
            _running.pop(key, None)


def stop(host: Host, key: str) -> str:
    with _lock:
        progress = _running.get(key)
    if progress is None:
        return "nothing is running"
    progress.cancel()
    host.interrupt()
    return "stopping…"


def is_running(key: str) -> bool:
    with _lock:
        return key in _running
