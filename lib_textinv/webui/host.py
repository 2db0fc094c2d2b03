"""``WebuiHost``: the host contract (``lib_textinv.kit.host.Host``) inside AUTOMATIC1111 or Forge.

Each method hands over to the module of this package that adapts that part of the webui; every
method of every role is defined here (tests/kit/test_host_contract.py checks it), so nothing
falls through to ``BaseHost``'s "unavailable" answers by accident. Forge loads the tab; features
it removed (training, creating embeddings) report why they are unavailable (docs/webui-contract.md
§22).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from lib_textinv.kit.folder_guard import FileAccess
from lib_textinv.kit.host import (
    BaseHost,
    CaptionModel,
    EmbeddingInfo,
    HostPaths,
    LossHost,
    ModelFacts,
    PromptCounter,
    TokenTable,
    TrainModel,
    Unavailable,
)
from lib_textinv.kit.progress import Progress
from lib_textinv.webui import (
    captioning,
    embeddings,
    facts,
    generation,
    loss,
    registration,
    trainer_model,
    training,
    upscaling,
    work,
)

T = TypeVar("T")


class WebuiHost(BaseHost):
    def __init__(self) -> None:
        super().__init__(kind=facts.host_kind())
        self._jobs = work.JobRunner()
        self._sweep = registration.SweepRegistry()

    # -- facts
    def paths(self) -> HostPaths:
        return facts.paths()

    def model_facts(self) -> ModelFacts:
        return facts.model_facts(self.kind)

    def feature(self, name: str) -> tuple[bool, str]:
        ok, why = facts.feature(self.kind, name)
        if name == "train" and not ok and facts.model_facts(self.kind).loaded:
            # Training is offered when either trainer can: ours also trains SDXL.
            ours = trainer_model.unavailable_reason(facts.loaded_model())
            return (True, "") if ours is None else (False, ours)
        return ok, why

    def require(self, name: str) -> None:
        ok, why = self.feature(name)
        if not ok:
            raise Unavailable(why)

    def setting(self, key: str, default: Any = None) -> Any:
        return facts.setting(key, default)

    def webui_option(self, key: str, default: Any = None) -> Any:
        return facts.webui_option(key, default)

    def is_lowvram(self) -> bool:
        return facts.is_lowvram()

    def state_file(self, name: str) -> str | None:
        return facts.state_file(name)

    def clip_cache_dirs(self) -> list[str]:
        return facts.clip_cache_dirs()

    def file_access(self) -> FileAccess:
        return facts.file_access()

    # -- work
    def run_job(self, title: str, fn: Callable[[Progress], T], progress: Progress | None = None) -> T:
        return self._jobs.run(title, fn, progress)

    def interrupt(self) -> None:
        self._jobs.interrupt()

    # -- embeddings
    def embeddings(self) -> list[EmbeddingInfo]:
        return embeddings.embeddings()

    def templates(self) -> dict[str, str]:
        return training.templates()

    def create_embedding(self, name: str, nvpt: int, init_text: str, overwrite: bool) -> str:
        return embeddings.create_embedding(name, nvpt, init_text, overwrite)

    def reload_embeddings(self, force: bool = True) -> None:
        embeddings.reload_embeddings(force)

    def count_tokens(self, text: str) -> int:
        return embeddings.count_tokens(text)

    def tokenizer(self) -> PromptCounter:
        return embeddings.prompt_counter()

    def token_table(self, part: str = "*") -> TokenTable:
        return embeddings.token_table(part)

    # -- registration (the step sweep)
    def register_checkpoint(self, token: str, path: str) -> None:
        self._sweep.register(token, path)

    def is_registered(self, token: str, path: str) -> bool:
        return self._sweep.is_registered(token, path)

    def unregister(self, token: str) -> None:
        self._sweep.unregister(token)

    # -- training
    def train(self, args: Any, progress: Progress, loss_csv_every: int | None = None) -> Any:
        return training.train(args, progress, loss_csv_every)

    def train_model(self) -> TrainModel:
        return trainer_model.train_model()

    # -- generation
    def samplers(self) -> list[str]:
        return generation.samplers()

    def txt2img_defaults(self) -> dict[str, Any]:
        return generation.txt2img_defaults()

    def generate(self, prompts: list[str], seeds: list[int], params: Any) -> list[tuple[Any, str]]:
        return generation.generate(prompts, seeds, params)

    def save_image(self, image: Any, prompt: str, seed: int, infotext: str) -> str:
        return generation.save_image(image, prompt, seed, infotext)

    def save_grid(self, image: Any, prompt: str, seed: int, infotext: str) -> str:
        return generation.save_grid(image, prompt, seed, infotext)

    def draw_grid(
        self, images: list[Any], cols: int, rows: int, col_labels: list[str], row_labels: list[str]
    ) -> Any:
        return generation.draw_grid(images, cols, rows, col_labels, row_labels)

    # -- scoring, captioning, upscaling
    def loss_host(self) -> LossHost:
        return loss.loss_host()

    def captioner(self, source: str) -> AbstractContextManager[CaptionModel]:
        return captioning.captioner(source)

    def list_upscalers(self) -> list[str]:
        return upscaling.list_upscalers()

    def upscale(self, image: Any, width: int, height: int, name: str) -> Any:
        return upscaling.upscale(image, width, height, name)
