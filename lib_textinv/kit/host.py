"""The host contract: everything a feature may ask of the program around it, declared once.

Each role is a ``Protocol``; ``Host`` is all of them together. Three implementations:
``lib_textinv.webui.host.WebuiHost`` (inside AUTOMATIC1111 or Forge, the only code that imports
``modules.*``), ``StandaloneHost`` below (``python -m lib_textinv``) and the test doubles, which
subclass ``BaseHost``. ``tests/kit/test_host_contract.py`` and the type checker hold every
implementation to these signatures. Features call ``host.feature(name)`` before offering a button
and catch ``Unavailable``; they never probe a host with ``getattr``/``hasattr``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar, get_args

from lib_textinv.kit.folder_guard import FileAccess
from lib_textinv.kit.progress import Progress

T = TypeVar("T")

# Features a host may offer; the UI disables a button with the reason when one is missing.
Feature = Literal["caption", "deepbooru", "tokenizer", "create", "train", "generate", "upscale", "clip"]
FEATURES: tuple[str, ...] = get_args(Feature)


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


# -- what some roles hand out ------------------------------------------------------------------
class PromptCounter(Protocol):
    def count_tokens(self, text: str) -> int:
        """Prompt tokens as txt2img's counter shows them (an embedding counts as its vectors)."""
        ...


class TokenTable(Protocol):
    """One text encoder's vocabulary: its token embedding table and its tokenizer."""

    def matrix(self) -> Any:
        """The text encoder's token embedding table, ``[vocab, width]`` (a torch tensor)."""
        ...

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` under this encoder's tokenizer (no start/end tokens)."""
        ...

    def id_to_token(self, ids: list[int]) -> list[str]: ...


class LossHost(Protocol):
    """What the fixed-batch loss needs from the loaded model."""

    def encode_latents(self, images: list[Any]) -> Any:
        """Equal-size RGB PIL images → VAE latents ``[n, C, h, w]`` (deterministic: the posterior's
        mean, times the model's scale factor)."""
        ...

    def denoise_loss(
        self, latents: Any, prompts: list[str], timesteps: Any, noise: Any, embedding: tuple[str, Any]
    ) -> float:
        """Mean denoising loss of the batch with ``embedding = (token, vectors [n_vec, width])``
        registered under ``token`` for the prompts' conditioning; no gradients, nothing left registered."""
        ...


class TrainModel(Protocol):
    """The loaded model as our own trainer (``train.own_loop``) drives it: one training step is
    ``conditioning`` then ``loss`` then ``backward``. Embedding vectors are a dict part → tensor
    ``[n, width]``: ``{"*": …}`` on SD1/SD2 (one text encoder), ``{"clip_l": …, "clip_g": …}`` on
    SDXL (docs/webui-contract.md §24 own training loop)."""

    family: str  # SD1 | SD2 | SD2-v | SDXL
    num_timesteps: int

    def parts(self) -> dict[str, int]:
        """Text-encoder part → vector width: ``{"*": 768}`` SD1, ``{"*": 1024}`` SD2,
        ``{"clip_l": 768, "clip_g": 1280}`` SDXL."""
        ...

    def encode_latents(self, images: list[Any]) -> tuple[Any, Any]:
        """Equal-size RGB PIL images → ``(mean, std)`` of the VAE posterior, both ``[n, C, h, w]``
        float32 on the CPU and already in the model's latent scale (a sample is ``mean + std·ε``)."""
        ...

    def session(self, token: str, vectors: dict[str, Any]) -> AbstractContextManager[dict[str, Any]]:
        """For one run: ``vectors`` registered under ``token`` as trainable leaf tensors (float32,
        on the model's device), which it yields for the optimizer; the model's own weights frozen
        and never changed; on SDXL both text encoders pass gradients. On exit everything is undone:
        no gradients left on the model, the user's embedding of that name (if any) back."""
        ...

    def conditioning(self, prompts: list[str], width: int, height: int) -> Any:
        """The text conditioning of ``prompts`` (with the session's token in them), differentiable
        with respect to the session's vectors; SDXL's size conditioning says ``width``×``height``."""
        ...

    def loss(self, latents: Any, cond: Any, timesteps: Any, noise: Any) -> Any:
        """Per-sample denoising loss ``[B]`` (mean squared error against the model's target, eps or
        v) of ``latents`` noised with ``noise`` at integer ``timesteps``; differentiable."""
        ...


class CaptionModel(Protocol):
    """A loaded caption model: one caption per image, in order (greedy BLIP gives the same caption
    as one image at a time); ``tag_batch`` gives DeepBooru-style ``"tag, tag"`` strings."""

    def caption_batch(self, images: list[Any]) -> list[str]: ...

    def tag_batch(self, images: list[Any]) -> list[str]: ...


# -- the roles ---------------------------------------------------------------------------------
class Facts(Protocol):
    kind: str

    def paths(self) -> HostPaths: ...

    def model_facts(self) -> ModelFacts: ...

    def feature(self, name: str) -> tuple[bool, str]:
        """(available, reason-if-not) for one of ``FEATURES``."""
        ...

    def require(self, name: str) -> None:
        """Raise ``Unavailable`` with the reason unless ``feature(name)`` is available."""
        ...

    def setting(self, key: str, default: Any = None) -> Any:
        """A ``textinv_*`` setting (key with or without the prefix)."""
        ...

    def webui_option(self, key: str, default: Any = None) -> Any:
        """One of the host's own options (``shared.opts``), e.g. the trainer's save settings."""
        ...

    def is_lowvram(self) -> bool: ...

    def state_file(self, name: str) -> str | None:
        """Where the extension may keep a small state file (recent folders…); None = nowhere."""
        ...

    def clip_cache_dirs(self) -> list[str]:
        """Folders the host keeps open_clip weights in (the webui's ``--clip-models-path``)."""
        ...

    def file_access(self) -> FileAccess:
        """Whether folders named by users are limited to allowed roots (a webui reachable from
        other machines) and which (``kit.folder_guard``)."""
        ...


class Work(Protocol):
    def run_job(self, title: str, fn: Callable[[Progress], T], progress: Progress | None = None) -> T:
        """Run ``fn(progress)``: in the webui under its queue lock with its progress state and
        Interrupt; standalone directly."""
        ...

    def interrupt(self) -> None:
        """The host's own Interrupt for the job we run (never another user's txt2img)."""
        ...


class EmbeddingStore(Protocol):
    def embeddings(self) -> list[EmbeddingInfo]: ...

    def templates(self) -> dict[str, str]:
        """Template name → path (the prompt templates for training)."""
        ...

    def create_embedding(self, name: str, nvpt: int, init_text: str, overwrite: bool) -> str:
        """Write ``<embeddings_dir>/<name>.pt``; returns its path. The caller holds the queue lock."""
        ...

    def reload_embeddings(self, force: bool = True) -> None:
        """Reload the embedding database (the caller holds the queue lock; never during a sweep)."""
        ...

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` as the loaded model's tokenizer counts them."""
        ...

    def tokenizer(self) -> PromptCounter: ...

    def token_table(self, part: str = "*") -> TokenTable:
        """The token table of one text encoder: ``"*"`` the only one of SD1/SD2, ``"clip_l"`` or
        ``"clip_g"`` one of SDXL's two (the parts of an embedding's vectors)."""
        ...


