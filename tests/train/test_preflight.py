"""Pre-flight checks over real folders (good and bad), and the "crop them" fix."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from PIL import Image

from lib_textinv.kit.host import ModelFacts
from lib_textinv.kit.progress import Cancelled, RecordingProgress
from lib_textinv.train.params import TrainArgs
from lib_textinv.train.preflight import crop_copy_to_size, estimate_bytes, run_preflight
from lib_textinv.train.run_files import ensure_run_folder
from tests.embfiles import write_pt
from tests.photos import write_photos
from tests.train.fake_webui import FIXED_NOW, _vec, make_setup


def keys(rep, level):
    return {c.key for c in rep.checks if c.level == level}


def test_good_setup_passes(tmp_path):
    host, args = make_setup(tmp_path)
    args.loss_csv_every = 1
    rep = run_preflight(host, args, now=FIXED_NOW)
    assert rep.ok, rep.to_markdown()
    assert rep.final_step == 20 and rep.initial_step == 0
    assert rep.run_folder == str(tmp_path / "logs" / "2026-11-25" / "tiny")
    assert {"size", "captions", "model", "learn_rate", "disk", "folder"} <= keys(rep, "ok")
    md = rep.to_markdown()
    assert md.startswith("**Pre-flight passed")


def test_wrong_sized_and_unreadable_images_are_listed(tmp_path):
    host, args = make_setup(tmp_path)
    data = Path(args.data_root)
    write_photos(data, ("rocket",), fmt="JPEG", size=(80, 64))
    (data / "rocket.txt").write_text("a rocket", encoding="utf-8")
    (data / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    (data / "broken.txt").write_text("x", encoding="utf-8")
    rep = run_preflight(host, args, now=FIXED_NOW)
    assert not rep.ok
    size = next(c for c in rep.checks if c.key == "size")
    assert size.level == "error" and size.action == "crop"
    assert [Path(f).name for f in size.files] == ["rocket.jpg"] and "80×64" in size.title
    assert [Path(f).name for f in rep.offenders("unreadable")] == ["broken.png"]
    assert "crop them" in rep.to_markdown()


def test_unreadable_images_get_the_dataset_reports_reasons(tmp_path):
    """The same plain words as the Dataset report (``dataset.reasons``), never a raw Python error."""
    host, args = make_setup(tmp_path)
    data = Path(args.data_root)
    (data / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    (data / "page.png").write_text("<!DOCTYPE html><html>a saved web page</html>", encoding="utf-8")
    for stem in ("broken", "page"):
        (data / f"{stem}.txt").write_text("x", encoding="utf-8")
    title = next(c.title for c in run_preflight(host, args, now=FIXED_NOW).checks if c.key == "unreadable")
    assert title.startswith("2 image(s) cannot be read (")
    assert "broken.png: truncated: the file ends before the image data does" in title
    assert "page.png: not an image: the content looks like an HTML page" in title
    assert "Error" not in title  # no exception class names


def test_exif_rotation_counts_for_the_size(tmp_path):
    host, args = make_setup(tmp_path)
    data = Path(args.data_root)
    im = Image.new("RGB", (64, 48), "red")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90°: the webui's images.read sees 48×64
    im.save(data / "rot.jpg", exif=exif)
    (data / "rot.txt").write_text("rotated", encoding="utf-8")
    args.training_width, args.training_height = 48, 64
    rep = run_preflight(host, args, now=FIXED_NOW)
    size = next(c for c in rep.checks if c.key == "size")
    offenders = {Path(f).name for f in size.files}
    assert "rot.jpg" not in offenders  # stored 64×48, seen 48×64 after EXIF rotation: fits
    assert offenders == {"astronaut.png", "chelsea.png", "coffee.png"}  # 64×64 do not fit 48×64


def test_missing_captions_with_filewords(tmp_path):
    host, args = make_setup(tmp_path)
    (Path(args.data_root) / "chelsea.txt").unlink()
    (Path(args.data_root) / "coffee.txt").write_text("   ", encoding="utf-8")
    rep = run_preflight(host, args, now=FIXED_NOW)
    assert [Path(f).name for f in rep.offenders("captions")] == ["chelsea.png"]
    assert [Path(f).name for f in rep.offenders("captions-empty")] == ["coffee.png"]
    args.template_filename = "style.txt"  # no [filewords]: captions not needed
    rep2 = run_preflight(host, args, now=FIXED_NOW)
    assert "captions" not in keys(rep2, "error")


@pytest.mark.parametrize(
    "facts,needle",
    [
        (
            ModelFacts(
                loaded=True,
                family="SDXL",
                name="sdxl-base",
                embedding_width=2048,
                trainable=False,
                reason="SDXL",
            ),
            "only train embeddings for SD1 and SD2",
        ),
        (
            ModelFacts(loaded=True, family="SD3", name="sd3", trainable=False, reason="SD3 is not supported"),
            "SD3 is not supported",
        ),
        (ModelFacts(), "no model is loaded"),
    ],
)
def test_untrainable_models(tmp_path, facts, needle):
    host, args = make_setup(tmp_path)
    host.facts = facts
    rep = run_preflight(host, args, now=FIXED_NOW)
    assert "model" in keys(rep, "error")
    assert needle in next(c.title for c in rep.checks if c.key == "model")


def test_embedding_width_lowvram_and_missing_embedding(tmp_path):
    host, args = make_setup(tmp_path)
    host.facts = ModelFacts(loaded=True, family="SD2", name="sd2", embedding_width=1024, trainable=True)
    host.lowvram = True
    rep = run_preflight(host, args, now=FIXED_NOW)
    assert {"width", "lowvram"} <= keys(rep, "error")
    args.embedding_name = "nope"
    assert "embedding" in keys(run_preflight(host, args, now=FIXED_NOW), "error")


def test_embedding_already_trained_beyond_max_steps(tmp_path):
    host, args = make_setup(tmp_path, steps_in_file=25)
    rep = run_preflight(host, args, now=FIXED_NOW)
    assert "steps" in keys(rep, "error")
    args.steps = 40
    rep = run_preflight(host, args, now=FIXED_NOW)
    assert rep.ok and rep.initial_step == 25 and "resume" in keys(rep, "ok")


def test_bad_schedule_and_numbers(tmp_path):
    host, args = make_setup(tmp_path)
    args.learn_rate = "0.005:abc"
    args.training_width = 60
    args.tag_drop_out = 1.5
    args.clip_grad_mode, args.clip_grad_value = "norm", "x"
    rep = run_preflight(host, args, now=FIXED_NOW)
    assert {"learn_rate", "numbers", "clip"} <= keys(rep, "error")


def test_schedule_ending_early_sets_final_step(tmp_path):
    host, args = make_setup(tmp_path)
    args.learn_rate = "0.005:10"
    rep = run_preflight(host, args, now=FIXED_NOW)
    assert rep.ok and rep.final_step == 10 and "stops at step 10" in rep.schedule_text


def test_checkpoint_collision_in_todays_run_folder(tmp_path):
    host, args = make_setup(tmp_path)
    run = tmp_path / "logs" / "2026-11-25" / "tiny" / "embeddings"
    write_pt(run / "tiny-10.pt", _vec(), name="tiny-10", step=9)
    write_pt(run / "tiny-7.pt", _vec(), name="tiny-7", step=6)  # not a step this run writes
    rep = run_preflight(host, args, now=FIXED_NOW)
    assert [Path(f).name for f in rep.offenders("collision")] == ["tiny-10.pt"]
    # another day: no collision
    rep2 = run_preflight(host, args, now=dt.datetime(2026, 11, 26, 9))
    assert "collision" not in keys(rep2, "error")


def test_csv_period_warning(tmp_path):
    host, args = make_setup(tmp_path)
    rep = run_preflight(host, args, now=FIXED_NOW)  # webui default 500 for a 20-step run
    assert "csv-period" in keys(rep, "warning")
    args.loss_csv_every = 2
    assert "csv-period" in keys(run_preflight(host, args, now=FIXED_NOW), "ok")


def test_disk_estimate_and_refusal(tmp_path, monkeypatch):
    args = TrainArgs(
        embedding_name="e",
        data_root="/d",
        log_directory="/l",
        steps=1500,
        training_width=512,
        training_height=512,
        save_embedding_every=100,
        create_image_every=100,
    )
    small = estimate_bytes(args, 1, 768, 0, 1500, save_optimizer=False)
    big = estimate_bytes(args, 1, 768, 0, 1500, save_optimizer=True)
    assert 15 * 768 * 4 < small < big
    assert small > 15 * 512 * 512 * 3  # previews dominate
    host, a = make_setup(tmp_path)
    import shutil

    real = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage", lambda p: real(p)._replace(free=1024))
    rep = run_preflight(host, a, now=FIXED_NOW)
    assert "disk" in keys(rep, "error")


def test_missing_dataset_and_template(tmp_path):
    host, args = make_setup(tmp_path)
    args.data_root = str(tmp_path / "nowhere")
    args.template_filename = "nope.txt"
    rep = run_preflight(host, args, now=FIXED_NOW)
    assert {"dataset", "template"} <= keys(rep, "error")
    empty = tmp_path / "empty"
    empty.mkdir()
    args.data_root = str(empty)
    assert "dataset" in keys(run_preflight(host, args, now=FIXED_NOW), "error")


def test_ensure_run_folder(tmp_path):
    f = ensure_run_folder(tmp_path / "logs", "tiny", FIXED_NOW)
    assert f == tmp_path / "logs" / "2026-11-25" / "tiny" and f.is_dir()
    assert ensure_run_folder(tmp_path / "logs", "tiny", FIXED_NOW) == f  # idempotent


def test_crop_copy_to_size_never_touches_sources(tmp_path, checksums):
    src = tmp_path / "src"
    write_photos(src, ("astronaut", "rocket"), fmt="JPEG")  # 512×512 and 640×427
    (src / "rocket.txt").write_text("a rocket", encoding="utf-8")
    before = checksums(src)
    dst, problems = crop_copy_to_size(src, 256, 256, RecordingProgress())
    assert problems == [] and dst == tmp_path / "src-256x256"
    assert checksums(src) == before
    for name in ("astronaut.jpg", "rocket.jpg"):
        with Image.open(dst / name) as im:
            assert im.size == (256, 256)
    assert (dst / "rocket.txt").read_text(encoding="utf-8") == "a rocket"
    # a second run picks a new folder instead of overwriting
    dst2, _ = crop_copy_to_size(src, 256, 256)
    assert dst2 != dst
    with pytest.raises(ValueError):
        crop_copy_to_size(src, 256, 256, dest=src)


def test_crop_copy_is_cancellable(tmp_path):
    src = tmp_path / "src"
    write_photos(src, ("astronaut", "rocket", "coffee"), fmt="PNG", size=(80, 64))
    with pytest.raises(Cancelled):
        crop_copy_to_size(src, 64, 64, RecordingProgress(cancel_after=1))


@pytest.mark.parametrize(
    ("field", "value", "key"),
    [
        ("data_root", "x" * 300, "dataset"),
        ("log_directory", "\x00/logs", "log"),
        ("log_directory", "y" * 300, "log"),
    ],
)
def test_paths_that_are_no_paths_are_errors_not_crashes(tmp_path, field, value, key):
    """A NUL byte or a name longer than the file system allows, typed into the form."""
    host, args = make_setup(tmp_path)
    setattr(args, field, value)
    rep = run_preflight(host, args, now=FIXED_NOW)
    assert key in keys(rep, "error"), rep.to_markdown()
