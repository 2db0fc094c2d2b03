"""The call into the webui's train_embedding: exact order/types (v1.10.1, 30 parameters), the
1.6 sampler-index difference, and detection of what the webui hides (swallowed loop errors).

``FakeWebui`` has the real v1.10.1 signature and reproduces the behaviour that matters here
(webui-api.md §3.8): validate_train_inputs' asserts, the run folder layout, ``<name>-N.pt``
storing step N-1, the loss CSV period, exceptions inside the loop swallowed without the final
save, settings written into a folder it does not create.
"""

from __future__ import annotations

import csv
import datetime as dt
import inspect
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from lib_textinv.kit.host import BaseHost, EmbeddingInfo, HostPaths, ModelFacts
from lib_textinv.kit.progress import Progress, RecordingProgress
from lib_textinv.train.call import (
    PARAMETERS,
    PARAMETERS_V1_6,
    RawTrainResult,
    TrainArgs,
    judge_outcome,
    list_checkpoints,
    planned_checkpoint_steps,
    run_training,
    uses_sampler_index,
)
from lib_textinv.train.lr_schedule import ScheduleError, parse_phases, simulate
from tests.embfiles import write_pt
from tests.photos import write_photos

FIXED_NOW = dt.datetime(2026, 11, 25, 14, 0, 0)


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
    now: dt.datetime = FIXED_NOW

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
        log = os.path.join(log_directory, self.now.strftime("%Y-%m-%d"), embedding_name)
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


def make_setup(tmp_path: Path, steps_in_file: int | None = 0, version: str = "v1.10.1"):
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
        emb_dir, {n: str(tdir / n) for n in ("style_filewords.txt", "style.txt")}, version=version
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
    )
    return host, args


# -- order and types ------------------------------------------------------------------------------


def test_parameter_list_is_the_real_signature():
    sig = [p for p in inspect.signature(FakeWebui.train_embedding).parameters if p != "self"]
    assert list(PARAMETERS) == sig
    assert len(PARAMETERS) == 30
    assert PARAMETERS[25] == "preview_sampler_name" and PARAMETERS_V1_6[25] == "preview_sampler_index"


def test_positional_values_and_types():
    a = TrainArgs.coerce(
        embedding_name="e",
        data_root="/d",
        log_directory="/l",
        steps=1500.0,
        batch_size=1.0,
        gradient_step=2,
        save_embedding_every=50.0,
        create_image_every=100.0,
        learn_rate=0.005,
        tag_drop_out=0,
        training_width=512.0,
        training_height=768.0,
    )
    pos = a.to_positional("v1.10.1")
    assert len(pos) == 30
    named = dict(zip(PARAMETERS, pos, strict=True))
    for k in (
        "batch_size",
        "gradient_step",
        "steps",
        "save_embedding_every",
        "create_image_every",
        "training_width",
        "training_height",
        "preview_steps",
        "preview_seed",
        "preview_width",
        "preview_height",
    ):
        assert type(named[k]) is int, k
    for k in ("learn_rate", "clip_grad_value", "template_filename", "preview_sampler_name", "embedding_name"):
        assert type(named[k]) is str, k
    for k in (
        "varsize",
        "shuffle_tags",
        "use_weight",
        "save_image_with_stored_embedding",
        "preview_from_txt2img",
    ):
        assert type(named[k]) is bool, k
    assert type(named["tag_drop_out"]) is float and type(named["preview_cfg_scale"]) is float
    assert named["learn_rate"] == "0.005" and named["steps"] == 1500 and named["training_height"] == 768


@pytest.mark.parametrize(
    "bad,match",
    [
        ({"steps": 10.5}, "whole number"),
        ({"batch_size": True}, "batch_size must be int"),
        ({"learn_rate": None}, None),  # None → "" is a str; the schedule check refuses it later
        ({"latent_sampling_method": "sometimes"}, "latent_sampling_method"),
        ({"clip_grad_mode": "max"}, "clip_grad_mode"),
        ({"bogus": 1}, "unknown training parameter"),
    ],
)
def test_coerce_refuses_wrong_types(bad, match):
    base = {"embedding_name": "e", "data_root": "/d", "log_directory": "/l"}
    if match is None:
        assert TrainArgs.coerce(**base, **bad).learn_rate == ""
        return
    with pytest.raises(TypeError, match=match):
        TrainArgs.coerce(**base, **bad)


