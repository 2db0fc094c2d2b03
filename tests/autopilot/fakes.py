"""A webui-like host for the autopilot (a ``BaseHost``): every stage can run on it, in-process and
fast. Its pieces are the other steps' doubles: the tiny denoiser of the fixed-batch loss, the token
table of the drift, the sweep's PNG saving and the webui's own grid drawing, tiny CLIP weights in
its CLIP folder; plus a trainer that writes the webui's run layout (``<log>/<date>/<name>/
embeddings/<name>-<N>.pt`` storing step N-1, the loss CSV, the settings file, the final
``<name>.pt`` with its step, also when interrupted), a captioner and Create.

Its queue is a non-reentrant lock like the webui's: a stage that took it twice would fail loudly
instead of deadlocking. ``hold_training_at`` holds training after a step until the test lets go
(a run that is surely in the middle of training)."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import json
import re
import threading
from pathlib import Path

import torch
from PIL import Image

from lib_textinv.kit.embedding_file import load_embedding
from lib_textinv.kit.host import BaseHost, EmbeddingInfo, HostPaths, ModelFacts
from lib_textinv.kit.progress import Cancelled
from lib_textinv.train.outcome import RawTrainResult
from tests.embfiles import write_pt
from tests.scores.clip_weights import save_tiny_openai_clip
from tests.scores.test_drift import MatrixTable
from tests.scores.test_fixed_loss import TinyDenoiserHost
from tests.sweep_fakes import save_png, webui_grid

WIDTH = 32  # the tiny denoiser's and token table's vector width
SIDE = 64  # the "model's" native size: small images, fast tests
HOLD_SECONDS = 60.0  # a bound that fails loudly, never a sleep
CLIP_SETTINGS = {
    "textinv_clip_model": "ViT-B-32",
    "textinv_clip_pretrained": "openai",
    "textinv_clip_device": "cpu",
    "textinv_clip_batch_size": 4,
}
TEMPLATES = {
    "style_filewords.txt": "a painting of [filewords], art by [name]",
    "style.txt": "a painting, art by [name]",
    "subject_filewords.txt": "a photo of a [name], [filewords]",
    "subject.txt": "a photo of a [name]",
}


class QueueLock:
    """The webui's queue lock: not reentrant."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owner: int | None = None

    @contextlib.contextmanager
    def held(self):
        if self._owner == threading.get_ident():
            raise RuntimeError("queue_lock is not reentrant: acquired twice by the same thread")
        self._lock.acquire()
        self._owner = threading.get_ident()
        try:
            yield
        finally:
            self._owner = None
            self._lock.release()


class FakeCaptioner:
    def caption_batch(self, images):
        return [f"a picture, {im.size[0]} wide" for im in images]

    def tag_batch(self, images):
        return ["tag" for _ in images]


