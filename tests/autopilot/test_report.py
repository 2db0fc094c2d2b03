"""The report: one self-contained HTML file (every image embedded) and the same data as JSON in the
run folder, with the dataset, crops, captions, parameters and reasons, loss curves, the marked
grid, the scores, the rule that chose the step and the text for txt2img."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lib_textinv.autopilot import report, runner
from tests.autopilot.helpers import short_plan


@pytest.fixture
def ran(host, photos):
    plan = short_plan(host, photos)
    out = runner.run_plan(host, plan)
    return plan, out


def test_json_and_html_are_in_the_run_folder(ran):
    plan, out = ran
    folder = Path(plan.run_folder)
    data = json.loads((folder / report.REPORT_JSON).read_text(encoding="utf-8"))
    assert data == json.loads(report.to_json(out.report))
    page = (folder / report.REPORT_HTML).read_text(encoding="utf-8")
    sources = re.findall(r'src="([^"]*)"', page)
    assert sources and all(s.startswith("data:image/jpeg;base64,") for s in sources)
    assert "<link" not in page and "<script" not in page  # nothing to fetch: a file to share


def test_every_part_of_the_report(ran):
    plan, out = ran
    data = out.report
    assert [s["stage"] for s in data["stages"] if s["finished"]] == [s.name for s in runner.STAGES]
    assert all(s["decision"] for s in data["stages"])
    refused = {i["name"]: i["why"] for i in data["dataset"]["images"] if not i["usable"]}
    assert set(refused) == {"empty.png", "notes.jpg", "cut.jpg"} and all(refused.values())
    assert len(data["crops"]) == len(plan.kept) and all(c["image"] for c in data["crops"])
    assert data["captions"]["astronaut.png"] == "a woman in a space suit"  # the user's caption kept
    assert data["parameters"]["steps"] == {"value": 20, "reason": "chosen by you"}
    assert data["parameters"]["vectors"]["reason"].startswith("6 usable images")
    assert len(data["training"]["loss"]) == 20
    assert len(data["fixed_loss"]["points"]) == 4 and data["fixed_loss"]["candidates"]
    assert data["grid"]["marked"] and data["grid"]["image"]
    assert any(r["recommended"] for r in data["scores"]["checkpoints"])
    assert "CLIP-I" in data["choice"]["rule"] and data["choice"]["step"] in data["fixed_loss"]["candidates"]
    tx = data["txt2img"]
    assert tx["prompt"] == plan.prompts[0].replace("{}", data["promoted"]["token"])
    assert tx["infotext"].startswith(tx["prompt"] + "\n") and "Seed: 1234" in tx["infotext"]


def test_the_page_says_how_the_embedding_was_made(ran):
    plan, out = ran
    page = (Path(plan.run_folder) / report.REPORT_HTML).read_text(encoding="utf-8")
    for words in ("Choice", "Rule:", "Stages", "Dataset", "zero bytes", "Crops and captions", "Parameters",
                  "chosen by you", "Training loss", "Fixed-batch loss", "Grid", "Scores",
                  out.report["promoted"]["token"]):  # fmt: skip
        assert words in page, words


def test_a_failed_run_still_leaves_a_report_of_what_is_done(host, photos):
    plan = short_plan(host, photos)
    plan.template = "missing.txt"  # the pre-flight refuses: the run stops at training
    with pytest.raises(runner.AutopilotError, match="pre-flight"):
        runner.run_plan(host, plan)
    data = report.read(plan.run_folder)
    assert data is not None
    done = [s["stage"] for s in data["stages"] if s["finished"]]
    assert done == ["scan", "crop", "captions", "create"]
    assert data["choice"] == {} and data["txt2img"]["prompt"] == ""
