"""A host for the sweep and promotion tests (a ``BaseHost``): embeddings are loaded from the real
files into an in-memory database, images are deterministic functions of (prompt, seed, vectors),
cells and grids are saved as numbered PNGs with their infotext, and the grid is drawn by the
webui's own grid code (the contract double's ``modules.images``: what the bridge calls inside the
webui). Its Interrupt ends a generation that is waiting inside the "sampler"."""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import re
import sys
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from PIL import Image
from PIL.PngImagePlugin import PngInfo

from lib_textinv.compare.sweep_run import GenParams
from lib_textinv.kit.embedding_file import load_embedding
from lib_textinv.kit.host import BaseHost
from lib_textinv.kit.progress import Cancelled

SAMPLER_BOUND = 30.0  # a generation waiting for Interrupt fails loudly after this long
_HOSTS: weakref.WeakSet = weakref.WeakSet()  # every fake made, so a failed test's job can be ended


def end_leftover_jobs(keys, bound: float = SAMPLER_BOUND) -> None:
    """After a test: stop what it left running under ``keys`` (a test that failed half-way), so
    the next test does not find the sweep "already running". Fails loudly if one will not end."""
    from lib_textinv.kit.jobs import JOBS

    for key in keys:
        job = JOBS.active(key)
        if job is None:
            continue
        job.progress.cancel()
        for host in list(_HOSTS):
            host.interrupt()
        assert job.ended.wait(bound), f"job {job.title} still running {bound} s after Stop"


@contextlib.contextmanager
def webui_images() -> Iterator[ModuleType]:
    """The double's ``modules.images`` (installed for the call unless a test already has it)."""
    from tests import webui_double

    if "modules" in sys.modules:  # a test's webui double is in place: use it, leave it
        yield importlib.import_module("modules.images")
        return
    webui_double.install()
    try:
        yield importlib.import_module("modules.images")
    finally:
        webui_double.uninstall()


def webui_grid(images, cols: int, rows: int, col_labels, row_labels):
    """A labelled grid exactly as ``WebuiHost.draw_grid`` draws it (image_grid +
    draw_grid_annotations, modules/images.py:36-66, 151-236)."""
    with webui_images() as mi:
        grid = mi.image_grid(list(images), rows=rows)
        w, h = images[0].size
        hor = [[mi.GridAnnotation(t)] for t in col_labels] or [[mi.GridAnnotation("")] for _ in range(cols)]
        ver = [[mi.GridAnnotation(t)] for t in row_labels] or [[mi.GridAnnotation("")] for _ in range(rows)]
        return mi.draw_grid_annotations(grid, w, h, hor, ver)


def save_png(image, folder: Path, stem: str, infotext: str) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{len(list(folder.glob('*.png'))):05d}-{stem}.png"
    info = PngInfo()
    info.add_text("parameters", infotext)
    image.save(path, "PNG", pnginfo=info)
    return str(path)


class FakeSweepHost(BaseHost):
    def __init__(
        self,
        out_dir: Path,
        embeddings_dir: Path | None = None,
        fail_on_call: int | None = None,
        interrupt_on_call: int | None = None,
        progress=None,
        reload_before_call: int | None = None,
        sample_until_interrupted_on_call: int | None = None,
    ) -> None:
        super().__init__(kind="test")
        self.samples_dir, self.grids_dir = Path(out_dir) / "samples", Path(out_dir) / "grids"
        self.db: dict[str, object] = {}
        if embeddings_dir is not None:
            for p in sorted(embeddings_dir.glob("*.pt")):
                self.db[p.stem] = load_embedding(p)
        self.user_db = dict(self.db)
        self.saved_before: dict[str, object] = {}
        self.calls: list[tuple[list[str], list[int]]] = []
        self.registered_log: list[str] = []
        self.unregistered_log: list[str] = []
        self.fail_on_call, self.interrupt_on_call, self.progress = fail_on_call, interrupt_on_call, progress
        self.reloads: list[bool] = []
        self.paths_by_token: dict[str, str] = {}
        self.reload_before_call = reload_before_call
        self.sample_until_interrupted_on_call = sample_until_interrupted_on_call
        self.sampling = threading.Event()  # set while a generation waits inside the "sampler"
        self.interrupted = threading.Event()  # the host's Interrupt was pressed
        _HOSTS.add(self)

    # -- work
    def interrupt(self) -> None:
        self.interrupted.set()

    # -- registration
    def register_checkpoint(self, token: str, path: str) -> None:
        if token in self.db:
            self.saved_before[token] = self.db[token]
        self.db[token] = load_embedding(path)
        self.paths_by_token[token] = path
        self.registered_log.append(token)

    def is_registered(self, token: str, path: str) -> bool:
        # An Extra Networks refresh while a sweep runs: the database is back to the user's files.
        if self.reload_before_call == len(self.calls) + 1:
            self.reload_before_call = None
            self.db = dict(self.user_db)
            self.paths_by_token.clear()
        return self.paths_by_token.get(token) == path and token in self.db

    def unregister(self, token: str) -> None:
        self.unregistered_log.append(token)
        self.db.pop(token, None)
        self.paths_by_token.pop(token, None)
        if token in self.saved_before:
            self.db[token] = self.saved_before.pop(token)

    # -- generation
    def _token_in(self, prompt: str):
        for tok in sorted(self.db, key=len, reverse=True):  # longest match, like the webui
            if re.search(rf"(?<![\w-]){re.escape(tok)}(?![\w-])", prompt):
                return tok
        return None

    def _sample_until_interrupted(self) -> None:
        """Like the webui's sampler: steps until Interrupt, then the half-made batch is dropped."""
        self.sampling.set()
        if not self.interrupted.wait(SAMPLER_BOUND):
            raise AssertionError(f"the sampler was not interrupted within {SAMPLER_BOUND} s")
        raise Cancelled("interrupted")

    def generate(self, prompts, seeds, params: GenParams):
        self.calls.append((list(prompts), list(seeds)))
        n = len(self.calls)
        if self.sample_until_interrupted_on_call == n:
            self._sample_until_interrupted()
        if self.interrupt_on_call == n:
            if self.progress is not None:
                self.progress.cancel()
            raise Cancelled("interrupted")
        if self.fail_on_call == n:
            raise RuntimeError("CUDA out of memory (fake)")
        out = []
        for prompt, seed in zip(prompts, seeds, strict=True):
            tok = self._token_in(prompt)
            assert tok is not None, f"no registered embedding in {prompt!r}"
            vec = self.db[tok].vectors
            h = hashlib.sha256(f"{prompt}|{seed}|{float(vec.sum()):.6f}".encode()).digest()
            img = Image.new("RGB", (params.width, params.height), tuple(h[:3]))
            out.append((img, f'{prompt}\nSteps: {params.steps}, Seed: {seed}, TI hashes: "{tok}: x"'))
        return out

    def save_image(self, image, prompt: str, seed: int, infotext: str) -> str:
        return save_png(image, self.samples_dir, str(seed), infotext)

    def save_grid(self, image, prompt: str, seed: int, infotext: str) -> str:
        return save_png(image, self.grids_dir, f"textinv-sweep-{seed}", infotext)

    def draw_grid(self, images, cols: int, rows: int, col_labels, row_labels):
        return webui_grid(images, cols, rows, col_labels, row_labels)

    # -- embeddings
    def reload_embeddings(self, force: bool = True) -> None:
        self.reloads.append(force)
