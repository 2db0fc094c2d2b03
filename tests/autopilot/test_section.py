"""The Autopilot section: it builds inside the tab (first), its handlers turn the form into a plan
(fields, pictures left out, the JSON box) and a run into a status line and a report."""

from __future__ import annotations

import json

from lib_textinv.autopilot import handlers
from lib_textinv.kit.ids import elem_id
from lib_textinv.tab import SECTIONS, build_tab
from tests.autopilot.helpers import SHORT


def test_the_tab_starts_with_the_autopilot(host):
    assert SECTIONS[0][1] == "autopilot"
    blocks = build_tab(host)
    ids = {getattr(b, "elem_id", None) for b in blocks.blocks.values()}
    assert {elem_id("autopilot-plan-button"), elem_id("autopilot-run"), elem_id("autopilot-report")} <= ids


def _planned(host, photos):
    out = handlers.do_plan(host, str(photos), "formstyle", "style", 0, 0)
    assert "Plan ready" in out[-1], out[-1]
    state, fields = out[0], out[3 : 3 + len(handlers.FIELDS)]
    return state, list(fields), out[-2]


def test_plan_fills_the_form(host, photos):
    state, fields, text = _planned(host, photos)
    values = dict(zip(handlers.FIELDS, fields, strict=True))
    assert values["steps"] == state["steps"] and values["prompts"].splitlines() == state["prompts"]
    assert json.loads(text) == state


def test_fields_left_out_pictures_and_the_json_box_change_the_plan(host, photos):
    state, fields, text = _planned(host, photos)
    values = dict(zip(handlers.FIELDS, fields, strict=True))
    values.update(vectors=4.0, seeds="7, 8", prompts="a boat, {}\n\n")
    edited = json.loads(text)
    edited["cfg_scale"] = 5.0
    plan = handlers.current_plan(host, state, json.dumps(edited), ["coffee.jpg"], *values.values())
    assert plan.vectors == 4 and plan.seeds == [7, 8] and plan.prompts == ["a boat, {}"]
    assert plan.cfg_scale == 5.0 and "coffee.jpg" not in {i.name for i in plan.kept}
    assert plan.reasons["vectors"] == "chosen by you"


def test_run_yields_the_status_then_the_report(host, photos):
    state, fields, text = _planned(host, photos)
    values = dict(zip(handlers.FIELDS, fields, strict=True))
    values.update(SHORT)
    outputs = list(handlers.do_run(host, state, text, [], *values.values()))
    status, page, to_type, path = outputs[-1]
    assert 'data-status="done"' in status and "tia-report" in page
    assert to_type.startswith("drawing of a cat, ") and path.endswith("report.html")
    resumed = list(handlers.do_resume(host, str(photos), "formstyle"))[-1]
    assert 'data-status="done"' in resumed[0]


def test_bad_input_is_a_message_not_an_error(host, photos):
    out = handlers.do_plan(host, "relative", "x", "style", 0, 0)
    assert "absolute" in out[-1] and all(isinstance(o, dict) for o in out[:-1])
    state, fields, _text = _planned(host, photos)
    first = next(handlers.do_run(host, state, "{not json", [], *fields))
    assert "textinv-bad" in first[0]
    values = dict(zip(handlers.FIELDS, fields, strict=True))
    values["seeds"] = "one, two"
    first = next(handlers.do_run(host, state, "", [], *values.values()))
    assert "seeds" in first[0]
    assert "make a plan first" in next(handlers.do_run(host, None, "", [], *fields))[0]
