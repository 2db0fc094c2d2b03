"""The bridge's training call against the contract double's trainer, which behaves like v1.10.1's
(docs/webui-contract.md §12-§14): a run that finishes, one the user interrupts, and one whose loop
error the webui swallows (reported on its console, then a normal return without the final save)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lib_textinv.kit.embedding_file import load_embedding
from lib_textinv.kit.progress import Progress
from lib_textinv.train.call import run_training
from lib_textinv.train.params import TrainArgs

NAME = "zq-style"


@pytest.fixture
def trainable(host, webui):
    """An embedding created and loaded through the bridge, ready to train."""

    def create(p: Progress) -> str:
        path = host.create_embedding(NAME, 2, "charcoal drawing", False)
        host.reload_embeddings(True)
        return path

    return host.run_job("create", create)


def _args(photo_dir: Path, log: Path, **kw) -> TrainArgs:
    values = {
        "embedding_name": NAME,
        "data_root": str(photo_dir),
        "log_directory": str(log),
        "steps": 8,
        "save_embedding_every": 4,
        "create_image_every": 0,
        "template_filename": "style_filewords.txt",
        **kw,
    }
    return TrainArgs(**values)


def _train(host, args: TrainArgs):
    return host.run_job(
        "train", lambda p: run_training(host, args, p, initial_step=0, expected_final_step=args.steps)
    )


def _steps_in(paths: list[str]) -> list[tuple[str, int | None]]:
    return [(Path(p).name, load_embedding(p).step) for p in paths]


def test_a_finished_run_writes_its_checkpoints_and_the_final_file(
    host, webui, trainable, photo_dir, tmp_path
):
    outcome = _train(host, _args(photo_dir, tmp_path / "log"))

    assert outcome.status == "finished", outcome.message
    assert (outcome.steps_done, outcome.expected_steps, outcome.final_saved) == (8, 8, True)
    # <name>-<N>.pt is written when N = step + 1, so it holds step N-1 (§14).
    assert _steps_in(outcome.checkpoints) == [(f"{NAME}-4.pt", 3), (f"{NAME}-8.pt", 7)]
    assert Path(outcome.final_file) == Path(trainable) and load_embedding(trainable).step == 8
    assert outcome.error == ""
    # the run folder the extension created before the call holds the webui's settings file
    assert list(Path(outcome.run_folder).glob("settings-*.json"))
    # the database was reloaded from the files: the token is the embedding again, at its final step
    (info,) = [e for e in host.embeddings() if e.name == NAME]
    assert (info.step, info.loaded) == (8, True)
    assert webui.sd_hijack.model_hijack.embedding_db.word_embeddings[NAME].name == NAME


def test_the_train_tabs_message_and_the_step_reached_are_read_back(
    host, webui, trainable, photo_dir, tmp_path
):
    # (checkpoints every step: the trainer then creates the run folder itself, §13)
    args = _args(photo_dir, tmp_path / "log", steps=3, save_embedding_every=1)
    raw = host.run_job("train", lambda p: host.train(args, p))

    assert raw.message.split() == f"Training finished at 3 steps. Embedding saved to {trainable}".split()
    assert (raw.final_step, raw.interrupted, raw.exception, raw.console_error) == (3, False, None, "")


def test_a_denser_loss_csv_is_asked_for_one_run_only(host, webui, trainable, photo_dir, tmp_path):
    args = _args(photo_dir, tmp_path / "log", steps=3, save_embedding_every=1)
    host.run_job("train", lambda p: host.train(args, p, loss_csv_every=1))

    (csv,) = (tmp_path / "log").rglob("textual_inversion_loss.csv")
    assert [ln.split(",")[0] for ln in csv.read_text().splitlines()] == ["step", "1", "2", "3"]
    assert webui.shared.opts.training_write_csv_every == 500  # the user's value is back


def test_a_swallowed_loop_error_is_reported_as_failed_with_the_console_error(
    host, webui, trainable, photo_dir, tmp_path, monkeypatch, capsys
):
    monkeypatch.setitem(webui.ti.FAULT, "mode", "loop-error")
    before = load_embedding(trainable)

    outcome = _train(host, _args(photo_dir, tmp_path / "log"))

    assert outcome.status == "failed"
    assert "the webui reported an error inside its training loop" in outcome.message
    assert "Error training embedding" in outcome.error
    assert "RuntimeError: CUDA out of memory (double)" in outcome.error  # the traceback it printed
    assert not outcome.final_saved and load_embedding(trainable).step == before.step
    assert _steps_in(outcome.checkpoints) == [(f"{NAME}-4.pt", 3)]  # what it wrote before the error
    assert "*** Error training embedding" in capsys.readouterr().err  # still on the webui's console
    # the live object was left renamed "<name>-4"; the reload puts the file's embedding back
    assert webui.sd_hijack.model_hijack.embedding_db.word_embeddings[NAME].name == NAME


def test_an_interrupted_run_is_saved_where_it_stopped(
    host, webui, trainable, photo_dir, tmp_path, monkeypatch
):
    monkeypatch.setitem(webui.ti.FAULT, "mode", "interrupt")

    outcome = _train(host, _args(photo_dir, tmp_path / "log"))

    assert outcome.status == "interrupted", outcome.message
    assert (outcome.steps_done, outcome.final_saved) == (4, True)
    assert load_embedding(trainable).step == 4


def test_an_error_before_the_loop_is_the_runs_outcome(host, webui, trainable, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()

    outcome = _train(host, _args(empty, tmp_path / "log"))

    assert outcome.status == "failed"
    assert "AssertionError: Dataset directory is empty" in outcome.message
