"""modules/call_queue.py:8 — ``queue_lock`` is a non-reentrant FIFO lock (fifo_lock.py).

Stricter than the real one: re-acquiring from the holding thread raises instead of deadlocking."""

import threading


class FIFOLock:
    def __init__(self):
        self._lock = threading.Lock()
        self._owner = None
        self.acquired_count = 0  # double only

    def acquire(self, blocking=True):
        if self._owner == threading.get_ident():
            raise RuntimeError("queue_lock is not reentrant: acquired twice by the same thread")
        ok = self._lock.acquire(blocking)
        if ok:
            self._owner = threading.get_ident()
            self.acquired_count += 1
        return ok

    def release(self):
        self._owner = None
        self._lock.release()

    def locked(self):
        return self._lock.locked()

    __enter__ = acquire

    def __exit__(self, *exc):
        self.release()


queue_lock = FIFOLock()
