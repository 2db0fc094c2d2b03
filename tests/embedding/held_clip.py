"""A tiny CLIP that holds in its second batch until released: a recommendation that is surely
running when a test presses Stop (bounded waits that fail loudly, never a sleep)."""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from tests.tinyclip import tiny_clip

HOLD_SECONDS = 60.0


class HeldClip:
    def __init__(self, hold_at_batch: int = 2) -> None:
        self.inner = tiny_clip(0)
        self.batches = 0
        self.hold_at_batch = hold_at_batch
        self.holding = threading.Event()
        self.release = threading.Event()

    def embed_images(self, images: list, batch_size: int = 16) -> Any:
        self.batches += 1
        if self.batches == self.hold_at_batch:
            self.holding.set()
            assert self.release.wait(HOLD_SECONDS), "the test never released the held CLIP"
        return self.inner.embed_images(images, batch_size=batch_size)

    def loader(self, host: Any) -> AbstractContextManager[tuple[HeldClip, int]]:
        return nullcontext((self, 1))  # one image per batch: progress after each image
