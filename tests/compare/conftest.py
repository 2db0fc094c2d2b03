"""Each test starts with no sweep or scoring job running, even after one failed half-way."""

from __future__ import annotations

import pytest

from lib_textinv.compare.sweep_run import SWEEP_KEY
from lib_textinv.scores.scoring import SCORES_KEY
from tests.sweep_fakes import end_leftover_jobs


@pytest.fixture(autouse=True)
def _no_job_left_running():
    yield
    end_leftover_jobs((SWEEP_KEY, SCORES_KEY))