class Registration(Protocol):
    def register_checkpoint(self, token: str, path: str) -> None:
        """Load ``path`` and register it in memory under ``token`` without touching the embeddings
        folder."""
        ...

    def is_registered(self, token: str, path: str) -> bool:
        """Whether ``token`` is still registered for ``path`` (checked before each batch)."""
        ...

    def unregister(self, token: str) -> None:
        """Remove the temporary entry for ``token``; put back the user's embedding of that name."""
        ...


class Training(Protocol):
    def train(self, args: Any, progress: Progress, loss_csv_every: int | None = None) -> Any:
        """Run the host's trainer with ``train.call.TrainArgs``; returns ``train.call.RawTrainResult``."""
        ...

    def train_model(self) -> TrainModel:
        """The loaded model for our own training loop (``Unavailable`` with the reason when it
        cannot be trained: no model, SD3, an image-conditioned model, ``--lowvram``…)."""
        ...


class Generation(Protocol):
    def samplers(self) -> list[str]: ...

    def txt2img_defaults(self) -> dict[str, Any]: ...

    def generate(self, prompts: list[str], seeds: list[int], params: Any) -> list[tuple[Any, str]]:
        """One generation call: image ``i`` from ``prompts[i]`` and ``seeds[i]``, in one batch.
        Returns ``(PIL.Image, infotext)`` per prompt; raises ``Cancelled`` when interrupted."""
        ...

    def save_image(self, image: Any, prompt: str, seed: int, infotext: str) -> str: ...

    def save_grid(self, image: Any, prompt: str, seed: int, infotext: str) -> str: ...

    def draw_grid(
        self, images: list[Any], cols: int, rows: int, col_labels: list[str], row_labels: list[str]
    ) -> Any:
        """Row-major ``images`` → one labelled grid image."""
        ...


class Scoring(Protocol):
    def loss_host(self) -> LossHost: ...


class Captioning(Protocol):
    def captioner(self, source: str) -> AbstractContextManager[CaptionModel]:
        """Load the caption model(s) for ``source`` (blip | deepbooru | both) once, release them on
        exit as the host's "keep models in memory" setting says."""
        ...


class Upscaling(Protocol):
    def list_upscalers(self) -> list[str]: ...

    def upscale(self, image: Any, width: int, height: int, name: str) -> Any: ...


class Host(
    Facts, Work, EmbeddingStore, Registration, Training, Generation, Scoring, Captioning, Upscaling, Protocol
):
    """Every role together: what the tab, the routes and the steps receive."""


