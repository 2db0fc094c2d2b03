"""The whole scoring flow on real files: a training run, a real sweep (sweep_run with a fake image
generator), then loss + CLIP + drift + recommendation + CSV; the UI section and POST /score."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from PIL import Image

from lib_textinv.kit.host import BaseHost, HostPaths, ModelFacts
from lib_textinv.scores import scoring
from lib_textinv.scores import section as ui_scores
from lib_textinv.scores.scores_csv import read_scores_csv
from tests.embfiles import write_training_run
from tests.photos import photo, write_photos
from tests.scores.test_drift import MatrixTable
from tests.scores.test_fixed_loss import TinyDenoiserHost
from tests.tinyclip import tiny_clip

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "brick", "grass")


class ScoreHost(BaseHost):
    def __init__(self, root: Path):
        super().__init__(kind="test", settings={"textinv_clip_batch_size": 4})
        self.root = root
        self.loss = TinyDenoiserHost()
        self.table = MatrixTable()
        self._clip = None

    def paths(self):
        r = self.root
        return HostPaths(
            embeddings_dir=str(r / "embeddings"),
            ti_log_dir=str(r / "log"),
            outdir_samples=str(r / "out" / "samples"),
            outdir_grids=str(r / "out" / "grids"),
        )

    def model_facts(self):
        return ModelFacts(loaded=True, family="SD1", embedding_width=32, trainable=True, reason="")

    def feature(self, name):
        return True, ""

    def loss_host(self):
        return self.loss

    def token_table(self):
        return self.table

    def clip_embedder(self):
        self._clip = self._clip or tiny_clip(0)
        return self._clip


@pytest.fixture
def world(tmp_path):
    host = ScoreHost(tmp_path)
    (tmp_path / "embeddings").mkdir()
    train = tmp_path / "train"
    write_photos(train, names=("astronaut", "chelsea"), size=(64, 64))
    template = tmp_path / "tpl.txt"
    template.write_text("a painting by [name]\n", encoding="utf-8")
    run = write_training_run(tmp_path / "log", "cat", steps=(5, 10, 15, 20), n_vectors=2, width=32)
    (run / "settings-2026-11-25-10-00-00.json").write_text(
        json.dumps(
            {
                "data_root": str(train),
                "template_file": str(template),
                "training_width": 64,
                "training_height": 64,
            }
        ),
        encoding="utf-8",
    )
    return host, run


def _sweep(host, run):
    """A real sweep_run over the run's checkpoints; the 'generator' returns a photo per cell."""
    from lib_textinv.compare.checkpoints import run_from_folder
    from lib_textinv.compare.sweep_plan import plan_sweep
    from lib_textinv.compare.sweep_run import (
        FolderOutput,
        GenParams,
        params_infotext,
        plan_checkpoints,
        run_sweep,
    )

    class Gen(FolderOutput):
        def register_checkpoint(self, token, path):
            pass

        def unregister(self, token):
            pass

        def generate(self, prompts, seeds, params):
            out = []
            for p, s in zip(prompts, seeds):
                step = int(p.rsplit("cat-", 1)[1].split(",")[0].split()[0])
                # early checkpoints "look like" the training photos, late ones drift away
                im = photo(PHOTOS[min(len(PHOTOS) - 1, step // 5 - 1 + (s % 2))]).resize((64, 64))
                out.append((im, params_infotext(p, s, params)))
            return out

    paths = host.paths()
    gen = Gen(paths.outdir_samples, paths.outdir_grids)
    cps = plan_checkpoints(run_from_folder(run, 32))
    plan = plan_sweep(cps, ["drawing of a house, {}", "(cat:1.2) {} in snow"], [1, 2], batch_size=3)
    return run_sweep(plan, gen, GenParams(width=64, height=64, steps=4))


def test_full_flow_writes_the_csv_beside_the_grid(world):
    host, run = world
    sweep = _sweep(host, run)
    loss = scoring.prescore(host, str(run), images_per_checkpoint=4, sampler_steps=4)
    assert [p.step for p in loss.points] == [5, 10, 15, 20]
    report = scoring.score(host, str(run), grid_dir=sweep.grid_dir, loss=loss)
    assert report.problems == []
    assert len(report.clip.cells) == 16
    assert {c.text for c in report.clip.cells} == {"drawing of a house", "in snow"}
    assert report.recommendation is not None and report.recommendation.step in (5, 10, 15, 20)
    assert "CLIP-T is within 5%" in report.recommendation.rule
    assert Path(report.csv_path).parent == Path(sweep.grid_path).parent
    assert Path(report.csv_path).name == Path(sweep.grid_path).stem + "-scores.csv"
    rows = read_scores_csv(report.csv_path)
    ck = [r for r in rows if r["level"] == "checkpoint"]
    assert [int(r["step"]) for r in ck] == [5, 10, 15, 20]
    assert all(r["fixed_loss"] and r["clip_i"] and r["mean_norm"] and r["nearest_tokens"] for r in ck)
    assert sum(r["recommended"] == "yes" for r in ck) == 1
    assert len([r for r in rows if r["level"] == "cell"]) == 16
    assert rows[-1]["level"] == "rule"
    # the grid itself marks the recommended column (a copy beside it; the sweep's grid unchanged)
    from lib_textinv.scores.grid_mark import HIGHLIGHT, layout_of

    marked = Path(report.marked_grid_path)
    assert marked.parent == Path(sweep.grid_path).parent and marked.stem.endswith("-recommended")
    with Image.open(sweep.grid_path) as g, Image.open(marked) as m:
        layout = layout_of(g.size, 4, 4, (64, 64))
        assert m.width == g.width and m.height > g.height
        assert f'Sweep recommended: "cat-{report.recommendation.step}"' in m.info["parameters"]
        x0 = layout.column_box([5, 10, 15, 20].index(report.recommendation.step))[0]
        assert m.convert("RGB").getpixel((x0, layout.pad_top + 32)) == HIGHLIGHT
        assert g.convert("RGB").getpixel((x0, layout.pad_top + 32)) != HIGHLIGHT
    # scoring again reads the sweep's grid, not the marked copy
    again = scoring.score(host, str(run), grid_dir=sweep.grid_dir, loss=loss, write_csv=False)
    assert again.marked_grid_path == str(marked) and again.problems == []
    d = report.to_dict()
    json.dumps(d)  # the API returns it
    assert d["marked_grid"] == str(marked)
    assert d["recommendation"]["step"] == report.recommendation.step

    # UI handlers render the same report
    out = ui_scores.on_score(str(run), "", "", sweep.grid_dir, "", "", 5, loss, host=host)
    table, clip_svg, scatter_svg, drift_svg, nearest, rec_md, status, rep, grid_img, loss_svg, state = out
    assert state is loss and "fixed-batch loss" in loss_svg  # pre-scored already: not computed again
    assert len(table) == 4 and sum(r[-1] == "◀" for r in table) == 1
    assert clip_svg.startswith("<svg") and "CLIP-I" in clip_svg
    assert "ordinary token norm" in drift_svg
    assert f">{rep.recommendation.step}</text>" in scatter_svg  # checkpoints labelled
    assert f"Recommended step: {rep.recommendation.step}" in rec_md
    assert len(nearest) == 8  # 4 checkpoints × 2 vectors
    assert "CSV:" in status and "recommended column marked" in status
    with Image.open(rep.marked_grid_path) as m:
        assert grid_img.size == m.size  # Compare's grid view shows the marked grid

    promoted = ui_scores.on_promote(rep, host=_PromoteHost(host))
    assert f"cat-{rep.recommendation.step}" in promoted
    assert (host.root / "embeddings" / f"cat-{rep.recommendation.step}.pt").is_file()
    assert "already exists" in ui_scores.on_promote(rep, host=_PromoteHost(host))


def test_score_without_prescore_computes_the_loss_too(world):
    """No pre-score (or one of another run) and no CLIP weights: Score still recommends a step,
    from the fixed-batch loss it computes on the way."""
    host, run = world
    sweep = _sweep(host, run)
    host.clip_embedder = None  # like a webui without cached CLIP weights
    host.setting = lambda key, default=None: "no-such-clip-model" if "clip_model" in key else default
    stale = scoring.prescore(host, str(run))
    stale.run_folder = str(run) + "-other"
    for given in (None, stale):
        out = ui_scores.on_score(str(run), "", "", sweep.grid_dir, "", "", 5, given, host=host)
        rep, state = out[7], out[10]
        assert rep.clip is None and any("CLIP scores skipped" in p for p in rep.problems), rep.problems
        assert state is not None and state is not given and state.run_folder == str(run)
        assert rep.recommendation is not None and "fixed-batch loss" in rep.recommendation.rule
        assert rep.marked_grid_path and all(r["fixed_loss"] is not None for r in rep.table())


def _client(app):
    return TestClient(app)


class _PromoteHost(ScoreHost):
    def __init__(self, inner):
        self.__dict__.update(inner.__dict__)
        self.reloads = 0

    def reload_embeddings(self, force=True):
        self.reloads += 1


def test_prescore_handler_and_missing_parts(world):
    host, run = world
    svg, steps, status, state = ui_scores.on_prescore("", str(run), "", host=host)
    assert svg.startswith("<svg") and steps and "cheaper" in status
    assert state.flat_steps == [int(s) for s in steps.split(", ")]
    # nothing swept yet: CLIP skipped with a reason, drift and the loss fallback still recommend
    report = scoring.score(host, str(run), loss=state, write_csv=False)
    assert report.clip is None
    assert any("no sweep grid" in p for p in report.problems)
    assert report.recommendation.step == min(state.flat_steps)
    assert "fixed-batch loss" in report.recommendation.rule
    # a standalone host: no model → reasons, not crashes
    plain = BaseHost()
    assert "Pick a training run" in ui_scores.on_prescore("", "", "", host=plain)[2]
    msg = ui_scores.on_prescore(str(run), "", "", host=plain)[2]
    assert "needs the webui" in msg


def test_build_inside_blocks(world):
    import gradio as gr

    from lib_textinv.kit.tab_context import TabContext

    host, _run = world
    with gr.Blocks():
        ctx = TabContext(host=host, run_folder=gr.Textbox())
        ctx.extra["compare_run"] = gr.Textbox()
        ctx.extra["compare_grid_dir"] = gr.Textbox()
        ui_scores.build(ctx)
    assert "score_preselected_steps" in ctx.extra
    with gr.Blocks():
        ui_scores.build(TabContext(host=BaseHost()))  # standalone: no Compare components, disabled


def test_api_score_job(world):
    from lib_textinv.scores import routes as api_scores

    host, run = world
    sweep = _sweep(host, run)
    router = APIRouter()
    api_scores.add_routes(router, host)
    app = FastAPI()
    app.include_router(router, prefix="/textinv/v1")

    @app.get("/textinv/v1/jobs/{job_id}")
    def job(job_id: str):
        from lib_textinv.kit.jobs import JOBS

        return JOBS.get(job_id).to_dict()

    c = _client(app)
    assert c.post("/textinv/v1/score", json={"name": "../x"}).status_code == 422
    assert c.post("/textinv/v1/score", json={"name": "dog"}).status_code == 404
    assert c.post("/textinv/v1/score", json={"name": "cat", "steps": [7]}).status_code == 404
    r = c.post("/textinv/v1/score", json={"name": "cat", "grid_dir": "/etc"})
    assert r.status_code == 400 and "output folders" in r.json()["detail"]
    assert c.post("/textinv/v1/score", json={"name": "cat", "parts": ["bogus"]}).status_code == 422
    r = c.post(
        "/textinv/v1/score",
        json={"name": "cat", "grid_dir": sweep.grid_dir, "steps": [5, 10, 20], "max_images": 2, "repeats": 1},
    )
    assert r.status_code == 200
    job_id = r.json()["job_id"]
    for _ in range(600):
        state = c.get(f"/textinv/v1/jobs/{job_id}").json()
        if state["status"] not in ("queued", "running"):
            break
        time.sleep(0.05)  # polling a real background thread
    assert state["status"] == "done", state
    res = state["result"]
    assert [row["step"] for row in res["checkpoints"]] == [5, 10, 20]
    assert res["fixed_loss"]["samples"] == 2
    assert res["recommendation"]["rule"]
    assert res["csv"] and Path(res["csv"]).is_file()


def test_preselected_steps_become_compares_step_list(world):
    """Pre-score → its flattening steps → Compare's mode "list" and step list → the checkpoints the
    sweep will render; and the Score button updates Compare's grid view and the loss plot."""
    import gradio as gr

    from lib_textinv.compare import section as ui_compare
    from lib_textinv.kit.ids import elem_id
    from lib_textinv.tab import build_tab

    host, run = world
    _svg, steps, _status, _state = ui_scores.on_prescore("", str(run), "", host=host)
    mode, listed = ui_scores.use_preselected(steps)
    assert mode["value"] == "list" and listed["value"] == steps
    chosen, _ = ui_compare.on_choose(str(run), mode["value"], 2, listed["value"], False, host=host)
    assert [c["step"] for c in json.loads(chosen)] == [int(s) for s in steps.split(", ")]
    assert ui_scores.use_preselected("") == (gr.update(), gr.update())  # nothing pre-selected: no change

    blocks = build_tab(host)
    ids = {b.elem_id: i for i, b in blocks.blocks.items() if getattr(b, "elem_id", None)}
    deps = blocks.dependencies
    prescore = next(i for i, d in enumerate(deps) if ids[elem_id("scores-prescore")] in d["targets"])
    follow = [d for d in deps if d.get("trigger_after") == prescore]
    assert [d["outputs"] for d in follow] == [[ids[elem_id("compare-mode")], ids[elem_id("compare-steps")]]]
    score = next(d for d in deps if ids[elem_id("scores-score")] in d["targets"])
    assert score["outputs"][-3:-1] == [ids[elem_id("compare-grid")], ids[elem_id("scores-loss-plot")]]
