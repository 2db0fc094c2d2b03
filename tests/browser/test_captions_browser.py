"""The Captions section in a real browser: edit one caption and save it; bulk replace and save all;
caption with a progress bar and stop it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from lib_textinv.captions import files as cf
from tests.browser.conftest import open_page, open_section, serve
from tests.captions.fakes import GatedCaptionHost
from tests.photos import write_photos


def status_is(page, text: str, timeout: int) -> None:
    expect(page.locator("#textinv-captions-status textarea")).to_have_value(
        re.compile(re.escape(text)), timeout=timeout
    )


def _load(page, folder):
    page.locator("#textinv-prepared-folder textarea").fill(str(folder))
    open_section(page, "Captions")
    page.locator("#textinv-captions-load").click()
    status_is(page, "images in", 60_000)


def test_edit_one_caption_and_save(page, tmp_path, screenshot):
    folder = tmp_path / "prepared"
    write_photos(folder, ["astronaut", "chelsea"], size=(128, 128))
    cf.write_caption(folder / "astronaut.jpg", "an astronaut, flag", "overwrite")
    _load(page, folder)
    box = page.locator("#textinv-captions-text-0 textarea")
    assert box.input_value() == "an astronaut, flag"
    assert page.locator("#textinv-captions-image-0 img").count() == 1
    page.locator("#textinv-captions-text-1 textarea").fill("a tabby cat, looking up")
    page.locator("#textinv-captions-save-1").click()
    status_is(page, "Saved 1 caption file(s)", 30_000)
    assert (folder / "chelsea.txt").read_text(encoding="utf-8") == "a tabby cat, looking up"
    assert (folder / "astronaut.txt").read_text(encoding="utf-8") == "an astronaut, flag"
    screenshot(page, "captions-edit")


def test_bulk_replace_then_save_all(page, tmp_path, screenshot):
    folder = tmp_path / "prepared"
    write_photos(folder, ["astronaut", "chelsea", "coffee"], size=(128, 128))
    cf.write_caption(folder / "astronaut.jpg", "a photo of a man, flag", "overwrite")
    cf.write_caption(folder / "chelsea.jpg", "a photo of a cat", "overwrite")
    cf.write_caption(folder / "coffee.jpg", "a cup", "overwrite")
    _load(page, folder)
    page.locator("#textinv-captions-find textarea").fill("a photo of ")
    page.locator("#textinv-captions-replace-with textarea").fill("")
    page.locator("#textinv-captions-replace-preview").click()
    status_is(page, "2 match(es) in 2 caption(s)", 30_000)
    page.locator("#textinv-captions-replace-apply").click()
    status_is(page, "changed 2 caption(s)", 30_000)
    assert page.locator("#textinv-captions-text-0 textarea").input_value() == "a man, flag"
    assert (folder / "chelsea.txt").read_text(encoding="utf-8") == "a photo of a cat"  # not saved yet
    page.locator("#textinv-captions-save-all").click()
    status_is(page, "Saved 2 caption file(s)", 30_000)
    assert (folder / "astronaut.txt").read_text(encoding="utf-8") == "a man, flag"
    assert (folder / "chelsea.txt").read_text(encoding="utf-8") == "a cat"
    assert (folder / "coffee.txt").read_text(encoding="utf-8") == "a cup"
    screenshot(page, "captions-bulk")


@pytest.fixture
def captioning_page(browser, tmp_path):
    """The standalone tab over a host that can caption (a fake model that waits in its second
    call until released), in its own server: the page and the host."""
    host = GatedCaptionHost(state_dir=str(tmp_path / "state"))
    with serve(host) as url, open_page(browser, url) as pg:
        yield pg, host
    host.model.release.set()  # never leave the model waiting, whatever the test did


def test_caption_shows_progress_and_stop_keeps_what_was_written(captioning_page, tmp_path, screenshot):
    page, host = captioning_page
    folder = tmp_path / "prepared"
    write_photos(folder, ["astronaut", "chelsea", "coffee"], size=(128, 128))
    page.locator("#textinv-prepared-folder textarea").fill(str(folder))
    open_section(page, "Captions")
    page.locator("#textinv-captions-mode").get_by_text("Overwrite", exact=True).click()
    batch = page.locator("#textinv-captions-batch-size input[type=number]")
    batch.fill("1")
    batch.press("Enter")
    page.locator("#textinv-captions-caption").click()
    host.wait_for_second_batch()
    # while the second image is captioned: the bar shows one of three done, with our ETA
    bar = page.locator("#textinv-captions-status .progress-level-inner")
    expect(bar).to_contain_text(re.compile(r"^\s*1/3, ETA \d+ s"), timeout=30_000)
    screenshot(page, "captions-progress")
    page.locator("#textinv-captions-stop").click()
    # the click only sends the request: let the model go on once the Stop has reached the job
    assert host.interrupted.wait(30), "Stop never reached the server"
    host.model.release.set()
    status_is(page, "interrupted — the captions written so far are kept: 1 written", 30_000)
    assert [p.name for p in folder.glob("*.txt")] == ["astronaut.txt"]
    assert page.locator("#textinv-captions-text-0 textarea").input_value() == "a photo, 128 px wide"
    assert host.interrupts == 1
