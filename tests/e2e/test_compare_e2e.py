"""Sweep, promote and scores on one real training run in the webui's own log folder (the Compare
and Scores routes only read runs there)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from tests.e2e.conftest import need
from tests.e2e.helpers import (
    API,
    create_embedding,
    remove_embedding_files,
    remove_files,
    remove_tree,
    train_request,
    training_folder,
    unique_name,
    wait_job,
)
from tests.e2e.page import tab_in_webui


@pytest.fixture(scope="module")
def trained_run(client, status, tmp_path_factory):
    """A finished 20-step run (checkpoints 5, 10, 15, 20) under the webui's default log folder."""
    need(status, "train")
    name = unique_name("e2ecmp")
    dataset = training_folder(tmp_path_factory.mktemp("cmp") / "dataset")
    created = create_embedding(client, name)
    emb_dir = Path(created["path"]).parent
    run_folder = None
    try:
        r = client.post(f"{API}/train", json=train_request(name, dataset, None, create_image_every=0))
        assert r.status_code == 200, r.text
        run_folder = r.json()["run_folder"]
        job = wait_job(client, r.json()["job_id"], 300)
        assert job["status"] == "done" and job["result"]["status"] == "finished", job
        yield {"name": name, "run_folder": Path(run_folder), "dataset": dataset, "embeddings_dir": emb_dir}
    finally:
        remove_embedding_files(emb_dir, name)
        remove_tree(run_folder)


def marked_outputs(grid: Path) -> list[Path]:
    """What scoring writes beside the grid (and the sweep's own record)."""
    return [
        grid.with_name(grid.stem + "-recommended.png"),
        grid.with_name(grid.stem + "-scores.csv"),
        grid.with_name(grid.stem + ".sweep.json"),
    ]


def score_and_mark(client, name: str, grid: Path, record: str) -> Path:
    """POST /score on the sweep POST /sweep made (its record): the recommended column is framed on
    a copy of the grid the webui drew (its own annotation layout), the grid itself stays as it was."""
    from lib_textinv.scores.grid_mark import HIGHLIGHT, layout_of

    before = grid.read_bytes()
    r = client.post(f"{API}/score", json={"name": name, "parts": ["loss"], "sweep": record})
    assert r.status_code == 200, r.text
    job = wait_job(client, r.json()["job_id"], 300)
    assert job["status"] == "done", job
    rep = job["result"]
    step = rep["recommendation"]["step"]
    marked = Path(rep["marked_grid"])
    assert marked == marked_outputs(grid)[0] and Path(rep["csv"]) == marked_outputs(grid)[1], rep
    assert rep["sweep"] == record, rep
    assert grid.read_bytes() == before
    with Image.open(grid) as g, Image.open(marked) as m:
        layout = layout_of(g.size, 4, 2, (64, 64))
        assert layout.pad_left == 48 and layout.pad_top > 0  # the webui's draw_grid_annotations
        assert m.width == g.width and m.height > g.height
        x0 = layout.column_box([5, 10, 15, 20].index(step))[0]
        assert m.convert("RGB").getpixel((x0, layout.pad_top + 32)) == HIGHLIGHT
        assert f'Sweep recommended: "{name}-{step}"' in m.info["parameters"]
    return marked


def test_sweep_then_promote_then_txt2img(client, status, trained_run):
    need(status, "generate")
    name = trained_run["name"]
    req = {
        "name": name,
        "checkpoints": "all",
        "prompts": ["a photo of {}", "a painting, {}"],
        "seeds": [1234],
        "sampler": "Euler a",
        "sampling_steps": 4,
        "cfg_scale": 7.0,
        "width": 64,
        "height": 64,
        "batch_size": 4,
    }
    r = client.post(f"{API}/sweep", json=req)
    assert r.status_code == 200, r.text
    assert r.json()["cells"] == 8
    job = wait_job(client, r.json()["job_id"], 300)
    assert job["status"] == "done", job
    res = job["result"]
    grid = res["grid"]
    try:
        assert res["done"] == 8 and not res["interrupted"], res
        assert grid and Path(grid).is_file(), res
        tokens = [f"{name}-{s}" for s in (5, 10, 15, 20)]
        assert sorted({c["token"] for c in res["cells"]}) == sorted(tokens)
        with Image.open(grid) as im:
            info = im.info.get("parameters", "")
            assert im.width >= 4 * 64 and im.height >= 2 * 64
        assert "Sweep checkpoints" in info, info
        for t in tokens:
            assert t in info, (t, info)
        assert "Steps: 4" in info, info
        assert res["record"] == str(marked_outputs(Path(grid))[2]) and Path(res["record"]).is_file(), res
        score_and_mark(client, name, Path(grid), res["record"])
    finally:
        remove_files(grid, *[c["path"] for c in res.get("cells", []) if c.get("path")])
        remove_files(*marked_outputs(Path(grid)) if grid else ())

    r = client.post(f"{API}/promote", json={"name": name, "step": 10})
    assert r.status_code == 200, r.text
    promoted = r.json()
    assert promoted["token"] == f"{name}-10"
    assert Path(promoted["path"]).parent == trained_run["embeddings_dir"]
    assert client.get("/sdapi/v1/embeddings").json()["loaded"].get(f"{name}-10"), "promoted not loaded"

    r = client.post(
        "/sdapi/v1/txt2img",
        json={
            "prompt": f"a photo of {name}-10",
            "steps": 4,
            "width": 64,
            "height": 64,
            "seed": 1,
            "sampler_name": "Euler a",
            "save_images": False,
        },
        timeout=300,
    )
    assert r.status_code == 200, r.text
    info = json.loads(r.json()["info"])
    text = info["infotexts"][0]
    assert "TI hashes" in text, text
    assert f"{name}-10" in text.split("TI hashes", 1)[1], text

    again = client.post(f"{API}/promote", json={"name": name, "step": 10})
    assert again.status_code == 409, again.text


