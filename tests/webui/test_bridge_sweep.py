"""The step-sweep half of the host bridge (register/unregister, generate, save, grids, upscalers)
against the contract double of the webui's modules (tests/webui_double)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from PIL import Image

from lib_textinv.compare.sweep_run import GenParams
from lib_textinv.kit.progress import Cancelled
from tests.embfiles import write_malicious_pt, write_pt

PARAMS = GenParams(
    negative_prompt="blurry",
    sampler="Euler a",
    scheduler="Karras",
    steps=12,
    cfg_scale=6.5,
    width=64,
    height=48,
)


@pytest.fixture
def processing(webui, monkeypatch):
    from modules import processing

    monkeypatch.setattr(processing, "runs", [])
    monkeypatch.setattr(processing, "SAMPLE_HOOKS", [])
    return processing


@pytest.fixture
def images_mod(webui, monkeypatch):
    from modules import images

    monkeypatch.setattr(images, "saved", [])
    return images


def checkpoint(tmp_path: Path, token: str, fill: float, n: int = 2, step: int | None = None) -> str:
    """A real step checkpoint in a training log folder (outside the embeddings folder)."""
    import torch

    path = tmp_path / "textual_inversion" / "2026-01-02" / "emb" / "embeddings" / f"{token}.pt"
    return str(write_pt(path, torch.full((n, 768), fill), step=step))


def user_embedding(webui, name: str, fill: float = 0.0) -> str:
    """An embedding the user has in the embeddings folder, loaded the way the webui loads it."""
    import torch

    path = write_pt(Path(webui.shared.cmd_opts.embeddings_dir) / f"{name}.pt", torch.full((1, 768), fill))
    webui.sd_hijack.model_hijack.embedding_db.load_textual_inversion_embeddings(force_reload=True)
    return str(path)


def found(webui, prompt: str):
    """The embeddings the loaded model's text encoder puts into ``prompt`` (what generation uses)."""
    _tokens, hits = webui.shared.sd_model.cond_stage_model.found(prompt)
    return [emb for _offset, emb, _n in hits]


def lookup_entries(db, token: str) -> list:
    return [e for entries in db.ids_lookup.values() for _ids, e in entries if e.name == token]


# -- registration ----------------------------------------------------------------------------


def test_register_checkpoint_makes_the_token_usable(host, webui, db, tmp_path, checksums):
    emb_dir = Path(webui.shared.cmd_opts.embeddings_dir)
    before = checksums(emb_dir)
    path = checkpoint(tmp_path, "emb-10", 0.5, n=3, step=9)
    host.register_checkpoint("emb-10", path)
    emb = db.word_embeddings["emb-10"]
    assert (emb.name, emb.filename, emb.vectors, emb.shape, emb.step) == ("emb-10", path, 3, 768, 9)
    assert float(emb.vec.mean()) == pytest.approx(0.5)
    assert host.is_registered("emb-10", path)
    assert not host.is_registered("emb-10", path + ".other")
    assert not host.is_registered("emb-20", path)
    assert found(webui, "a photo of emb-10, charcoal") == [emb]
    assert checksums(emb_dir) == before  # in memory only


def test_reload_drops_the_registration_and_registering_again_restores_it(host, webui, db, tmp_path):
    path = checkpoint(tmp_path, "emb-10", 0.5)
    host.register_checkpoint("emb-10", path)
    # the Extra Networks refresh button reloads the database without the queue lock
    db.load_textual_inversion_embeddings(force_reload=True)
    assert not host.is_registered("emb-10", path)
    assert found(webui, "a photo of emb-10") == []
    host.register_checkpoint("emb-10", path)
    assert host.is_registered("emb-10", path)
    assert [e.filename for e in found(webui, "a photo of emb-10")] == [path]


