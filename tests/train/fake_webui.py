"""A fake of the webui's training call with the real v1.10.1 signature, reproducing the behaviour
that matters here (docs/webui-contract.md §12 Training call): validate_train_inputs' asserts, the
run folder dated when the call starts, ``<name>-N.pt`` storing step N-1, the loss CSV period,
exceptions inside the loop swallowed without the final save, settings written into a folder it
does not create. ``FakeTrainHost`` calls it exactly as the bridge does: positional arguments.

Time is injected: the fake dates its folder with ``clock`` (a fixed instant unless a test passes
another), so no test depends on the day it runs on.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lib_textinv.kit.host import BaseHost, EmbeddingInfo, HostPaths, ModelFacts
from lib_textinv.kit.progress import Progress
from lib_textinv.train.lr_schedule import ScheduleError, parse_phases, simulate
from lib_textinv.train.outcome import RawTrainResult
from lib_textinv.train.params import FORM, TrainArgs
from tests.embfiles import write_pt
from tests.photos import write_photos

FIXED_NOW = dt.datetime(2026, 11, 25, 14, 0, 0)
RUN_DAY = "2026-11-25"
HOLD_SECONDS = 60.0  # a bound that fails loudly, never a sleep


def fixed_clock() -> dt.datetime:
    return FIXED_NOW


def clock_of(*times: dt.datetime) -> Callable[[], dt.datetime]:
    """A clock that answers ``times`` one call after another, then keeps the last."""
    seq = list(times)

    def now() -> dt.datetime:
        return seq.pop(0) if len(seq) > 1 else seq[0]

    return now


@dataclass
class FakeEmbedding:
    name: str
    step: int | None
    vectors: int = 2
    width: int = 768


@dataclass
class FakeWebui:
    """The parts of modules.textual_inversion the training call touches."""

    embeddings_dir: Path
    templates: dict[str, str]
    db: dict[str, FakeEmbedding] = field(default_factory=dict)
    opts: dict = field(
        default_factory=lambda: {"training_write_csv_every": 500, "save_training_settings_to_txt": True}
    )
    samplers: tuple[str, ...] = ("DPM++ 2M", "Euler a", "Euler")
    version: str = "v1.10.1"
    fail_at_step: int | None = None
    interrupted: bool = False
    textinfo: str = ""
    console: list[str] = field(default_factory=list)
    progress: Progress | None = None
    calls: list[tuple] = field(default_factory=list)
    # Hold the loop after this step until ``resume`` is set (a run that is surely going).
    pause_after: int | None = None
    paused: threading.Event = field(default_factory=threading.Event)
    resume: threading.Event = field(default_factory=threading.Event)
    clock: Callable[[], dt.datetime] = fixed_clock  # the webui dates its run folder when its call starts

    def train_embedding(
        self,
        id_task,
        embedding_name,
        learn_rate,
        batch_size,
        gradient_step,
        data_root,
        log_directory,
        training_width,
        training_height,
        varsize,
        steps,
        clip_grad_mode,
        clip_grad_value,
        shuffle_tags,
        tag_drop_out,
        latent_sampling_method,
        use_weight,
        create_image_every,
        save_embedding_every,
        template_filename,
        save_image_with_stored_embedding,
        preview_from_txt2img,
        preview_prompt,
        preview_negative_prompt,
        preview_steps,
        preview_sampler_name,
        preview_cfg_scale,
        preview_seed,
        preview_width,
        preview_height,
    ):
        self.calls.append(tuple(locals().values())[1:])
        save_embedding_every = save_embedding_every or 0
        create_image_every = create_image_every or 0
        # validate_train_inputs (textual_inversion.py:376-397)
        assert embedding_name, "embedding not selected"
        assert learn_rate, "Learning rate is empty or 0"
        assert isinstance(batch_size, int), "Batch size must be integer"
        assert batch_size > 0
        assert isinstance(gradient_step, int), "Gradient accumulation step must be integer"
        assert os.path.isdir(data_root), "Dataset directory doesn't exist"
        assert template_filename in self.templates, f"Prompt template file {template_filename} not found"
        assert isinstance(steps, int), "Max steps must be integer"
        assert isinstance(save_embedding_every, int), "Save embedding must be integer"
        assert isinstance(create_image_every, int), "Create image must be integer"
        if self.version.startswith("v1.6"):
            assert isinstance(preview_sampler_name, int), "1.6 indexes sd_samplers.samplers"
            self.samplers[preview_sampler_name]
        else:
            assert isinstance(preview_sampler_name, str)
        filename = os.path.join(self.embeddings_dir, f"{embedding_name}.pt")
        log = os.path.join(log_directory, self.clock().strftime("%Y-%m-%d"), embedding_name)
        if save_embedding_every > 0:
            os.makedirs(os.path.join(log, "embeddings"), exist_ok=True)
        if create_image_every > 0:
            os.makedirs(os.path.join(log, "images"), exist_ok=True)
        embedding = self.db[embedding_name]  # KeyError when not loaded
        initial = embedding.step or 0
        if initial >= steps:
            self.textinfo = "Model has already been trained beyond specified max steps"
            return embedding, filename
        try:
            phases, _ = parse_phases(learn_rate, steps, initial)  # learn_rate.split: a float crashes
        except ScheduleError as e:
            raise Exception("Invalid learning rate schedule.") from e
        _segments, final = simulate(phases, initial)
        if self.opts["save_training_settings_to_txt"]:
            with open(os.path.join(log, "settings-x.json"), "w") as f:  # no makedirs: the real bug
                json.dump({"embedding_name": embedding_name, "steps": steps}, f)
        try:
            for _ in range(initial, final):
                if self.interrupted or (self.progress and self.progress.cancelled):
                    self.interrupted = True
                    break
                if self.fail_at_step is not None and embedding.step == self.fail_at_step:
                    raise RuntimeError("CUDA out of memory. Tried to allocate 20.00 MiB")
                embedding.step = (embedding.step or 0) + 1
                steps_done = embedding.step + 1
                if save_embedding_every and steps_done % save_embedding_every == 0:
                    write_pt(
                        Path(log, "embeddings", f"{embedding_name}-{steps_done}.pt"),
                        _vec(),
                        name=f"{embedding_name}-{steps_done}",
                        step=embedding.step,
                    )
                every = self.opts["training_write_csv_every"]
                if every and embedding.step % every == 0:
                    path = os.path.join(log, "textual_inversion_loss.csv")
                    new = not os.path.exists(path)
                    with open(path, "a+", newline="") as fout:
                        w = csv.DictWriter(
                            fout, fieldnames=["step", "epoch", "epoch_step", "loss", "learn_rate"]
                        )
                        if new:
                            w.writeheader()
                        w.writerow(
                            {
                                "step": embedding.step,
                                "epoch": 0,
                                "epoch_step": embedding.step - 1,
                                "loss": f"{0.2:.7f}",
                                "learn_rate": 0.005,
                            }
                        )
                if create_image_every and steps_done % create_image_every == 0:
                    Path(log, "images", f"{embedding_name}-{steps_done}.png").write_bytes(b"png")
                if self.progress:
                    self.progress.step()
                if embedding.step == self.pause_after:
                    self.paused.set()
                    assert self.resume.wait(HOLD_SECONDS), "the test never resumed the fake training"
            write_pt(Path(filename), _vec(), name=embedding_name, step=embedding.step)
        except Exception as e:  # the webui's errors.report("Error training embedding", exc_info=True)
            self.console.append(
                f"*** Error training embedding\n    Traceback ...\n    {type(e).__name__}: {e}"
            )
        return embedding, filename


def _vec():
    import torch

    return torch.zeros(2, 768)


class FakeTrainHost(BaseHost):
    """A TrainHost over FakeWebui, calling it exactly as the bridge will: positional arguments."""

    def __init__(
        self, webui: FakeWebui, log_dir: Path, lowvram: bool = False, facts: ModelFacts | None = None
    ) -> None:
        super().__init__(kind="webui")
        self.webui, self.log_dir, self.lowvram = webui, log_dir, lowvram
        self.facts = facts or ModelFacts(
            loaded=True, family="SD1", name="tiny-sd1", embedding_width=768, trainable=True, reason=""
        )
        self.loss_csv_override: list = []

    def feature(self, name):
        return (True, "") if name == "train" else (False, f"{name}: not in this fake")

    def paths(self):
        return HostPaths(embeddings_dir=str(self.webui.embeddings_dir), ti_log_dir=str(self.log_dir))

    def model_facts(self):
        return self.facts

    def embeddings(self):
        return [
            EmbeddingInfo(e.name, str(self.webui.embeddings_dir / f"{e.name}.pt"), e.vectors, e.width, e.step)
            for e in self.webui.db.values()
        ]

    def templates(self):
        return dict(self.webui.templates)

    def is_lowvram(self):
        return self.lowvram

    def webui_option(self, key, default=None):
        return self.webui.opts.get(key, default)

    def train(self, args, progress, loss_csv_every=None):
        self.loss_csv_override.append(loss_csv_every)
        old = self.webui.opts["training_write_csv_every"]
        if loss_csv_every:
            self.webui.opts["training_write_csv_every"] = loss_csv_every
        self.webui.progress, self.webui.console, self.webui.interrupted = progress, [], False
        raw = RawTrainResult()
        emb = self.webui.db.get(args.embedding_name)
        try:
            self.webui.train_embedding(*args.to_positional(self.webui.version, list(self.webui.samplers)))
        except Exception as e:  # what propagates out of train_embedding (before its loop)
            raw.exception = f"{type(e).__name__}: {e}"
        finally:
            self.webui.opts["training_write_csv_every"] = old
        raw.console_error = "\n".join(self.webui.console)
        raw.interrupted = self.webui.interrupted
        raw.message = self.webui.textinfo
        raw.final_step = emb.step if emb else None
        return raw


def make_setup(
    tmp_path: Path,
    steps_in_file: int | None = 0,
    version: str = "v1.10.1",
    clock: Callable[[], dt.datetime] = fixed_clock,
):
    data = tmp_path / "data"
    write_photos(data, ("astronaut", "chelsea", "coffee"), fmt="PNG", size=(64, 64))
    for p in data.glob("*.png"):
        p.with_suffix(".txt").write_text("a photo, tag one, tag two", encoding="utf-8")
    tdir = tmp_path / "templates"
    tdir.mkdir()
    (tdir / "style_filewords.txt").write_text("a painting of [filewords], art by [name]\n", encoding="utf-8")
    (tdir / "style.txt").write_text("a painting, art by [name]\n", encoding="utf-8")
    emb_dir = tmp_path / "embeddings"
    emb_dir.mkdir()
    webui = FakeWebui(
        emb_dir,
        {n: str(tdir / n) for n in ("style_filewords.txt", "style.txt")},
        version=version,
        clock=clock,
    )
    webui.db["tiny"] = FakeEmbedding("tiny", steps_in_file)
    write_pt(emb_dir / "tiny.pt", _vec(), name="tiny", step=steps_in_file)
    host = FakeTrainHost(webui, tmp_path / "logs")
    args = TrainArgs(
        embedding_name="tiny",
        data_root=str(data),
        log_directory=str(tmp_path / "logs"),
        training_width=64,
        training_height=64,
        steps=20,
        save_embedding_every=5,
        create_image_every=5,
        trainer="webui",
    )
    return host, args


def form_values(args: TrainArgs, csv_every: int = 1) -> tuple:
    """The Train form's values (``FORM`` order) for ``args``."""
    d = args.to_dict()
    d["loss_csv_every"] = csv_every
    return tuple(d[k] for k in FORM)