def test_float_from_number_box_would_fail_in_the_webui(tmp_path):
    """Without coerce a gr.Number float reaches the webui and its assert fires: to_positional
    refuses it first."""
    _host, args = make_setup(tmp_path)
    args.steps = 20.0  # type: ignore[assignment]
    with pytest.raises(TypeError, match="steps must be int"):
        args.to_positional("v1.10.1")


def test_v16_gets_sampler_index(tmp_path):
    assert uses_sampler_index("v1.6.1") and uses_sampler_index("1.6.0-RC")
    assert (
        not uses_sampler_index("v1.7.0") and not uses_sampler_index("v1.10.1") and not uses_sampler_index("")
    )
    a = TrainArgs(
        embedding_name="e",
        data_root="/d",
        log_directory="/l",
        preview_from_txt2img=True,
        preview_sampler_name="euler a",
    )
    samplers = ["DPM++ 2M", "Euler a", "Euler"]
    assert a.to_positional("v1.6.0", samplers)[25] == 1
    assert a.to_positional("v1.10.1", samplers)[25] == "euler a"
    assert a.to_kwargs("v1.6.0", samplers)["preview_sampler_index"] == 1
    a.preview_sampler_name = "Nope"
    with pytest.raises(ValueError, match="not one of the webui's samplers"):
        a.to_positional("v1.6.0", samplers)
    a.preview_from_txt2img = False  # not read by the webui then: any placeholder works
    assert a.to_positional("v1.6.0", samplers)[25] == 0


@pytest.mark.parametrize("version", ["v1.6.0", "v1.10.1"])
def test_fake_webui_accepts_the_call_for_each_version(tmp_path, version):
    host, args = make_setup(tmp_path, version=version)
    out = run_training(host, args, Progress(), initial_step=0, expected_final_step=20, now=lambda: FIXED_NOW)
    assert out.status == "finished", out
    assert type(host.webui.calls[0][25]) is (int if version == "v1.6.0" else str)


# -- outcome ------------------------------------------------------------------------------------


def test_successful_run_lists_checkpoints_and_saves(tmp_path):
    host, args = make_setup(tmp_path)
    out = run_training(
        host,
        args,
        Progress(),
        initial_step=0,
        expected_final_step=20,
        loss_csv_every=1,
        now=lambda: FIXED_NOW,
    )
    assert out.status == "finished" and out.steps_done == 20 and out.final_saved
    assert [Path(c).name for c in out.checkpoints] == ["tiny-5.pt", "tiny-10.pt", "tiny-15.pt", "tiny-20.pt"]
    assert out.run_folder == str(tmp_path / "logs" / "2026-11-25" / "tiny")
    assert host.loss_csv_override == [1]
    assert host.webui.opts["training_write_csv_every"] == 500  # restored
    rows = (Path(out.run_folder) / "textual_inversion_loss.csv").read_text().splitlines()
    assert len(rows) == 21


def test_planned_checkpoints_match_what_the_webui_writes(tmp_path):
    assert planned_checkpoint_steps(0, 20, 5) == [5, 10, 15, 20]
    assert planned_checkpoint_steps(0, 20, 0) == []
    assert planned_checkpoint_steps(10, 20, 5) == [15, 20]
    host, args = make_setup(tmp_path, steps_in_file=10)
    out = run_training(host, args, Progress(), initial_step=10, expected_final_step=20, now=lambda: FIXED_NOW)
    assert [n for n, _p in list_checkpoints(out.run_folder, "tiny")] == planned_checkpoint_steps(10, 20, 5)


def test_swallowed_loop_error_is_failed_with_console_text(tmp_path):
    host, args = make_setup(tmp_path)
    host.webui.fail_at_step = 12
    before = (tmp_path / "embeddings" / "tiny.pt").read_bytes()
    out = run_training(host, args, Progress(), initial_step=0, expected_final_step=20, now=lambda: FIXED_NOW)
    assert out.status == "failed"
    assert "stopped at step 12 of 20" in out.message and "not saved" in out.message
    assert "CUDA out of memory" in out.error
    assert not out.final_saved and (tmp_path / "embeddings" / "tiny.pt").read_bytes() == before
    assert [Path(c).name for c in out.checkpoints] == ["tiny-5.pt", "tiny-10.pt"]  # written before the error