def test_registering_a_token_again_leaves_one_lookup_entry(host, webui, db, tmp_path):
    import torch

    first = checkpoint(tmp_path, "emb-10", 0.5)
    second = str(write_pt(tmp_path / "other" / "emb-10.pt", torch.full((2, 768), 0.25)))
    host.register_checkpoint("emb-10", first)
    db.load_textual_inversion_embeddings(force_reload=True)
    host.register_checkpoint("emb-10", second)
    host.register_checkpoint("emb-10", first)
    assert len(lookup_entries(db, "emb-10")) == 1
    assert [e.filename for e in found(webui, "emb-10")] == [first]


def test_registering_twice_then_unregistering_leaves_nothing_behind(host, webui, db, tmp_path):
    """A second registration of a token must not take the first one for the user's embedding."""
    path = checkpoint(tmp_path, "emb-10", 0.5)
    host.register_checkpoint("emb-10", path)
    host.register_checkpoint("emb-10", path)
    host.unregister("emb-10")
    assert "emb-10" not in db.word_embeddings
    assert found(webui, "a photo of emb-10") == []


def test_unregister_removes_a_token_nobody_else_had(host, webui, db, tmp_path):
    path = checkpoint(tmp_path, "emb-10", 0.5)
    host.register_checkpoint("emb-10", path)
    host.unregister("emb-10")
    assert "emb-10" not in db.word_embeddings
    assert lookup_entries(db, "emb-10") == []
    assert found(webui, "a photo of emb-10") == []
    assert not host.is_registered("emb-10", path)


def test_unregister_puts_back_the_users_embedding_of_that_name(host, webui, db, tmp_path):
    user_path = user_embedding(webui, "emb-10", fill=0.0)
    users = db.word_embeddings["emb-10"]
    path = checkpoint(tmp_path, "emb-10", 0.5)
    host.register_checkpoint("emb-10", path)
    assert found(webui, "a photo of emb-10")[0].filename == path  # the checkpoint shadows it
    host.unregister("emb-10")
    assert db.word_embeddings["emb-10"] is users
    assert [e.filename for e in found(webui, "a photo of emb-10")] == [user_path]
    assert len(lookup_entries(db, "emb-10")) == 1
    # a second sweep shadows and restores it again (no stale bookkeeping from the first)
    host.register_checkpoint("emb-10", path)
    host.unregister("emb-10")
    assert db.word_embeddings["emb-10"] is users


def test_shadowing_survives_a_reload_in_the_middle(host, webui, db, tmp_path):
    user_path = user_embedding(webui, "emb-10", fill=0.0)
    path = checkpoint(tmp_path, "emb-10", 0.5)
    host.register_checkpoint("emb-10", path)
    db.load_textual_inversion_embeddings(force_reload=True)  # brings the user's file back
    assert db.word_embeddings["emb-10"].filename == user_path
    assert not host.is_registered("emb-10", path)
    host.register_checkpoint("emb-10", path)  # what the sweep does before its next batch
    assert host.is_registered("emb-10", path)
    host.unregister("emb-10")
    assert db.word_embeddings["emb-10"].filename == user_path
    assert [e.filename for e in found(webui, "emb-10")] == [user_path]


def test_unsafe_checkpoint_is_refused_before_the_webui_sees_it(host, db, tmp_path):
    from lib_textinv.kit.embedding_file import EmbeddingFileError

    bad = write_malicious_pt(tmp_path / "emb-10.pt")
    with pytest.raises(EmbeddingFileError, match="unsafe pickle"):
        host.register_checkpoint("emb-10", str(bad))
    assert "emb-10" not in db.word_embeddings


# -- generate ----------------------------------------------------------------------------------


