"""The webui's loss CSV (write_loss, textual_inversion.py v1.10.1) read while it is being written."""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

from lib_textinv.train.loss_csv import (
    FILENAME,
    LossReader,
    ema,
    last_run,
    loss_chart,
    read_loss_csv,
    smoothing_weight,
)


def webui_write_loss(log_directory: Path, step: int, epoch_len: int, loss: float, learn_rate: float) -> None:
    """What the webui's write_loss does for one row (csv.DictWriter, 'a+', newline='')."""
    path = log_directory / FILENAME
    header = not path.exists()
    with open(path, "a+", newline="") as fout:
        w = csv.DictWriter(fout, fieldnames=["step", "epoch", "epoch_step", "loss", "learn_rate"])
        if header:
            w.writeheader()
        w.writerow(
            {
                "step": step,
                "epoch": (step - 1) // epoch_len,
                "epoch_step": (step - 1) % epoch_len,
                "loss": f"{loss:.7f}",
                "learn_rate": learn_rate,
            }
        )


def test_reads_the_webui_format(tmp_path):
    for step in range(1, 21):
        webui_write_loss(tmp_path, step, 4, 0.2 - step * 0.005, 0.005)
    raw = (tmp_path / FILENAME).read_bytes()
    assert raw.startswith(b"step,epoch,epoch_step,loss,learn_rate\r\n")  # the real writer's line ends
    rows = read_loss_csv(tmp_path / FILENAME)
    assert [r.step for r in rows] == list(range(1, 21))
    assert rows[0].epoch == 0 and rows[4].epoch == 1 and rows[4].epoch_step == 0
    assert math.isclose(rows[-1].loss, 0.1) and rows[-1].learn_rate == 0.005


def test_missing_file_is_empty(tmp_path):
    assert read_loss_csv(tmp_path / "nope.csv") == []


def test_half_written_last_line_is_ignored_until_complete(tmp_path):
    for step in range(1, 4):
        webui_write_loss(tmp_path, step, 10, 0.1, 0.005)
    path = tmp_path / FILENAME
    with open(path, "ab") as f:
        f.write(b"4,0,3,0.09")  # the writer is mid-line: "0.09" would parse, but the row is incomplete
    reader = LossReader(str(path))
    assert [r.step for r in reader.read()] == [1, 2, 3]
    with open(path, "ab") as f:
        f.write(b"12345,0.005\r\n")
    rows = reader.read()
    assert [r.step for r in rows] == [1, 2, 3, 4]
    assert math.isclose(rows[-1].loss, 0.0912345)


def test_incremental_reads_only_appended_rows(tmp_path):
    path = tmp_path / FILENAME
    reader = LossReader(str(path))
    assert reader.read() == []
    webui_write_loss(tmp_path, 1, 5, 0.3, 0.005)
    assert len(reader.read()) == 1
    for step in range(2, 6):
        webui_write_loss(tmp_path, step, 5, 0.3, 0.005)
    assert [r.step for r in reader.read()] == [1, 2, 3, 4, 5]
    assert [r.step for r in reader.read()] == [1, 2, 3, 4, 5]  # nothing new: same rows, not doubled


def test_replaced_or_truncated_file_is_reread(tmp_path):
    path = tmp_path / FILENAME
    for step in range(1, 6):
        webui_write_loss(tmp_path, step, 5, 0.3, 0.005)
    reader = LossReader(str(path))
    assert len(reader.read()) == 5
    os.unlink(path)
    webui_write_loss(tmp_path, 1, 5, 0.25, 0.001)
    rows = reader.read()
    assert [(r.step, r.learn_rate) for r in rows] == [(1, 0.001)]


def test_malformed_rows_repeated_header_and_bom_are_tolerated(tmp_path):
    path = tmp_path / FILENAME
    path.write_bytes(
        "\ufeffstep,epoch,epoch_step,loss,learn_rate\r\n"
        "1,0,0,0.1000000,0.005\r\n"
        "garbage line\r\n"
        "\r\n"
        "step,epoch,epoch_step,loss,learn_rate\r\n"
        "2,0,1,nan,0.005\r\n"
        "3,0,2,0.0800000,0.005\r\n".encode()
    )
    reader = LossReader(str(path))
    rows = reader.read()
    assert [r.step for r in rows] == [1, 2, 3]
    assert math.isnan(rows[1].loss)
    assert reader.skipped == 1


def test_a_second_run_appended_the_same_day(tmp_path):
    for step in range(1, 11):
        webui_write_loss(tmp_path, step, 5, 0.3, 0.005)
    for step in range(1, 4):  # the embedding was recreated: steps restart
        webui_write_loss(tmp_path, step, 5, 0.2, 0.005)
    rows = read_loss_csv(tmp_path / FILENAME)
    assert len(rows) == 13
    assert [r.step for r in last_run(rows)] == [1, 2, 3]


def test_sparse_rows_with_default_csv_period(tmp_path):
    # opts.training_write_csv_every = 500 (the webui default): rows only at multiples of 500
    for step in (500, 1000, 1500):
        webui_write_loss(tmp_path, step, 25, 0.1, 0.005)
    assert [r.step for r in read_loss_csv(tmp_path / FILENAME)] == [500, 1000, 1500]


def test_ema_is_debiased_and_skips_nan():
    assert ema([2.0, 2.0, 2.0], 0.9) == [2.0, 2.0, 2.0]  # no pull towards 0 at the start
    out = ema([1.0, float("nan"), 3.0], 0.5)
    assert out[0] == 1.0 and math.isnan(out[1])
    assert math.isclose(out[2], (0.5 * 0.5 * 1 + 0.5 * 3) / (1 - 0.25))
    vals = [1.0, 0.0] * 50
    smoothed = ema(vals, 0.9)
    assert max(smoothed[20:]) - min(smoothed[20:]) < 0.2  # noise reduced
    assert ema([], 0.9) == []


def test_smoothing_weight_grows_with_points():
    assert smoothing_weight(3) == 0.0
    assert 0 < smoothing_weight(20) < smoothing_weight(200) < smoothing_weight(5000) <= 0.98


def test_loss_chart_has_smoothed_line_and_checkpoints(tmp_path):
    for step in range(1, 31):
        webui_write_loss(tmp_path, step, 5, 0.3 / step, 0.005)
    svg = loss_chart(read_loss_csv(tmp_path / FILENAME), highlight_steps=[9, 19, 29])
    assert svg.count("<polyline") == 2 and "smoothed" in svg
    assert svg.count('stroke-dasharray="3 3"') == 3