ROLES: tuple[type, ...] = (
    Facts,
    Work,
    EmbeddingStore,
    Registration,
    Training,
    Generation,
    Scoring,
    Captioning,
    Upscaling,
)


class BaseHost:
    """A host that can do nothing that needs a model: each operation raises ``Unavailable`` with
    the reason. ``StandaloneHost`` and the test doubles start from it and override what they offer."""

    def __init__(self, kind: str = "standalone", settings: dict[str, Any] | None = None) -> None:
        self.kind = kind
        self.settings: dict[str, Any] = dict(settings or {})

    def _no(self, what: str) -> Unavailable:
        return Unavailable(f"{what}: needs the webui ({self.kind} mode)")

    # -- facts
    def paths(self) -> HostPaths:
        return HostPaths()

    def model_facts(self) -> ModelFacts:
        return ModelFacts(reason="standalone mode has no model: run the tab inside the webui")

    def feature(self, name: str) -> tuple[bool, str]:
        return False, f"{name}: needs the webui ({self.kind} mode)"

    def require(self, name: str) -> None:
        ok, why = self.feature(name)
        if not ok:
            raise Unavailable(why)

    def setting(self, key: str, default: Any = None) -> Any:
        key = key if key.startswith("textinv_") else f"textinv_{key}"
        return self.settings.get(key, default)

    def webui_option(self, key: str, default: Any = None) -> Any:
        return default

    def is_lowvram(self) -> bool:
        return False

    def state_file(self, name: str) -> str | None:
        return None

    def clip_cache_dirs(self) -> list[str]:
        return []

    def file_access(self) -> FileAccess:
        return FileAccess()

    # -- work
    def run_job(self, title: str, fn: Callable[[Progress], T], progress: Progress | None = None) -> T:
        return fn(progress or Progress(text=title))

    def interrupt(self) -> None:
        """Nothing to interrupt: our Progress objects carry the cancel."""

    # -- embeddings
    def embeddings(self) -> list[EmbeddingInfo]:
        return []

    def templates(self) -> dict[str, str]:
        return {}

    def create_embedding(self, name: str, nvpt: int, init_text: str, overwrite: bool) -> str:
        raise self._no("creating an embedding")

    def reload_embeddings(self, force: bool = True) -> None:
        """No embedding database to reload."""

    def count_tokens(self, text: str) -> int:
        raise self._no("counting tokens")

    def tokenizer(self) -> PromptCounter:
        raise self._no("counting tokens")

    def token_table(self, part: str = "*") -> TokenTable:
        raise self._no("the text encoder's token table")

    # -- registration
    def register_checkpoint(self, token: str, path: str) -> None:
        raise self._no("loading a checkpoint")

    def is_registered(self, token: str, path: str) -> bool:
        return False

    def unregister(self, token: str) -> None:
        """Nothing registered."""

    # -- training, generation, scoring, captioning, upscaling
    def train(self, args: Any, progress: Progress, loss_csv_every: int | None = None) -> Any:
        raise self._no("training")

    def train_model(self) -> TrainModel:
        raise self._no("training")

    def samplers(self) -> list[str]:
        return []

    def txt2img_defaults(self) -> dict[str, Any]:
        return {}

    def generate(self, prompts: list[str], seeds: list[int], params: Any) -> list[tuple[Any, str]]:
        raise self._no("generating images")

    def save_image(self, image: Any, prompt: str, seed: int, infotext: str) -> str:
        raise self._no("saving images")

    def save_grid(self, image: Any, prompt: str, seed: int, infotext: str) -> str:
        raise self._no("saving a grid")

    def draw_grid(
        self, images: list[Any], cols: int, rows: int, col_labels: list[str], row_labels: list[str]
    ) -> Any:
        raise self._no("drawing a grid")

    def loss_host(self) -> LossHost:
        raise self._no("the fixed-batch loss")

    @contextmanager
    def _no_captioner(self, source: str) -> Iterator[CaptionModel]:
        raise self._no(f"captioning with {source}")
        yield  # pragma: no cover - a generator, so the context manager raises on entry

    def captioner(self, source: str) -> AbstractContextManager[CaptionModel]:
        return self._no_captioner(source)

    def list_upscalers(self) -> list[str]:
        return []

    def upscale(self, image: Any, width: int, height: int, name: str) -> Any:
        raise self._no(f"upscaling with {name}")


class StandaloneHost(BaseHost):
    """``python -m lib_textinv``: no webui; templates fall back to a folder if given."""

    def __init__(
        self,
        templates_dir: str | None = None,
        settings: dict[str, Any] | None = None,
        state_dir: str | None = None,
        access: FileAccess | None = None,
    ) -> None:
        from lib_textinv.kit.settings import defaults

        super().__init__(kind="standalone", settings={**defaults(), **(settings or {})})
        self._templates_dir = templates_dir
        self._state_dir = state_dir
        self._access = access or FileAccess()

    def file_access(self) -> FileAccess:
        return self._access

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