def test_generate_makes_one_image_per_prompt_and_seed(host, webui, processing, images_mod):
    prompts = ["a photo of cat", "a photo of dog", "art by charcoal"]
    made = host.generate(prompts, [11, 22, 33], PARAMS)
    assert len(made) == 3
    for (image, infotext), prompt, seed in zip(made, prompts, [11, 22, 33], strict=True):
        assert image.size == (64, 48)
        lines = infotext.splitlines()
        assert lines[0] == prompt and lines[1] == "Negative prompt: blurry"
        for part in (
            "Steps: 12",
            "Sampler: Euler a",
            "Schedule type: Karras",
            "CFG scale: 6.5",
            f"Seed: {seed}",
            "Size: 64x48",
        ):
            assert part in lines[2]
    assert len({im.getpixel((0, 0)) for im, _ in made}) == 3  # three different images
    (p,) = processing.runs
    assert (p.batch_size, p.n_iter) == (3, 1)
    assert p.do_not_save_samples and p.do_not_save_grid and p.do_not_reload_embeddings
    assert p.closed
    assert images_mod.saved == []  # the bridge saves cells itself
    assert not (webui.data / "outputs").exists()


def short_hash(path: str) -> str:
    """The webui's Embedding.shorthash: the first 12 hex digits of the file's sha256."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def ti_hashes_of(infotext: str) -> str | None:
    from lib_textinv.compare.ti_hashes import entries

    return ", ".join(entries(infotext)) or None


def test_the_webui_lists_the_whole_batchs_embeddings_in_every_infotext(host, webui, processing, tmp_path):
    """What the bridge corrects (sd_hijack_clip.py:230-243): one list for the batch, each prompt's
    entries put before those of the prompts encoded earlier."""
    a, b = checkpoint(tmp_path, "emb-10", 0.5), checkpoint(tmp_path, "emb-20", -0.5)
    host.register_checkpoint("emb-10", a)
    host.register_checkpoint("emb-20", b)
    p = processing.StableDiffusionProcessingTxt2Img(
        prompt=["a photo of emb-10", "a photo of emb-20"], seed=[5, 5], batch_size=2, width=64, height=48
    )
    p.do_not_save_samples = p.do_not_save_grid = p.do_not_reload_embeddings = True
    processed = processing.process_images(p)
    both = f"emb-20: {short_hash(b)}, emb-10: {short_hash(a)}"
    assert [ti_hashes_of(t) for t in processed.infotexts] == [both, both]


def test_generate_renders_the_registered_checkpoint_and_names_only_it(host, webui, processing, tmp_path):
    a = checkpoint(tmp_path, "emb-10", 0.5)
    b = checkpoint(tmp_path, "emb-20", -0.5)
    host.register_checkpoint("emb-10", a)
    host.register_checkpoint("emb-20", b)
    (im_a, info_a), (im_b, info_b) = host.generate(["a photo of emb-10", "a photo of emb-20"], [5, 5], PARAMS)
    assert ti_hashes_of(info_a) == f"emb-10: {short_hash(a)}"
    assert ti_hashes_of(info_b) == f"emb-20: {short_hash(b)}"
    assert info_a.replace(f"emb-10: {short_hash(a)}", "X").replace("emb-10", "Y") == info_b.replace(
        f"emb-20: {short_hash(b)}", "X"
    ).replace("emb-20", "Y")  # nothing else of the infotext changed
    assert im_a.getpixel((0, 0)) != im_b.getpixel((0, 0))


def test_each_cell_names_its_prompts_and_its_negative_prompts_embeddings(host, webui, processing, tmp_path):
    """A user's embedding used in one row's prompt and one in the negative prompt stay where the
    text encoder used them; cells without any embedding get no "TI hashes" at all."""
    style = user_embedding(webui, "mystyle", fill=0.25)
    neg = user_embedding(webui, "badhands", fill=-0.25)
    a = checkpoint(tmp_path, "emb-10", 0.5)
    host.register_checkpoint("emb-10", a)
    params = GenParams(negative_prompt="blurry, badhands", steps=4, width=32, height=32)
    made = host.generate(["a photo of emb-10, mystyle", "a photo of emb-10", "a cat"], [1, 2, 3], params)
    own = [ti_hashes_of(info) for _im, info in made]
    assert own == [
        f"emb-10: {short_hash(a)}, mystyle: {short_hash(style)}, badhands: {short_hash(neg)}",
        f"emb-10: {short_hash(a)}, badhands: {short_hash(neg)}",
        f"badhands: {short_hash(neg)}",
    ]
    made = host.generate(["a cat", "a dog"], [1, 2], GenParams(steps=4, width=32, height=32))
    assert [ti_hashes_of(info) for _im, info in made] == [None, None]
    assert all("TI hashes" not in info for _im, info in made)


def test_generate_does_not_reload_the_embeddings(host, webui, db, processing, tmp_path):
    import torch

    emb_dir = Path(webui.shared.cmd_opts.embeddings_dir)
    db.load_textual_inversion_embeddings()  # the start-up load: remembers the folder's mtime
    path = checkpoint(tmp_path, "emb-10", 0.5)
    host.register_checkpoint("emb-10", path)
    write_pt(emb_dir / "new-one.pt", torch.zeros(1, 768))
    later = os.path.getmtime(emb_dir) + 10
    os.utime(emb_dir, (later, later))  # the folder changed: a plain txt2img would reload now
    reloads = db.reloads
    host.generate(["a photo of emb-10"], [1], PARAMS)
    assert db.reloads == reloads and host.is_registered("emb-10", path)
    # the same call without the flag reloads and loses the registration (why the flag matters)
    p = processing.StableDiffusionProcessingTxt2Img(prompt=["a photo of emb-10"], seed=[1], batch_size=1)
    p.do_not_save_samples = p.do_not_save_grid = True
    processing.process_images(p)
    assert db.reloads == reloads + 1 and not host.is_registered("emb-10", path)


def test_generate_passes_scheduler_only_where_the_webui_has_it(host, processing, monkeypatch):
    legacy = processing.txt2img_class_before_1_9()
    with pytest.raises(TypeError, match="scheduler"):
        legacy(prompt="x", scheduler="Karras")  # webui 1.6-1.8 refuse the keyword
    monkeypatch.setattr(processing, "StableDiffusionProcessingTxt2Img", legacy)
    ((image, infotext),) = host.generate(["a photo of cat"], [3], PARAMS)
    assert image.size == (64, 48)
    assert "Schedule type" not in infotext and "Sampler: Euler a" in infotext
    assert not hasattr(processing.runs[0], "scheduler")


def test_the_double_refuses_unknown_keywords_like_the_real_dataclass(processing):
    with pytest.raises(TypeError, match="unexpected keyword"):
        processing.StableDiffusionProcessingTxt2Img(prompt="x", no_such_field=1)


def test_interrupt_during_sampling_cancels_the_batch(host, webui, processing):
    state = webui.shared.state
    processing.SAMPLE_HOOKS.append(lambda p: state.interrupt())  # the user presses Interrupt
    with pytest.raises(Cancelled):
        host.run_job("sweep", lambda progress: host.generate(["a", "b"], [1, 2], PARAMS))
    (p,) = processing.runs
    assert p.closed


def test_interrupt_before_the_batch_cancels_it(host, webui, processing):
    def work(progress):
        webui.shared.state.interrupt()
        return host.generate(["a", "b"], [1, 2], PARAMS)

    with pytest.raises(Cancelled):
        host.run_job("sweep", work)


def test_skip_during_sampling_does_not_return_half_sampled_cells(host, webui, processing):
    state = webui.shared.state
    processing.SAMPLE_HOOKS.append(lambda p: state.skip())  # a queued txt2img tab's Skip button
    with pytest.raises(Cancelled, match="skipped"):  # the half-sampled batch is not returned as cells
        host.run_job("sweep", lambda progress: host.generate(["a", "b"], [1, 2], PARAMS))


def test_stop_generating_cancels_the_next_batch(host, webui, processing):
    def work(progress):
        progress.begin(8)  # a sweep of 8 cells: job_count > 1
        host.generate(["a", "b"], [1, 2], PARAMS)
        webui.shared.state.stop_generating()  # the top row's Interrupt, first click
        return host.generate(["c", "d"], [3, 4], PARAMS)

    with pytest.raises(Cancelled):
        host.run_job("sweep", work)


def test_a_grid_made_by_process_images_is_not_returned_as_a_cell(host, webui, processing, monkeypatch):
    """If anything turns the grid on (e.g. an extension editing p), the grid comes first in
    ``processed.images``; the bridge returns the cells only."""
    real = processing.process_images
    webui.shared.opts.grid_save = False

    def with_grid(p):
        p.do_not_save_grid = False
        return real(p)

    monkeypatch.setattr(processing, "process_images", with_grid)
    made = host.generate(["a photo of cat", "a photo of dog"], [1, 2], PARAMS)
    assert [im.size for im, _ in made] == [(64, 48), (64, 48)]
    assert [info.splitlines()[0] for _, info in made] == ["a photo of cat", "a photo of dog"]


# -- saving and grids ----------------------------------------------------------------------------


def test_save_image_writes_the_sample_with_its_infotext(host, webui, images_mod):
    webui.shared.opts.samples_format = "png"
    image = Image.new("RGB", (32, 24), (10, 20, 30))
    first = Path(
        host.save_image(image, "a photo of emb-10", 42, "a photo of emb-10\nSteps: 12, Seed: 42")
    ).resolve()
    second = Path(host.save_image(image, "a photo of emb-10", 42, "second")).resolve()
    samples = webui.data / "outputs" / "txt2img-images"
    assert first.parent.parent == samples and first.parent == second.parent  # [date] sub-folder
    assert (first.name, second.name) == ("00000-42.png", "00001-42.png")
    with Image.open(first) as im:
        assert im.info["parameters"] == "a photo of emb-10\nSteps: 12, Seed: 42"
    assert [grid for _fn, grid in images_mod.saved] == [False, False]


def test_save_grid_goes_to_the_grids_folder_as_a_grid(host, webui, images_mod, tmp_path):
    opts = webui.shared.opts
    opts.outdir_grids = str(tmp_path / "grids")
    opts.save_to_dirs, opts.grid_save_to_dirs = False, True  # only grids get the [date] folder
    opts.samples_format, opts.grid_format = "jpg", "png"
    image = Image.new("RGB", (32, 24), (10, 20, 30))
    grid = Path(host.save_grid(image, "a photo", 7, "a photo\nSweep checkpoints: x"))
    sample = Path(host.save_image(image, "a photo", 7, "a photo")).resolve()
    assert grid.parent.parent == tmp_path / "grids" and grid.name.startswith("textinv-sweep-0000-7")
    assert grid.suffix == ".png" and sample.suffix == ".jpg"
    assert sample.parent == webui.data / "outputs" / "txt2img-images"  # flat: not a grid
    with Image.open(grid) as im:
        assert im.info["parameters"] == "a photo\nSweep checkpoints: x"
    assert [g for _fn, g in images_mod.saved] == [True, False]


def _cells(n: int, size=(40, 30)) -> list:
    return [Image.new("RGB", size, ((37 * i) % 256, (91 * i) % 256, 200)) for i in range(n)]


def test_draw_grid_puts_cells_row_major_under_their_labels(host):
    cells = _cells(6)
    grid = host.draw_grid(
        cells, 3, 2, ["100 steps", "200 steps", "300 steps"], ["cat · seed 1", "dog · seed 1"]
    )
    pad_left = 40 * 3 // 4
    assert grid.width == 3 * 40 + pad_left
    pad_top = grid.height - 2 * 30
    assert pad_top > 0
    for i, cell in enumerate(cells):
        col, row = i % 3, i // 3
        assert grid.getpixel((pad_left + col * 40 + 20, pad_top + row * 30 + 15)) == cell.getpixel((0, 0))


def test_draw_grid_without_label_text_has_no_margins(host):
    cells = _cells(4)
    assert host.draw_grid(cells, 2, 2, ["", ""], ["", ""]).size == (80, 60)
    assert host.draw_grid(cells, 2, 2, ["a", "b"], ["", ""]).width == 80
    assert host.draw_grid(cells, 4, 1, ["a", "b", "c", "d"], ["row"]).width == 160 + 30


# -- upscalers -----------------------------------------------------------------------------------


def test_list_upscalers_leaves_out_none(host, webui):
    assert webui.shared.sd_upscalers[0].name == "None"
    assert host.list_upscalers() == ["Lanczos", "Nearest", "R-ESRGAN 4x+"]


def test_upscale_just_resizes_with_the_named_upscaler(host, webui, monkeypatch):
    from modules import images

    calls = []
    real = images.resize_image

    def spy(resize_mode, im, width, height, upscaler_name=None):
        calls.append((resize_mode, im.size, width, height, upscaler_name))
        return real(resize_mode, im, width, height, upscaler_name=upscaler_name)

    monkeypatch.setattr(images, "resize_image", spy)
    esrgan = next(u for u in webui.shared.sd_upscalers if u.name == "R-ESRGAN 4x+")
    esrgan.scaler.calls.clear()
    out = host.upscale(Image.new("RGB", (40, 30), (1, 2, 3)), 160, 120, "R-ESRGAN 4x+")
    assert out.size == (160, 120)
    assert calls == [(0, (40, 30), 160, 120, "R-ESRGAN 4x+")]
    assert esrgan.scaler.calls == [((40, 30), esrgan.data_path)]
    # smaller than the source: a plain resize, the model is not run
    assert host.upscale(Image.new("RGB", (40, 30)), 20, 15, "R-ESRGAN 4x+").size == (20, 15)
    assert len(esrgan.scaler.calls) == 1


# -- the whole sweep through the bridge ----------------------------------------------------------


def test_run_sweep_through_the_bridge(host, webui, db, processing, images_mod, tmp_path):
    from lib_textinv.compare.sweep_plan import PlanCheckpoint, plan_sweep
    from lib_textinv.compare.sweep_run import run_sweep

    user_path = user_embedding(webui, "emb-20", fill=0.0)
    users = db.word_embeddings["emb-20"]
    cps = [
        PlanCheckpoint(token="emb-10", label="10 steps", path=checkpoint(tmp_path, "emb-10", 0.5), step=10),
        PlanCheckpoint(token="emb-20", label="20 steps", path=checkpoint(tmp_path, "emb-20", -0.5), step=20),
    ]
    plan = plan_sweep(cps, ["a photo of {}"], [1, 2], batch_size=3)
    # the Extra Networks refresh button pressed while the first batch samples
    processing.SAMPLE_HOOKS.append(
        lambda p: (
            db.load_textual_inversion_embeddings(force_reload=True) if len(processing.runs) == 1 else None
        )
    )
    result = host.run_job("sweep", lambda progress: run_sweep(plan, host, PARAMS, progress))
    assert (result.done, result.total, result.interrupted) == (4, 4, False)
    assert any("re-registered emb-10, emb-20" in w for w in result.warnings)
    assert [len(p.all_prompts) for p in processing.runs] == [3, 1]
    last = result.cells[-1]
    sha = hashlib.sha256(Path(cps[1].path).read_bytes()).hexdigest()[:12]
    assert f'TI hashes: "emb-20: {sha}"' in last.infotext  # the checkpoint again, not the user's
    assert all(Path(c.path).is_file() for c in result.cells)
    assert Path(result.grid_path).is_file() and [g for _f, g in images_mod.saved].count(True) == 1
    assert result.grid.width == 2 * 64 + 64 * 3 // 4
    assert "emb-10" not in db.word_embeddings
    assert db.word_embeddings["emb-20"] is users and found(webui, "emb-20") == [users]
    assert users.filename == user_path


def test_saved_cells_name_their_own_checkpoint_and_the_grid_all(host, webui, processing, tmp_path):
    """PNG Info of a saved cell (what "Send to txt2img" and uploads read) names only its own
    checkpoint; the grid's names every checkpoint of the sweep."""
    from lib_textinv.compare.sweep_plan import PlanCheckpoint, plan_sweep
    from lib_textinv.compare.sweep_run import run_sweep

    cps = [
        PlanCheckpoint(
            token=f"emb-{s}", label=f"{s} steps", path=checkpoint(tmp_path, f"emb-{s}", s / 100), step=s
        )
        for s in (10, 20, 30)
    ]
    plan = plan_sweep(cps, ["a photo of {}", "a painting, {}"], [7], batch_size=4)
    result = host.run_job("sweep", lambda progress: run_sweep(plan, host, PARAMS, progress))
    assert result.done == 6 and [len(p.all_prompts) for p in processing.runs] == [4, 2]
    hashes = {cp.token: f"{cp.token}: {short_hash(cp.path)}" for cp in cps}
    for cell in result.cells:
        with Image.open(cell.path) as im:
            assert ti_hashes_of(im.info["parameters"]) == hashes[cell.cell.token], cell.path
    with Image.open(result.grid_path) as grid:
        listed = ti_hashes_of(grid.info["parameters"]).split(", ")
    assert sorted(listed) == sorted(hashes.values())


