"""Our own training loop on a tiny torch model (SD1-like and SDXL-like): it learns (the fixed-batch
loss falls), touches nothing but the vectors, writes checkpoints where Compare looks for them,
stops within a step, stops when the loss flattens, never saves a NaN, resumes with its optimizer
state, and gives the same result for the same seed."""

from __future__ import annotations

import datetime as dt

import pytest
import torch

from lib_textinv.kit.embedding_file import load_embedding, read_optimizer_state
from lib_textinv.kit.progress import Progress, RecordingProgress
from lib_textinv.train.outcome import RunStatus
from lib_textinv.train.own_run import run_own_training
from lib_textinv.train.run_files import list_checkpoints, run_settings
from tests.train.own_host import own_setup

NOW = dt.datetime(2026, 11, 25, 14, 0, 0)


def _run(host, args, progress=None):
    return run_own_training(host, args, progress or Progress(), now=lambda: NOW)


@pytest.mark.parametrize("family", ["SD1", "SDXL"])
def test_learns_and_changes_only_the_vectors(tmp_path, family):
    host, args = own_setup(tmp_path, family, steps=30, learn_rate="0.05")
    before = host.model.weights_checksum()
    flags = [p.requires_grad for m in host.model.modules for p in m.parameters()]
    out = _run(host, args)
    assert out.status is RunStatus.FINISHED and out.steps_done == 30 and out.trainer == "own"
    losses = [v for _s, v in out.fixed_losses]
    assert losses[-1] < losses[0] * 0.97, losses  # the fixed-batch loss fell
    assert host.model.weights_checksum() == before  # the model's own weights never change
    assert [p.requires_grad for m in host.model.modules for p in m.parameters()] == flags
    assert all(p.grad is None for m in host.model.modules for p in m.parameters())
    first = load_embedding(host.infos["toy"].filename)
    last = load_embedding(out.final_file)
    parts = first.vectors if isinstance(first.vectors, dict) else {"*": first.vectors}
    lparts = last.vectors if isinstance(last.vectors, dict) else {"*": last.vectors}
    for k in parts:  # every encoder's part learned
        assert not torch.equal(parts[k], lparts[k]), k


def test_checkpoints_where_compare_looks_and_named_by_their_step(tmp_path):
    host, args = own_setup(tmp_path, steps=12, save_embedding_every=5)
    out = _run(host, args)
    folder = tmp_path / "logs" / "2026-11-25" / "toy"
    assert out.run_folder == str(folder)
    steps = [n for n, _p in list_checkpoints(folder, "toy")]
    assert steps == [5, 10, 12]  # every 5, and the step reached
    for n, p in list_checkpoints(folder, "toy"):
        emb = load_embedding(p)
        assert emb.step == n and emb.stored_name == f"toy-{n}" and emb.sd_checkpoint == "0123456789"
        assert read_optimizer_state(p, {"*": emb.vectors}) is not None
    settings = run_settings(folder)  # what Scores reads to find the dataset and template
    assert settings["data_root"] == args.data_root and settings["trainer"] == "own"
    assert (
        (folder / "textual_inversion_loss.csv")
        .read_text()
        .startswith("step,epoch,epoch_step,loss,learn_rate")
    )
    rows = (folder / "textinv_fixed_loss.csv").read_text().splitlines()
    assert rows[0] == "step,fixed_loss,norm_*" and len(rows) == 1 + 1 + 12 // 2


def test_sdxl_checkpoints_are_two_part_safetensors(tmp_path):
    host, args = own_setup(tmp_path, "SDXL", steps=5)
    out = _run(host, args)
    assert out.final_file.endswith("toy-5.safetensors")
    emb = load_embedding(out.final_file)
    assert set(emb.vectors) == {"clip_l", "clip_g"} and emb.width == 20 and emb.step == 5


def test_stop_ends_within_a_step_and_keeps_the_last_checkpoint(tmp_path):
    host, args = own_setup(tmp_path, steps=50, save_embedding_every=100)
    out = _run(host, args, RecordingProgress(cancel_after=4))
    assert out.status is RunStatus.INTERRUPTED and out.steps_done == 4
    assert out.final_file.endswith("toy-4.pt") and load_embedding(out.final_file).step == 4


def test_stop_when_flat_ends_early_and_says_why(tmp_path):
    host, args = own_setup(tmp_path, steps=400, learn_rate="0.2", eval_every=2, stop_when_flat=True,
                           flat_threshold=0.2, save_embedding_every=0)  # fmt: skip
    out = _run(host, args)
    assert out.status is RunStatus.FINISHED and out.stop_reason == "flat"
    assert out.steps_done < 400 and "flattened" in out.message and "steps fewer" in out.message
    assert out.final_file.endswith(f"toy-{out.steps_done}.pt")


