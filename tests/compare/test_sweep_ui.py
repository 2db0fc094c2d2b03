"""Compare section: build() inside gr.Blocks, handlers as plain functions against a fake host."""

from __future__ import annotations

import json
import threading

import gradio as gr
import pytest
import torch

from lib_textinv.compare.section import (
    build,
    on_choose,
    on_find_runs,
    on_generate,
    on_interrupt,
    on_pick_promote,
    on_pick_run,
    on_promote,
)
from lib_textinv.kit.host import BaseHost, HostPaths, ModelFacts, StandaloneHost
from lib_textinv.kit.tab_context import TabContext
from tests.embfiles import write_pt, write_training_run
from tests.sweep_fakes import FakeSweepHost


class WebuiLikeHost(FakeSweepHost, BaseHost):
    """The fake sweep host plus the Host facts the section reads."""

    def __init__(self, tmp_path, **kw):
        self.log = tmp_path / "log"
        self.emb_dir = tmp_path / "embeddings"
        self.emb_dir.mkdir(exist_ok=True)
        FakeSweepHost.__init__(self, tmp_path / "out", self.emb_dir, **kw)
        BaseHost.__init__(self, kind="webui")

    def paths(self):
        return HostPaths(embeddings_dir=str(self.emb_dir), ti_log_dir=str(self.log))

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
            build(ctx)
        assert {"compare_run", "compare_checkpoints", "compare_grid_dir"} <= set(ctx.extra)
        assert isinstance(ctx.extra["compare_checkpoints"], gr.Textbox)


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


def test_generate_handler_runs_the_sweep(host, checksums):
    before = checksums(host.emb_dir)
    folder = on_find_runs("cs", host=host)[1]
    outs = list(
        on_generate(
            folder, "all", 1, "", False, "a cat, {}\na dog", "3, 4", "", "Euler a", 4, 7, 32, 32, 8, host=host
        )
    )
    status, grid, gallery, chosen, grid_dir = outs[-1]
    assert "16/16 cells" in status and "2 generation calls instead of 16" in status
    assert grid is not None and len(gallery) == 16 and grid_dir.endswith("grids")
    assert len(json.loads(chosen)) == 4
    assert len(host.calls) == 2 and set(host.db) == {"cs"}
    assert checksums(host.emb_dir) == before
    assert on_interrupt() == "No sweep is running."


def test_generate_reports_bad_input_and_standalone(host):
    folder = on_find_runs("cs", host=host)[1]
    out = list(on_generate(folder, "all", 1, "", False, "", "-5", "", "Euler a", 4, 7, 32, 32, 8, host=host))
    assert "seeds" in out[-1][0] and not host.calls
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
    text, msg = on_promote(folder, "cs-10", "cs-10", True, "a landscape", host=host)
    assert text == "a landscape, cs-10" and msg.startswith("replaced")


class GatedHost(WebuiLikeHost):
    """Blocks inside the second generation call until the test lets it go."""

    def __init__(self, tmp_path):
        super().__init__(tmp_path)
        self.entered, self.gate = threading.Event(), threading.Event()

    def generate(self, prompts, seeds, params):
        if len(self.calls) == 1:
            self.entered.set()
            assert self.gate.wait(30)
        return super().generate(prompts, seeds, params)


def test_interrupt_button_keeps_cells(tmp_path, checksums):
    host = GatedHost(tmp_path)
    write_training_run(host.log, "cs", steps=(5, 10, 15, 20))
    folder = on_find_runs("cs", host=host)[1]
    gen = on_generate(
        folder, "all", 1, "", False, "a, {}\nb, {}", "1", "", "Euler a", 4, 7, 32, 32, 2, host=host
    )
    first = next(gen)
    assert "cells" in first[0]
    assert host.entered.wait(30)
    assert on_interrupt().startswith("Interrupting")
    host.gate.set()
    status, grid, gallery, _chosen, _grid_dir = list(gen)[-1]
    assert "interrupted: 4/8 cells" in status and len(gallery) == 4 and grid is not None
    assert len(host.calls) == 2 and host.db == {}