# -- SDXL checkpoints (docs/webui-contract.md §25 SDXL embeddings) -------------------------------


def sdxl_checkpoint(tmp_path: Path, token: str, seed: int, step: int | None = None) -> str:
    from tests.sdxl_files import sdxl_vectors, write_sdxl

    path = tmp_path / "textual_inversion" / "2026-01-02" / "emb" / "embeddings" / f"{token}.safetensors"
    return str(write_sdxl(path, sdxl_vectors(2, seed, scale=0.5), step=step))


@pytest.fixture
def sdxl(webui, db):
    webui.sd_models.model_data.sd_model = webui.sd_models.make_model("SDXL")
    db.load_textual_inversion_embeddings(force_reload=True)  # expected shape 2048


def test_register_an_sdxl_checkpoint_with_both_parts(host, webui, db, sdxl, tmp_path, checksums):
    emb_dir = Path(webui.shared.cmd_opts.embeddings_dir)
    before = checksums(emb_dir)
    path = sdxl_checkpoint(tmp_path, "emb-10", 1, step=9)

    host.register_checkpoint("emb-10", path)

    emb = db.word_embeddings["emb-10"]
    assert sorted(emb.vec) == ["clip_g", "clip_l"]
    assert (emb.shape, emb.vectors, emb.step, emb.name, emb.filename) == (2048, 2, 9, "emb-10", path)
    assert emb.shorthash == short_hash(path)
    assert found(webui, "a photo of emb-10") == [emb]
    assert host.is_registered("emb-10", path)
    host.unregister("emb-10")
    assert "emb-10" not in db.word_embeddings and checksums(emb_dir) == before


def test_sdxl_sweep_cells_each_name_their_own_checkpoint_once(host, webui, processing, sdxl, tmp_path):
    """The webui lists an SDXL embedding once per text encoder (both add it); a cell names its own
    checkpoint once."""
    a, b = sdxl_checkpoint(tmp_path, "emb-10", 1), sdxl_checkpoint(tmp_path, "emb-20", 2)
    host.register_checkpoint("emb-10", a)
    host.register_checkpoint("emb-20", b)

    (im_a, info_a), (im_b, info_b) = host.generate(["a photo of emb-10", "a photo of emb-20"], [5, 5], PARAMS)

    assert ti_hashes_of(info_a) == f"emb-10: {short_hash(a)}"
    assert ti_hashes_of(info_b) == f"emb-20: {short_hash(b)}"
    assert im_a.tobytes() != im_b.tobytes()  # each cell rendered with its own vectors
