"""Every workflow section renders in the standalone tab (none shows "failed to load"), and the
sections that need the webui say why instead of offering dead buttons."""

from __future__ import annotations

import pytest

from tests.browser.conftest import open_section

SECTIONS = ["Autopilot", "Dataset", "Crop", "Captions", "Embedding", "Train", "Compare"]


def test_sections_are_in_workflow_order(page):
    labels = [b.inner_text().strip() for b in page.locator("#textinv-sections .tab-nav button").all()]
    assert labels == SECTIONS


@pytest.mark.parametrize("label", SECTIONS)
def test_section_renders(page, label, screenshot):
    open_section(page, label)
    panel = page.locator(f"#textinv-section-{label.lower()}")
    panel.wait_for(timeout=30_000)
    assert "This section failed to load" not in panel.inner_text()
    screenshot(page, f"section-{label.lower()}")


def test_train_section_explains_standalone(page):
    open_section(page, "Train")
    assert "webui" in page.locator("#textinv-section-train").inner_text().lower()
