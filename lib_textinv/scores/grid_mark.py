"""The recommended step marked on a saved sweep grid: a frame around its column and, under every
column, a strip with that checkpoint's scores. The grid image then says by itself which
checkpoint to keep and why; the original grid file is left as it was (a marked copy is saved).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

HIGHLIGHT = (255, 122, 0)  # orange: readable on white labels and on most pictures
HIGHLIGHT_FILL = (255, 228, 196)
TEXT = (0, 0, 0)
MARKED_SUFFIX = "-recommended"


@dataclass(frozen=True)
class GridLayout:
    """Where the cells sit: row labels take ``pad_left`` pixels, column labels ``pad_top``."""

    cols: int
    rows: int
    cell_w: int
    cell_h: int
    pad_left: int
    pad_top: int

    def column_box(self, column: int) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1) of a whole column, its label included (inclusive corners)."""
        x0 = self.pad_left + column * self.cell_w
        return x0, 0, x0 + self.cell_w - 1, self.pad_top + self.rows * self.cell_h - 1


def layout_of(size: tuple[int, int], cols: int, rows: int, cell: tuple[int, int]) -> GridLayout:
    """The layout of a grid of ``size`` holding ``cols``×``rows`` cells of ``cell`` pixels.

    The webui's ``draw_grid_annotations`` (modules/images.py:151-236, margin 0) puts the labels
    left (0 or ¾ of a cell wide) and on top, with the cells flush after them: the pads are what
    the cells leave over."""
    if cols < 1 or rows < 1 or cell[0] < 1 or cell[1] < 1:
        raise ValueError(f"not a grid: {cols}×{rows} cells of {cell[0]}×{cell[1]}")
    pad_left = size[0] - cols * cell[0]
    pad_top = size[1] - rows * cell[1]
    if pad_left < 0 or pad_top < 0 or pad_left > cell[0]:
        raise ValueError(
            f"a {size[0]}×{size[1]} grid does not hold {cols}×{rows} cells of {cell[0]}×{cell[1]}"
        )
    return GridLayout(cols, rows, cell[0], cell[1], pad_left, pad_top)


def frame_width(layout: GridLayout) -> int:
    return max(2, min(layout.cell_w, layout.cell_h) // 40)


def mark_column(
    grid: Any, layout: GridLayout, column: int, notes: Sequence[str] = (), title: str = ""
) -> Any:
    """A copy of ``grid`` with ``column`` framed and, when ``notes`` are given (one per column), a
    strip under the grid with each note (``title`` leads the marked column's note)."""
    from PIL import Image, ImageDraw

    from lib_textinv.kit.pil_text import text_size, wrap_text

    if not 0 <= column < layout.cols:
        raise ValueError(f"column {column} is not in a grid of {layout.cols} columns")
    if notes and len(notes) != layout.cols:
        raise ValueError(f"{len(notes)} notes for {layout.cols} columns")
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    words = [w for n in [*notes, title] for w in n.split()]
    font = _fitting_font(probe, words, max(10, (layout.cell_w + layout.cell_h) // 25), layout.cell_w - 8)
    texts = [
        wrap_text(probe, f"{title} {n}".strip() if i == column else n, font, layout.cell_w - 8)
        for i, n in enumerate(notes)
    ]
    strip_h = max((text_size(probe, t, font)[1] for t in texts), default=0) + 16 if texts else 0
    out = Image.new("RGB", (grid.width, grid.height + strip_h), (255, 255, 255))
    out.paste(grid.convert("RGB"), (0, 0))
    draw = ImageDraw.Draw(out)
    x0, y0, x1, y1 = layout.column_box(column)
    top_of_strip = grid.height
    if strip_h:
        draw.rectangle((x0, top_of_strip, x1, top_of_strip + strip_h - 1), fill=HIGHLIGHT_FILL)
        for i, t in enumerate(texts):
            w, h = text_size(draw, t, font)
            cx = layout.pad_left + i * layout.cell_w + (layout.cell_w - w) // 2
            draw.multiline_text(
                (cx, top_of_strip + (strip_h - h) // 2), t, fill=TEXT, font=font, align="center"
            )
    draw.rectangle((x0, y0, x1, y1 + strip_h), outline=HIGHLIGHT, width=frame_width(layout))
    return out


def _fitting_font(probe: Any, words: Sequence[str], size: int, width: int) -> Any:
    """The grid's label size (as the webui sizes its labels), smaller where a word would not fit
    in a column: small cells must not push the notes past their frame."""
    from lib_textinv.kit.pil_text import load_font, text_size

    size = max(6, size)
    font = load_font(size)
    while size > 6 and any(text_size(probe, w, font)[0] > width for w in words):
        size -= 1
        font = load_font(size)
    return font


def marked_path(grid_path: str) -> str:
    """``00012-textinv-sweep-…png`` → ``00012-textinv-sweep-…-recommended.png`` (same folder)."""
    from pathlib import Path

    p = Path(grid_path)
    return str(p.with_name(f"{p.stem}{MARKED_SUFFIX}.png"))


def save_marked_grid(
    grid_path: str,
    cols: int,
    rows: int,
    cell: tuple[int, int],
    column: int,
    notes: Sequence[str],
    title: str,
    extra_infotext: str = "",
) -> str:
    """Mark ``column`` on the grid saved at ``grid_path`` and write the copy atomically beside it,
    with the grid's infotext (plus ``extra_infotext``) so PNG Info still reads it. Returns its path."""
    from PIL import Image

    with Image.open(grid_path) as im:
        im.load()
        infotext = str(im.info.get("parameters") or "")
    layout = layout_of(im.size, cols, rows, cell)
    marked = mark_column(im, layout, column, notes, title)
    return save_png_with_infotext(marked, marked_path(grid_path), infotext + extra_infotext)


def save_png_with_infotext(image: Any, path: str, infotext: str) -> str:
    """PNG with the infotext in the ``parameters`` text chunk (what the webui writes, so PNG Info
    reads it), atomically."""
    from PIL.PngImagePlugin import PngInfo

    from lib_textinv.kit.files import atomic_save_image

    info = PngInfo()
    info.add_text("parameters", infotext)
    atomic_save_image(image, path, format="PNG", pnginfo=info)
    return str(path)
