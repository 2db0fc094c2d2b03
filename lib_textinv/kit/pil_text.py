"""Text on PIL images without bundling a font: the grid labels and the score strip."""

from __future__ import annotations

from typing import Any


def load_font(size: int) -> Any:
    """PIL's built-in font at ``size`` (Pillow ≥ 10.1). The webui pins Pillow 9.5, whose built-in
    font is a small fixed bitmap: there a system DejaVu Sans is used when installed."""
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:
        pass
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)  # found under /usr/share/fonts on Linux
    except OSError:
        return ImageFont.load_default()


def text_size(draw: Any, text: str, font: Any) -> tuple[int, int]:
    left, top, right, bottom = draw.multiline_textbbox((0, 0), text, font=font)
    return right - left, bottom - top


def wrap_text(draw: Any, text: str, font: Any, width: int) -> str:
    """Greedy word wrap to ``width`` pixels; a word wider than ``width`` is cut between letters."""
    lines, line = [], ""
    for word in text.split():
        for piece in _pieces(draw, word, font, width):
            trial = f"{line} {piece}".strip()
            if line and text_size(draw, trial, font)[0] > width:
                lines.append(line)
                line = piece
            else:
                line = trial
    lines.append(line)
    return "\n".join(lines)


def _pieces(draw: Any, word: str, font: Any, width: int) -> list[str]:
    pieces, piece = [], ""
    for ch in word:
        if piece and text_size(draw, piece + ch, font)[0] > width:
            pieces.append(piece)
            piece = ch
        else:
            piece += ch
    return [*pieces, piece]
