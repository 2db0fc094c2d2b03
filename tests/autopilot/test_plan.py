"""The plan: every decision from the sections' own rules, each with its reason; the user's edits."""

from __future__ import annotations

import pytest

from lib_textinv.autopilot.decide import PlanRequest, make_plan, refresh
from lib_textinv.autopilot.estimates import STAGES
from lib_textinv.autopilot.plan import PROMPTS, Plan, apply_edits, plan_errors
from lib_textinv.embedding.recommend import recommend
from lib_textinv.kit.folder_guard import BadFolder
from tests.autopilot.fakes import SIDE, AutopilotHost, write_pt


def test_usable_and_refused_images_each_with_the_reason(host, photos):
    plan = make_plan(host, PlanRequest(str(photos), "mystyle"))
    by_name = {i.name: i for i in plan.images}
    assert {n for n, i in by_name.items() if not i.usable} == {"empty.png", "notes.jpg", "cut.jpg"}
    assert "empty" in by_name["empty.png"].why.lower()
    assert all(i.why for i in plan.images)
    for img in plan.kept:
        x, y, w, h = img.box
        assert w == h and x >= 0 and x + w <= img.size[0] and y + h <= img.size[1]
    assert len(plan.kept) == 6 and (plan.width, plan.height) == (SIDE, SIDE)
    assert "native size" in plan.reasons["size"]


def test_vectors_steps_and_template_follow_the_sections_rules(host, photos):
    plan = make_plan(host, PlanRequest(str(photos), "mystyle"))
    assert plan.vectors == recommend(6, None, "SD1", 32).vectors
    assert "usable image" in plan.reasons["vectors"]
    assert plan.steps == 350 and plan.save_every == 50  # 6 images × 60 views, rounded (presets)
    assert plan.template == "style_filewords.txt" and plan.captions == "blip"
    assert plan.prompts == list(PROMPTS["style"]) and plan.seeds
    assert plan.trainer == "webui" and "ours cannot run here" in plan.reasons["trainer"]
    assert plan_errors(plan) == []


def test_subject_without_captioning_uses_the_template_without_filewords(tmp_path, photos):
    host = AutopilotHost(tmp_path / "w", caption=False)
    plan = make_plan(host, PlanRequest(str(photos), "mything", "subject"))
    assert plan.captions == "none" and "no captioning" in plan.reasons["captions"]
    assert plan.template == "subject.txt"
    assert plan.prompts == list(PROMPTS["subject"])


def test_every_stage_has_a_time_and_where_it_comes_from(host, photos):
    plan = make_plan(host, PlanRequest(str(photos), "mystyle"))
    assert [e.stage for e in plan.estimates] == list(STAGES)
    how = {e.stage: e.how for e in plan.estimates}
    assert how["scan"].startswith("measured") and how["crop"].startswith("measured")
    assert "warm-up" in how["sweep"] and "warm-up" in how["train"]
    assert plan.disk_bytes > len(plan.kept) * SIDE * SIDE


def test_a_budget_shortens_training_and_says_so(host, photos):
    plan = make_plan(host, PlanRequest(str(photos), "mystyle"))
    plan.rates["train"] = [1.0, "test"]  # one second per step: 350 steps do not fit 3 minutes
    plan = refresh(host, apply_edits(plan, {"budget_minutes": 3}))
    assert 100 <= plan.steps < 180 and plan.steps % plan.save_every == 0
    assert "budget" in plan.reasons["steps"] and "does not fit" not in plan.reasons["steps"]
    assert plan.total_seconds <= 3 * 60


def test_a_name_taken_by_someone_else_stops_the_run(host, photos):
    write_pt(host.root / "embeddings" / "taken.pt", __import__("torch").zeros(2, 32), name="taken", step=0)
    host.reload_embeddings()
    plan = make_plan(host, PlanRequest(str(photos), "taken"))
    assert plan.errors and plan_errors(plan)


