"""Checkpoint discovery on a real webui-layout log folder (real .pt / .safetensors files)."""

from __future__ import annotations

import os

import torch

from lib_textinv.compare.checkpoints import find_runs, names_with_runs, run_from_folder
from tests.embfiles import write_malicious_pt, write_pt, write_safetensors, write_training_run


def _log(tmp_path):
    log = tmp_path / "textual_inversion"
    old = write_training_run(log, "charcoalstyle", steps=(5, 10), date="2026-11-20", seed=1)
    new = write_training_run(log, "charcoalstyle", steps=(5, 10, 15, 20), date="2026-11-25", seed=2)
    emb = new / "embeddings"
    write_safetensors(emb / "charcoalstyle-25.safetensors", torch.randn(2, 768))
    write_malicious_pt(emb / "charcoalstyle-30.pt")
    write_pt(emb / "charcoalstyle-35.pt", torch.randn(2, 1024), name="charcoalstyle-35", step=34)
    (emb / "charcoalstyle-20.pt.optim").write_bytes(b"not an embedding")
    (emb / "notes.txt").write_text("ignored")
    write_training_run(log, "otherstyle", steps=(5,), date="2026-11-25")
    (log / "not-a-date" / "charcoalstyle" / "embeddings").mkdir(parents=True)
    return log, old, new


def test_runs_newest_first_with_file_name_steps(tmp_path):
    log, old, new = _log(tmp_path)
    runs = find_runs(log, "charcoalstyle", expected_width=768)
    assert [r.folder for r in runs] == [new, old]
    run = runs[0]
    steps = [c.step for c in run.checkpoints]
    assert steps == [5, 10, 15, 20, 25, 30, 35]
    by = {c.step: c for c in run.checkpoints}
    # The step is the number in the file name; the stored step is one lower.
    assert by[20].stored_step == 19 and by[20].token == "charcoalstyle-20"
    assert by[20].usable and by[20].n_vectors == 2 and by[20].width == 768
    # safetensors found and loaded (no stored step in that layout)
    assert by[25].usable and by[25].path.suffix == ".safetensors" and by[25].stored_step is None


def test_malicious_pickle_refused_and_wrong_width_reported(tmp_path):
    log, _old, _new = _log(tmp_path)
    run = find_runs(log, "charcoalstyle", expected_width=768)[0]
    by = {c.step: c for c in run.checkpoints}
    assert not by[30].usable and "unsafe" in by[30].error and "charcoalstyle-30.pt" in by[30].error
    assert not by[35].usable and "1024" in by[35].error and "768" in by[35].error
    assert by[35].width == 1024  # reported, but not usable for this model
    assert [c.step for c in run.usable] == [5, 10, 15, 20, 25]
    assert "2 not usable" in run.label


def test_width_unknown_accepts_any_width(tmp_path):
    log, _old, _new = _log(tmp_path)
    run = find_runs(log, "charcoalstyle", expected_width=None)[0]
    assert {c.step for c in run.usable} == {5, 10, 15, 20, 25, 35}


def test_final_embedding_appended(tmp_path):
    log, _old, _new = _log(tmp_path)
    emb_dir = tmp_path / "embeddings"
    write_pt(emb_dir / "charcoalstyle.pt", torch.randn(2, 768), name="charcoalstyle", step=20)
    runs = find_runs(log, "charcoalstyle", expected_width=768, embeddings_dir=emb_dir)
    final = runs[0].checkpoints[-1]
    assert final.final and final.token == "charcoalstyle-final" and final.usable
    assert final.stored_step == 20 and final.step == 21 and "final" in final.label
    assert runs[1].checkpoints[-1] == final


def test_duplicate_step_in_two_formats(tmp_path):
    log = tmp_path / "log"
    run = write_training_run(log, "x", steps=(5,))
    write_safetensors(run / "embeddings" / "x-5.safetensors", torch.randn(2, 768))
    cps = find_runs(log, "x", 768)[0].checkpoints
    assert len(cps) == 2
    assert cps[0].usable and cps[0].path.suffix == ".safetensors"
    assert not cps[1].usable and "also exists" in cps[1].error


def test_run_from_folder_and_names(tmp_path):
    log, _old, new = _log(tmp_path)
    run = run_from_folder(new, 768)
    assert run.name == "charcoalstyle" and run.date == "2026-11-25"
    assert run.by_step(15).token == "charcoalstyle-15"
    assert names_with_runs(log) == ["charcoalstyle", "otherstyle"]
    assert find_runs(log, "missing") == [] and find_runs(tmp_path / "nope", "x") == []


def test_discovery_writes_nothing(tmp_path, checksums):
    log, _old, _new = _log(tmp_path)
    before = checksums(log)
    mtimes = {p: os.stat(p).st_mtime_ns for p in log.rglob("*")}
    find_runs(log, "charcoalstyle", 768)
    assert checksums(log) == before
    assert {p: os.stat(p).st_mtime_ns for p in log.rglob("*")} == mtimes
