"""Compare section: build() inside gr.Blocks, handlers as plain functions against a fake host;
Generate runs as a long-work job, Interrupt stops it inside the sampler."""

from __future__ import annotations

import json

import gradio as gr
import pytest
import torch
from PIL import Image

from lib_textinv.compare import section
from lib_textinv.compare.section import (
    CompareView,
    build,
    on_choose,
    on_find_runs,
    on_generate,
    on_interrupt,
    on_pick_promote,
    on_pick_run,
    on_promote,
)
from lib_textinv.compare.sweep_record import read_record, run_key
from lib_textinv.compare.sweep_run import SWEEP_KEY
from lib_textinv.kit import longwork
from lib_textinv.kit.host import HostPaths, ModelFacts, StandaloneHost, Unavailable
from lib_textinv.kit.tab_context import TabContext
from tests.embfiles import write_pt, write_training_run
from tests.sweep_fakes import SAMPLER_BOUND, FakeSweepHost

FORM = ("a cat, {}\na dog", "3, 4", "", "Euler a", 4, 7, 32, 32)  # prompts … height


class WebuiLikeHost(FakeSweepHost):
    """The fake sweep host plus the Host facts the section reads."""

    def __init__(self, tmp_path, **kw):
        self.log = tmp_path / "log"
        self.emb_dir = tmp_path / "embeddings"
        self.emb_dir.mkdir(exist_ok=True)
        super().__init__(tmp_path / "out", self.emb_dir, **kw)
        self.kind = "webui"

    def paths(self):
        return HostPaths(
            embeddings_dir=str(self.emb_dir),
            ti_log_dir=str(self.log),
            outdir_samples=str(self.samples_dir),
            outdir_grids=str(self.grids_dir),
        )

    def model_facts(self):
        return ModelFacts(loaded=True, family="SD1", embedding_width=768, trainable=True, reason="")

    def feature(self, name):
        return True, ""

    def samplers(self):
        return ["Euler a", "DPM++ 2M"]

    def txt2img_defaults(self):
        return {"sampler": "DPM++ 2M", "steps": 12, "cfg_scale": 5.0, "width": 32, "height": 32}


@pytest.fixture
def host(tmp_path):
    h = WebuiLikeHost(tmp_path)
    write_training_run(h.log, "cs", steps=(5, 10, 15, 20))
    write_pt(h.emb_dir / "cs.pt", torch.randn(2, 768), name="cs", step=20)
    h.db = {"cs": None}
    return h


def test_build_in_blocks_webui_and_standalone(host):
    for h in (host, StandaloneHost()):
        with gr.Blocks():
            ctx = TabContext(host=h, embedding_name=gr.Textbox(), run_folder=gr.Textbox())
            view = build(ctx)
        assert ctx.compare is view and isinstance(view, CompareView)
        assert isinstance(view.output.sweeps, gr.State) and view.output.sweeps.value == {}
        assert isinstance(view.picker.run, gr.Textbox) and isinstance(view.form.steps, gr.Textbox)
    assert view.form.sampler.choices == section.FALLBACK_SAMPLERS  # standalone: no sampler list


class NoSamplersHost(WebuiLikeHost):
    def samplers(self):
        raise Unavailable("no model loaded")

    def txt2img_defaults(self):
        raise Unavailable("no ui-config.json")


def test_host_without_samplers_or_defaults_gets_ours(tmp_path):
    h = NoSamplersHost(tmp_path)
    assert section.samplers(h) == section.FALLBACK_SAMPLERS
    assert section.txt2img_defaults(h) == section.TXT2IMG_DEFAULTS
    assert section.samplers(WebuiLikeHost(tmp_path)) == ["Euler a", "DPM++ 2M"]
    assert section.txt2img_defaults(WebuiLikeHost(tmp_path))["steps"] == 12


def test_find_pick_choose(host):
    _runs_update, folder, status = on_find_runs("cs", host=host)
    assert folder.endswith("2026-11-25/cs") and "1 run" in status
    rows, promote_update, _label = on_pick_run(folder, host=host)
    assert [r[0] for r in rows] == ["cs-5", "cs-10", "cs-15", "cs-20", "cs-final"]
    assert rows[1][1:3] == [10, 9] and promote_update["value"] == "cs-final"
    chosen, msg = on_choose(folder, "every", 2, "", True, host=host)
    assert [c["token"] for c in json.loads(chosen)] == ["cs-10", "cs-20", "cs-final"]
    chosen, msg = on_choose(folder, "list", 1, "5, 99", False, host=host)
    assert chosen == "[]" and "99" in msg
    assert on_find_runs("nobody", host=host)[1] == ""


