"""A fake ``SweepHost``/``PromoteHost`` for the sweep and promotion tests (the lead's contract
double of the webui replaces it later). Embeddings are loaded from the real files, the database
is an in-memory dict, images are deterministic functions of (prompt, seed, vectors)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from PIL import Image

from lib_textinv.compare.sweep_run import FolderOutput, GenParams
from lib_textinv.kit.embedding_file import load_embedding
from lib_textinv.kit.progress import Cancelled


class FakeSweepHost(FolderOutput):
    def __init__(
        self,
        out_dir: Path,
        embeddings_dir: Path | None = None,
        fail_on_call: int | None = None,
        interrupt_on_call: int | None = None,
        progress=None,
        reload_before_call: int | None = None,
    ) -> None:
        super().__init__(out_dir / "samples", out_dir / "grids")
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

    # -- SweepHost ---------------------------------------------------------------------------
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

    def _token_in(self, prompt: str):
        for tok in sorted(self.db, key=len, reverse=True):  # longest match, like the webui
            if re.search(rf"(?<![\w-]){re.escape(tok)}(?![\w-])", prompt):
                return tok
        return None

    def generate(self, prompts, seeds, params: GenParams):
        self.calls.append((list(prompts), list(seeds)))
        n = len(self.calls)
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

    # -- PromoteHost -------------------------------------------------------------------------
    def reload_embeddings(self, force: bool = True) -> None:
        self.reloads.append(force)