def test_nan_stops_the_run_and_nothing_with_nan_is_saved(tmp_path):
    host, args = own_setup(tmp_path, steps=30, eval_every=0, save_embedding_every=2, learn_rate="0.5")
    host.model.nan_at_step = 8  # the 8th loss call is NaN: after 7 good steps
    out = _run(host, args)
    assert out.status is RunStatus.FAILED and out.stop_reason == "non_finite"
    assert "NaN" in out.message and "learning rate of 0.5 is high" in out.error
    assert out.steps_done == 7
    folder = tmp_path / "logs" / "2026-11-25" / "toy"
    for _n, p in list_checkpoints(folder, "toy"):
        assert torch.isfinite(load_embedding(p).vectors).all(), p.name
    assert [n for n, _ in list_checkpoints(folder, "toy")] == [2, 4, 6, 7]


def test_resume_continues_from_the_newest_checkpoint_with_its_optimizer(tmp_path):
    host, args = own_setup(tmp_path, steps=6, save_embedding_every=3)
    _run(host, args)
    args.steps = 10
    out = _run(host, args)
    assert out.steps_done == 10
    folder = tmp_path / "logs" / "2026-11-25" / "toy"
    assert run_settings(folder)["initial_step"] == 6
    state = read_optimizer_state(out.final_file, {"*": load_embedding(out.final_file).vectors})
    assert int(state["state"][0]["step"]) == 10  # AdamW's count went on from 6, not from 0


def test_same_seed_same_embedding(tmp_path):
    results = []
    for run in ("a", "b"):
        host, args = own_setup(tmp_path / run, steps=8, latent_sampling_method="random", seed=11)
        results.append(load_embedding(_run(host, args).final_file).vectors)
    assert torch.equal(results[0], results[1])


def test_gradient_accumulation_and_clipping_run(tmp_path):
    host, args = own_setup(tmp_path, steps=4, batch_size=2, gradient_step=2, clip_grad_mode="norm",
                           clip_grad_value="1.0", flip_images=True)  # fmt: skip
    out = _run(host, args)
    assert out.status is RunStatus.FINISHED and out.steps_done == 4
    # 4 images + 4 mirrors, 2 per batch, 2 batches per step: 2 optimizer steps per epoch
    rows = (tmp_path / "logs" / "2026-11-25" / "toy" / "textual_inversion_loss.csv").read_text().split()
    assert [r.split(",")[1] for r in rows[1:]] == ["0", "0", "1", "1"]


def test_the_plot_shows_fixed_batch_loss_and_drift_per_part(tmp_path):
    from lib_textinv.train.display import plot_for

    host, args = own_setup(tmp_path, "SDXL", steps=6, save_embedding_every=3)
    out = _run(host, args)
    svg = plot_for(out.run_folder, "toy")
    assert "fixed-batch loss" in svg and "vector norm (clip_l)" in svg and "vector norm (clip_g)" in svg
    from lib_textinv.train.run_files import checkpoint_step_offset

    assert checkpoint_step_offset(out.run_folder) == 0  # ours stores step N in <name>-N


class _HalfPrecisionScaler:
    """What torch's GradScaler does on a GPU, on the CPU: a scale so high the first gradients are
    inf, the step skipped, the scale lowered."""

    def __init__(self) -> None:
        self.factor, self.found_inf, self.skips = float("inf"), False, 0

    def is_enabled(self) -> bool:
        return True

    def scale(self, loss):
        return loss * self.factor

    def unscale_(self, optimizer) -> None:
        grads = [p.grad for g in optimizer.param_groups for p in g["params"] if p.grad is not None]
        self.found_inf = not all(torch.isfinite(x).all() for x in grads)
        for x in grads:
            x.div_(self.factor)

    def step(self, optimizer) -> None:
        if self.found_inf:
            self.skips += 1
        else:
            optimizer.step()

    def update(self) -> None:
        if self.found_inf:
            self.factor = 1.0


def test_a_loss_scaler_skipping_inf_steps_is_not_a_nan_stop(tmp_path, monkeypatch):
    scaler = _HalfPrecisionScaler()
    monkeypatch.setattr("lib_textinv.train.own_loop.loss_scaler", lambda live: scaler)
    host, args = own_setup(tmp_path, steps=6, eval_every=0)
    out = _run(host, args)
    assert scaler.skips >= 1  # the first steps were skipped by the scaler …
    assert out.status is RunStatus.FINISHED and out.steps_done == 6  # … and the run went on
    assert torch.isfinite(load_embedding(out.final_file).vectors).all()
