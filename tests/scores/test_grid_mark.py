"""Marking the recommended column on a sweep grid drawn by the webui's own grid code: the layout
found from the grid's size matches where the cells were pasted, the frame lands on that column
only, the copy is saved beside."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from lib_textinv.scores.grid_mark import (
    HIGHLIGHT,
    frame_width,
    layout_of,
    mark_column,
    marked_path,
    save_marked_grid,
    save_png_with_infotext,
)
from tests.sweep_fakes import webui_grid


def colour(i: int) -> tuple[int, int, int]:
    """Distinct, never white, never the highlight colour."""
    return (20 + (i * 53) % 200, 10 + (i * 97) % 180, 30 + (i * 29) % 190)


def solid_grid(cols: int, rows: int, cell: tuple[int, int], labels: bool = True):
    images = [Image.new("RGB", cell, colour(i)) for i in range(cols * rows)]
    col_labels = [f"cat-{(c + 1) * 50}" for c in range(cols)] if labels else []
    row_labels = [f"s{r}" for r in range(rows)] if labels else []  # short: no overflow into cells
    return webui_grid(images, cols, rows, col_labels, row_labels)


def centre(layout, col: int, row: int) -> tuple[int, int]:
    return (
        layout.pad_left + col * layout.cell_w + layout.cell_w // 2,
        layout.pad_top + row * layout.cell_h + layout.cell_h // 2,
    )


@settings(max_examples=25, deadline=None)
@given(
    cols=st.integers(1, 5),
    rows=st.integers(1, 4),
    w=st.integers(16, 96),
    h=st.integers(16, 96),
    labels=st.booleans(),
)
def test_layout_finds_every_cell(cols, rows, w, h, labels):
    grid = solid_grid(cols, rows, (w, h), labels)
    layout = layout_of(grid.size, cols, rows, (w, h))
    assert layout.pad_left == ((w * 3) // 4 if labels else 0)
    for i in range(cols * rows):
        r, c = divmod(i, cols)
        assert grid.getpixel(centre(layout, c, r)) == colour(i)


@settings(max_examples=25, deadline=None)
@given(cols=st.integers(1, 5), rows=st.integers(1, 3), w=st.integers(24, 96), data=st.data())
def test_frame_marks_only_the_chosen_column(cols, rows, w, data):
    column = data.draw(st.integers(0, cols - 1))
    grid = solid_grid(cols, rows, (w, w))
    layout = layout_of(grid.size, cols, rows, (w, w))
    notes = [f"CLIP-I 0.{c}" for c in range(cols)]
    out = mark_column(grid, layout, column, notes, "recommended ·")
    assert out.width == grid.width and out.height > grid.height  # the strip of notes
    x0, _top, x1, _bottom = layout.column_box(column)
    fw = frame_width(layout)
    for r in range(rows):
        y = layout.pad_top + r * w + w // 2
        assert out.getpixel((x0, y)) == HIGHLIGHT and out.getpixel((x1, y)) == HIGHLIGHT
        assert out.getpixel((x0 + fw, y)) == colour(r * cols + column)  # inside the frame: the cell
        for c in range(cols):
            if c != column:
                left = layout.pad_left + c * w
                assert out.getpixel((left + fw + 1, y)) == colour(r * cols + c)
                assert out.getpixel((left + w - fw - 2, y)) == colour(r * cols + c)
    assert out.getpixel((x0 + fw + 1, out.height - fw - 1)) != (255, 255, 255)  # strip tinted
    assert out.getpixel(((x0 + x1) // 2, out.height - 1)) == HIGHLIGHT  # frame closes below it
    assert grid.getpixel((x0, layout.pad_top + w // 2)) != HIGHLIGHT  # the input is not drawn on


def test_without_notes_the_size_is_kept():
    grid = solid_grid(3, 2, (40, 40))
    layout = layout_of(grid.size, 3, 2, (40, 40))
    out = mark_column(grid, layout, 2)
    assert out.size == grid.size
    assert out.getpixel((grid.width - 1, grid.height // 2)) == HIGHLIGHT


@pytest.mark.parametrize(
    ("size", "cols", "rows", "cell"),
    [((100, 100), 3, 1, (40, 40)), ((160, 60), 2, 1, (40, 40)), ((80, 30), 2, 1, (40, 40))],
)
def test_layout_refuses_a_grid_of_other_cells(size, cols, rows, cell):
    with pytest.raises(ValueError, match="does not hold"):
        layout_of(size, cols, rows, cell)


def test_bad_column_and_notes_are_refused():
    grid = solid_grid(2, 1, (32, 32))
    layout = layout_of(grid.size, 2, 1, (32, 32))
    with pytest.raises(ValueError, match="column 2"):
        mark_column(grid, layout, 2)
    with pytest.raises(ValueError, match="3 notes"):
        mark_column(grid, layout, 0, ["a", "b", "c"])


def test_saved_beside_the_grid_which_is_left_alone(tmp_path):
    grid = solid_grid(4, 2, (48, 48))
    path = save_png_with_infotext(
        grid, str(tmp_path / "00007-textinv-sweep-1234.png"), 'x, Sweep cells: "8 of 8"'
    )
    before = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    out = save_marked_grid(
        path, 4, 2, (48, 48), 1, ["a", "b", "c", "d"], "rec", ', Sweep recommended: "cat-100"'
    )
    assert out == marked_path(path) == str(tmp_path / "00007-textinv-sweep-1234-recommended.png")
    assert Path(out).stem.endswith("-recommended") and not Path(path).stem.endswith("-recommended")
    assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == before
    with Image.open(out) as im:
        assert im.info["parameters"] == 'x, Sweep cells: "8 of 8", Sweep recommended: "cat-100"'
        assert im.width == grid.width and im.height > grid.height
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "00007-textinv-sweep-1234-recommended.png",
        "00007-textinv-sweep-1234.png",
    ]  # written atomically: no temp file left


def test_notes_stay_inside_small_columns():
    """64-px cells: the words of the note are shrunk to fit, nothing is drawn past the column."""
    grid = solid_grid(3, 1, (64, 64))
    layout = layout_of(grid.size, 3, 1, (64, 64))
    out = mark_column(grid, layout, 1, ["", "loss 1.4119", ""], "recommended ·")
    x0, _top, x1, _bottom = layout.column_box(1)
    strip = out.crop((0, grid.height, out.width, out.height)).convert("RGB")
    outside = [strip.crop((0, 0, x0, strip.height)), strip.crop((x1 + 1, 0, strip.width, strip.height))]
    assert all(part.getcolors(1 << 16) == [(part.width * part.height, (255, 255, 255))] for part in outside)


@pytest.mark.parametrize("width", [20, 40, 80])
def test_wrap_cuts_words_that_cannot_fit(width):
    from PIL import ImageDraw, ImageFont

    from lib_textinv.kit.pil_text import text_size, wrap_text

    draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    font = ImageFont.load_default()  # the fixed bitmap font of the webui's Pillow 9.5
    text = "recommended · CLIP-I 0.812 · loss 1.4119"
    wrapped = wrap_text(draw, text, font, width)
    assert all(text_size(draw, line, font)[0] <= width for line in wrapped.split("\n")), wrapped
    assert wrapped.replace("\n", "").replace(" ", "") == text.replace(" ", "")  # nothing lost
