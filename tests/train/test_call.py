"""The call into the webui's train_embedding: types (v1.10.1), the 1.6 sampler-index difference,
and detection of what the webui hides (swallowed loop errors), over ``tests.train.fake_webui``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from lib_textinv.kit.progress import Progress, RecordingProgress
from lib_textinv.train.call import run_training
from lib_textinv.train.outcome import Observed, RawTrainResult, RunStatus, judge_outcome
from lib_textinv.train.params import PARAMETERS, TrainArgs
from lib_textinv.train.run_files import list_checkpoints, planned_checkpoint_steps
from tests.train.fake_webui import RUN_DAY, clock_of, fixed_clock, make_setup

# -- order and types ------------------------------------------------------------------------------


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
    a.preview_sampler_name = "Nope"
    with pytest.raises(ValueError, match="not one of the webui's samplers"):
        a.to_positional("v1.6.0", samplers)
    a.preview_from_txt2img = False  # not read by the webui then: any placeholder works
    assert a.to_positional("v1.6.0", samplers)[25] == 0


@pytest.mark.parametrize("version", ["v1.6.0", "v1.10.1"])
def test_fake_webui_accepts_the_call_for_each_version(tmp_path, version):
    host, args = make_setup(tmp_path, version=version)
    out = run_training(host, args, Progress(), initial_step=0, expected_final_step=20, now=fixed_clock)
    assert out.status == "finished", out
    assert type(host.webui.calls[0][25]) is (int if version == "v1.6.0" else str)


# -- outcome ------------------------------------------------------------------------------------


def test_successful_run_lists_checkpoints_and_saves(tmp_path):
    host, args = make_setup(tmp_path)
    args.loss_csv_every = 1
    out = run_training(host, args, Progress(), initial_step=0, expected_final_step=20, now=fixed_clock)
    assert out.status == "finished" and out.steps_done == 20 and out.final_saved
    assert [Path(c).name for c in out.checkpoints] == ["tiny-5.pt", "tiny-10.pt", "tiny-15.pt", "tiny-20.pt"]
    assert out.run_folder == str(tmp_path / "logs" / RUN_DAY / "tiny")
    assert host.loss_csv_override == [1]
    assert host.webui.opts["training_write_csv_every"] == 500  # restored
    rows = (Path(out.run_folder) / "textual_inversion_loss.csv").read_text().splitlines()
    assert len(rows) == 21


def test_planned_checkpoints_match_what_the_webui_writes(tmp_path):
    assert planned_checkpoint_steps(0, 20, 5) == [5, 10, 15, 20]
    assert planned_checkpoint_steps(0, 20, 0) == []
    assert planned_checkpoint_steps(10, 20, 5) == [15, 20]
    host, args = make_setup(tmp_path, steps_in_file=10)
    out = run_training(host, args, Progress(), initial_step=10, expected_final_step=20, now=fixed_clock)
    assert [n for n, _p in list_checkpoints(out.run_folder, "tiny")] == planned_checkpoint_steps(10, 20, 5)


def test_swallowed_loop_error_is_failed_with_console_text(tmp_path):
    host, args = make_setup(tmp_path)
    host.webui.fail_at_step = 12
    before = (tmp_path / "embeddings" / "tiny.pt").read_bytes()
    out = run_training(host, args, Progress(), initial_step=0, expected_final_step=20, now=fixed_clock)
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
        now=fixed_clock,
    )
    assert out.status == "interrupted" and out.steps_done == 7
    assert out.message.startswith("interrupted at step 7")
    assert out.final_saved  # the webui saves after an interrupt


def test_error_before_loop_propagates_and_is_failed(tmp_path):
    host, args = make_setup(tmp_path)
    args.embedding_name = "missing"
    out = run_training(host, args, Progress(), initial_step=0, expected_final_step=20, now=fixed_clock)
    assert out.status == "failed" and "before it started" in out.message and "KeyError" in out.message


def test_bad_schedule_propagates(tmp_path):
    host, args = make_setup(tmp_path)
    args.learn_rate = "fast"
    out = run_training(host, args, Progress(), initial_step=0, expected_final_step=20, now=fixed_clock)
    assert out.status == "failed" and "Invalid learning rate schedule" in out.message


def test_already_trained_is_not_finished(tmp_path):
    host, args = make_setup(tmp_path, steps_in_file=30)
    out = run_training(host, args, Progress(), initial_step=30, expected_final_step=20, now=fixed_clock)
    assert out.status == "failed" and "nothing was trained" in out.message


def test_no_checkpoints_no_previews_works_because_the_folder_is_made_first(tmp_path):
    """docs/webui-contract.md §13: save-embedding-every = save-image-every = 0 fails in the webui because the
    settings file goes into a folder nothing created. run_training creates it first."""
    host, args = make_setup(tmp_path)
    args.save_embedding_every = args.create_image_every = 0
    run_dir = tmp_path / "logs" / RUN_DAY / "tiny"
    # Show the webui's own failure first: calling it directly without the folder.
    with pytest.raises(FileNotFoundError):
        host.webui.train_embedding(*args.to_positional("v1.10.1"))
    host.webui.db["tiny"].step = 0
    out = run_training(host, args, Progress(), initial_step=0, expected_final_step=20, now=fixed_clock)
    assert out.status == "finished" and run_dir.is_dir() and out.checkpoints == []


def test_schedule_that_ends_early_is_finished_at_its_end(tmp_path):
    host, args = make_setup(tmp_path)
    args.learn_rate = "0.005:10"
    out = run_training(host, args, Progress(), initial_step=0, expected_final_step=10, now=fixed_clock)
    assert out.status == "finished" and out.steps_done == 10


def _judge(raw: RawTrainResult, saved: bool) -> RunStatus:
    return judge_outcome(raw, Observed(initial_step=0, expected_final_step=20, final_saved=saved)).status


def test_judge_outcome_rules():
    ok = RawTrainResult(final_step=20)
    assert _judge(ok, saved=True) is RunStatus.FINISHED
    assert _judge(ok, saved=False) is RunStatus.FAILED
    out = judge_outcome(RawTrainResult(final_step=19), Observed(0, 20, final_saved=True))
    assert out.status is RunStatus.FAILED and "look at the webui's console" in out.error
    assert (
        _judge(RawTrainResult(final_step=20, console_error="*** Error training embedding\nboom"), True)
        == "failed"
    )
    intr = RawTrainResult(final_step=5, interrupted=True)
    assert _judge(intr, saved=True) is RunStatus.INTERRUPTED
    assert _judge(intr, saved=False) is RunStatus.FAILED
    prep = RawTrainResult(exception="Exception: interrupted", interrupted=True)
    assert _judge(prep, saved=False) is RunStatus.INTERRUPTED
    assert _judge(RawTrainResult(final_step=None), saved=True) is RunStatus.FAILED


def test_outcome_survives_its_dict():
    out = judge_outcome(RawTrainResult(final_step=20), Observed(0, 20, final_saved=True, checkpoints=["a"]))
    d = out.to_dict()
    assert d["status"] == "finished" and type(d["status"]) is str  # JSON as it is
    from lib_textinv.train.outcome import TrainOutcome

    assert TrainOutcome.from_dict(d) == out


# -- a run across midnight ---------------------------------------------------------------------------

BEFORE = dt.datetime(2026, 11, 25, 23, 59, 59)
AFTER = dt.datetime(2026, 11, 26, 0, 0, 1)


def test_run_started_before_midnight_that_the_webui_dates_after_it(tmp_path):
    """We create the 25th's folder at 23:59:59; the webui starts its call after midnight and writes
    into the 26th's: the outcome names the folder the run really wrote (checkpoints, loss CSV)."""
    host, args = make_setup(tmp_path, clock=lambda: AFTER)
    args.loss_csv_every = 1
    out = run_training(
        host, args, Progress(), initial_step=0, expected_final_step=20, now=clock_of(BEFORE, AFTER)
    )
    assert out.status == "finished"
    assert out.run_folder == str(tmp_path / "logs" / "2026-11-26" / "tiny")
    assert [Path(c).name for c in out.checkpoints] == ["tiny-5.pt", "tiny-10.pt", "tiny-15.pt", "tiny-20.pt"]
    assert (Path(out.run_folder) / "textual_inversion_loss.csv").is_file()


def test_run_the_webui_dates_before_midnight_keeps_that_folder(tmp_path):
    host, args = make_setup(tmp_path, clock=lambda: BEFORE)
    out = run_training(
        host, args, Progress(), initial_step=0, expected_final_step=20, now=clock_of(BEFORE, AFTER)
    )
    assert out.status == "finished"
    assert out.run_folder == str(tmp_path / "logs" / "2026-11-25" / "tiny")
    assert len(out.checkpoints) == 4
