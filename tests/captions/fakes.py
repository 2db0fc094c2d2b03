"""A captioning host for tests of Stop: the caption model answers its first call at once, then
waits inside its second call until the test releases it, so a Stop lands at a known point."""

from __future__ import annotations

import threading
from contextlib import contextmanager

from lib_textinv.kit.host import StandaloneHost

BOUND = 30.0  # seconds a wait may take before the test fails loudly


class GatedModel:
    def __init__(self) -> None:
        self.calls = 0
        self.second_call = threading.Event()  # set when the second batch reaches the model
        self.release = threading.Event()  # set by the test to let that call return

    def caption_batch(self, images):
        self.calls += 1
        if self.calls == 2:
            self.second_call.set()
            assert self.release.wait(BOUND), "the test never released the caption model"
        return [f"a photo, {im.width} px wide" for im in images]

    def tag_batch(self, images):
        return ["photo" for _ in images]


class GatedCaptionHost(StandaloneHost):
    """Standalone, plus captioning (BLIP only) with a ``GatedModel``; counts Interrupt presses."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.model = GatedModel()
        self.interrupts = 0
        self.interrupted = threading.Event()  # Stop reached the server (longwork.stop presses it)

    def feature(self, name: str) -> tuple[bool, str]:
        return (True, "") if name == "caption" else super().feature(name)

    @contextmanager
    def captioner(self, source: str):
        yield self.model

    def interrupt(self) -> None:
        self.interrupts += 1
        self.interrupted.set()

    def wait_for_second_batch(self) -> None:
        assert self.model.second_call.wait(BOUND), "captioning never reached its second batch"
