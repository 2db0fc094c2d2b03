"""The whole scoring flow on real files: training runs, real sweeps (the tab's Generate and the API's
POST /sweep against a host whose "generator" returns a photo per cell), then loss + CLIP + drift +
recommendation + CSV + the marked grid; the section's handlers and wiring and POST /score. CLIP is
loaded through the one loader from tiny weights in the host's CLIP folder."""

from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path

import pytest
from PIL import Image

from lib_textinv.compare import section as compare
from lib_textinv.compare.sweep_plan import plan_sweep
from lib_textinv.compare.sweep_record import SweepRecord, read_record, run_key
from lib_textinv.compare.sweep_run import GenParams, params_infotext, plan_checkpoints, run_sweep
from lib_textinv.kit import clip_loader
from lib_textinv.kit import images as kit_images
from lib_textinv.kit.host import BaseHost, HostPaths, ModelFacts
from lib_textinv.scores import scoring
from lib_textinv.scores import section as ui_scores
from lib_textinv.scores.scores_csv import read_scores_csv
from tests.api_client import api_client, wait_job
from tests.embfiles import write_training_run
from tests.photos import photo, write_photos
from tests.scores.clip_weights import save_tiny_openai_clip
from tests.scores.test_drift import MatrixTable
from tests.scores.test_fixed_loss import TinyDenoiserHost
from tests.sweep_fakes import SAMPLER_BOUND, save_png, webui_grid

PHOTOS = {"cat": ("astronaut", "chelsea", "coffee", "rocket", "brick", "grass"), "dog": ("camera", "coins")}
CLIP_SETTINGS = {
    "textinv_clip_model": "ViT-B-32",
    "textinv_clip_pretrained": "openai",
    "textinv_clip_device": "cpu",
    "textinv_clip_batch_size": 4,
}
TOKEN = re.compile(r"\b(cat|dog)-(\d+)\b")


