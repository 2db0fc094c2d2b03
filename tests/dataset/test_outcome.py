"""The Dataset summary's colour follows the outcome of the scan: green when every image is usable,
amber when some are refused, red only when most (or all) are, or there is no image at all."""

from __future__ import annotations

import pytest

from lib_textinv.dataset.scan import Outcome, scan_folder
from lib_textinv.dataset.section import summary_html
from tests.photos import write_photos


def folder_with(tmp_path, good: int, bad: int):
    names = ["astronaut", "chelsea", "coffee", "rocket"][:good]
    write_photos(tmp_path, names, size=(64, 64))
    for i in range(bad):
        (tmp_path / f"broken{i}.jpg").write_text("<html>not a picture</html>")
    return tmp_path


@pytest.mark.parametrize(
    ("good", "bad", "outcome", "cls"),
    [
        (4, 0, Outcome.OK, "textinv-good"),
        (4, 1, Outcome.SOME_REFUSED, "textinv-warn"),  # most files usable: not red
        (2, 2, Outcome.SOME_REFUSED, "textinv-warn"),
        (1, 2, Outcome.MOST_REFUSED, "textinv-bad"),
        (0, 3, Outcome.MOST_REFUSED, "textinv-bad"),
        (0, 0, Outcome.MOST_REFUSED, "textinv-bad"),  # no image at all
    ],
)
def test_the_banner_colour_follows_the_outcome(tmp_path, good, bad, outcome, cls):
    report = scan_folder(folder_with(tmp_path, good, bad))
    assert report.outcome is outcome
    assert report.to_dict()["outcome"] == outcome.value
    banner = summary_html(report)
    assert f'class="textinv-summary {cls}"' in banner and f'data-outcome="{outcome.value}"' in banner
