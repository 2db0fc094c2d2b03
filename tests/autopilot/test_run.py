"""Whole runs on the fake host: every stage through the sections' own functions; a second Run
skips what is finished (fingerprints); a change redoes only what depends on it; Stop in training
and in the sweep, then Resume, reaches the same end without redoing finished stages."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lib_textinv.autopilot import runner
from lib_textinv.autopilot.context import AutopilotError, Failure
from lib_textinv.autopilot.plan import apply_edits
from lib_textinv.autopilot.state import load_state
from lib_textinv.kit.jobs import JobStatus
from lib_textinv.kit.longwork import Busy
from lib_textinv.kit.progress import Cancelled, Progress
from tests.autopilot.fakes import HOLD_SECONDS, AutopilotHost
from tests.autopilot.helpers import end_of, short_plan

ALL = ("scan", "crop", "captions", "create", "train", "prescore", "sweep", "scores", "choose", "promote")


def test_one_run_from_photos_to_a_promoted_trigger(host, photos):
    out = runner.run_plan(host, short_plan(host, photos))
    assert out.stages == dict.fromkeys(ALL, "done")
    promoted = out.report["promoted"]
    assert Path(promoted["path"]).is_file() and promoted["token"] in host.db
    # the trigger clashes with nothing loaded: "mystyle" itself begins "mystyle-15"
    assert not promoted["token"].startswith("mystyle-")
    assert promoted["token"] in out.report["txt2img"]["prompt"]
    assert not list((photos).glob("*.txt"))[1:]  # only the one caption the user wrote
    assert host.calls["train"] == 1 and host.calls["create"] == 1


def test_a_second_run_keeps_every_finished_stage(host, photos):
    plan = short_plan(host, photos)
    first = runner.run_plan(host, plan)
    calls = dict(host.calls)
    again = runner.run_plan(host, plan)
    assert again.stages == dict.fromkeys(ALL, "kept")
    assert host.calls == calls  # no captioning, creating, training or generating again
    assert end_of(again) == end_of(first)


def test_new_prompts_redo_only_the_sweep_and_what_follows(host, photos):
    plan = short_plan(host, photos)
    runner.run_plan(host, plan)
    out = runner.run_plan(host, apply_edits(plan, {"prompts": ["a castle, {}", "a boat, {}"]}))
    kept = ("scan", "crop", "captions", "create", "train", "prescore")
    assert out.stages == {**dict.fromkeys(kept, "kept"), **dict.fromkeys(ALL[6:], "done")}
    assert host.calls["train"] == 1


def test_a_removed_output_is_made_again(host, photos):
    plan = short_plan(host, photos)
    first = runner.run_plan(host, plan)
    Path(first.report["promoted"]["path"]).unlink()
    out = runner.run_plan(host, plan)
    assert out.stages == {**dict.fromkeys(ALL[:-1], "kept"), "promote": "done"}
    assert Path(out.report["promoted"]["path"]).is_file()


def test_a_changed_source_picture_redoes_the_crop_and_everything_after(host, photos):
    plan = short_plan(host, photos)
    runner.run_plan(host, plan)
    shutil.copy(photos / "chelsea.jpg", photos / "astronaut.jpg")  # same name, new picture
    out = runner.run_plan(host, plan)
    assert out.stages["scan"] == "done" and out.stages["crop"] == "done"
    assert out.stages["train"] == "done"
    # the re-created embedding trains in a folder of its own, from step 0
    runs = sorted((Path(plan.run_folder) / "training").iterdir())
    assert len(runs) == 2


def _stop_when(host, event, plan):
    job = runner.start(host, plan)
    assert event.wait(HOLD_SECONDS), "the run never got there"
    assert runner.stop(host) == "stopping…"
    host.let_training_go.set()
    assert job.ended.wait(HOLD_SECONDS)
    return job


def _world(tmp_path, photos, name):
    """A separate webui and a copy of the photos: a run that is never stopped, to compare with."""
    h = AutopilotHost(tmp_path / f"webui-{name}")
    folder = tmp_path / f"pictures-{name}"
    shutil.copytree(photos, folder)
    return h, folder


def test_stop_in_training_then_resume_reaches_the_same_end(host, photos, tmp_path):
    plan = short_plan(host, photos)
    host.hold_training_at = 8
    job = _stop_when(host, host.training_held, plan)
    assert job.status is JobStatus.INTERRUPTED
    assert set(load_state(plan.run_folder).stages) == {"scan", "crop", "captions", "create"}
    assert 8 <= host.db["mystyle"]["step"] < 20  # the step is kept: training continues from it
    resumed = runner.run_plan(host, runner.saved_plan(plan.run_folder))
    assert resumed.stages == {**dict.fromkeys(ALL[:4], "kept"), **dict.fromkeys(ALL[4:], "done")}
    assert host.calls["create"] == 1 and host.calls["train"] == 2
    other, folder = _world(tmp_path, photos, "unstopped")
    assert end_of(resumed) == end_of(runner.run_plan(other, short_plan(other, folder)))


def test_stop_in_the_sweep_then_resume_reaches_the_same_end(host, photos, tmp_path):
    plan = short_plan(host, photos)
    host.hold_sweep = True
    job = _stop_when(host, host.sweep_held, plan)
    assert job.status is JobStatus.INTERRUPTED
    assert "sweep" not in load_state(plan.run_folder).stages
    assert "prescore" in load_state(plan.run_folder).stages
    resumed = runner.run_plan(host, plan)
    assert resumed.stages == {**dict.fromkeys(ALL[:6], "kept"), **dict.fromkeys(ALL[6:], "done")}
    other, folder = _world(tmp_path, photos, "unstopped")
    assert end_of(resumed) == end_of(runner.run_plan(other, short_plan(other, folder)))


def test_a_stop_before_the_first_stage_raises_cancelled(host, photos):
    progress = Progress()
    progress.cancel()
    with pytest.raises(Cancelled):
        runner.run_plan(host, short_plan(host, photos), progress)
    assert load_state(short_plan(host, photos).run_folder).stages == {}


def test_one_run_at_a_time(host, photos):
    plan = short_plan(host, photos)
    host.hold_training_at = 3
    job = runner.start(host, plan)
    assert host.training_held.wait(HOLD_SECONDS)
    with pytest.raises(Busy):
        runner.start(host, plan)
    host.let_training_go.set()
    assert job.ended.wait(HOLD_SECONDS) and job.status is JobStatus.DONE, job.error


def test_a_plan_with_errors_is_refused_before_any_job(host, photos):
    plan = apply_edits(short_plan(host, photos), {"prompts": []})
    with pytest.raises(AutopilotError) as e:
        runner.start(host, plan)
    assert e.value.kind is Failure.REFUSED and "prompt" in str(e.value)


def test_a_run_folder_elsewhere_is_refused(host, photos, tmp_path):
    plan = short_plan(host, photos)
    plan.run_folder = str(tmp_path / "elsewhere")
    with pytest.raises(AutopilotError, match="run_folder"):
        runner.run_plan(host, plan)


def test_a_taken_trigger_is_never_overwritten(host, photos):
    import torch

    from tests.embfiles import write_pt

    theirs = write_pt(host.root / "embeddings" / "charcoal.pt", torch.ones(1, 32), name="charcoal", step=3)
    before = theirs.read_bytes()
    out = runner.run_plan(host, short_plan(host, photos, trigger="charcoal"))
    promoted = out.report["promoted"]
    assert promoted["token"] != "charcoal" and "already exists" in promoted["trigger_reason"]
    assert theirs.read_bytes() == before


def test_a_free_trigger_of_the_users_is_used_as_it_is(host, photos):
    out = runner.run_plan(host, short_plan(host, photos, trigger="inkwash"))
    assert out.report["promoted"]["token"] == "inkwash"
    assert out.report["txt2img"]["prompt"] == "drawing of a cat, inkwash"


def test_training_our_trainer_finished_is_not_redone(host, photos):
    """Our trainer keeps its step in its checkpoints, not in the embedding: a resume after its last
    step (stopped before the stage was recorded) takes the run as trained instead of refusing it."""
    import torch

    from lib_textinv.autopilot import stages_train
    from lib_textinv.autopilot.context import Context
    from lib_textinv.kit.embedding_file import write_embedding

    plan = short_plan(host, photos)
    runner.run_plan(host, plan)  # the whole run: the embedding exists, its training folder too
    ctx = Context(host, plan, load_state(plan.run_folder))
    folder = stages_train._newest_run(ctx)
    assert folder is not None
    host.db["mystyle"]["step"] = 0  # as after our trainer: the embedding keeps its step …
    for p in (folder / "embeddings").iterdir():
        p.unlink()
    assert stages_train._already_trained(ctx) is None
    # … and its last checkpoint holds the last step
    last = folder / "embeddings" / f"mystyle-{plan.steps}.pt"
    write_embedding(last, {"*": torch.zeros(2, 768)}, name=last.stem, step=plan.steps)
    done = stages_train._already_trained(ctx)
    assert done is not None and f"step {plan.steps}" in done["message"]
