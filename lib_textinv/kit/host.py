"""The host interface: what the tab, the API and the core may ask of the program around them.

Two implementations: ``lib_textinv.webui.bridge.WebuiHost`` (inside AUTOMATIC1111, the only place that
imports ``modules.*``) and ``StandaloneHost`` below (``python -m lib_textinv``), which answers
"not available" with a reason for everything that needs the webui. Feature code asks
``host.feature(name)`` before offering a button, and catches ``Unavailable``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from lib_textinv.kit.progress import Progress

T = TypeVar("T")

# Features a host may offer; the UI disables a section with the reason when one is missing.
FEATURES = ("caption", "deepbooru", "tokenizer", "create", "train", "generate", "upscale", "clip")


class Unavailable(RuntimeError):
    """The host cannot do this; the message says why in words a user understands."""


@dataclass(frozen=True)
class ModelFacts:
    """Facts about the loaded checkpoint, in plain values (no torch objects)."""

    loaded: bool = False
    family: str = "none"  # SD1 | SD2 | SD2-v | SDXL | SD3 | unknown | none
    name: str = ""
    short_hash: str = ""
    native_resolution: int = 512
    embedding_width: int | None = None
    trainable: bool = False
    reason: str = "no model is loaded"


@dataclass(frozen=True)
class HostPaths:
    embeddings_dir: str | None = None
    ti_log_dir: str | None = None
    templates_dir: str | None = None
    outdir_samples: str | None = None
    outdir_grids: str | None = None
    data_dir: str | None = None


@dataclass(frozen=True)
class EmbeddingInfo:
    """One embedding the host knows (loaded or skipped)."""

    name: str
    filename: str | None
    vectors: int
    width: int | None
    step: int | None = None
    loaded: bool = True


@dataclass
class Host:
    """Standalone defaults; the webui bridge overrides what it can do."""

    kind: str = "standalone"
    settings: dict[str, Any] = field(default_factory=dict)

    # -- facts -------------------------------------------------------------------------------
    def paths(self) -> HostPaths:
        return HostPaths()

    def model_facts(self) -> ModelFacts:
        return ModelFacts(reason="standalone mode has no model: run the tab inside the webui")

    def feature(self, name: str) -> tuple[bool, str]:
        """(available, reason-if-not)."""
        return False, f"{name}: needs the webui (standalone mode)"

    def setting(self, key: str, default: Any = None) -> Any:
        """A ``textinv_*`` setting (key without prefix or with it)."""
        key = key if key.startswith("textinv_") else f"textinv_{key}"
        return self.settings.get(key, default)

    def embeddings(self) -> list[EmbeddingInfo]:
        return []

    def templates(self) -> dict[str, str]:
        """Template name → path (the webui's prompt templates for training)."""
        return {}

    # -- work --------------------------------------------------------------------------------
    def run_job(self, title: str, fn: Callable[[Progress], T], progress: Progress | None = None) -> T:
        """Run ``fn(progress)``: in the webui under its queue lock with its progress state and
        Interrupt; standalone directly."""
        return fn(progress or Progress(text=title))

    def interrupt(self) -> None:
        """The host's own Interrupt (the webui's ``shared.state.interrupt()``); standalone: nothing,
        our Progress objects carry the cancel."""

    def state_file(self, name: str) -> str | None:
        """Where the extension may keep a small state file (recent folders…); None = nowhere."""
        return None

    def require(self, name: str) -> None:
        ok, why = self.feature(name)
        if not ok:
            raise Unavailable(why)


class StandaloneHost(Host):
    """``python -m lib_textinv``: no webui; templates fall back to a folder if given."""

    def __init__(
        self,
        templates_dir: str | None = None,
        settings: dict[str, Any] | None = None,
        state_dir: str | None = None,
    ) -> None:
        from lib_textinv.kit.settings import defaults

        super().__init__(kind="standalone", settings={**defaults(), **(settings or {})})
        self._templates_dir = templates_dir
        self._state_dir = state_dir

    def state_file(self, name: str) -> str | None:
        return os.path.join(self._state_dir, name) if self._state_dir else None

    def paths(self) -> HostPaths:
        return HostPaths(templates_dir=self._templates_dir)

    def templates(self) -> dict[str, str]:
        if not self._templates_dir or not os.path.isdir(self._templates_dir):
            return {}
        out = {}
        for root, _dirs, files in os.walk(self._templates_dir):
            for f in sorted(files):
                if f.endswith(".txt"):
                    out[f] = os.path.join(root, f)
        return out
