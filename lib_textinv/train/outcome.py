"""What really happened in a training run, decided from facts rather than from "it returned".

``train_embedding`` **swallows exceptions raised inside its training loop**: it reports "Error
training embedding" on the console and returns normally, without the final save
(docs/webui-contract.md §12 Training call). ``judge_outcome`` decides from the steps reached versus
the step the schedule ends at, whether ``<embeddings_dir>/<name>.pt`` was rewritten, the interrupt
flag and the console text the bridge captured.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

WEBUI_LOOP_ERROR = "Error training embedding"  # errors.report text of the swallowed exception
WEBUI_ALREADY_TRAINED = "already been trained beyond"  # state.textinfo when embedding.step >= steps


class RunStatus(str, Enum):
    FINISHED = "finished"
    INTERRUPTED = "interrupted"
    FAILED = "failed"


@dataclass
class RawTrainResult:
    """What the bridge observed around the webui call (plain values)."""

    exception: str | None = None  # "Type: message" of an exception that propagated (before the loop)
    console_error: str = ""  # text printed by errors.report / stderr while the call ran
    final_step: int | None = None  # embedding.step of the registered embedding after the call
    interrupted: bool = False  # shared.state.interrupted when the call returned
    message: str = ""  # shared.state.textinfo at return (e.g. "...already been trained beyond...")


@dataclass
class TrainOutcome:
    status: RunStatus
    message: str
    steps_done: int | None
    expected_steps: int
    error: str = ""
    run_folder: str | None = None
    checkpoints: list[str] = field(default_factory=list)  # written by this run, by step
    final_file: str | None = None
    final_saved: bool = False
    trainer: str = "webui"
    stop_reason: str = ""  # our trainer: finished | flat | interrupted | non_finite
    fixed_losses: list[list[float]] = field(default_factory=list)  # our trainer: [step, loss]
    peak_gpu_mb: float | None = None  # peak GPU memory of the run (CUDA only)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status": self.status.value}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainOutcome:
        return cls(**{**d, "status": RunStatus(d["status"])})


@dataclass(frozen=True)
class Observed:
    """The files around a run, as ``run_training`` saw them."""

    initial_step: int
    expected_final_step: int
    final_saved: bool
    final_file: str | None = None
    checkpoints: list[str] = field(default_factory=list)
    folder: str | None = None


def _tail(text: str, n: int = 4000) -> str:
    text = (text or "").strip()
    return text if len(text) <= n else "…" + text[-n:]


def judge_outcome(raw: RawTrainResult, seen: Observed) -> TrainOutcome:
    """Decide finished / interrupted / failed from what was observed — never "finished" unless
    the run reached its last step, was saved, and the webui reported no error."""
    steps, expected = raw.final_step, seen.expected_final_step
    error = _tail("\n".join(t for t in (raw.exception or "", raw.console_error) if t))

    def outcome(status: RunStatus, message: str, err: str = error) -> TrainOutcome:
        return TrainOutcome(
            status, message, steps, expected, err, seen.folder, seen.checkpoints, seen.final_file,
            seen.final_saved,
        )  # fmt: skip

    if raw.exception:
        if raw.interrupted:
            return outcome(
                RunStatus.INTERRUPTED, "interrupted while preparing the dataset; nothing was trained"
            )
        return outcome(RunStatus.FAILED, f"training failed before it started: {raw.exception}")
    if WEBUI_ALREADY_TRAINED in (raw.message or ""):
        return outcome(
            RunStatus.FAILED,
            f"nothing was trained: the embedding already has {seen.initial_step} steps and max steps is "
            f"{expected} (max steps counts from zero; raise it)",
        )
    where = f"step {steps}" if steps is not None else "an unknown step"
    swallowed = WEBUI_LOOP_ERROR in (raw.console_error or "")
    if raw.interrupted:
        if seen.final_saved and not swallowed:
            return outcome(RunStatus.INTERRUPTED, f"interrupted at {where}; saved to {seen.final_file}")
        return outcome(RunStatus.FAILED, f"interrupted at {where}, but the final save did not happen")
    reasons = []
    if steps is None or steps < expected:
        reasons.append(
            f"stopped at step {steps} of {expected} without an interrupt"
            if steps is not None
            else "the webui did not report the step it reached"
        )
    if not seen.final_saved:
        reasons.append("the final embedding was not saved")
    if swallowed:
        reasons.append("the webui reported an error inside its training loop")
    if reasons:
        err = error or "the webui printed no error text; look at the webui's console"
        return outcome(RunStatus.FAILED, "training failed: " + "; ".join(reasons), err)
    return outcome(RunStatus.FINISHED, f"finished at step {steps}; saved to {seen.final_file}")
