"""Dataset, Crop and Captions driven in Chromium inside the real webui page (TEXTINV_WEBUI_URL):
the same JS and handlers as in the standalone page (tests/browser), but built by the webui, next
to its own tabs and scripts, against its model, upscalers and BLIP.

The photos, exports and captions live under pytest's tmp_path; the one thing written into the
webui's data dir (Dataset's "Recent folders" list, <data-dir>/textinv/recent-folders.json) is put
back as it was."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.e2e.conftest import need
from tests.e2e.page import tab_in_webui
from tests.e2e.test_crop_e2e import checkerboard, webui_upscalers
from tests.photos import photo, write_photos

NOT_AN_IMAGE = b"<!DOCTYPE html><html><body>404 Not Found</body></html>"

pytestmark = pytest.mark.browser


def diff(a: Image.Image, b: Image.Image) -> float:
    return float(np.abs(np.asarray(a, dtype=np.int16) - np.asarray(b, dtype=np.int16)).mean())


# -- Dataset -------------------------------------------------------------------------------------


@pytest.fixture
def recent_folders(client) -> Iterator[tuple[Path, list[str]]]:
    """The webui's recent-folders file; afterwards the folders a test scanned are taken out again
    (and any entry they pushed past the list's limit put back)."""
    data_dir = client.get("/sdapi/v1/cmd-flags").json()["data_dir"]
    path = Path(data_dir) / "textinv" / "recent-folders.json"
    before = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    scanned: list[str] = []
    yield path, scanned
    if not path.is_file():
        return
    now = [f for f in json.loads(path.read_text(encoding="utf-8")) if f not in scanned]
    now += [f for f in before or [] if f not in now]
    if before is None and not now:
        path.unlink()
    else:
        path.write_text(json.dumps(now, indent=1), encoding="utf-8")


def test_dataset_scan_reports_the_folder(webui_url, recent_folders, tmp_path):
    recent_file, scanned = recent_folders
    folder = tmp_path / "photos"
    scanned.append(str(folder))
    good = write_photos(folder, ("astronaut", "chelsea", "coffee"), "JPEG")  # all ≥ 256 px
    write_photos(folder, ("brick",), "PNG", size=(32, 32))  # far below 256×256: a warning
    (folder / "broken.jpg").write_bytes(NOT_AN_IMAGE)  # refused
    (folder / "notes.txt").write_text("not an image", encoding="utf-8")  # a row: a caption without image
    with tab_in_webui(webui_url) as tab:
        root = tab.root
        tab.section("Dataset")
        root.locator("#textinv-section-dataset").get_by_text("Scan options").click()
        tab.number("textinv-dataset-width", 256)
        tab.number("textinv-dataset-height", 256)
        tab.textbox("textinv-dataset-folder").fill(str(folder))
        root.locator("#textinv-dataset-scan").click()
        summary = tab.html("textinv-dataset-summary").locator(".textinv-summary")
        summary.wait_for(timeout=60_000)
        counts = {k: summary.get_attribute(f"data-{k}") for k in ("usable", "warnings", "refused")}
        assert counts == {"usable": "4", "warnings": "1", "refused": "1"}, (counts, summary.inner_text())
        # one refused file of five: amber ("some refused"), not red; the refused row is highlighted
        assert summary.get_attribute("data-outcome") == "some refused"
        assert "textinv-warn" in summary.get_attribute("class")
        text = summary.inner_text().strip()
        assert text.startswith("4 usable, 1 with warnings, 1 refused"), text
        assert text.endswith("; 1 other entry (1 caption without image)"), text

        table = root.locator("#textinv-dataset-table")
        table.get_by_text("broken.jpg", exact=True).wait_for(timeout=30_000)
        rows = table.locator("tbody tr")
        listed = sorted(rows.nth(i).locator("td").first.inner_text().strip() for i in range(rows.count()))
        assert listed == sorted([p.name for p in good] + ["brick.png", "broken.jpg", "notes.txt"]), listed
        assert "not an image" in rows.filter(has_text="notes.txt").inner_text()
        tab.page.wait_for_function(
            "() => document.querySelectorAll('#tab_textinv #textinv-dataset-table tr.textinv-row-refused')"
            ".length === 1",
            timeout=30_000,
        )
        broken = rows.filter(has_text="broken.jpg").inner_text()
        assert "refused" in broken and "HTML" in broken, broken
        brick = rows.filter(has_text="brick.png").inner_text()
        assert "32×32" in brick and "warning" in brick, brick
        # thumbnails of the usable images only; the workflow bar now carries the folder to Crop
        tab.page.wait_for_function(
            "() => document.querySelectorAll('#tab_textinv #textinv-dataset-gallery img').length === 4",
            timeout=30_000,
        )
        assert tab.textbox("textinv-source-folder").input_value() == str(folder)
        tab.screenshot("webui-dataset")
        # …and remembers it in the webui's data dir, offered in "Recent folders"
        assert json.loads(recent_file.read_text(encoding="utf-8"))[0] == str(folder)
        root.locator("#textinv-dataset-recent input").click()
        root.locator("#textinv-dataset-recent ul.options li").first.wait_for(timeout=10_000)
        offered = [t.strip() for t in root.locator("#textinv-dataset-recent ul.options li").all_inner_texts()]
        assert offered[0] == str(folder), offered
        assert not tab.our_errors(), tab.errors


# -- Crop ----------------------------------------------------------------------------------------


def test_crop_auto_edit_and_export(client, webui_url, status, tmp_path):
    need(status, "upscale")
    src = tmp_path / "photos"
    write_photos(src, ("chelsea", "rocket"), fmt="PNG")  # chelsea 451×300: a 300×300 box can slide
    checkerboard(src / "board.png")  # 32×32: smaller than the 128×128 target, so it is upscaled
    (src / "broken.jpg").write_bytes(NOT_AN_IMAGE)
    dest = tmp_path / "prepared"
    expected_upscalers = [n for n in webui_upscalers(client) if n != "None"]
    assert "Nearest" in expected_upscalers, expected_upscalers

    with tab_in_webui(webui_url) as tab:
        root = tab.root
        tab.textbox("textinv-source-folder").fill(str(src))
        tab.section("Crop")
        tab.number("textinv-crop-width", 128)
        tab.number("textinv-crop-height", 128)
        tab.textbox("textinv-crop-destination").fill(str(dest))

        # the webui's upscalers, ours ("Lanczos", the default) first; pick Nearest
        pick = root.locator("#textinv-crop-upscaler input")
        pick.click()
        options = root.locator("#textinv-crop-upscaler ul.options li")
        options.first.wait_for(timeout=10_000)
        listed = [t.replace("✓", "").strip() for t in options.all_inner_texts()]
        assert listed[0] == "Lanczos", listed
        assert sorted(listed) == sorted(expected_upscalers), (listed, expected_upscalers)
        options.filter(has_text=re.compile(r"^\W*Nearest\s*$")).click()
        assert pick.input_value() == "Nearest"

        root.locator("#textinv-crop-auto").click()
        message = tab.html("textinv-crop-message")
        message.get_by_text("3 images ready for 128×128").wait_for(timeout=60_000)
        text = message.inner_text()
        assert "broken.jpg" in text, text
        assert "restored from" not in text, text  # there is no crops.json yet: nothing was restored
        thumbs = root.locator("#textinv-crop-ui .textinv-crop-thumb")
        tab.page.wait_for_function(
            "() => document.querySelectorAll('#tab_textinv #textinv-crop-ui .textinv-crop-thumb img')"
            ".length === 3",
            timeout=30_000,
        )
        assert sorted(thumbs.nth(i).get_attribute("data-name") for i in range(thumbs.count())) == [
            "board.png",
            "broken.jpg",
            "chelsea.png",
            "rocket.png",
        ]

        root.locator("#textinv-crop-ui .textinv-crop-thumb[data-name='chelsea.png']").click()
        box = root.locator("#textinv-crop-ui .textinv-crop-box")
        box.wait_for(timeout=10_000)
        assert "chelsea.png" in root.locator("#textinv-crop-ui .textinv-crop-info").inner_text()
        auto = [int(v) for v in box.get_attribute("data-box").split(",")]
        assert auto[1:] == [0, 300, 300], auto

        # drag the box past the right edge: it stops there (x = 451 - 300)
        box.scroll_into_view_if_needed()
        bb = box.bounding_box()
        tab.page.mouse.move(bb["x"] + bb["width"] / 2, bb["y"] + bb["height"] / 2)
        tab.page.mouse.down()
        tab.page.mouse.move(bb["x"] + bb["width"] / 2 + 800, bb["y"] + bb["height"] / 2, steps=8)
        tab.page.mouse.up()
        assert box.get_attribute("data-box") == "151,0,300,300"
        # arrow keys nudge by 1 % of the long side (5 px), Shift by 10×
        stage = root.locator("#textinv-crop-ui .textinv-crop-stage")
        stage.press("Shift+ArrowLeft")
        stage.press("ArrowLeft")
        stage.press("ArrowUp")  # already at the top: stays
        moved = [96, 0, 300, 300]
        assert [int(v) for v in box.get_attribute("data-box").split(",")] == moved
        sent = tab.wait_textarea(
            "textinv-crop-boxes", "JSON.parse(v).images['chelsea.png'].box.join() === '96,0,300,300'", 10_000
        )
        assert '"target":[128,128]' in sent, sent
        tab.screenshot("webui-crop-editor")

        root.locator("#textinv-crop-export").click()
        summary = tab.html("textinv-crop-summary").locator(".textinv-summary")
        summary.wait_for(timeout=120_000)
        got = {k: summary.get_attribute(f"data-{k}") for k in ("written", "upscaled", "failed")}
        assert got == {"written": "3", "upscaled": "1", "failed": "1"}, (got, summary.inner_text())
        # the workflow bar now carries the export to Captions and Train
        assert tab.textbox("textinv-prepared-folder").input_value() == str(dest)

        # Auto again: the moved box comes back from the export's crops.json
        root.locator("#textinv-crop-auto").click()
        message.get_by_text("restored from crops.json").wait_for(timeout=60_000)
        # the editor took the new state (Python marks the restored box as edited)
        tab.page.wait_for_function(
            "() => window.textinv.crop.state().items.some(i => i.name === 'chelsea.png' && i.edited)",
            timeout=10_000,
        )
        # only the moved box counts as an edit (the editor sent all three boxes)
        assert message.inner_text().startswith("3 images ready for 128×128; 1 edit restored"), (
            message.inner_text()
        )
        root.locator("#textinv-crop-ui .textinv-crop-thumb[data-name='chelsea.png']").click()
        assert box.get_attribute("data-box") == "96,0,300,300"
        assert not tab.our_errors(), tab.errors

    assert sorted(p.name for p in dest.glob("*.png")) == ["board.png", "chelsea.png", "rocket.png"]
    for p in dest.glob("*.png"):
        with Image.open(p) as im:
            assert im.size == (128, 128), (p.name, im.size)
    out = Image.open(dest / "chelsea.png").convert("RGB")
    want = photo("chelsea").crop((96, 0, 396, 300)).resize((128, 128), Image.LANCZOS)
    was = photo("chelsea").crop((auto[0], 0, auto[0] + 300, 300)).resize((128, 128), Image.LANCZOS)
    assert diff(out, want) < 1.5, diff(out, want)
    if abs(auto[0] - moved[0]) > 20:
        assert diff(out, was) > diff(out, want) + 3, (diff(out, was), diff(out, want))
    with Image.open(dest / "board.png") as board:  # the webui's Nearest did the enlarging
        assert len(board.convert("RGB").getcolors(128 * 128)) == 2


# -- Captions ------------------------------------------------------------------------------------


def test_captions_blip_then_edit_and_save(webui_url, status, tmp_path):
    need(status, "caption")
    folder = tmp_path / "prepared"
    photos = write_photos(folder, ("astronaut", "chelsea"), "JPEG", size=(64, 64))
    with tab_in_webui(webui_url) as tab:
        root = tab.root
        tab.textbox("textinv-prepared-folder").fill(str(folder))
        tab.section("Captions")
        caption = root.locator("#textinv-captions-caption")
        # built before the webui's model had loaded: enabled by the page-load refresh
        tab.page.wait_for_function(
            "() => { const b = document.querySelector('#tab_textinv #textinv-captions-caption');"
            " return !!b && !b.disabled; }",
            timeout=30_000,
        )
        assert root.locator("#textinv-captions-source input[value=BLIP]").is_checked()
        assert root.locator("#textinv-captions-stop").count() == 1  # captioning has its Stop
        caption.click()
        # BLIP on CPU with random weights: ~5-30 s per image
        status_text = tab.wait_textarea("textinv-captions-status", "/\\d+ written/.test(v)", 400_000)
        assert status_text.startswith("2 written"), status_text
        assert "failed" not in status_text, status_text
        written = {}
        for p in photos:
            txt = p.with_suffix(".txt")
            assert txt.is_file(), status_text
            written[p.name] = txt.read_text(encoding="utf-8").strip()
            assert written[p.name], p.name
        # the editor was reloaded with what BLIP wrote
        for i in range(2):
            name = root.locator(f"#textinv-captions-text-{i} label span").first.inner_text().strip()
            assert tab.textbox(f"textinv-captions-text-{i}").input_value().strip() == written[name], name
        tab.page.wait_for_function(
            "() => document.querySelectorAll('#tab_textinv #textinv-captions-image-0 img').length === 1",
            timeout=30_000,
        )

        first = root.locator("#textinv-captions-text-0 label span").first.inner_text().strip()
        other = next(n for n in written if n != first)
        tab.textbox("textinv-captions-text-0").fill("a test caption, edited in the page")
        root.locator("#textinv-captions-save-0").click()
        tab.wait_textarea("textinv-captions-status", "v.includes('Saved 1 caption file(s)')", 30_000)
        assert (folder / first).with_suffix(".txt").read_text(encoding="utf-8") == (
            "a test caption, edited in the page"
        )
        assert (folder / other).with_suffix(".txt").read_text(encoding="utf-8").strip() == written[other]
        tab.screenshot("webui-captions")
        assert not tab.our_errors(), tab.errors
