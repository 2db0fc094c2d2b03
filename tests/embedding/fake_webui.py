"""A fake webui host for the Embedding step with v1.10.1's embedding-database semantics
(docs/webui-contract.md §10 Embedding database, §11 Creating an embedding): file stem = token, a
reload only on a newer folder mtime unless forced, sanitised names, the queue lock held around
create and reload."""

from __future__ import annotations

import os
import threading
import zlib
from pathlib import Path

from lib_textinv.embedding.init_text import ClipBpeCounter
from lib_textinv.embedding.names import webui_sanitise
from lib_textinv.kit.embedding_file import load_embedding
from lib_textinv.kit.host import BaseHost, EmbeddingInfo, HostPaths, ModelFacts, Unavailable
from tests.embfiles import write_pt


class FakeWebui(BaseHost):
    """The operations create.py needs, with the webui's semantics."""

    def __init__(self, emb_dir: Path, family: str = "SD1", width: int = 768) -> None:
        super().__init__(kind="fake-webui")
        self.emb_dir = emb_dir
        emb_dir.mkdir(parents=True, exist_ok=True)
        self.family, self.width = family, width
        self.db: dict[str, EmbeddingInfo] = {}
        self.dir_mtime = -1.0
        self.lock = threading.Lock()  # stands in for queue_lock
        self.calls: list[tuple] = []
        self.before_table = None  # a test's hook: runs when a token table is asked for
        self._bpe = ClipBpeCounter()

    # facts
    def paths(self) -> HostPaths:
        return HostPaths(embeddings_dir=str(self.emb_dir))

    def model_facts(self) -> ModelFacts:
        return ModelFacts(
            loaded=True,
            family=self.family,
            name=f"tiny-{self.family.lower()}",
            short_hash="0123456789",
            embedding_width=self.width,
            trainable=self.family in ("SD1", "SD2"),
            reason="" if self.family != "SDXL" else "SDXL",
        )

    def feature(self, name):
        return True, ""

    def embeddings(self):
        return sorted(self.db.values(), key=lambda e: e.name.lower())

    def count_tokens(self, text):
        return self._bpe.count_tokens(text)

    def run_job(self, title, fn, progress=None):
        with self.lock:
            self.calls.append(("job", title))
            return super().run_job(title, fn, progress)

    # operations
    def create_embedding(self, name, nvpt, init_text, overwrite):
        import torch

        assert self.lock.locked(), "create_embedding outside the queue lock"
        if self.family == "SDXL":
            raise TypeError("'list' object has no attribute 'items'")  # what sgm's conditioner does
        self.calls.append(("create", name, nvpt, init_text, overwrite))
        name = webui_sanitise(name)
        fn = self.emb_dir / f"{name}.pt"
        if not overwrite:
            assert not fn.exists(), f"file {fn} already exists"
        torch.manual_seed(len(init_text))
        write_pt(fn, torch.randn(nvpt, self.width), name=name, step=0)
        return str(fn)

    def reload_embeddings(self, force):
        assert self.lock.locked(), "reload outside the queue lock"
        self.calls.append(("reload", force))
        mtime = os.path.getmtime(self.emb_dir)
        if not force and mtime <= self.dir_mtime:
            return
        self.dir_mtime = mtime
        self.db.clear()
        for root, _dirs, files in os.walk(self.emb_dir):
            for f in files:
                p = Path(root) / f
                if p.suffix in (".pt", ".safetensors"):
                    data = load_embedding(p)  # SDXL: width = clip_l + clip_g (textual_inversion.py:296-299)
                    ok = data.width == self.width
                    self.db[p.stem] = EmbeddingInfo(p.stem, str(p), data.n_vectors, data.width, data.step, ok)

    def token_table(self, part="*"):
        """One toy table per text encoder: SD1/SD2 "*", SDXL "clip_l" (768) and "clip_g" (1280)."""
        widths = {"clip_l": 768, "clip_g": 1280} if self.family == "SDXL" else {"*": self.width}
        if part not in widths:
            raise Unavailable(f"the loaded model has no text encoder {part!r}")
        self.calls.append(("token_table", part))
        if self.before_table is not None:
            self.before_table(part)
        return ToyTable(widths[part], seed=widths[part])


class ToyTable:
    """A TokenTable: word ids from crc32 (the same for every encoder, as CLIP-L's and OpenCLIP-G's
    tokenizers share one vocabulary), a seeded random matrix per encoder."""

    VOCAB = 1000

    def __init__(self, width: int, seed: int) -> None:
        import torch

        self.m = torch.randn(self.VOCAB, width, generator=torch.Generator().manual_seed(seed))

    def matrix(self):
        return self.m

    def encode(self, text: str) -> list[int]:
        return [zlib.crc32(w.encode()) % self.VOCAB for w in text.lower().split()]

    def id_to_token(self, ids):
        return [f"t{i}</w>" for i in ids]
