"""The crop editor in a real browser (standalone tab): Auto, drag the box, keyboard, export, and
check that the exported pixels come from the moved box."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from tests.browser.conftest import open_section
from tests.photos import photo, write_photos


def diff(a: Image.Image, b: Image.Image) -> float:
    return float(np.abs(np.asarray(a, dtype=np.int16) - np.asarray(b, dtype=np.int16)).mean())


def start_auto(page, folder: Path, size: int = 128) -> None:
    page.locator("#textinv-source-folder textarea").fill(str(folder))
    open_section(page, "Crop")
    for name in ("width", "height"):
        box = page.locator(f"#textinv-crop-{name} input")
        box.fill(str(size))
        box.press("Tab")
    page.locator("#textinv-crop-auto").click()
    page.locator("#textinv-crop-message").get_by_text("images ready").wait_for(timeout=60_000)
    page.locator("#textinv-crop-ui .textinv-crop-thumb img").first.wait_for(timeout=30_000)


def boxes_sent(page) -> dict:
    return json.loads(page.locator("#textinv-crop-boxes textarea").input_value())


def test_drag_the_box_then_export_uses_the_moved_box(page, tmp_path, screenshot):
    src = tmp_path / "photos"
    write_photos(src, ("chelsea", "rocket"), fmt="PNG")  # chelsea 451×300: a 300×300 box can slide
    start_auto(page, src)
    page.locator("#textinv-crop-ui .textinv-crop-thumb").first.click()
    box = page.locator("#textinv-crop-ui .textinv-crop-box")
    box.wait_for()
    before = [int(v) for v in box.get_attribute("data-box").split(",")]
    assert before[2] == before[3] == 300
    # Drag the box to the far left (further than the image allows: it must stop at the edge).
    bb = box.bounding_box()
    page.mouse.move(bb["x"] + bb["width"] / 2, bb["y"] + bb["height"] / 2)
    page.mouse.down()
    page.mouse.move(bb["x"] - 600, bb["y"] + bb["height"] / 2, steps=8)
    page.mouse.up()
    after = [int(v) for v in box.get_attribute("data-box").split(",")]
    assert after == [0, 0, 300, 300], after
    assert boxes_sent(page)["images"]["chelsea.png"]["box"] == [0, 0, 300, 300]
    screenshot(page, "crop-editor")
    page.locator("#textinv-crop-export").click()
    summary = page.locator("#textinv-crop-summary .textinv-summary")
    summary.wait_for(timeout=60_000)
    assert summary.get_attribute("data-written") == "2"
    out = Image.open(src / "128x128" / "chelsea.png").convert("RGB")
    moved = photo("chelsea").crop((0, 0, 300, 300)).resize((128, 128), Image.LANCZOS)
    auto = photo("chelsea").crop((before[0], 0, before[0] + 300, 300)).resize((128, 128), Image.LANCZOS)
    assert diff(out, moved) < 1.5
    if before[0] > 20:
        assert diff(out, auto) > diff(out, moved) + 3


def test_keyboard_navigation_resize_reset_exclude(page, tmp_path):
    src = tmp_path / "photos"
    write_photos(src, ("astronaut", "chelsea", "coffee"), fmt="JPEG")
    start_auto(page, src)
    thumbs = page.locator("#textinv-crop-ui .textinv-crop-thumb")
    thumbs.nth(1).click()
    stage = page.locator("#textinv-crop-ui .textinv-crop-stage")
    info = page.locator("#textinv-crop-ui .textinv-crop-info")
    assert "chelsea.jpg" in info.inner_text()
    box = page.locator("#textinv-crop-ui .textinv-crop-box")
    start = [int(v) for v in box.get_attribute("data-box").split(",")]
    # Arrow keys nudge (inside the image), R resets to Auto.
    stage.press("ArrowLeft")
    nudged = [int(v) for v in box.get_attribute("data-box").split(",")]
    assert nudged[0] < start[0] or start[0] == 0
    # Mouse wheel shrinks, keeping the aspect and staying inside.
    bb = stage.bounding_box()
    page.mouse.move(bb["x"] + bb["width"] / 2, bb["y"] + bb["height"] / 2)
    page.mouse.wheel(0, 200)
    smaller = [int(v) for v in box.get_attribute("data-box").split(",")]
    assert smaller[2] < start[2] and smaller[2] == smaller[3]
    stage.press("r")
    assert [int(v) for v in box.get_attribute("data-box").split(",")] == start
    # Delete excludes, Enter goes to the next image, PageUp back.
    stage.press("Delete")
    assert boxes_sent(page)["images"]["chelsea.jpg"]["excluded"] is True
    assert "excluded" in (thumbs.nth(1).get_attribute("class") or "")
    stage.press("Enter")
    assert "coffee.jpg" in info.inner_text()
    stage.press("PageUp")
    assert "chelsea.jpg" in info.inner_text()
    stage.press("Control+ArrowLeft")
    assert "astronaut.jpg" in info.inner_text()
    # Only window.textinv is defined by our scripts.
    assert page.evaluate("typeof window.textinv.crop.load") == "function"