def test_generate_handler_runs_the_sweep_and_hands_on_its_record(host, checksums):
    before = checksums(host.emb_dir)
    folder = on_find_runs("cs", host=host)[1]
    other = {run_key("/elsewhere/2026-11-20/dog"): "/grids/dog.sweep.json"}
    outs = list(on_generate(folder, "all", 1, "", False, *FORM, 8, other, host=host))
    assert all(o[5] == other for o in outs[:-1])  # while it runs: the sweeps so far
    status, grid, gallery, chosen, grid_file, sweeps = outs[-1]
    assert "16/16 cells" in status and "2 generation calls instead of 16" in status
    assert grid == grid_file and Image.open(grid).size[0] > 4 * 32
    assert len(gallery) == 16 and all(Image.open(path).size == (32, 32) for path, _caption in gallery)
    assert len(json.loads(chosen)) == 4
    assert set(sweeps) == {*other, run_key(folder)} and other == {
        run_key("/elsewhere/2026-11-20/dog"): "/grids/dog.sweep.json"
    }
    rec = read_record(sweeps[run_key(folder + "/")])
    assert (rec.name, rec.run_folder, rec.grid) == ("cs", folder, grid)
    assert sorted(c.path for c in rec.cells) == sorted(path for path, _ in gallery)
    assert len(host.calls) == 2 and set(host.db) == {"cs"}
    assert checksums(host.emb_dir) == before
    assert on_interrupt(host=host) == "No sweep is running." and not host.interrupted.is_set()


def test_generate_reports_bad_input_and_standalone(host):
    folder = on_find_runs("cs", host=host)[1]
    out = list(on_generate(folder, "all", 1, "", False, "", "-5", "", "Euler a", 4, 7, 32, 32, 8, host=host))
    assert "seeds" in out[-1][0] and out[-1][5] == {} and not host.calls
    out = list(
        on_generate(
            folder, "all", 1, "", False, "", "1", "", "Euler a", 4, 7, 32, 32, 8, host=StandaloneHost()
        )
    )
    assert "standalone" in out[-1][0]


def test_promote_handler(host):
    folder = on_find_runs("cs", host=host)[1]
    assert on_pick_promote("cs-10") == "cs-10"
    text, msg = on_promote(folder, "cs-10", "", False, "drawing of a cat, {}", host=host)
    assert text == "drawing of a cat, cs-10" and (host.emb_dir / "cs-10.pt").is_file()
    assert host.reloads == [True]
    text, msg = on_promote(folder, "cs-10", "cs-10", False, "", host=host)
    assert text == "" and "overwrite" in msg
    text, msg = on_promote(folder, "cs-10", "../evil", True, "", host=host)
    assert text == "" and "path" in msg
    text, msg = on_promote(folder, "cs-99", "", True, "", host=host)
    assert text == "" and msg == "choose a checkpoint of cs to promote"
    text, msg = on_promote(folder, "cs-10", "cs-10", True, "a landscape", host=host)
    assert text == "a landscape, cs-10" and msg.startswith("replaced")


def test_interrupt_stops_inside_the_sampler_and_keeps_the_cells(tmp_path, checksums):
    """The second batch waits inside the sampler until the host's Interrupt: the Stop button must
    press it (cancelling between batches alone would leave it sampling). Progress shows an ETA."""
    host = WebuiLikeHost(tmp_path, sample_until_interrupted_on_call=2)
    write_training_run(host.log, "cs", steps=(5, 10, 15, 20))
    folder = on_find_runs("cs", host=host)[1]
    gen = on_generate(
        folder, "all", 1, "", False, "a, {}\nb, {}", "1", "", "Euler a", 4, 7, 32, 32, 4, host=host
    )
    assert "8 cells" in next(gen)[0]
    assert host.sampling.wait(SAMPLER_BOUND), "the second batch never started"
    running = next(gen)[0]
    assert "4/8, ETA" in running and "cells 4/8" in running  # first batch done, the rest estimated
    again = list(
        on_generate(folder, "all", 1, "", False, "c", "1", "", "Euler a", 4, 7, 32, 32, 4, host=host)
    )
    assert "already running" in again[-1][0] and len(host.calls) == 2  # one sweep at a time
    assert on_interrupt(host=host).startswith("Interrupting")
    assert host.interrupted.is_set()
    status, grid, gallery, _chosen, _grid_file, sweeps = list(gen)[-1]
    rec = read_record(sweeps[run_key(folder)])
    assert "interrupted: 4/8 cells" in status and len(gallery) == 4 and grid == rec.grid
    assert rec.interrupted and len(rec.cells) == 4
    assert len(host.calls) == 2 and host.db == {}
    assert not longwork.is_running(SWEEP_KEY)


def test_promote_handler_shows_a_token_clash_and_the_suggested_name(host):
    from tests.compare.test_promote import FolderHost

    class Loaded(WebuiLikeHost):
        embeddings = FolderHost.embeddings  # the files of the folder, as after the forced reload

    h = Loaded(host.log.parent)
    write_pt(h.emb_dir / "cs-100.pt", torch.randn(2, 768), name="cs-100")
    folder = on_find_runs("cs", host=h)[1]
    text, msg = on_promote(folder, "cs-10", "", False, "", host=h)
    assert text == "drawing of a cat, cs-10" and (h.emb_dir / "cs-10.pt").is_file()
    assert "⚠ Token clash" in msg and "'cs-10' is a token prefix of 'cs-100'" in msg
    assert "'css-10'" in msg  # "cs" (the final embedding) begins every "cs-…" name
