"""POST /textinv/v1/autopilot (plan, run, resume), the job routes, GET /autopilot/report; every bad
request is a 4xx naming the field, never a 500."""

from __future__ import annotations

import pytest

from lib_textinv.kit.ids import API_PREFIX
from tests.api_client import api_client, wait_job
from tests.autopilot.helpers import SHORT

URL = f"{API_PREFIX}/autopilot"


@pytest.fixture
def client(host):
    return api_client(host)


def test_plan_then_run_with_changes_then_report(client, photos):
    r = client.post(URL, json={"folder": str(photos), "name": "apistyle", "changes": SHORT})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["errors"] == [] and body["finished"] == []
    plan = body["plan"]
    assert plan["steps"] == 20 and plan["reasons"]["steps"] == "chosen by you"
    assert {i["name"] for i in plan["images"] if not i["usable"]} == {"empty.png", "notes.jpg", "cut.jpg"}
    plan["vectors"] = 3  # the plan given whole, edited
    r = client.post(URL, json={"folder": str(photos), "name": "apistyle", "plan": plan, "run": True})
    assert r.status_code == 200, r.text
    job = wait_job(client, r.json()["job_id"])
    assert job["status"] == "done", job
    result = job["result"]
    assert result["trigger"] and result["text_to_type"].endswith(result["trigger"])
    report = client.get(f"{URL}/report", params={"folder": str(photos), "name": "apistyle"})
    assert report.status_code == 200
    data = report.json()
    assert data["parameters"]["vectors"]["value"] == 3
    assert data["promoted"]["token"] == result["trigger"]
    again = client.post(URL, json={"folder": str(photos), "name": "apistyle", "resume": True, "run": True})
    assert wait_job(client, again.json()["job_id"])["result"]["stages"] == dict.fromkeys(
        data_stages(data), "kept"
    )


def data_stages(data):
    return [s["stage"] for s in data["stages"]]


def test_resume_without_a_run_is_refused(client, photos):
    r = client.post(URL, json={"folder": str(photos), "name": "never", "resume": True})
    assert r.status_code == 400 and "no run" in r.json()["detail"]


def test_report_of_no_run_is_404(client, photos):
    r = client.get(f"{URL}/report", params={"folder": str(photos), "name": "never"})
    assert r.status_code == 404


@pytest.mark.parametrize(
    "body, status, word",
    [
        ({"folder": "", "name": "x"}, 422, "folder"),
        ({"folder": "relative/path", "name": "x"}, 400, "absolute"),
        ({"folder": "/no/such/folder", "name": "x"}, 400, "folder"),
        ({"name": "x", "kind": "portrait"}, 422, "kind"),
        ({"name": "x", "colour": "red"}, 422, "colour"),
        ({"name": "../out"}, 400, "name"),
        ({"name": "x", "changes": {"vectors": "many"}}, 400, "vectors"),
        ({"name": "x", "changes": {"nope": 1}}, 400, "nope"),
        ({"name": "x", "plan": {"folder": 1}}, 400, "plan"),
        ({"name": "x", "plan": {"steps": "x"}}, 400, "plan"),
        ({"name": "x", "budget_minutes": -1}, 422, "budget"),
    ],
)
def test_bad_requests_are_4xx_naming_the_field(client, photos, body, status, word):
    r = client.post(URL, json={"folder": str(photos), **body})
    assert r.status_code == status, r.text
    assert word in r.text


def test_a_whole_plan_with_wrong_types_is_400(client, photos):
    plan = client.post(URL, json={"folder": str(photos), "name": "typed", "warmup": False}).json()["plan"]
    for key, value in (("steps", "many"), ("seeds", ["a"]), ("rates", {"train": ["x", "y"]}), ("width", 7)):
        r = client.post(URL, json={"folder": str(photos), "name": "typed", "plan": {**plan, key: value}})
        assert r.status_code == 400 and key in r.json()["detail"], (key, r.text)


def test_a_plan_for_another_folder_is_refused(client, photos, tmp_path):
    plan = client.post(URL, json={"folder": str(photos), "name": "typed", "warmup": False}).json()["plan"]
    other = tmp_path / "other"
    other.mkdir()
    r = client.post(URL, json={"folder": str(other), "name": "typed", "plan": plan, "run": True})
    assert r.status_code == 400 and "folder" in r.json()["detail"]
