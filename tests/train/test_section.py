"""The Train section: built inside Blocks, and its handlers as plain functions, on the fake webui.
Training runs as the long-work job the API starts too; time is injected (no test depends on the
day it runs on)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lib_textinv.kit import longwork
from lib_textinv.kit.host import StandaloneHost
from lib_textinv.kit.tab_context import TabContext
from lib_textinv.train import handlers, section
from lib_textinv.train.job import JOB_KEY
from lib_textinv.train.params import FORM, PRESET_FIELDS
from tests.photos import write_photos
from tests.train.fake_webui import HOLD_SECONDS, RUN_DAY, fixed_clock, form_values, make_setup


def test_build_inside_blocks_with_a_training_host(tmp_path):
    import gradio as gr

    host, _ = make_setup(tmp_path)
    with gr.Blocks() as demo:
        ctx = TabContext(
            host=host, prepared_folder=gr.Textbox(), embedding_name=gr.Textbox(), run_folder=gr.Textbox()
        )
        section.build(ctx)
    ids = {getattr(b, "elem_id", None) for b in demo.blocks.values()}
    assert {
        "textinv-train-run",
        "textinv-train-interrupt",
        "textinv-train-plot",
        "textinv-train-advanced",
    } <= ids
    run = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "textinv-train-run")
    assert run.interactive is not False
    log = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "textinv-train-log")
    assert log.value == str(tmp_path / "logs") and log in ctx.per_start  # the host's log folder


def test_build_standalone_is_disabled_with_reason():
    import gradio as gr

    with gr.Blocks() as demo:
        section.build(TabContext(host=StandaloneHost()))
    blocks = {getattr(b, "elem_id", None): b for b in demo.blocks.values()}
    assert blocks["textinv-train-run"].interactive is False
    assert "needs the webui" in blocks["textinv-train-unavailable"].value


def test_form_to_args_coerces_gradio_floats(tmp_path):
    _host, args = make_setup(tmp_path)
    vals = list(form_values(args))
    vals[FORM.index("steps")] = 20.0  # gr.Number gives floats
    vals[FORM.index("preview_cfg_scale")] = 7
    a = handlers.form_to_args(tuple(vals))
    assert a.steps == 20 and type(a.steps) is int and a.loss_csv_every == 1
    assert type(a.preview_cfg_scale) is float
    vals[FORM.index("loss_csv_every")] = None  # an emptied box: leave the webui's period
    assert handlers.form_to_args(tuple(vals)).loss_csv_every == 0


def test_fill_presets_from_folder(tmp_path):
    host, args = make_setup(tmp_path)
    out = handlers.fill_presets(host, args.data_root, "subject")
    vals = dict(zip(PRESET_FIELDS, out[:-1], strict=True))
    assert vals["training_width"] == 64 and vals["steps"] == 300
    assert vals["template_filename"] == "subject_filewords.txt"
    assert "Presets for 3 images" in out[-1]
    assert "not found" in handlers.fill_presets(host, str(tmp_path / "nope"), "style")[-1]


def test_preflight_handler_offers_crop_and_crop_fixes(tmp_path):
    host, args = make_setup(tmp_path)
    write_photos(Path(args.data_root), ("rocket",), fmt="PNG", size=(96, 64))
    (Path(args.data_root) / "rocket.txt").write_text("rocket", encoding="utf-8")
    md, crop = handlers.do_preflight(host, *form_values(args))
    assert "rocket.png" in md and crop["visible"] is True
    new_folder, msg = handlers.do_crop(host, args.data_root, 64, 64)
    assert new_folder != args.data_root and "unchanged" in msg
    args.data_root = new_folder
    md, crop = handlers.do_preflight(host, *form_values(args))
    assert crop["visible"] is False and md.startswith("**Pre-flight passed"), md


def test_run_generator_trains_and_reports_finished(tmp_path):
    host, args = make_setup(tmp_path)
    outs = list(handlers.run_train(host, 0.01, *form_values(args), now=fixed_clock))
    report, status, plot, files, folder = outs[-1]
    assert "Training finished" in status, status
    assert "tiny-20.pt" in files and folder == str(tmp_path / "logs" / RUN_DAY / "tiny")
    assert "<polyline" in plot and "smoothed" in plot
    assert report.startswith("**Pre-flight passed")
    assert not longwork.is_running(JOB_KEY)


def test_run_generator_reports_swallowed_failure(tmp_path):
    host, args = make_setup(tmp_path)
    host.webui.fail_at_step = 3
    status = list(handlers.run_train(host, 0.01, *form_values(args), now=fixed_clock))[-1][1]
    assert "Training failed" in status and "CUDA out of memory" in status
    assert "finished" not in status.lower()


def test_run_generator_stops_at_preflight(tmp_path):
    host, args = make_setup(tmp_path)
    write_photos(Path(args.data_root), ("rocket",), fmt="PNG", size=(96, 64))
    outs = list(handlers.run_train(host, 0.01, *form_values(args), now=fixed_clock))
    assert len(outs) == 1 and "Not started" in outs[0][1]
    assert host.webui.calls == []  # nothing reached the webui


@pytest.fixture
def held_run(tmp_path):
    """A training started from the tab and held after step 4; released (and awaited) at the end."""
    host, args = make_setup(tmp_path)
    host.webui.pause_after = 4
    run = handlers.run_train(host, 0.01, *form_values(args), now=fixed_clock)
    first = next(run)
    assert host.webui.paused.wait(HOLD_SECONDS), "the fake training never reached step 4"
    yield host, args, run, first
    host.webui.resume.set()
    for _ in run:  # the generator ends when its job has ended
        pass
    assert not longwork.is_running(JOB_KEY)


def test_interrupt_stops_the_running_training(held_run):
    host, _args, run, first = held_run
    assert "Training <b>tiny</b>" in first[1]  # the running status
    assert "stopping" in handlers.interrupt(host)
    host.webui.resume.set()
    status = list(run)[-1][1]
    assert "Training interrupted" in status and "interrupted at step 4" in status, status


def test_a_second_run_is_refused_while_one_is_going(held_run, tmp_path):
    host, args, _run, _first = held_run
    second = list(handlers.run_train(host, 0.01, *form_values(args), now=fixed_clock))
    assert len(second) == 1 and "already going" in second[0][1]


def test_show_loss_and_interrupt_without_run(tmp_path):
    host, _args = make_setup(tmp_path)
    plot, files = handlers.show_loss(host, str(tmp_path / "none"), "tiny")
    assert "no data" in plot and "No run folder" in files
    assert "nothing is running" in handlers.interrupt(host)


def test_follow_and_refresh_embedding(tmp_path):
    host, _ = make_setup(tmp_path)
    assert handlers.refresh_embeddings(host, "gone")["value"] == "tiny"
    up = handlers.follow_embedding(host, "brand-new")
    assert up["value"] == "brand-new" and "brand-new" in up["choices"]