def test_interrupt_is_interrupted_at_n(tmp_path):
    host, args = make_setup(tmp_path)
    out = run_training(
        host,
        args,
        RecordingProgress(cancel_after=7),
        initial_step=0,
        expected_final_step=20,
        now=lambda: FIXED_NOW,
    )
    assert out.status == "interrupted" and out.steps_done == 7
    assert out.message.startswith("interrupted at step 7")
    assert out.final_saved  # the webui saves after an interrupt


def test_error_before_loop_propagates_and_is_failed(tmp_path):
    host, args = make_setup(tmp_path)
    args.embedding_name = "missing"
    out = run_training(host, args, Progress(), initial_step=0, expected_final_step=20, now=lambda: FIXED_NOW)
    assert out.status == "failed" and "before it started" in out.message and "KeyError" in out.message


def test_bad_schedule_propagates(tmp_path):
    host, args = make_setup(tmp_path)
    args.learn_rate = "fast"
    out = run_training(host, args, Progress(), initial_step=0, expected_final_step=20, now=lambda: FIXED_NOW)
    assert out.status == "failed" and "Invalid learning rate schedule" in out.message


def test_already_trained_is_not_finished(tmp_path):
    host, args = make_setup(tmp_path, steps_in_file=30)
    out = run_training(host, args, Progress(), initial_step=30, expected_final_step=20, now=lambda: FIXED_NOW)
    assert out.status == "failed" and "nothing was trained" in out.message


def test_no_checkpoints_no_previews_works_because_the_folder_is_made_first(tmp_path):
    """webui-on-cpu.md: save-embedding-every = save-image-every = 0 fails in the webui because the
    settings file goes into a folder nothing created. run_training creates it first."""
    host, args = make_setup(tmp_path)
    args.save_embedding_every = args.create_image_every = 0
    run_dir = tmp_path / "logs" / "2026-11-25" / "tiny"
    # Show the webui's own failure first: calling it directly without the folder.
    with pytest.raises(FileNotFoundError):
        host.webui.train_embedding(*args.to_positional("v1.10.1"))
    host.webui.db["tiny"].step = 0
    out = run_training(host, args, Progress(), initial_step=0, expected_final_step=20, now=lambda: FIXED_NOW)
    assert out.status == "finished" and run_dir.is_dir() and out.checkpoints == []


def test_schedule_that_ends_early_is_finished_at_its_end(tmp_path):
    host, args = make_setup(tmp_path)
    args.learn_rate = "0.005:10"
    out = run_training(host, args, Progress(), initial_step=0, expected_final_step=10, now=lambda: FIXED_NOW)
    assert out.status == "finished" and out.steps_done == 10


def test_judge_outcome_rules():
    ok = RawTrainResult(final_step=20)
    assert judge_outcome(ok, 20, 0, final_saved=True).status == "finished"
    assert judge_outcome(ok, 20, 0, final_saved=False).status == "failed"
    short = RawTrainResult(final_step=19)
    out = judge_outcome(short, 20, 0, final_saved=True)
    assert out.status == "failed" and "look at the webui's console" in out.error
    msg = RawTrainResult(final_step=20, console_error="*** Error training embedding\nboom")
    assert judge_outcome(msg, 20, 0, final_saved=True).status == "failed"
    intr = RawTrainResult(final_step=5, interrupted=True)
    assert judge_outcome(intr, 20, 0, final_saved=True).status == "interrupted"
    assert judge_outcome(intr, 20, 0, final_saved=False).status == "failed"
    prep = RawTrainResult(exception="Exception: interrupted", interrupted=True)
    assert judge_outcome(prep, 20, 0, final_saved=False).status == "interrupted"
    assert judge_outcome(RawTrainResult(final_step=None), 20, 0, final_saved=True).status == "failed"


def test_contract_double_has_the_same_parameters():
    """The lead's contract double of the webui (tests/webui_double) must take the same 30
    parameters in the same order (read with ast: nothing imported)."""
    import ast

    src = (
        Path(__file__).parents[1] / "webui_double" / "modules" / "textual_inversion" / "textual_inversion.py"
    )
    if not src.is_file():
        pytest.skip("contract double not present")
    tree = ast.parse(src.read_text(encoding="utf-8"))
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "train_embedding")
    assert [a.arg for a in fn.args.args] == list(PARAMETERS)
    assert not fn.args.defaults  # no defaults in the webui either
