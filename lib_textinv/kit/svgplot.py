"""Small, dependency-free SVG charts returned as strings (for a ``gr.HTML``).

Used by the Train section (loss curve) and by scoring (checkpoint scores). No matplotlib: the
webui's environment does not promise it, and an inline SVG scales with the page and needs no file.
All text is escaped; NaN/inf values are skipped (a line breaks at them); empty input draws an
empty frame saying "no data".
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape as _html_escape

# Colour-blind-safe palette (Okabe–Ito), cycled over series.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
FONT = "font-family:sans-serif;font-size:11px"
# Characters XML 1.0 forbids even when escaped (control characters, surrogates, U+FFFE/U+FFFF).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def escape(text: object) -> str:
    """Text safe inside SVG/HTML: markup escaped, XML-invalid characters dropped."""
    return _html_escape(_XML_INVALID.sub("", str(text)))


@dataclass
class Series:
    name: str
    xs: Sequence[float]
    ys: Sequence[float]
    dashed: bool = False
    color: str | None = field(default=None, compare=False)


def _finite(v) -> bool:
    try:
        return math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def _fmt(v: float) -> str:
    """Short tick label: 1500, 0.005, 1.2e-05."""
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1e5 or a < 1e-3:
        return f"{v:.2g}"
    if a >= 100:
        return f"{v:.0f}"
    return f"{v:.4g}"


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round tick values covering [lo, hi] (1-2-5 steps)."""
    if not (_finite(lo) and _finite(hi)):
        return []
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        return [lo]
    raw = (hi - lo) / max(1, n)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks: list[float] = []
    t = first
    while t <= hi + step * 1e-9 and len(ticks) < 50:
        ticks.append(0.0 if abs(t) < step * 1e-9 else round(t, 12))
        t += step
    return ticks


def _range(values: Sequence[float]) -> tuple[float, float]:
    vals = [float(v) for v in values if _finite(v)]
    if not vals:
        return 0.0, 1.0
    lo, hi = min(vals), max(vals)
    if lo == hi:  # one value: give it some room so it sits mid-chart
        pad = abs(lo) * 0.1 or 1.0
        return lo - pad, hi + pad
    return lo, hi


class _Frame:
    """Maps data coordinates into the plot area and draws axes, ticks and labels."""

    def __init__(
        self,
        width: int,
        height: int,
        xr: tuple[float, float],
        yr: tuple[float, float],
        title: str,
        x_label: str,
        y_label: str,
    ) -> None:
        self.w, self.h = max(120, int(width)), max(90, int(height))
        self.left, self.right = 56, 12
        self.top = 28 if title else 12
        self.bottom = 40 if x_label else 26
        self.x0, self.x1 = xr
        self.y0, self.y1 = yr
        self.title, self.x_label, self.y_label = title, x_label, y_label

    @property
    def pw(self) -> float:
        return self.w - self.left - self.right

    @property
    def ph(self) -> float:
        return self.h - self.top - self.bottom

    def px(self, x: float) -> float:
        span = (self.x1 - self.x0) or 1.0
        return self.left + (float(x) - self.x0) / span * self.pw

    def py(self, y: float) -> float:
        span = (self.y1 - self.y0) or 1.0
        return self.top + self.ph - (float(y) - self.y0) / span * self.ph

    def open(self, aria: str) -> list[str]:
        out = [
            f'<svg xmlns="http://www.w3.org/2000/svg" class="textinv-chart" width="{self.w}" '
            f'height="{self.h}" viewBox="0 0 {self.w} {self.h}" role="img" aria-label="{escape(aria)}" '
            f'style="max-width:100%;height:auto;background:#fff">',
            f'<rect x="{self.left}" y="{self.top}" width="{self.pw:.1f}" height="{self.ph:.1f}" '
            f'fill="none" stroke="#999" stroke-width="1"/>',
        ]
        if self.title:
            out.append(
                f'<text x="{self.w / 2:.1f}" y="17" text-anchor="middle" '
                f'style="{FONT};font-size:13px;font-weight:bold" fill="#222">{escape(self.title)}</text>'
            )
        for t in nice_ticks(self.x0, self.x1):
            x = self.px(t)
            out.append(
                f'<line x1="{x:.1f}" y1="{self.top + self.ph:.1f}" x2="{x:.1f}" '
                f'y2="{self.top + self.ph + 4:.1f}" stroke="#999"/>'
            )
            out.append(
                f'<text x="{x:.1f}" y="{self.top + self.ph + 15:.1f}" text-anchor="middle" '
                f'style="{FONT}" fill="#444">{escape(_fmt(t))}</text>'
            )
        for t in nice_ticks(self.y0, self.y1):
            y = self.py(t)
            out.append(
                f'<line x1="{self.left}" y1="{y:.1f}" x2="{self.left + self.pw:.1f}" y2="{y:.1f}" '
                f'stroke="#eee"/>'
            )
            out.append(
                f'<text x="{self.left - 5}" y="{y + 4:.1f}" text-anchor="end" style="{FONT}" '
                f'fill="#444">{escape(_fmt(t))}</text>'
            )
        if self.x_label:
            out.append(
                f'<text x="{self.left + self.pw / 2:.1f}" y="{self.h - 6}" text-anchor="middle" '
                f'style="{FONT}" fill="#222">{escape(self.x_label)}</text>'
            )
        if self.y_label:
            cy = self.top + self.ph / 2
            out.append(
                f'<text x="12" y="{cy:.1f}" text-anchor="middle" transform="rotate(-90 12 {cy:.1f})" '
                f'style="{FONT}" fill="#222">{escape(self.y_label)}</text>'
            )
        return out

    def no_data(self) -> str:
        return (
            f'<text x="{self.left + self.pw / 2:.1f}" y="{self.top + self.ph / 2:.1f}" text-anchor="middle" '
            f'style="{FONT};font-size:13px" fill="#888">no data</text>'
        )


