"""CLIP-I / CLIP-T: the math on hand-made arrays, and end to end with a tiny random open_clip."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL.PngImagePlugin import PngInfo

from lib_textinv.kit.progress import Cancelled, RecordingProgress
from lib_textinv.scores.clip_scores import (
    Cell,
    CellScore,
    aggregate,
    clip_i_scores,
    clip_t_scores,
    cosine_matrix,
    normalize_rows,
    score_cells,
)
from tests.photos import photo, write_photos
from tests.tinyclip import tiny_clip


def test_cosine_matrix_by_hand():
    a = [[1, 0], [0, 2], [1, 1]]
    b = [[3, 0], [1, 1]]
    m = cosine_matrix(a, b)
    s = 1 / math.sqrt(2)
    np.testing.assert_allclose(m, [[1, s], [0, s], [s, 1]], atol=1e-12)


def test_zero_rows_do_not_become_nan():
    assert np.all(normalize_rows([[0, 0, 0]]) == 0)
    assert cosine_matrix([[0, 0]], [[1, 0]])[0, 0] == 0


def test_width_mismatch():
    with pytest.raises(ValueError, match="widths differ"):
        cosine_matrix([[1, 0]], [[1, 0, 0]])


def test_clip_i_is_the_mean_over_training_images():
    imgs = [[1, 0], [0, 1]]
    refs = [[1, 0], [1, 1]]
    s = 1 / math.sqrt(2)
    np.testing.assert_allclose(clip_i_scores(imgs, refs), [(1 + s) / 2, (0 + s) / 2])
    with pytest.raises(ValueError, match="no training"):
        clip_i_scores(imgs, np.zeros((0, 2)))


def test_clip_t_is_row_wise():
    np.testing.assert_allclose(clip_t_scores([[1, 0], [0, 3]], [[2, 0], [1, 0]]), [1, 0])
    with pytest.raises(ValueError, match="one text per image"):
        clip_t_scores([[1, 0]], [[1, 0], [0, 1]])


def test_aggregate_per_checkpoint_ignores_nan():
    cells = [
        CellScore(200, "c-200", "p", "p", 1, "", 0.5, 0.2),
        CellScore(100, "c-100", "p", "p", 1, "", 0.1, 0.3),
        CellScore(200, "c-200", "q", "q", 1, "", 0.7, math.nan),
    ]
    rows = aggregate(cells)
    assert [r.step for r in rows] == [100, 200]
    assert rows[1].clip_i == pytest.approx(0.6)
    assert rows[1].clip_t == pytest.approx(0.2)
    assert rows[1].n == 2


@pytest.fixture(scope="module")
def clip():
    return tiny_clip(seed=0)


def _save_cell(path, image, prompt, seed):
    info = PngInfo()
    info.add_text("parameters", f"{prompt}\nSteps: 4, Sampler: Euler, Seed: {seed}, Size: 64x64")
    image.save(path, "PNG", pnginfo=info)


def test_end_to_end_with_tiny_open_clip(tmp_path, clip):
    train = write_photos(tmp_path / "train", names=("astronaut", "chelsea"), size=(64, 64))
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    # step 10 "generated" the training images themselves, step 20 unrelated pictures
    cells = []
    for i, (step, name) in enumerate([(10, "astronaut"), (10, "chelsea"), (20, "brick"), (20, "grass")]):
        prompt = f"a photo of (cat-{step}:1.1), red"
        _save_cell(sweep / f"{i:05d}.png", photo(name).resize((64, 64)), prompt, 5 + i)
        cells.append(Cell(step, prompt, str(sweep / f"{i:05d}.png"), 5 + i, f"cat-{step}"))

    progress = RecordingProgress()
    res = score_cells(clip, cells, train, "cat", progress=progress, batch_size=3)
    assert len(res.cells) == 4 and res.n_training_images == 2
    assert progress.done == progress.total == 6
    assert {c.text for c in res.cells} == {"a photo of, red"}
    assert [(c.step, c.seed, c.image, c.checkpoint) for c in res.cells] == [
        (c.step, c.seed, c.image, c.checkpoint) for c in cells
    ]

    # recompute by hand from the embedder
    from lib_textinv.kit.images import load_rgb

    ref = clip.embed_images([load_rgb(p) for p in train])

    img = clip.embed_images([load_rgb(c.image) for c in cells])
    txt = clip.embed_texts(["a photo of, red"])
    for k, cs in enumerate(res.cells):
        assert cs.clip_t == pytest.approx(float(img[k] @ txt[0]), abs=1e-5)
        assert cs.clip_i == pytest.approx(float((ref @ img[k]).mean()), abs=1e-5)
    # the training images themselves are closer to the training set than unrelated pictures
    by_step = {r.step: r for r in res.checkpoints}
    assert by_step[10].clip_i > by_step[20].clip_i
    assert by_step[10].n == 2
    # scoring is deterministic
    again = score_cells(clip, cells, train, "cat")
    assert [c.clip_i for c in again.cells] == pytest.approx([c.clip_i for c in res.cells], abs=1e-6)


def test_bad_cell_is_skipped_and_named(tmp_path, clip):
    train = write_photos(tmp_path / "train", names=("coffee",), size=(64, 64))
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    good = Cell(5, "cat-5", photo("rocket").resize((64, 64)), checkpoint="cat-5")
    res = score_cells(clip, [Cell(5, "cat-5", str(bad)), good], train, "cat")
    assert len(res.cells) == 1
    assert any("broken.png" in p for p in res.problems)
    # a prompt that was only the trigger has no text to compare with
    assert math.isnan(res.cells[0].clip_t)
    assert not math.isnan(res.cells[0].clip_i)


def test_no_training_images(tmp_path, clip):
    with pytest.raises(ValueError, match="training images"):
        score_cells(clip, [], [str(tmp_path / "missing.jpg")], "cat")


def test_cancel(tmp_path, clip):
    train = write_photos(tmp_path / "train", names=("coffee", "rocket"), size=(64, 64))
    cells = [Cell(5, "x cat-5", photo("coins").resize((64, 64)))] * 4
    with pytest.raises(Cancelled):
        score_cells(clip, cells, train, "cat", progress=RecordingProgress(cancel_after=1), batch_size=1)