def test_fixed_batch_loss_is_repeatable(client, status, trained_run):
    need(status, "train")
    req = {"name": trained_run["name"], "parts": ["loss"], "steps": [5, 10, 15, 20], "seed": 7}

    def losses() -> dict[int, float]:
        r = client.post(f"{API}/score", json=req)
        assert r.status_code == 200, r.text
        job = wait_job(client, r.json()["job_id"], 300)
        assert job["status"] == "done", job
        points = job["result"]["fixed_loss"]["points"]
        return {p["step"]: p["loss"] for p in points}

    first = losses()
    assert sorted(first) == [5, 10, 15, 20], first
    assert all(isinstance(v, float) and v == v and v > 0 for v in first.values()), first
    assert losses() == first


@pytest.mark.browser
def test_prescore_in_the_page_sets_compares_step_list(webui_url, status, trained_run):
    """In the webui page: Compare → a run folder → Pre-score → the flattening steps become the
    sweep's step list (mode "Steps listed") and the chosen checkpoints follow."""
    need(status, "generate")
    with tab_in_webui(webui_url) as tab:
        root = tab.root
        open_run(tab, trained_run)
        root.locator("#textinv-scores-prescore").click()
        listed = tab.wait_value("#textinv-compare-steps textarea", "v.trim() !== ''", 120_000)
        steps = [int(s) for s in listed.split(",")]
        assert set(steps) <= {5, 10, 15, 20} and steps, steps
        assert root.locator("#textinv-scores-preselected textarea").input_value() == listed
        assert root.locator("#textinv-compare-mode input[value=list]").is_checked()
        chosen = tab.wait_value(
            "#textinv-compare-checkpoints textarea",
            f"(() => {{ try {{ return JSON.parse(v).length === {len(steps)}; }} "
            "catch (e) { return false; } })()",
        )
        assert [c["step"] for c in json.loads(chosen)] == steps
        assert not tab.our_errors(), tab.errors


def open_run(tab, trained_run) -> None:
    tab.section("Compare")
    tab.root.locator("#textinv-compare-run textarea").fill(str(trained_run["run_folder"]))
    tab.root.locator("#textinv-compare-table").get_by_text(f"{trained_run['name']}-20").first.wait_for(
        timeout=60_000
    )


def _new_files(folder: Path, since: float, marker: str) -> list[Path]:
    """Files under ``folder`` named with ``marker`` (any file when it is empty: ``rglob("**")``
    would list folders only) written since ``since``."""
    if not folder.is_absolute() or not folder.is_dir():
        return []
    pattern = f"*{marker}*" if marker else "*"
    return [p for p in folder.rglob(pattern) if p.is_file() and p.stat().st_mtime >= since]