class AutopilotHost(BaseHost):
    def __init__(self, root: Path, caption: bool = True) -> None:
        super().__init__(kind="test", settings=dict(CLIP_SETTINGS))
        self.root = root
        self.caption = caption
        self.queue = QueueLock()
        self.loss = TinyDenoiserHost()
        self.table = MatrixTable(vocab=60)
        self.db: dict[str, dict] = {}  # name → {"vectors": n, "step": s}
        self.registered: dict[str, object] = {}
        self.calls: dict[str, int] = {}
        self.interrupted = threading.Event()
        self.hold_training_at: int | None = None
        self.training_held = threading.Event()
        self.let_training_go = threading.Event()
        self.hold_sweep = False  # hold the first sweep batch until Interrupt
        self.sweep_held = threading.Event()
        self.working = False  # Interrupt reaches only our own job, like the bridge's JobRunner
        for d in ("embeddings", "log", "out/samples", "out/grids", "templates", "state"):
            (root / d).mkdir(parents=True, exist_ok=True)
        for name, text in TEMPLATES.items():
            (root / "templates" / name).write_text(text + "\n", encoding="utf-8")
        save_tiny_openai_clip(root / "models" / "CLIP")

    def count(self, what: str) -> None:
        self.calls[what] = self.calls.get(what, 0) + 1

    # -- facts
    def paths(self):
        r = self.root
        return HostPaths(
            embeddings_dir=str(r / "embeddings"),
            ti_log_dir=str(r / "log"),
            templates_dir=str(r / "templates"),
            outdir_samples=str(r / "out" / "samples"),
            outdir_grids=str(r / "out" / "grids"),
        )

    def model_facts(self):
        return ModelFacts(
            loaded=True,
            family="SD1",
            name="fake-sd1",
            short_hash="fake0001",
            native_resolution=SIDE,
            embedding_width=WIDTH,
            trainable=True,
            reason="",
        )

    def feature(self, name):
        if name == "caption" and not self.caption:
            return False, "caption: not in this fake"
        return (True, "") if name != "deepbooru" else (False, "no DeepBooru here")

    def state_file(self, name):
        return str(self.root / "state" / name)

    def clip_cache_dirs(self):
        return [str(self.root / "models" / "CLIP")]

    def templates(self):
        return {n: str(self.root / "templates" / n) for n in TEMPLATES}

    # -- work
    def run_job(self, title, fn, progress=None):
        from lib_textinv.kit.progress import Progress

        with self.queue.held():
            return fn(progress or Progress(text=title))

    def interrupt(self):
        if self.working:
            self.interrupted.set()

    # -- embeddings
    def embeddings(self):
        emb = Path(self.paths().embeddings_dir)
        return [
            EmbeddingInfo(n, str(emb / f"{n}.pt"), e["vectors"], WIDTH, e["step"]) for n, e in self.db.items()
        ]

    def create_embedding(self, name, nvpt, init_text, overwrite):
        self.count("create")
        path = Path(self.paths().embeddings_dir) / f"{name}.pt"
        assert overwrite or not path.exists(), f"file {path} already exists"
        write_pt(path, torch.zeros(nvpt, WIDTH) + 0.01, name=name, step=0)
        return str(path)

    def reload_embeddings(self, force=True):
        self.db = {}
        for p in Path(self.paths().embeddings_dir).rglob("*.pt"):
            e = load_embedding(p)
            self.db[p.stem] = {"vectors": e.n_vectors, "step": e.step}

    def count_tokens(self, text):
        return len(text.split())

    def tokenizer(self):
        return self

    def token_table(self):
        return self.table

    def loss_host(self):
        return self.loss

    @contextlib.contextmanager
    def captioner(self, source):
        self.count("caption")
        yield FakeCaptioner()

    # -- training: the webui's layout and behaviour (docs/webui-contract.md §12-14)
    def _checkpoint(self, folder: Path, name: str, step: int, n: int) -> None:
        g = torch.Generator().manual_seed(step)
        vec = torch.full((n, WIDTH), 0.01) + torch.randn(n, WIDTH, generator=g) * min(1.0, step / 20)
        write_pt(folder / "embeddings" / f"{name}-{step + 1}.pt", vec, name=f"{name}-{step + 1}", step=step)

    def _loss_row(self, folder: Path, step: int) -> None:
        path = folder / "textual_inversion_loss.csv"
        new = not path.exists()
        with open(path, "a", newline="") as f:
            w = csv.writer(f)
            if new:
                w.writerow(["step", "epoch", "epoch_step", "loss", "learn_rate"])
            w.writerow([step, 0, step, f"{0.3 / (1 + step / 10):.5f}", 0.005])

    def _hold(self, step: int) -> None:
        if step == self.hold_training_at:
            self.training_held.set()
            assert self.let_training_go.wait(HOLD_SECONDS), "the test never let training go on"

    def train(self, args, progress, loss_csv_every=None):
        self.count("train")
        name = args.embedding_name
        emb = self.db[name]
        folder = Path(args.log_directory) / dt.datetime.now().strftime("%Y-%m-%d") / name
        (folder / "embeddings").mkdir(parents=True, exist_ok=True)
        settings = {
            "data_root": args.data_root,
            "template_file": self.templates()[args.template_filename],
            "training_width": args.training_width,
            "training_height": args.training_height,
        }
        (folder / "settings-fake.json").write_text(json.dumps(settings), encoding="utf-8")
        interrupted, step = False, emb["step"] or 0
        self.working = True
        while step < args.steps:
            if progress.cancelled or self.interrupted.is_set():
                interrupted = True
                break
            step += 1
            emb["step"] = step
            if (step + 1) % args.save_embedding_every == 0:
                self._checkpoint(folder, name, step, emb["vectors"])
            self._loss_row(folder, step)
            progress.step(text=f"step {step}")
            self._hold(step)
        path = Path(self.paths().embeddings_dir) / f"{name}.pt"
        write_pt(path, torch.zeros(emb["vectors"], WIDTH) + step / 100, name=name, step=step)
        self.working = False
        self.interrupted.clear()
        return RawTrainResult(final_step=step, interrupted=interrupted)

    # -- registration and generation
    def register_checkpoint(self, token, path):
        self.registered[token] = load_embedding(path).vectors

    def is_registered(self, token, path):
        return token in self.registered

    def unregister(self, token):
        self.registered.pop(token, None)

    def _sample_until_interrupted(self):
        self.hold_sweep = False
        self.working = True
        self.sweep_held.set()
        try:
            assert self.interrupted.wait(HOLD_SECONDS), "the sweep was not interrupted"
        finally:
            self.working = False
            self.interrupted.clear()
        raise Cancelled("interrupted")

    def generate(self, prompts, seeds, params):
        self.count("generate")
        if self.hold_sweep and self.registered:
            self._sample_until_interrupted()
        out = []
        for prompt, seed in zip(prompts, seeds, strict=True):
            tok = next((t for t in sorted(self.registered, key=len, reverse=True) if t in prompt), None)
            found = re.findall(r"\b[\w.-]+-\d+\b", prompt)
            loaded = tok or (found[0] if found and found[0] in self.db else None)
            total = float(self.registered[tok].sum()) if tok else 0.0
            h = hashlib.sha256(f"{prompt}|{seed}|{total:.5f}".encode()).digest()
            img = Image.new("RGB", (params.width, params.height), tuple(h[:3]))
            hashes = f', TI hashes: "{loaded}: {h.hex()[:12]}"' if loaded else ""
            out.append((img, f"{prompt}\nSteps: {params.steps}, Seed: {seed}{hashes}"))
        return out

    def save_image(self, image, prompt, seed, infotext):
        return save_png(image, Path(self.paths().outdir_samples), str(seed), infotext)

    def save_grid(self, image, prompt, seed, infotext):
        return save_png(image, Path(self.paths().outdir_grids), f"textinv-sweep-{seed}", infotext)

    def draw_grid(self, images, cols, rows, col_labels, row_labels):
        return webui_grid(images, cols, rows, col_labels, row_labels)