class ScoreHost(BaseHost):
    """A webui-like host: a tiny real loss model, a token table, CLIP weights in its own CLIP folder
    (like the webui's models/CLIP), and a "generator" returning a photo per cell (early
    checkpoints look like the training photos, late ones drift away)."""

    def __init__(self, root: Path):
        super().__init__(kind="test", settings=dict(CLIP_SETTINGS))
        self.root = root
        self.loss = TinyDenoiserHost()
        self.table = MatrixTable()
        self.registered: set[str] = set()
        self.reloads = 0
        self.interrupted = threading.Event()

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

    def clip_cache_dirs(self):
        return [str(self.root / "models" / "CLIP")]

    def interrupt(self):
        self.interrupted.set()

    def loss_host(self):
        return self.loss

    def token_table(self):
        return self.table

    def register_checkpoint(self, token, path):
        self.registered.add(token)

    def is_registered(self, token, path):
        return token in self.registered

    def unregister(self, token):
        self.registered.discard(token)

    def generate(self, prompts, seeds, params):
        out = []
        for p, s in zip(prompts, seeds, strict=True):
            name, step = TOKEN.search(p).groups()
            names = PHOTOS[name]
            im = photo(names[min(len(names) - 1, int(step) // 5 - 1 + (s % 2))]).resize((64, 64))
            out.append((im, params_infotext(p, s, params)))
        return out

    def save_image(self, image, prompt, seed, infotext):
        return save_png(image, Path(self.paths().outdir_samples), str(seed), infotext)

    def save_grid(self, image, prompt, seed, infotext):
        return save_png(image, Path(self.paths().outdir_grids), f"textinv-sweep-{seed}", infotext)

    def draw_grid(self, images, cols, rows, col_labels, row_labels):
        return webui_grid(images, cols, rows, col_labels, row_labels)

    def reload_embeddings(self, force=True):
        self.reloads += 1


@pytest.fixture(autouse=True)
def only_the_hosts_clip_folder(monkeypatch, tmp_path):
    """open_clip's and Hugging Face's own caches are empty folders here: CLIP comes from the host's."""
    (tmp_path / "empty-hf").mkdir()
    monkeypatch.setattr(clip_loader, "default_cache_dirs", lambda: [str(tmp_path / "empty-clip")])
    monkeypatch.setattr(clip_loader, "hf_cache_dir", lambda: str(tmp_path / "empty-hf"))


def training_run(root: Path, name: str, photos=("astronaut", "chelsea")) -> Path:
    train = root / f"train-{name}"
    write_photos(train, names=photos, size=(64, 64))
    template = root / "tpl.txt"
    template.write_text("a painting by [name]\n", encoding="utf-8")
    run = write_training_run(root / "log", name, steps=(5, 10, 15, 20), n_vectors=2, width=32)
    settings = {"data_root": str(train), "template_file": str(template), "training_width": 64}
    (run / "settings-2026-11-25-10-00-00.json").write_text(
        json.dumps({**settings, "training_height": 64}), encoding="utf-8"
    )
    return run


@pytest.fixture
def world(tmp_path):
    host = ScoreHost(tmp_path)
    (tmp_path / "embeddings").mkdir()
    save_tiny_openai_clip(tmp_path / "models" / "CLIP", "ViT-B-32")
    return host, training_run(tmp_path, "cat")


def _sweep(host, run: Path) -> SweepRecord:
    """A real sweep_run over the run's checkpoints; returns its record."""
    from lib_textinv.compare.checkpoints import run_from_folder

    cps = plan_checkpoints(run_from_folder(run, 32))
    prompts = ["drawing of a house, {}", "(cat:1.2) {} in snow"]
    plan = plan_sweep(cps, prompts, [1, 2], batch_size=3, name=run.name, run_folder=str(run))
    res = run_sweep(plan, host, GenParams(width=64, height=64, steps=4))
    assert res.record == read_record(res.grid_path)
    return res.record


def test_full_flow_writes_the_csv_beside_the_grid(world):
    host, run = world
    sweep = _sweep(host, run)
    loss = scoring.prescore(host, str(run), images_per_checkpoint=4, sampler_steps=4)
    assert [p.step for p in loss.points] == [5, 10, 15, 20]
    report = scoring.score(host, str(run), sweep, loss=loss)
    assert report.problems == [] and report.sweep == sweep.path
    assert sorted(c.image for c in report.clip.cells) == sorted(c.path for c in sweep.cells)
    assert {c.text for c in report.clip.cells} == {"drawing of a house", "in snow"}
    assert report.recommendation.step in (5, 10, 15, 20)
    assert "CLIP-T is within 5%" in report.recommendation.rule
    grid = Path(sweep.grid)
    assert Path(report.csv_path) == grid.with_name(grid.stem + "-scores.csv")
    rows = read_scores_csv(report.csv_path)
    ck = [r for r in rows if r["level"] == "checkpoint"]
    assert [int(r["step"]) for r in ck] == [5, 10, 15, 20]
    assert all(r["fixed_loss"] and r["clip_i"] and r["mean_norm"] and r["nearest_tokens"] for r in ck)
    assert sum(r["recommended"] == "yes" for r in ck) == 1
    assert len([r for r in rows if r["level"] == "cell"]) == 16
    assert rows[-1]["level"] == "rule"
    check_marked_grid(report, sweep)
    # scoring again reads the sweep's grid, not the marked copy
    before = hashlib_of(sweep.grid)
    again = scoring.score(host, str(run), read_record(sweep.path), loss=loss, write_csv=False)
    assert again.marked_grid_path == report.marked_grid_path and again.problems == []
    assert hashlib_of(sweep.grid) == before
    d = report.to_dict()
    assert json.loads(json.dumps(d))["marked_grid"] == report.marked_grid_path  # the API returns it
    assert d["recommendation"]["step"] == report.recommendation.step and d["sweep"] == sweep.path


def hashlib_of(path: str) -> str:
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def check_marked_grid(report, sweep: SweepRecord) -> None:
    """The grid marks the recommended column (a copy beside it; the sweep's grid unchanged)."""
    from lib_textinv.scores.grid_mark import HIGHLIGHT, layout_of

    marked = Path(report.marked_grid_path)
    assert marked.parent == Path(sweep.grid).parent and marked.stem.endswith("-recommended")
    with Image.open(sweep.grid) as g, Image.open(marked) as m:
        layout = layout_of(g.size, sweep.cols, sweep.rows, sweep.cell_size)
        assert m.width == g.width and m.height > g.height
        assert f'Sweep recommended: "{report.recommendation.checkpoint}"' in m.info["parameters"]
        x0 = layout.column_box(sweep.tokens.index(report.recommendation.checkpoint))[0]
        assert m.convert("RGB").getpixel((x0, layout.pad_top + 32)) == HIGHLIGHT
        assert g.convert("RGB").getpixel((x0, layout.pad_top + 32)) != HIGHLIGHT


def test_the_section_renders_the_report_and_promotes(world):
    host, run = world
    sweep = _sweep(host, run)
    loss = scoring.prescore(host, str(run))
    out = ui_scores.on_score(str(run), "", {run_key(run): sweep.path}, "", 5, loss, host=host)
    table, clip_svg, scatter_svg, drift_svg, nearest, rec_md, status, rep, grid_img, loss_svg, state = out
    assert state is loss and "fixed-batch loss" in loss_svg  # pre-scored already: not computed again
    assert len(table) == 4 and sum(r[-1] == "◀" for r in table) == 1
    assert clip_svg.startswith("<svg") and "CLIP-I" in clip_svg
    assert "ordinary token norm" in drift_svg
    assert f">{rep.recommendation.step}</text>" in scatter_svg  # checkpoints labelled
    assert f"Recommended step: {rep.recommendation.step}" in rec_md
    assert len(nearest) == 8  # 4 checkpoints × 2 vectors
    assert "Scored 16 cells" in status and "CSV:" in status and "recommended column marked" in status
    with Image.open(rep.marked_grid_path) as m:
        assert grid_img.size == m.size  # Compare's grid view shows the marked grid

    promoted = ui_scores.on_promote(rep, host=host)
    assert f"cat-{rep.recommendation.step}" in promoted and host.reloads == 1
    assert (host.root / "embeddings" / f"cat-{rep.recommendation.step}.pt").is_file()
    assert "already exists" in ui_scores.on_promote(rep, host=host) and host.reloads == 1
    assert ui_scores.on_promote(None, host=host).startswith("Nothing to promote")


def test_score_without_prescore_computes_the_loss_too(world):
    """No pre-score (or one of another run) and no CLIP weights: Score still recommends a step,
    from the fixed-batch loss it computes on the way."""
    host, run = world
    sweep = _sweep(host, run)
    host.settings["textinv_clip_model"] = "ViT-L-14"  # no such weights anywhere: like a fresh webui
    stale = scoring.prescore(host, str(run))
    stale.run_folder = str(run) + "-other"
    for given in (None, stale):
        out = ui_scores.on_score(str(run), "", {run_key(run): sweep.path}, "", 5, given, host=host)
        rep, state = out[7], out[10]
        assert rep.clip is None, rep.problems
        assert any("CLIP scores skipped" in p and "ViT-L-14" in p for p in rep.problems), rep.problems
        assert state is not given and state.run_folder == str(run) and len(state.points) == 4
        assert "fixed-batch loss" in rep.recommendation.rule
        assert rep.marked_grid_path and all(r["fixed_loss"] is not None for r in rep.table())


def test_scoring_a_after_sweeping_b_scores_a_cells(world):
    """The tab's flow: Generate for A, then for B, then Score A → A's cells and A's grid, never
    B's (which the newest grid in the folder would be); then Score B → B's."""
    host, run_a = world
    run_b = training_run(host.root, "dog", photos=("camera", "coins"))
    form = ("drawing of a house, {}", "1, 2", "", "Euler a", 4, 7, 64, 64, 3)
    sweeps: dict = {}
    for run in (run_a, run_b):
        *_, sweeps = list(compare.on_generate(str(run), "all", 1, "", False, *form, sweeps, host=host))[-1]
    rec_a, rec_b = read_record(sweeps[run_key(run_a)]), read_record(sweeps[run_key(run_b)])
    assert (rec_a.name, rec_b.name) == ("cat", "dog") and rec_a.grid != rec_b.grid
    rep_a = ui_scores.on_score(str(run_a), "", sweeps, "", 5, None, host=host)[7]
    assert rep_a.problems == [] and rep_a.sweep == rec_a.path
    assert sorted(c.image for c in rep_a.clip.cells) == sorted(c.path for c in rec_a.cells)
    assert {c.checkpoint for c in rep_a.clip.cells} == {"cat-5", "cat-10", "cat-15", "cat-20"}
    assert Path(rep_a.marked_grid_path).name == Path(rec_a.grid).stem + "-recommended.png"
    rep_b = ui_scores.on_score(str(run_b), "", sweeps, "", 5, None, host=host)[7]
    assert sorted(c.image for c in rep_b.clip.cells) == sorted(c.path for c in rec_b.cells)
    # a run with no sweep yet: no CLIP scores, and no other sweep's grid marked
    run_c = training_run(host.root, "cow")
    rep_c = ui_scores.on_score(str(run_c), "", sweeps, "", 5, None, host=host)[7]
    assert rep_c.clip is None and rep_c.marked_grid_path is None and rep_c.csv_path is None
    assert any("no sweep of this run yet" in p for p in rep_c.problems)


def test_a_sweep_of_another_run_is_never_scored(world):
    host, run = world
    other = _sweep(host, training_run(host.root, "dog", photos=("camera", "coins")))
    report = scoring.score(host, str(run), other)
    assert report.clip is None and report.marked_grid_path is None and report.csv_path is None
    assert any("is of 'dog', not of 'cat'" in p for p in report.problems), report.problems


def test_a_big_unrelated_samples_folder_is_never_opened(world, monkeypatch):
    """Scores opens the sweep's own cells and grid only: a samples folder of a year's images (here
    with the very prompts and seeds of the sweep, newer) is neither listed nor opened."""
    host, run = world
    sweep = _sweep(host, run)
    samples = Path(host.paths().outdir_samples)
    decoys = samples / "2027-01-01"
    for i in range(300):
        prompt = ["drawing of a house, cat-5", "(cat:1.2) cat-10 in snow"][i % 2]
        save_png(
            Image.new("RGB", (64, 64), (i % 255, 0, 0)), decoys, "1", params_infotext(prompt, 1, GenParams())
        )
    opened, listed = [], []
    real_open, real_scandir, real_listdir = Image.open, os.scandir, os.listdir
    monkeypatch.setattr(Image, "open", lambda fp, *a, **k: opened.append(str(fp)) or real_open(fp, *a, **k))
    real_read = kit_images.read_image_bytes  # every step reads user images from their bytes
    monkeypatch.setattr(kit_images, "read_image_bytes", lambda p: opened.append(str(p)) or real_read(p))
    monkeypatch.setattr(os, "scandir", lambda p=".": listed.append(str(p)) or real_scandir(p))
    monkeypatch.setattr(os, "listdir", lambda p=".": listed.append(str(p)) or real_listdir(p))
    report = scoring.score(host, str(run), read_record(sweep.path))
    assert len(report.clip.cells) == 16
    assert not [p for p in opened if p.startswith(str(decoys))]
    assert not [p for p in listed if p.startswith(str(samples))]
    assert {p for p in opened if p.startswith(str(samples))} == {c.path for c in sweep.cells}


def test_two_score_clicks_load_clip_once_from_the_hosts_folder(world, monkeypatch):
    host, run = world
    sweep = _sweep(host, run)
    loads = []
    real = clip_loader.load_clip
    monkeypatch.setattr(
        clip_loader, "load_clip", lambda *a, **k: loads.append(k["cache_dirs"]) or real(*a, **k)
    )
    sweeps = {run_key(run): sweep.path}
    first = ui_scores.on_score(str(run), "", sweeps, "", 5, None, host=host)[7]
    second = ui_scores.on_score(str(run), "", sweeps, "", 5, first.loss, host=host)[7]
    assert first.problems == [] and len(first.clip.cells) == len(second.clip.cells) == 16, first.problems
    assert [c.clip_i for c in first.clip.cells] == [c.clip_i for c in second.clip.cells]
    assert loads == [clip_loader.search_dirs(host)] and host.clip_cache_dirs()[0] in loads[0]


def test_embedding_and_scores_search_the_same_folders(world, monkeypatch):
    """The Embedding step's variety and the Scores' CLIP look in the same places (the setting's
    folder, the host's CLIP folder, open_clip's cache, the HF cache)."""
    from lib_textinv.embedding.folder_advice import advise

    host, run = world
    sweep = _sweep(host, run)
    host.settings["textinv_clip_cache_dir"] = str(host.root / "my-clip")
    searched = []
    real = clip_loader.find_cached_weights
    monkeypatch.setattr(
        clip_loader,
        "find_cached_weights",
        lambda m, p, dirs=(): searched.append(list(dirs)) or real(m, p, dirs),
    )
    advice = advise(host, str(host.root / "train-cat"))
    clip_loader._cache.clear()  # forget the loaded model: Score must search again
    report = ui_scores.on_score(str(run), "", {run_key(run): sweep.path}, "", 5, None, host=host)[7]
    assert advice.clip_reason is None and advice.diversity.images == 2 and len(report.clip.cells) == 16
    assert len(searched) == 2 and searched[0] == searched[1] == clip_loader.search_dirs(host)
    assert searched[0][:2] == [str(host.root / "my-clip"), str(host.root / "models" / "CLIP")]


def test_prescore_handler_and_missing_parts(world):
    host, run = world
    svg, steps, status, state = ui_scores.on_prescore("", str(run), "", host=host)
    assert svg.startswith("<svg") and steps and "cheaper" in status
    assert state.flat_steps == [int(s) for s in steps.split(", ")]
    # nothing swept yet: CLIP skipped with a reason, drift and the loss fallback still recommend
    report = scoring.score(host, str(run), None, loss=state, write_csv=False)
    assert report.clip is None
    assert any("no sweep of this run yet" in p for p in report.problems)
    assert report.recommendation.step == min(state.flat_steps)
    assert "fixed-batch loss" in report.recommendation.rule
    # a standalone host: no model → reasons, not crashes
    plain = BaseHost()
    assert "Pick a training run" in ui_scores.on_prescore("", "", "", host=plain)[2]
    msg = ui_scores.on_prescore(str(run), "", "", host=plain)[2]
    assert "needs the webui" in msg


class BlockingLoss(TinyDenoiserHost):
    """A loss that, from its second call on, waits for the host's Interrupt (like a sampler)."""

    def __init__(self, host):
        super().__init__()
        self.host, self.entered = host, threading.Event()

    def denoise_loss(self, *a, **k):
        if self.calls >= 1:
            self.entered.set()
            assert self.host.interrupted.wait(SAMPLER_BOUND), "not interrupted"
        return super().denoise_loss(*a, **k)


def test_stop_ends_a_prescore_and_a_second_one_waits_its_turn(world):
    host, run = world
    host.loss = BlockingLoss(host)
    result = {}
    worker = threading.Thread(
        target=lambda: result.update(out=ui_scores.on_prescore(str(run), "", "", host=host))
    )
    worker.start()
    assert host.loss.entered.wait(SAMPLER_BOUND)
    busy = ui_scores.on_score(str(run), "", {}, "", 5, None, host=host)
    assert "already running" in busy[6]
    assert ui_scores.on_stop(host=host) == "Stopping the scoring…" and host.interrupted.is_set()
    worker.join(SAMPLER_BOUND)
    assert not worker.is_alive() and result["out"][2] == "Pre-score stopped." and result["out"][3] is None
    assert ui_scores.on_stop(host=host) == "Nothing is being scored."


def test_build_with_and_without_compare(world):
    import gradio as gr

    from lib_textinv.kit.tab_context import TabContext

    host, _run = world
    with gr.Blocks():
        ctx = TabContext(host=host, run_folder=gr.Textbox())
        view = compare.build(ctx)
        scores = ui_scores.build(ctx)
        given = ui_scores.handed_over(ctx)
    assert (
        given.sweeps is view.output.sweeps and given.run is view.picker.run and given.grid is view.output.grid
    )
    assert scores.prescore.interactive is not False
    with gr.Blocks():
        alone = TabContext(host=BaseHost())  # standalone, Compare absent: disabled, still built
        scores = ui_scores.build(alone)
        given = ui_scores.handed_over(alone)
    assert scores.score.interactive is False and given.mode is None and isinstance(given.sweeps, gr.State)


def test_api_scores_the_sweep_post_sweep_made(world):
    host, _run = world
    training_run(host.root, "dog", photos=("camera", "coins"))
    c = api_client(host)
    made = {}
    for name in ("cat", "dog"):
        req = {
            "name": name,
            "prompts": ["a house, {}"],
            "seeds": [1],
            "width": 64,
            "height": 64,
            "sampling_steps": 4,
        }
        r = c.post("/textinv/v1/sweep", json=req)
        assert r.status_code == 200, r.text
        made[name] = wait_job(c, r.json()["job_id"])["result"]
    r = c.post(
        "/textinv/v1/score",
        json={
            "name": "cat",
            "sweep": made["cat"]["grid"],
            "steps": [5, 10, 20],
            "max_images": 2,
            "repeats": 1,
        },
    )
    assert r.status_code == 200, r.text
    state = wait_job(c, r.json()["job_id"])
    assert state["status"] == "done", state
    res = state["result"]
    assert [row["step"] for row in res["checkpoints"]] == [5, 10, 20]
    cat_cells = {x["path"] for x in made["cat"]["cells"] if x["token"] in ("cat-5", "cat-10", "cat-20")}
    assert {cell["image"] for cell in res["cells"]} == cat_cells and res["sweep"] == made["cat"]["record"]
    assert res["fixed_loss"]["samples"] == 2 and res["recommendation"]["rule"]
    assert res["csv"] and Path(res["csv"]).parent == Path(made["cat"]["grid"]).parent
    r = c.post("/textinv/v1/score", json={"name": "cat", "sweep": made["dog"]["record"]})
    assert r.status_code == 400 and "'dog', not of 'cat'" in r.json()["detail"]


def test_api_score_bad_requests(world):
    host, run = world
    sweep = _sweep(host, run)
    c = api_client(host)
    assert c.post("/textinv/v1/score", json={"name": "../x"}).status_code == 422
    assert c.post("/textinv/v1/score", json={"name": "cat", "grid_dir": "/x"}).status_code == 422  # gone
    assert c.post("/textinv/v1/score", json={"name": "cat", "parts": ["bogus"]}).status_code == 422
    assert c.post("/textinv/v1/score", json={"name": "cat", "parts": []}).status_code == 422
    assert c.post("/textinv/v1/score", json={"name": "dog"}).status_code == 404
    assert c.post("/textinv/v1/score", json={"name": "cat", "steps": [7]}).status_code == 404
    r = c.post("/textinv/v1/score", json={"name": "cat", "sweep": "/etc/passwd"})
    assert r.status_code == 400 and "output folders" in r.json()["detail"]
    r = c.post(
        "/textinv/v1/score", json={"name": "cat", "sweep": str(Path(sweep.grid).with_name("none.png"))}
    )
    assert r.status_code == 404 and "no sweep record" in r.json()["detail"]
    Path(sweep.path).write_text("{}", encoding="utf-8")
    r = c.post("/textinv/v1/score", json={"name": "cat", "sweep": sweep.grid})
    assert r.status_code == 400 and "not a sweep record" in r.json()["detail"]


def test_preselected_steps_land_in_compares_step_list(world):
    """The built tab's real wiring: Pre-score's handler, then the step that follows it, put the
    flattening steps into Compare's mode and "Steps listed"; Score's outputs include Compare's grid."""
    from lib_textinv.kit.ids import elem_id
    from lib_textinv.tab import build_tab

    host, run = world
    blocks = build_tab(host)
    ids = {b.elem_id: i for i, b in blocks.blocks.items() if getattr(b, "elem_id", None)}
    deps = blocks.dependencies
    pre = next(i for i, d in enumerate(deps) if ids[elem_id("scores-prescore")] in d["targets"])
    values = {ids[elem_id("compare-run")]: str(run)}
    args = [values.get(i, "") for i in deps[pre]["inputs"]]
    out = dict(zip(deps[pre]["outputs"], blocks.fns[pre].fn(*args), strict=True))
    steps = out[ids[elem_id("scores-preselected")]]
    assert steps and out[ids[elem_id("scores-loss-plot")]].startswith("<svg")
    follow = next(i for i, d in enumerate(deps) if d.get("trigger_after") == pre)
    shown = dict(zip(deps[follow]["outputs"], blocks.fns[follow].fn(steps), strict=True))
    assert shown[ids[elem_id("compare-mode")]]["value"] == "list"
    assert shown[ids[elem_id("compare-steps")]]["value"] == steps
    chosen, _ = compare.on_choose(str(run), "list", 2, steps, False, host=host)
    assert [c["step"] for c in json.loads(chosen)] == [int(s) for s in steps.split(", ")]
    score = next(d for d in deps if ids[elem_id("scores-score")] in d["targets"])
    assert score["outputs"][-3:-1] == [ids[elem_id("compare-grid")], ids[elem_id("scores-loss-plot")]]
