"""The Autopilot section in a real browser, on a host that can run every stage (the autopilot's
test host, served as the standalone app): Plan → change one value → Run → Report. Screenshots
``autopilot-plan`` and ``autopilot-report`` (kept in docs/screenshots with TEXTINV_SCREENSHOTS)."""

from __future__ import annotations

import shutil

import pytest

from lib_textinv.kit import clip_loader
from tests.autopilot.conftest import PHOTOS
from tests.autopilot.fakes import AutopilotHost
from tests.browser.conftest import open_page, serve
from tests.photos import write_photos

RUN_SECONDS = 120


@pytest.fixture
def world(tmp_path, monkeypatch):
    monkeypatch.setattr(clip_loader, "default_cache_dirs", lambda: [str(tmp_path / "no-clip")])
    monkeypatch.setattr(clip_loader, "hf_cache_dir", lambda: str(tmp_path / "no-hf"))
    folder = tmp_path / "pictures"
    paths = write_photos(folder, names=PHOTOS, size=(96, 80))
    (folder / "empty.png").write_bytes(b"")
    (folder / "notes.jpg").write_bytes(b"not a picture")
    shutil.copy(paths[0], folder / "astronaut-copy.jpg")
    host = AutopilotHost(tmp_path / "webui")
    with serve(host) as url:
        yield host, folder, url


def test_plan_change_a_value_run_and_read_the_report(browser, world, screenshot):
    host, folder, url = world
    with open_page(browser, url) as page:
        page.locator("#textinv-autopilot-folder textarea").fill(str(folder))
        page.locator("#textinv-autopilot-name textarea").fill("browserstyle")
        page.locator("#textinv-autopilot-plan-button").click()
        plan = page.locator("#textinv-autopilot-plan .textinv-autopilot-plan")
        plan.wait_for(timeout=60_000)
        assert plan.get_attribute("data-errors") == "0"
        text = plan.inner_text()
        assert "refused" in text and "empty.png" in text and "identical picture of astronaut-copy.jpg" in text
        assert "vectors" in text and "Time per stage" in text
        vectors = page.locator("#textinv-autopilot-vectors input")
        assert vectors.input_value() == "2"
        vectors.fill("3")  # the one value changed
        page.locator("#textinv-autopilot-boxes img").first.wait_for()
        screenshot(page, "autopilot-plan")
        page.locator("#textinv-autopilot-run").click()
        page.locator('#textinv-autopilot-status [data-status="done"]').wait_for(timeout=RUN_SECONDS * 1000)
        report = page.locator("#textinv-autopilot-report .tia-report")
        report.wait_for()
        body = report.inner_text()
        assert "Rule:" in body and "Type this in txt2img" in body
        to_type = page.locator("#textinv-autopilot-text textarea").input_value()
        assert to_type.startswith("drawing of a cat, browserstyle")
        assert report.locator("img").count() >= 6  # the crops and the grid, embedded
        assert host.db["browserstyle"]["vectors"] == 3
        screenshot(page, "autopilot-report")
