"""Reading the webui's ``textual_inversion_loss.csv`` while training appends to it.

Format (``write_loss``, modules/textual_inversion/textual_inversion.py, v1.10.1): a header
``step,epoch,epoch_step,loss,learn_rate`` written when the file is new, then one row per
``opts.training_write_csv_every`` optimizer steps (default 500!), appended with
``csv.DictWriter`` (``\\r\\n`` line ends), ``loss`` formatted ``%.7f``, ``learn_rate`` as Python
prints the float. ``step`` is ``embedding.step`` after the optimizer step; ``epoch =
(step-1) // steps_per_epoch``. A second run on the same day with the same name appends to the same
file without a new header, so steps can go backwards: ``last_run`` keeps the rows after the last
backwards jump.

The reader never trusts the last line until it ends with a newline (the writer may be mid-line),
skips malformed rows and repeated headers, and reads only what was appended since the last call.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

FILENAME = "textual_inversion_loss.csv"
COLUMNS = ("step", "epoch", "epoch_step", "loss", "learn_rate")


@dataclass(frozen=True)
class LossRow:
    step: int
    epoch: int
    epoch_step: int
    loss: float
    learn_rate: float


def parse_row(line: str, columns: tuple[str, ...] = COLUMNS) -> LossRow | None:
    """One CSV data line → row, or None if it is a header, blank or malformed."""
    parts = [p.strip() for p in line.strip().split(",")]
    if len(parts) != len(columns) or not parts[0] or parts[0] == "step":
        return None
    vals = dict(zip(columns, parts, strict=True))
    try:
        return LossRow(
            step=int(vals["step"]),
            epoch=int(vals.get("epoch", "0") or 0),
            epoch_step=int(vals.get("epoch_step", "0") or 0),
            loss=float(vals["loss"]),
            learn_rate=float(vals.get("learn_rate", "nan") or "nan"),
        )
    except (KeyError, ValueError):
        return None


@dataclass
class LossReader:
    """Incremental reader: ``read()`` returns all rows so far, parsing only appended bytes. A file
    that shrank or was replaced is read again from the start."""

    path: str
    rows: list[LossRow] = field(default_factory=list)
    skipped: int = 0
    _offset: int = 0
    _ino: int | None = None
    _columns: tuple[str, ...] = COLUMNS

    def reset(self) -> None:
        self.rows, self.skipped, self._offset, self._ino, self._columns = [], 0, 0, None, COLUMNS

    def read(self) -> list[LossRow]:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            self.reset()
            return self.rows
        if st.st_ino != self._ino or st.st_size < self._offset:
            self.reset()
            self._ino = st.st_ino
        if st.st_size == self._offset:
            return self.rows
        with open(self.path, "rb") as f:
            f.seek(self._offset)
            chunk = f.read(st.st_size - self._offset)
        end = chunk.rfind(b"\n")
        if end < 0:  # nothing complete yet: the writer is mid-line
            return self.rows
        complete = chunk[: end + 1]
        self._offset += len(complete)
        text = complete.decode("utf-8-sig" if self._offset == len(complete) else "utf-8", errors="replace")
        for line in text.splitlines():
            if not line.strip():
                continue
            header = [p.strip().lower() for p in line.split(",")]
            if header and header[0] == "step":
                # The header names the columns; a later webui could add values after learn_rate.
                if {"step", "loss"} <= set(header):
                    self._columns = tuple(header)
                continue
            row = parse_row(line, self._columns)
            if row is None:
                self.skipped += 1
                logger.debug("%s: skipped malformed loss line %r", self.path, line[:80])
            else:
                self.rows.append(row)
        return self.rows


def read_loss_csv(path: str | os.PathLike) -> list[LossRow]:
    """All complete rows of a loss CSV (empty list if the file does not exist)."""
    return list(LossReader(os.fspath(path)).read())


def last_run(rows: list[LossRow]) -> list[LossRow]:
    """Rows after the last point where ``step`` went backwards (a new run appended to the file)."""
    start = 0
    for i in range(1, len(rows)):
        if rows[i].step <= rows[i - 1].step:
            start = i
    return rows[start:]


def ema(values: list[float], weight: float = 0.9) -> list[float]:
    """Exponential moving average with bias correction (TensorBoard's "smoothing"): the first
    values are not pulled towards zero. NaN/inf values give NaN and are skipped by the average."""
    if not 0 <= weight < 1:
        raise ValueError(f"smoothing weight must be in [0, 1), got {weight}")
    out: list[float] = []
    acc, n = 0.0, 0
    for v in values:
        if not math.isfinite(v):
            out.append(float("nan"))
            continue
        n += 1
        acc = weight * acc + (1 - weight) * v
        out.append(acc / (1 - weight**n))
    return out


def smoothing_weight(n_points: int) -> float:
    """A weight that smooths about a tenth of the curve: few points → little smoothing."""
    if n_points < 5:
        return 0.0
    return min(0.98, 1 - 1 / max(2.0, n_points / 10))


def loss_chart(
    rows: list[LossRow],
    title: str = "Training loss",
    highlight_steps: list[int] | None = None,
    width: int = 640,
    height: int = 300,
    extra: list[Any] | None = None,
) -> str:
    """SVG: raw loss (thin) and its smoothed line, ``extra`` series (``fixed_series``);
    checkpoints as vertical markers."""
    from lib_textinv.kit.svgplot import Series, line_chart

    xs = [float(r.step) for r in rows]
    ys = [r.loss for r in rows]
    series = [Series("loss", xs, ys, color="#9ec5e8")]
    if len(rows) >= 5:
        series.append(Series("smoothed", xs, ema(ys, smoothing_weight(len(rows))), color="#0072B2"))
    series += extra or []
    return line_chart(
        series,
        title=title,
        x_label="step",
        y_label="loss",
        width=width,
        height=height,
        highlight_x=[float(s) for s in highlight_steps or []],
    )


# -- our trainer's fixed-batch loss and vector norms (train.own_checkpoints) --------------------
NORM_COLORS = ("#009E73", "#CC79A7", "#E69F00")


def read_fixed_loss(path: str | os.PathLike) -> dict[str, list[tuple[int, float]]]:
    """``textinv_fixed_loss.csv`` → column → [(step, value)]; {} when absent. Whole lines only
    (the trainer appends while we read); a malformed line is skipped."""
    try:
        with open(path, encoding="utf-8", newline="") as f:
            text = f.read()
    except OSError:
        return {}
    lines = text.split("\r\n" if "\r\n" in text else "\n")[:-1]
    if not lines:
        return {}
    header = lines[0].split(",")
    out: dict[str, list[tuple[int, float]]] = {h: [] for h in header[1:]}
    for line in lines[1:]:
        cells = line.split(",")
        try:
            step, values = int(cells[0]), [float(c) for c in cells[1:]]
        except (ValueError, IndexError):
            continue
        for h, v in zip(header[1:], values, strict=False):
            out[h].append((step, v))
    return out


def fixed_series(columns: dict[str, list[tuple[int, float]]]) -> list[Any]:
    """The fixed-batch loss (bold orange) and each part's mean vector norm (thin)."""
    from lib_textinv.kit.svgplot import Series

    out = []
    if columns.get("fixed_loss"):
        pts = columns["fixed_loss"]
        xs, ys = [float(s) for s, _ in pts], [v for _, v in pts]
        out.append(Series("fixed-batch loss", xs, ys, color="#D55E00"))
    norms = [k for k in columns if k.startswith("norm_")]
    for color, k in zip(NORM_COLORS, norms, strict=False):
        pts = columns[k]
        label = "vector norm" + ("" if k == "norm_*" else f" ({k[5:]})")
        out.append(Series(label, [float(s) for s, _ in pts], [v for _, v in pts], color=color))
    return out
