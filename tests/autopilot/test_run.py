"""A whole autopilot run on the fake host: every stage, the promoted trigger, the report."""

from __future__ import annotations

import json
from pathlib import Path

from lib_textinv.autopilot.decide import PlanRequest, make_plan
from lib_textinv.autopilot.runner import run_plan


def test_one_run_from_photos_to_a_promoted_trigger(host, photos):
    plan = make_plan(host, PlanRequest(str(photos), "mystyle", "style"))
    plan.steps, plan.save_every = 20, 5
    out = run_plan(host, plan)
    assert set(out.stages.values()) == {"done"}, out.stages
    promoted = out.report["promoted"]
    assert Path(promoted["path"]).is_file()
    print(json.dumps(out.to_dict(), indent=1))