@pytest.mark.browser
def test_generate_score_and_see_the_marked_grid_in_the_page(client, webui_url, status, trained_run):
    """In the webui page: Generate a 4×1 sweep, Score it, and the grid view switches to the copy
    with the recommended column marked; the recommendation names a checkpoint of the run."""
    import random
    import time

    need(status, "generate")
    name, seed, started = trained_run["name"], random.randint(10**8, 10**9 - 1), time.time() - 1
    opts = client.get("/sdapi/v1/options").json()
    samples_dir = Path(opts.get("outdir_samples") or opts["outdir_txt2img_samples"])
    grid_file = ""
    try:
        with tab_in_webui(webui_url) as tab:
            root = tab.root
            open_run(tab, trained_run)
            root.locator("#textinv-compare-prompts textarea").fill("a photo of {}")
            root.locator("#textinv-compare-seeds textarea").fill(str(seed))
            for elem, value in (
                ("textinv-compare-width", 64),
                ("textinv-compare-height", 64),
                ("textinv-compare-sampling-steps", 4),
            ):
                tab.number(elem, value)
            root.locator("#textinv-compare-generate").click()
            grid_file = tab.wait_value("#textinv-compare-grid-file textarea", "v.trim() !== ''", 300_000)
            status_text = root.locator("#textinv-compare-status textarea").input_value()
            assert "4/4 cells" in status_text, status_text
            sweep_src = root.locator("#textinv-compare-grid img").get_attribute("src")

            root.locator("#textinv-scores-score").click()
            rec = tab.html("textinv-scores-recommendation")
            tab.page.wait_for_function(
                "el => /Recommended step: \\d+/.test(el.innerText)", arg=rec.element_handle(), timeout=300_000
            )
            step = int(rec.inner_text().split("Recommended step:", 1)[1].split()[0])
            assert step in (5, 10, 15, 20)
            tab.page.wait_for_function(
                "([sel, old]) => { const i = document.querySelector(sel); return i && i.src !== old; }",
                arg=["#tab_textinv #textinv-compare-grid img", sweep_src],
                timeout=60_000,
            )
            scoring = root.locator("#textinv-scores-status textarea").input_value()
            assert "recommended column marked" in scoring, scoring
            marked = Path(scoring.split("recommended column marked: ", 1)[1].split()[0])
            assert marked.is_file() and marked == marked_outputs(Path(grid_file))[0]
            shown = tab.page.evaluate(
                "() => { const i = document.querySelector('#tab_textinv #textinv-compare-grid img');"
                " return [i.naturalWidth, i.naturalHeight]; }"
            )
            with Image.open(marked) as m:
                assert tuple(shown) == m.size  # the page shows the marked grid, strip included

            # an earlier test may have promoted this step already: promotion never overwrites
            remove_files(trained_run["embeddings_dir"] / f"{name}-{step}.pt")
            root.locator("#textinv-scores-promote").click()  # one click promotes it
            promoted = tab.wait_value("#textinv-scores-status textarea", "v.includes('type this in txt2img')")
            assert f"{name}-{step}" in promoted, promoted
            loaded = client.get("/sdapi/v1/embeddings").json()["loaded"]
            assert f"{name}-{step}" in loaded, sorted(loaded)  # usable at once, no restart
            tab.screenshot("webui-compare")
            assert not tab.our_errors(), tab.errors
    finally:
        remove_files(*_new_files(Path(grid_file).parent, started, "") if grid_file else ())
        remove_files(*_new_files(samples_dir, started, str(seed)))


@pytest.mark.browser
def test_find_runs_promote_and_send_to_txt2img_in_the_page(client, webui_url, status, trained_run):
    """Compare by name: Find runs fills the run, Promote copies a checkpoint under its token, and
    "Send to txt2img" puts the sample prompt into the webui's own txt2img prompt and switches there."""
    need(status, "generate")
    name = trained_run["name"]
    token = f"{name}-15"
    remove_files(trained_run["embeddings_dir"] / f"{token}.pt")
    with tab_in_webui(webui_url) as tab:
        root = tab.root
        tab.section("Compare")
        box = root.locator("#textinv-compare-name input")
        box.fill(name)
        box.press("Enter")
        root.locator("#textinv-compare-find").click()
        run = tab.wait_textarea("textinv-compare-run", "v.trim() !== ''", 60_000)
        assert Path(run) == trained_run["run_folder"], run
        root.locator("#textinv-compare-table").get_by_text(token).first.wait_for(timeout=60_000)
        pick = root.locator("#textinv-compare-promote-checkpoint input")
        pick.click()
        tab.page.locator("ul.options li", has_text=token).first.click()
        assert tab.wait_textarea("textinv-compare-promote-name", f"v === {token!r}", 30_000) == token
        root.locator("#textinv-compare-promote").click()
        text = tab.wait_textarea("textinv-compare-promote-text", "v.trim() !== ''", 60_000)
        assert token in text, text
        assert token in client.get("/sdapi/v1/embeddings").json()["loaded"]
        root.locator("#textinv-compare-send-txt2img").click()
        prompt = tab.page.locator("#txt2img_prompt textarea")
        prompt.wait_for(state="visible", timeout=30_000)  # the txt2img tab is shown
        assert prompt.input_value() == text
        assert not tab.our_errors(), tab.errors
