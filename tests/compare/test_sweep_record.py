"""The sweep's record: written atomically beside its grid, read back exactly, refused with the
reason when it is missing or not a record."""

from __future__ import annotations

import json

import pytest

from lib_textinv.compare.sweep_record import (
    RecordedCell,
    RecordedCheckpoint,
    SweepRecord,
    SweepRecordError,
    SweepRecordMissing,
    read_record,
    record_path,
    write_record,
)


def a_record(grid: str) -> SweepRecord:
    return SweepRecord(
        name="cs",
        run_folder="/log/2026-11-25/cs",
        grid=grid,
        checkpoints=(
            RecordedCheckpoint("cs-5", "5 steps", "/log/cs-5.pt", 5),
            RecordedCheckpoint("cs-final", "final (21 steps)", "/emb/cs.pt", 21, final=True),
        ),
        prompts=("a cat, {}", "ü {}"),
        seeds=(1, 2),
        cells=(RecordedCell("/out/00001-1.png", "cs-5", 5, False, "a cat, cs-5", 1, 0, 0),),
        cell_size=(64, 48),
        total=8,
        interrupted=True,
        params={"steps": 4, "sampler": "Euler a"},
    )


def test_written_beside_the_grid_and_read_back_the_same(tmp_path):
    grid = tmp_path / "00007-textinv-sweep-1.png"
    rec = a_record(str(grid))
    path = write_record(rec)
    assert path == record_path(grid) == str(tmp_path / "00007-textinv-sweep-1.sweep.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["00007-textinv-sweep-1.sweep.json"]  # no temp file
    assert read_record(path) == rec == read_record(grid)
    assert (rec.cols, rec.rows, rec.tokens) == (2, 4, ["cs-5", "cs-final"])
    assert (
        json.loads((tmp_path / "00007-textinv-sweep-1.sweep.json").read_text("utf-8"))["prompts"][1] == "ü {}"
    )


def test_a_missing_record_is_its_own_kind(tmp_path):
    with pytest.raises(SweepRecordMissing, match="no sweep record"):
        read_record(tmp_path / "00001-grid.png")


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("not json", "JSONDecodeError"),
        ('{"version": 99}', "version 99"),
        ('{"version": 1, "name": "x"}', "KeyError"),
        ("[1, 2]", "TypeError: a JSON list"),
    ],
)
def test_a_broken_record_is_refused_with_the_reason(tmp_path, text, why):
    path = tmp_path / "g.sweep.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SweepRecordError, match=why) as e:
        read_record(path)
    assert not isinstance(e.value, SweepRecordMissing) and str(path) in str(e.value)
