"""Buttons that need a webui feature (a loaded model for train/generate, …), kept in step with the
webui's state. The webui builds our tab before its checkpoint has finished loading, and the user can
switch checkpoints later, so what was unavailable at build time is re-checked on every page load
and every time a section is opened: the buttons are enabled and the reason notes hidden or shown.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


def warning_text(why: str) -> str:
    return f"⚠ {html.escape(why)}"


@dataclass(frozen=True)
class Gate:
    feature: str
    components: tuple[Any, ...]  # made interactive only while the feature is available
    note: Any = None  # shows the reason while it is not (hidden otherwise)
    render: Callable[[str], str] = warning_text

    def outputs(self) -> list[Any]:
        return [*self.components, *([self.note] if self.note is not None else [])]

    def updates(self, host) -> list[Any]:
        import gradio as gr

        ok, why = host.feature(self.feature)
        out = [gr.update(interactive=ok) for _ in self.components]
        if self.note is not None:
            out.append(gr.update(value="" if ok else self.render(why), visible=not ok))
        return out


def outputs(gates: list[Gate]) -> list[Any]:
    return [c for g in gates for c in g.outputs()]


def updates(host, gates: list[Gate]) -> list[Any]:
    """One update per component of ``outputs(gates)``, in the same order."""
    return [u for g in gates for u in g.updates(host)]
