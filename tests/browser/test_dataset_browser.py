"""The Dataset section in a real browser: scan a folder with good and bad files, read the table."""

from __future__ import annotations

from tests.badfiles import make_corpus
from tests.browser.conftest import open_section
from tests.photos import write_photos


def test_scan_shows_every_file_with_its_problem(page, tmp_path, screenshot):
    folder = tmp_path / "mixed"
    make_corpus(folder)
    write_photos(folder, ["chelsea", "rocket"])
    open_section(page, "Dataset")  # Autopilot is the first section
    page.locator("#textinv-dataset-folder textarea").fill(str(folder))
    page.locator("#textinv-dataset-scan").click()
    summary = page.locator("#textinv-dataset-summary .textinv-summary")
    summary.wait_for(timeout=60_000)
    assert summary.get_attribute("data-refused") == "11"
    text = summary.inner_text()
    assert "usable" in text and "11 refused" in text
    # 13 of 24 usable: amber (some refused), not red
    assert summary.get_attribute("data-outcome") == "some refused"
    assert "textinv-warn" in summary.get_attribute("class")
    table = page.locator("#textinv-dataset-table")
    table.get_by_text("zero bytes: the file is empty", exact=True).wait_for()
    # refused rows are highlighted (javascript/textinv_dataset.js + style.css), the others are not
    refused_rows = table.locator("tbody tr.textinv-row-refused")
    page.wait_for_function(
        "() => document.querySelectorAll('#textinv-dataset-table tbody tr.textinv-row-refused').length === 11"
    )
    assert refused_rows.filter(has_text="notes.png").count() == 1
    assert table.locator("tbody tr:not(.textinv-row-refused)").filter(has_text="grey.png").count() == 1
    cell = refused_rows.first.locator("td").first
    assert cell.evaluate("td => getComputedStyle(td).backgroundColor") == "rgba(220, 50, 50, 0.16)"
    assert table.get_by_text("not an image: the content looks like an HTML page", exact=True).count() == 1
    assert table.get_by_text("notes.png").count() == 1
    # the workflow bar picked up the folder for the next sections
    assert page.locator("#textinv-source-folder textarea").input_value() == str(folder)
    # thumbnails of usable images only
    assert page.locator("#textinv-dataset-gallery img").count() >= 10
    screenshot(page, "dataset")


def test_bad_folder_message(page, tmp_path):
    open_section(page, "Dataset")
    page.locator("#textinv-dataset-folder textarea").fill(str(tmp_path / "missing"))
    page.locator("#textinv-dataset-scan").click()
    page.locator("#textinv-dataset-summary").get_by_text("folder not found").wait_for(timeout=30_000)
