"""Running a sweep against a fake host: registration always undone, batches mixed, cells, grid
and the sweep's record saved, Interrupt keeps the cells made, the user's embeddings/ folder
untouched."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from lib_textinv.compare.checkpoints import find_runs
from lib_textinv.compare.sweep_plan import PlanCheckpoint, plan_sweep
from lib_textinv.compare.sweep_record import read_record, record_path
from lib_textinv.compare.sweep_run import GenParams, run_sweep
from lib_textinv.kit.progress import RecordingProgress
from tests.embfiles import write_pt, write_training_run
from tests.sweep_fakes import FakeSweepHost

PARAMS = GenParams(steps=4, width=32, height=32)


@pytest.fixture
def setup(tmp_path):
    log = tmp_path / "log"
    write_training_run(log, "cs", steps=(5, 10, 15, 20))
    emb_dir = tmp_path / "embeddings"
    write_pt(emb_dir / "cs.pt", torch.randn(2, 768), name="cs", step=20)
    # The user already has a hand-copied checkpoint under the same token we use.
    write_pt(emb_dir / "cs-10.pt", torch.randn(2, 768), name="cs-10", step=9)
    run = find_runs(log, "cs", 768, embeddings_dir=emb_dir)[0]
    cps = [PlanCheckpoint(c.token, c.label, str(c.path), c.step, c.final) for c in run.usable]
    return tmp_path, emb_dir, cps


def test_sweep_batches_saves_and_cleans_up(setup, checksums):
    tmp_path, emb_dir, cps = setup
    before = checksums(emb_dir)
    host = FakeSweepHost(tmp_path / "out", emb_dir)
    user_cs10 = host.db["cs-10"]
    plan = plan_sweep(cps, ["drawing of a cat, {}", "a landscape"], [1, 2], batch_size=4)
    progress = RecordingProgress()
    res = run_sweep(plan, host, PARAMS, progress)
    assert not res.interrupted and res.done == res.total == 5 * 2 * 2
    assert len(host.calls) == 5  # 20 cells / 4, instead of 20 calls
    assert any(len({p.rsplit(", ", 1)[-1] for p in prompts}) > 1 for prompts, _ in host.calls)
    # every temporary registration removed, the user's own cs-10 is back
    assert sorted(host.unregistered_log) == sorted(host.registered_log) == sorted(c.token for c in cps)
    assert set(host.db) == {"cs", "cs-10"} and host.db["cs-10"] is user_cs10
    # cells and grid saved, grid infotext names the checkpoints
    assert all(r.path and Image.open(r.path).size == (32, 32) for r in res.cells)
    grid = Image.open(res.grid_path)
    assert grid.size[0] > 5 * 32 and grid.size[1] > 4 * 32
    info = grid.info["parameters"]
    for c in cps:
        assert c.token in info and c.path in info
    assert 'Sweep cells: "20 of 20"' in info
    assert progress.events[-1][0] == 20 and progress.describe().startswith("20/20")
    assert checksums(emb_dir) == before


def test_the_grids_ti_hashes_name_every_checkpoint_once(setup):
    """Each cell names its own checkpoint; the grid (whose infotext starts from the first cell's)
    names all of them, in column order."""
    from lib_textinv.compare.ti_hashes import entries

    tmp_path, emb_dir, cps = setup
    res = run_sweep(
        plan_sweep(cps, ["a cat, {}", "a dog"], [1], batch_size=3),
        FakeSweepHost(tmp_path / "out", emb_dir),
        PARAMS,
    )
    assert {tuple(entries(r.infotext)) for r in res.cells} == {(f"{c.token}: x",) for c in cps}
    with Image.open(res.grid_path) as grid:
        assert entries(grid.info["parameters"]) == [f"{c.token}: x" for c in cps]
    assert res.grid_infotext.splitlines()[0] == res.cells[0].infotext.splitlines()[0]


def test_grid_positions_and_batch_invariance(setup):
    tmp_path, emb_dir, cps = setup
    results = {}
    for bs in (1, 3, 8):
        host = FakeSweepHost(tmp_path / f"out{bs}", emb_dir)
        plan = plan_sweep(cps, ["a cat, {}", "a dog"], [5], batch_size=bs)
        res = run_sweep(plan, host, PARAMS)
        assert len(host.calls) == -(-10 // bs)
        results[bs] = {(r.cell.checkpoint, r.cell.prompt): r.image.tobytes() for r in res.cells}
        # column = checkpoint, row = prompt × seed: pixel in the grid's cell matches the cell image
        left, top = res.grid.width - 5 * 32, res.grid.height - 2 * 32
        for r in res.cells:
            x = left + r.cell.checkpoint * 32 + 16
            y = top + plan.row_of(r.cell) * 32 + 16
            assert res.grid.getpixel((x, y)) == r.image.getpixel((0, 0))
    assert results[1] == results[3] == results[8]


def test_interrupt_keeps_cells_and_unregisters(setup, checksums):
    tmp_path, emb_dir, cps = setup
    before = checksums(emb_dir)
    progress = RecordingProgress()
    host = FakeSweepHost(tmp_path / "out", emb_dir, interrupt_on_call=3, progress=progress)
    plan = plan_sweep(cps, ["a cat, {}", "a dog"], [1], batch_size=3)
    res = run_sweep(plan, host, PARAMS, progress)
    assert res.interrupted and res.done == 6 and res.total == 10
    assert len(list((tmp_path / "out" / "samples").glob("*.png"))) == 6
    assert "6 of 10 (interrupted)" in Image.open(res.grid_path).info["parameters"]
    assert sorted(host.unregistered_log) == sorted(c.token for c in cps)
    assert set(host.db) == {"cs", "cs-10"}
    assert checksums(emb_dir) == before


def test_cancel_between_batches(setup):
    tmp_path, emb_dir, cps = setup
    progress = RecordingProgress(cancel_after=4)
    host = FakeSweepHost(tmp_path / "out", emb_dir)
    res = run_sweep(plan_sweep(cps, ["x"], [1], batch_size=4), host, PARAMS, progress)
    assert res.interrupted and res.done == 4 and len(host.calls) == 1
    assert set(host.db) == {"cs", "cs-10"}


def test_error_still_unregisters(setup):
    tmp_path, emb_dir, cps = setup
    host = FakeSweepHost(tmp_path / "out", emb_dir, fail_on_call=2)
    with pytest.raises(RuntimeError, match="out of memory"):
        run_sweep(plan_sweep(cps, ["x"], [1], batch_size=2), host, PARAMS)
    assert sorted(host.unregistered_log) == sorted(c.token for c in cps)
    assert set(host.db) == {"cs", "cs-10"}


def test_failed_registration_undoes_the_earlier_ones(setup, tmp_path):
    _tmp, emb_dir, cps = setup
    bad = (*cps[:2], PlanCheckpoint("cs-99", "99 steps", str(tmp_path / "missing.pt")))
    host = FakeSweepHost(tmp_path / "out", emb_dir)
    with pytest.raises(ValueError, match="not found"):
        run_sweep(plan_sweep(bad, ["x"], [1]), host, PARAMS)
    assert host.unregistered_log == [cps[1].token, cps[0].token]
    assert not host.calls and set(host.db) == {"cs", "cs-10"}


def test_registrations_lost_to_a_reload_are_put_back(setup):
    """An Extra Networks refresh mid-sweep empties the database; the next batch re-registers the
    checkpoints (the fake's generate fails on a prompt whose token is not registered)."""
    tmp_path, emb_dir, cps = setup
    host = FakeSweepHost(tmp_path / "out", emb_dir, reload_before_call=3)
    user_cs10 = host.db["cs-10"]
    plan = plan_sweep(cps, ["drawing of a cat, {}"], [1, 2], batch_size=4)
    res = run_sweep(plan, host, PARAMS)
    assert res.done == res.total == 10 and not res.interrupted
    assert any("re-registered" in w for w in res.warnings), res.warnings
    assert host.registered_log.count("cs-5") == 2  # once at the start, once after the reload
    # cells rendered after the reload use the checkpoint, not the user's hand-copied cs-10
    for r in res.cells:
        assert f'TI hashes: "{r.cell.token}' in r.infotext
    assert set(host.db) == {"cs", "cs-10"} and host.db["cs-10"] is user_cs10


def test_the_record_names_the_run_the_grid_and_every_cell(setup, tmp_path):
    tmp, emb_dir, cps = setup
    host = FakeSweepHost(tmp / "out", emb_dir)
    run_folder = str(tmp / "log" / "2026-11-25" / "cs")
    plan = plan_sweep(cps, ["a cat, {}", "a dog"], [7, 8], batch_size=3, name="cs", run_folder=run_folder)
    res = run_sweep(plan, host, PARAMS)
    assert res.record_path == record_path(res.grid_path) == res.grid_path[: -len(".png")] + ".sweep.json"
    rec = read_record(res.grid_path)  # by the grid's path or the record's: the same record
    assert rec == read_record(res.record_path) == res.record
    assert (rec.name, rec.run_folder, rec.grid) == ("cs", run_folder, res.grid_path)
    assert rec.tokens == [c.token for c in cps] and rec.cell_size == (32, 32) and rec.total == 20
    assert (rec.prompts, rec.seeds, rec.params["steps"]) == (("a cat, {}", "a dog"), (7, 8), 4)
    made = {(r.path, r.cell.token, r.cell.text, r.cell.seed) for r in res.cells}
    assert {(c.path, c.token, c.prompt, c.seed) for c in rec.cells} == made
    by_token = {c.token: c for c in cps}
    for c in rec.cells:
        assert c.step == by_token[c.token].step and c.final == by_token[c.token].final
        with Image.open(c.path) as im:  # the cell at (row, column) of the record is that image
            assert im.getpixel((0, 0)) == res.grid.getpixel(
                (res.grid.width - (5 - c.column) * 32 + 16, res.grid.height - (4 - c.row) * 32 + 16)
            )
    assert res.to_dict()["record"] == res.record_path


def test_an_interrupted_sweep_records_the_cells_it_made(setup):
    tmp, emb_dir, cps = setup
    progress = RecordingProgress()
    host = FakeSweepHost(tmp / "out", emb_dir, interrupt_on_call=2, progress=progress)
    res = run_sweep(plan_sweep(cps, ["x, {}"], [1], batch_size=2, name="cs"), host, PARAMS, progress)
    rec = read_record(res.record_path)
    assert rec.interrupted and rec.total == 5 and len(rec.cells) == 2
    assert [c.path for c in rec.cells] == [r.path for r in res.cells]


def test_nothing_made_no_grid_and_no_record(setup):
    tmp, emb_dir, cps = setup
    host = FakeSweepHost(tmp / "out", emb_dir, interrupt_on_call=1)
    res = run_sweep(plan_sweep(cps, ["x"], [1]), host, PARAMS)
    assert res.interrupted and res.grid_path is None and res.record is None
    assert not (tmp / "out" / "grids").exists()
