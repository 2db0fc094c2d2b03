"""svgplot: well-formed SVG, escaped text, robust to empty/one-point/NaN input."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

from hypothesis import given, settings
from hypothesis import strategies as st

from lib_textinv.kit.svgplot import Series, line_chart, nice_ticks, scatter_chart

NS = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # raises on malformed XML (unescaped text would)
    assert root.tag == f"{NS}svg"
    return root


def test_line_chart_draws_each_series_and_legend():
    svg = line_chart(
        [
            Series("loss", [1, 2, 3, 4], [0.5, 0.4, 0.35, 0.3]),
            Series("smoothed", [1, 2, 3, 4], [0.5, 0.45, 0.4, 0.35], dashed=True),
        ],
        title="Loss",
        x_label="step",
        y_label="loss",
        highlight_x=[2, 4],
    )
    root = parse(svg)
    lines = root.findall(f"{NS}polyline")
    assert len(lines) == 2
    assert "stroke-dasharray" in lines[1].attrib and "stroke-dasharray" not in lines[0].attrib
    texts = [t.text for t in root.iter(f"{NS}text")]
    assert "Loss" in texts and "step" in texts and "loss" in texts and "smoothed" in texts
    # highlight markers: dashed vertical lines with a title
    markers = [ln for ln in root.findall(f"{NS}line") if ln.find(f"{NS}title") is not None]
    assert len(markers) == 2


def test_points_are_mapped_inside_the_plot_and_y_is_flipped():
    root = parse(line_chart([Series("a", [0, 10], [0, 1])], width=400, height=200))
    pts = [tuple(map(float, p.split(","))) for p in root.find(f"{NS}polyline").attrib["points"].split()]
    (x0, y0), (x1, y1) = pts
    assert x0 < x1 and y0 > y1  # larger y is higher on screen
    assert all(0 <= x <= 400 and 0 <= y <= 200 for x, y in pts)


def test_text_is_escaped():
    evil = '<script>alert("x")</script> & co'
    svg = line_chart([Series(evil, [1, 2], [1, 2])], title=evil, x_label=evil, y_label=evil)
    assert "<script>" not in svg
    root = parse(svg)
    assert evil in [t.text for t in root.iter(f"{NS}text")]
    svg2 = scatter_chart([(1, 2, evil)], title=evil, highlight_label=evil)
    assert "<script>" not in svg2
    parse(svg2)


def test_empty_input_says_no_data():
    for svg in (line_chart([]), line_chart([Series("x", [], [])]), scatter_chart([])):
        root = parse(svg)
        assert "no data" in [t.text for t in root.iter(f"{NS}text")]


def test_one_point_is_a_marker():
    root = parse(line_chart([Series("a", [5], [0.2])]))
    assert root.find(f"{NS}polyline") is None
    c = root.find(f"{NS}circle")
    assert c is not None
    assert math.isfinite(float(c.attrib["cx"])) and math.isfinite(float(c.attrib["cy"]))


def test_nan_breaks_the_line_and_is_not_drawn():
    nan, inf = float("nan"), float("inf")
    svg = line_chart([Series("a", [1, 2, 3, 4, 5, 6], [1, 2, nan, 3, inf, 4])])
    assert "nan" not in svg.lower().replace("no data", "")
    root = parse(svg)
    assert len(root.findall(f"{NS}polyline")) == 1  # 1-2 is a line; 4 and 6 are single markers
    assert len(root.findall(f"{NS}circle")) == 2


def test_all_nan_is_no_data():
    root = parse(line_chart([Series("a", [1, 2], [float("nan"), float("nan")])]))
    assert "no data" in [t.text for t in root.iter(f"{NS}text")]


def test_scatter_highlight_is_larger():
    root = parse(scatter_chart([(0.1, 0.2, "name-50"), (0.3, 0.1, "name-100")], highlight_label="name-100"))
    radii = {
        c.find(f"{NS}title").text.split(":")[0]: float(c.attrib["r"]) for c in root.findall(f"{NS}circle")
    }
    assert radii["name-100"] > radii["name-50"]


def test_nice_ticks_cover_range():
    t = nice_ticks(0, 1500)
    assert t[0] >= 0 and t[-1] <= 1500 and 3 <= len(t) <= 11
    assert nice_ticks(2, 2) == [2]
    assert nice_ticks(float("nan"), 1) == []


finite = st.floats(allow_nan=True, allow_infinity=True, width=32)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(finite, finite), max_size=30), st.text(max_size=20))
def test_any_input_gives_wellformed_svg(pairs, name):
    xs, ys = [p[0] for p in pairs], [p[1] for p in pairs]
    parse(line_chart([Series(name, xs, ys)], title=name, highlight_x=xs[:3]))
    parse(scatter_chart([(x, y, name) for x, y in pairs], title=name))
