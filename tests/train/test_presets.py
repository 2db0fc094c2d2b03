"""Presets from real dataset folders, each with its reason."""

from __future__ import annotations

import pytest

from lib_textinv.train.presets import scan_dataset, suggest_presets
from tests.photos import ALL, write_photos

NAMES = ALL[:14]  # the same real photos, in the same order


def folder(tmp_path, n, size=(64, 64), captions=True):
    names = [f"{NAMES[i % len(NAMES)]}" for i in range(n)]
    d = tmp_path / f"d{n}"
    paths = write_photos(d, tuple(dict.fromkeys(names)), fmt="PNG", size=size)
    # more images than distinct photos: copies under new names
    for i in range(len(paths), n):
        (d / f"copy{i}.png").write_bytes(paths[i % len(paths)].read_bytes())
    if captions:
        for p in d.glob("*.png"):
            p.with_suffix(".txt").write_text("a photo", encoding="utf-8")
    return d


def test_25_images_gives_1500_steps_and_every_100(tmp_path):
    p = suggest_presets(scan_dataset(folder(tmp_path, 25)))
    v = p.values
    assert v["steps"] == 1500
    assert v["save_embedding_every"] == v["create_image_every"] == 100
    assert v["training_width"] == v["training_height"] == 64
    assert v["shuffle_tags"] is True and v["tag_drop_out"] == 0.1
    assert v["latent_sampling_method"] == "deterministic" and v["learn_rate"] == "0.005"
    assert v["template_filename"] == "style_filewords.txt"
    assert "25 images × 60" in p.reasons["steps"] and "all 25 images are 64×64" in p.reasons["training_width"]
    assert "100 instead of 50" in p.reasons["save_embedding_every"]
    assert "**steps** = 1500" in p.explain()


@pytest.mark.parametrize("n,steps,every", [(1, 300, 50), (8, 500, 50), (12, 700, 50), (40, 1500, 100)])
def test_fewer_images_fewer_steps(tmp_path, n, steps, every):
    v = suggest_presets(scan_dataset(folder(tmp_path, n))).values
    assert v["steps"] == steps and v["save_embedding_every"] == every


def test_batch_and_accumulation_reduce_steps(tmp_path):
    p = suggest_presets(scan_dataset(folder(tmp_path, 20)), batch_size=2, gradient_step=2)
    assert p.values["steps"] == 300 and "÷ 4 images per step" in p.reasons["steps"]


def test_subject_preset_and_no_captions(tmp_path):
    d = folder(tmp_path, 3)
    assert suggest_presets(scan_dataset(d), "subject").values["template_filename"] == "subject_filewords.txt"
    bare = folder(tmp_path, 4, captions=False)
    p = suggest_presets(scan_dataset(bare), "subject")
    assert (
        p.values["template_filename"] == "subject.txt"
        and "no image has a caption" in p.reasons["template_filename"]
    )
    with pytest.raises(ValueError):
        suggest_presets(scan_dataset(d), "portrait")


def test_mixed_sizes_picks_the_common_one(tmp_path):
    d = folder(tmp_path, 3, size=(64, 96))
    write_photos(d, ("moon",), fmt="PNG", size=(128, 128))
    p = suggest_presets(scan_dataset(d))
    assert (p.values["training_width"], p.values["training_height"]) == (64, 96)
    assert "3 of 4 images" in p.reasons["training_width"]


def test_empty_folder(tmp_path):
    (tmp_path / "e").mkdir()
    p = suggest_presets(scan_dataset(tmp_path / "e"))
    assert p.values["training_width"] == 512 and "no readable image" in p.reasons["training_width"]