@pytest.mark.parametrize("name", ["", "../up", "a/b"])
def test_a_bad_name_is_refused_before_anything(host, photos, name):
    with pytest.raises(ValueError, match="name"):
        make_plan(host, PlanRequest(str(photos), name))


def test_a_relative_folder_is_refused(host):
    with pytest.raises(BadFolder):
        make_plan(host, PlanRequest("pictures", "mystyle"))


def test_edits_change_values_and_say_who_chose(host, photos):
    plan = make_plan(host, PlanRequest(str(photos), "mystyle"))
    edited = apply_edits(plan, {"vectors": 5, "images": {"astronaut.jpg": {"excluded": True}}})
    assert edited.vectors == 5 and edited.reasons["vectors"] == "chosen by you"
    assert len(edited.kept) == len(plan.kept) - 1
    assert Plan.from_dict(edited.to_dict()) == edited


@pytest.mark.parametrize(
    "edits, word",
    [
        ({"colour": 1}, "colour"),
        ({"vectors": "five"}, "vectors"),
        ({"vectors": 0}, "vectors"),
        ({"kind": "portrait"}, "kind"),
        ({"images": {"nope.jpg": {"excluded": True}}}, "nope.jpg"),
        ({"images": {"astronaut.jpg": {"box": [1, 2]}}}, "box"),
    ],
)
def test_bad_edits_name_the_value(host, photos, edits, word):
    plan = make_plan(host, PlanRequest(str(photos), "mystyle"))
    with pytest.raises(ValueError, match=word):
        apply_edits(plan, edits)


def test_a_plan_without_checkpoints_or_prompts_cannot_run(host, photos):
    plan = make_plan(host, PlanRequest(str(photos), "mystyle"))
    bad = apply_edits(plan, {"steps": 10, "save_every": 50, "prompts": []})
    errors = " ".join(plan_errors(bad))
    assert "no checkpoint" in errors and "prompt" in errors


def test_the_template_and_prompts_follow_captions_and_kind_unless_chosen(host, photos):
    plan = make_plan(host, PlanRequest(str(photos), "mystyle"))
    plain = refresh(host, apply_edits(plan, {"captions": "none", "kind": "subject"}))
    assert plain.template == "subject.txt" and "no captions" in plain.reasons["template"]
    assert plain.prompts == list(PROMPTS["subject"])
    chosen = refresh(host, apply_edits(plan, {"captions": "none", "template": "style_filewords.txt"}))
    assert chosen.template == "style_filewords.txt"


def test_the_same_picture_twice_is_left_out_and_can_be_taken_back(host, photos):
    import shutil

    shutil.copy(photos / "chelsea.jpg", photos / "chelsea-again.jpg")
    plan = make_plan(host, PlanRequest(str(photos), "mystyle"))
    again = next(i for i in plan.images if i.name == "chelsea.jpg")  # sorted after its copy
    assert again.usable and again.excluded and "identical picture" in again.why
    assert len(plan.kept) == 6
    back = apply_edits(plan, {"images": {"chelsea.jpg": {"excluded": False}}})
    assert len(back.kept) == 7


@pytest.mark.parametrize(
    "steps, flat, n, expected",
    [
        ([50, 100, 150, 200, 250, 300], [150, 200, 250, 300], 4, [150, 200, 250, 300]),
        ([50, 100, 150, 200, 250, 300], [300], 4, [50, 150, 250, 300]),  # one flat step: others added
        ([50, 100, 150, 200, 250, 300], [], 3, [50, 150, 300]),
        ([5, 10, 15, 20, 25, 30, 35, 40], [10, 15, 20, 25, 30, 35, 40], 4, [10, 20, 30, 40]),
        ([5, 10], [10], 4, [5, 10]),
    ],
)
def test_candidate_steps(steps, flat, n, expected):
    from lib_textinv.autopilot.stages_judge import pick

    picked, why = pick(steps, flat, n)
    assert picked == expected and why