def _segments(xs: Sequence[float], ys: Sequence[float]) -> list[list[tuple[float, float]]]:
    """Runs of finite points; a NaN/inf (or a missing y) breaks the line."""
    segs: list[list[tuple[float, float]]] = [[]]
    for i, x in enumerate(xs):
        y = ys[i] if i < len(ys) else float("nan")
        if _finite(x) and _finite(y):
            segs[-1].append((float(x), float(y)))
        elif segs[-1]:
            segs.append([])
    return [s for s in segs if s]


def line_chart(
    series: list[Series],
    title: str = "",
    x_label: str = "",
    y_label: str = "",
    width: int = 640,
    height: int = 300,
    highlight_x: Sequence[float] | None = None,
) -> str:
    """Lines (one per series, with a legend); ``highlight_x`` draws dashed vertical markers (e.g.
    checkpoints)."""
    series = list(series or [])
    all_x = [x for s in series for x, _ in (p for seg in _segments(s.xs, s.ys) for p in seg)]
    all_y = [y for s in series for _, y in (p for seg in _segments(s.xs, s.ys) for p in seg)]
    marks = [float(h) for h in (highlight_x or []) if _finite(h)]
    xr = _range(all_x + marks) if all_x else _range(marks)
    yr = _range(all_y)
    f = _Frame(width, height, xr, yr, title, x_label, y_label)
    aria = title or "line chart"
    out = f.open(aria)
    if not all_x:
        out.append(f.no_data())
    for h in marks:
        x = f.px(h)
        out.append(
            f'<line x1="{x:.1f}" y1="{f.top}" x2="{x:.1f}" y2="{f.top + f.ph:.1f}" stroke="#bbb" '
            f'stroke-dasharray="3 3"><title>{escape(_fmt(h))}</title></line>'
        )
    legend_y = f.top + 12
    for i, s in enumerate(series):
        color = s.color or PALETTE[i % len(PALETTE)]
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        for seg in _segments(s.xs, s.ys):
            if len(seg) == 1:
                ((x, y),) = seg
                out.append(
                    f'<circle cx="{f.px(x):.1f}" cy="{f.py(y):.1f}" r="3" fill="{color}">'
                    f"<title>{escape(s.name)}: {escape(_fmt(x))}, {escape(_fmt(y))}</title></circle>"
                )
                continue
            pts = " ".join(f"{f.px(x):.1f},{f.py(y):.1f}" for x, y in seg)
            out.append(
                f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="1.6"{dash}>'
                f"<title>{escape(s.name)}</title></polyline>"
            )
        if s.name:
            lx = f.left + f.pw - 150
            out.append(
                f'<line x1="{lx}" y1="{legend_y - 4}" x2="{lx + 18}" y2="{legend_y - 4}" stroke="{color}" '
                f'stroke-width="2"{dash}/>'
            )
            out.append(
                f'<text x="{lx + 22}" y="{legend_y}" style="{FONT}" fill="#222">{escape(s.name)}</text>'
            )
            legend_y += 14
    out.append("</svg>")
    return "".join(out)


def scatter_chart(
    points: list[tuple[float, float, str]],
    title: str = "",
    x_label: str = "",
    y_label: str = "",
    width: int = 480,
    height: int = 360,
    highlight_label: str | None = None,
) -> str:
    """Labelled points; the point whose label equals ``highlight_label`` is drawn larger and in
    another colour."""
    good = [(float(x), float(y), str(lbl)) for x, y, lbl in (points or []) if _finite(x) and _finite(y)]
    f = _Frame(
        width, height, _range([p[0] for p in good]), _range([p[1] for p in good]), title, x_label, y_label
    )
    out = f.open(title or "scatter chart")
    if not good:
        out.append(f.no_data())
    for x, y, lbl in good:
        hi = highlight_label is not None and lbl == highlight_label
        color, r = (PALETTE[3], 6) if hi else (PALETTE[0], 4)
        cx, cy = f.px(x), f.py(y)
        out.append(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r}" fill="{color}" fill-opacity="0.85">'
            f"<title>{escape(lbl)}: {escape(_fmt(x))}, {escape(_fmt(y))}</title></circle>"
        )
        weight = ";font-weight:bold" if hi else ""
        out.append(
            f'<text x="{cx + r + 2:.1f}" y="{cy - r:.1f}" style="{FONT}{weight}" fill="#222">'
            f"{escape(lbl)}</text>"
        )
    out.append("</svg>")
    return "".join(out)
