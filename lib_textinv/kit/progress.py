"""Progress reporting and cancellation for long work, independent of where it runs.

Core functions take a ``Progress`` and call ``step()``/``check()``; the host bridge maps it onto
the webui's ``shared.state`` (progress bar, Interrupt button), the standalone app onto its own job
table, tests onto ``RecordingProgress``.
"""

from __future__ import annotations

import threading
import time


class Cancelled(Exception):
    """Raised by ``Progress.check()`` when the user pressed Interrupt."""


class Progress:
    """Base progress sink: counts work, remembers text, can be cancelled. Thread-safe enough for
    one writer (the job) and any number of readers (UI polling)."""

    def __init__(self, total: int = 0, text: str = "") -> None:
        self.total = total
        self.done = 0
        self.text = text
        self.started = time.monotonic()
        self._cancel = threading.Event()

    def begin(self, total: int, text: str = "") -> None:
        self.total, self.done, self.text = total, 0, text
        self.started = time.monotonic()

    def step(self, n: int = 1, text: str | None = None) -> None:
        self.done += n
        if text is not None:
            self.text = text

    def set_text(self, text: str) -> None:
        self.text = text

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        """Call between units of work: raises ``Cancelled`` once the user interrupted."""
        if self.cancelled:
            raise Cancelled(self.text or "interrupted")

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0

    def eta_seconds(self) -> float | None:
        if not self.done or not self.total:
            return None
        elapsed = time.monotonic() - self.started
        return elapsed / self.done * max(0, self.total - self.done)

    def describe(self) -> str:
        eta = self.eta_seconds()
        eta_txt = f", ETA {eta:.0f} s" if eta is not None else ""
        return f"{self.done}/{self.total}{eta_txt}" + (f" — {self.text}" if self.text else "")


class RecordingProgress(Progress):
    """A Progress that records every step (tests) and can cancel itself after ``cancel_after``."""

    def __init__(self, cancel_after: int | None = None) -> None:
        super().__init__()
        self.cancel_after = cancel_after
        self.events: list[tuple[int, str]] = []

    def step(self, n: int = 1, text: str | None = None) -> None:
        super().step(n, text)
        self.events.append((self.done, self.text))
        if self.cancel_after is not None and self.done >= self.cancel_after:
            self.cancel()


class ForwardingProgress(Progress):
    """Forwards to an inner Progress (e.g. the UI's) and to a host hook (e.g. the webui's
    ``shared.state``); cancelled when either side says so (our Stop or the webui's Interrupt)."""

    def __init__(self, inner: Progress, on_update=None, is_cancelled=None) -> None:
        super().__init__(inner.total, inner.text)
        self.inner = inner
        self._on_update = on_update
        self._is_cancelled = is_cancelled

    def _sync(self) -> None:
        if self._on_update is not None:
            self._on_update(self)

    def begin(self, total: int, text: str = "") -> None:
        super().begin(total, text)
        self.inner.begin(total, text)
        self._sync()

    def step(self, n: int = 1, text: str | None = None) -> None:
        super().step(n, text)
        self.inner.step(n, text)
        self._sync()

    def set_text(self, text: str) -> None:
        super().set_text(text)
        self.inner.set_text(text)
        self._sync()

    def cancel(self) -> None:
        super().cancel()
        self.inner.cancel()

    @property
    def cancelled(self) -> bool:
        return (
            self._cancel.is_set()
            or self.inner.cancelled
            or bool(self._is_cancelled is not None and self._is_cancelled())
        )
