"""Norms and nearest tokens on real .pt files against a token table built here."""

from __future__ import annotations

import pytest
import torch

from lib_textinv.kit.progress import Cancelled, RecordingProgress
from lib_textinv.scores.drift import PreparedTable, drift_for_checkpoints, nearest_tokens, vector_norms
from tests.embfiles import write_malicious_pt, write_pt, write_safetensors, write_training_run

WIDTH = 32


class MatrixTable:
    """A vocabulary of V random rows, tokens ``w<i></w>``; stored in fp16 like a half-precision model."""

    def __init__(self, vocab: int = 60, seed: int = 0, dtype=torch.float16):
        g = torch.Generator().manual_seed(seed)
        self._m = (torch.randn(vocab, WIDTH, generator=g) * 0.4).to(dtype)
        self._m[vocab - 1] = 0  # an unused row: not an "ordinary token"

    def matrix(self):
        return self._m

    def id_to_token(self, ids):
        return [f"w{i}</w>" for i in ids]


def test_ordinary_norm_ignores_zero_rows():
    t = MatrixTable()
    p = PreparedTable(t)
    rows = t.matrix()[:-1].float().norm(dim=1)
    assert p.ordinary_norm == pytest.approx(float(rows.mean()), rel=1e-5)


def test_nearest_tokens_find_the_rows_the_vectors_were_made_from(tmp_path):
    t = MatrixTable()
    m = t.matrix().float()
    vec = torch.stack([m[7] * 5.0, m[3] * 0.5 + m[11] * 0.05])
    path = write_pt(tmp_path / "cat-100.pt", vec, step=99)
    res = drift_for_checkpoints([(100, path)], t, k=3)
    (row,) = res.rows
    assert row.step == 100 and row.checkpoint == "cat-100.pt"
    assert row.nearest[0][0].token == "w7</w>"
    assert row.nearest[0][0].similarity == pytest.approx(1.0, abs=1e-3)
    assert row.nearest[1][0].token_id == 3
    assert len(row.nearest[1]) == 3
    assert row.nearest_text(2).startswith("v0: w7</w>, ")
    expected = [float(m[7].norm() * 5), float((m[3] * 0.5 + m[11] * 0.05).norm())]
    assert row.vector_norms == pytest.approx(expected, rel=1e-4)
    assert row.mean_norm == pytest.approx(sum(expected) / 2, rel=1e-4)
    assert row.norm_ratio == pytest.approx(row.mean_norm / res.ordinary_norm)


def test_norm_rises_with_step_on_a_training_run(tmp_path):
    run = write_training_run(tmp_path / "log", "cat", steps=(5, 10, 15, 20), n_vectors=2, width=WIDTH)
    files = sorted((run / "embeddings").glob("*.pt"))

    class Ckpt:  # like checkpoints.Checkpoint: .step and .path
        def __init__(self, p):
            self.path, self.step = p, int(p.stem.split("-")[1])

    progress = RecordingProgress()
    res = drift_for_checkpoints([Ckpt(f) for f in files], MatrixTable(), progress=progress)
    assert [r.step for r in res.rows] == [5, 10, 15, 20]  # sorted by step, not by name
    norms = [r.mean_norm for r in res.rows]
    assert norms == sorted(norms)  # a random walk of growing length, here monotone for this seed
    assert progress.done == 4


def test_bad_files_are_reported_and_the_rest_continue(tmp_path):
    good = write_pt(tmp_path / "cat-10.pt", torch.ones(1, WIDTH), step=9)
    evil = write_malicious_pt(tmp_path / "cat-20.pt")
    wide = write_pt(tmp_path / "cat-30.pt", torch.ones(1, 768), step=29)
    st = write_safetensors(tmp_path / "cat-40.safetensors", torch.ones(2, WIDTH))
    res = drift_for_checkpoints([(10, good), (20, evil), (30, wide), (40, st)], MatrixTable())
    assert [r.step for r in res.rows] == [10, 40]
    assert any("cat-20.pt" in p and "unsafe" in p for p in res.problems)
    assert any("cat-30.pt" in p and "768" in p for p in res.problems)


def test_wrong_width_vectors_and_cancel(tmp_path):
    p = PreparedTable(MatrixTable())
    with pytest.raises(ValueError, match="wide"):
        nearest_tokens(torch.ones(1, 5), p)
    assert vector_norms(torch.tensor([[3.0, 4.0]])) == [5.0]
    run = write_training_run(tmp_path / "log", "cat", steps=(5, 10, 15), width=WIDTH)
    files = [(i, f) for i, f in enumerate(sorted((run / "embeddings").glob("*.pt")))]
    with pytest.raises(Cancelled):
        drift_for_checkpoints(files, MatrixTable(), progress=RecordingProgress(cancel_after=1))
