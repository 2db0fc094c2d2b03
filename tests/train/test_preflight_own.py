"""Pre-flight with our trainer: SDXL passes, the webui-only options are refused, the resume point
and an embedding already at max steps are found, a template without [name] and an embedding made
on another model are caught."""

from __future__ import annotations

import datetime as dt

from lib_textinv.kit.embedding_file import write_embedding
from lib_textinv.kit.host import Unavailable
from lib_textinv.kit.progress import Progress
from lib_textinv.train.own_run import run_own_training
from lib_textinv.train.preflight import run_preflight
from tests.train.own_host import own_setup

NOW = dt.datetime(2026, 11, 25, 14, 0, 0)


def _keys(rep, level):
    return {c.key for c in rep.checks if c.level.value == level}


def test_sdxl_passes_with_our_trainer(tmp_path):
    host, args = own_setup(tmp_path, "SDXL")
    rep = run_preflight(host, args, now=NOW)
    assert rep.ok, rep.to_markdown()
    assert any("our trainer" in c.title for c in rep.checks if c.key == "model")


def test_no_train_model_is_an_error_with_the_reason(tmp_path):
    host, args = own_setup(tmp_path)

    def refuse():
        raise Unavailable("the webui runs with --lowvram")

    host.train_model = refuse  # type: ignore[method-assign]
    rep = run_preflight(host, args, now=NOW)
    assert not rep.ok and "--lowvram" in " ".join(c.title for c in rep.errors)


def test_webui_only_options_are_refused(tmp_path):
    host, args = own_setup(tmp_path, varsize=True, use_weight=True, stop_when_flat=True, eval_every=0)
    rep = run_preflight(host, args, now=NOW)
    assert {"varsize", "use_weight", "stop_when_flat"} <= _keys(rep, "error")


def test_resume_point_and_already_at_max_steps(tmp_path):
    host, args = own_setup(tmp_path, steps=6, save_embedding_every=3)
    run_own_training(host, args, Progress(), now=lambda: NOW)
    rep = run_preflight(host, args, now=NOW)  # the newest checkpoint is at 6 = max steps
    assert "steps" in _keys(rep, "error") and "toy-6" in " ".join(c.title for c in rep.errors)
    args.steps = 9
    rep = run_preflight(host, args, now=NOW)
    assert rep.ok and rep.initial_step == 6 and rep.final_step == 9
    args.resume = False
    assert run_preflight(host, args, now=NOW).initial_step == 0


def test_template_without_name(tmp_path):
    host, args = own_setup(tmp_path)
    (host.tdir / "style_filewords.txt").write_text("a painting of [filewords]\n", encoding="utf-8")
    rep = run_preflight(host, args, now=NOW)
    assert "template-name" in _keys(rep, "error")


def test_embedding_made_on_another_model_is_a_warning(tmp_path):
    host, args = own_setup(tmp_path)
    info = host.infos["toy"]
    import torch

    write_embedding(info.filename, {"*": torch.zeros(2, 16)}, name="toy", step=0, sd_checkpoint="ffffffffff",
                    sd_checkpoint_name="other-model")  # fmt: skip
    rep = run_preflight(host, args, now=NOW)
    assert rep.ok and "base-model" in _keys(rep, "warning")
    assert "other-model" in " ".join(c.title for c in rep.warnings)


def test_collisions_follow_our_trainers_checkpoint_names(tmp_path):
    from lib_textinv.train.run_files import own_checkpoint_steps, planned_checkpoint_steps

    assert own_checkpoint_steps(0, 12, 5) == [5, 10, 12]
    assert own_checkpoint_steps(5, 10, 5) == [10]
    assert planned_checkpoint_steps(0, 12, 5) == [5, 10]  # the webui's -N stores step N-1
    host, args = own_setup(tmp_path, steps=12, save_embedding_every=5, resume=False)
    folder = tmp_path / "logs" / "2026-11-25" / "toy" / "embeddings"
    folder.mkdir(parents=True)
    (folder / "toy-12.pt").write_bytes(b"x")  # ours would write -12 at its last step
    rep = run_preflight(host, args, now=NOW)
    assert "collision" in _keys(rep, "error")
