"""The call into the webui's ``train_embedding`` and what really happened afterwards.

``train_embedding`` (modules/textual_inversion/textual_inversion.py:400-688, v1.10.1) takes 30
positional parameters without defaults and asserts some types (``int`` counts, ``str`` rates;
webui-api.md §3.8, §3.17). It **swallows exceptions raised inside its training loop** (reports
"Error training embedding" on the console and returns normally, without the final save; §0.5), so
"it returned" never means "it finished". ``judge_outcome`` decides from the facts: steps reached
versus the step the schedule ends at, whether ``<embeddings_dir>/<name>.pt`` was rewritten, the
interrupt flag and the console text the bridge captured.

v1.6.x takes ``preview_sampler_index`` (an int index into ``sd_samplers.samplers``) as parameter
26 (index 25); v1.7.0+ takes ``preview_sampler_name`` (str).
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Protocol

from lib_textinv.kit.host import EmbeddingInfo, HostPaths, ModelFacts
from lib_textinv.kit.progress import Progress

logger = logging.getLogger(__name__)

# train_embedding's parameters in order (textual_inversion.py:400, v1.10.1).
PARAMETERS = (
    "id_task",
    "embedding_name",
    "learn_rate",
    "batch_size",
    "gradient_step",
    "data_root",
    "log_directory",
    "training_width",
    "training_height",
    "varsize",
    "steps",
    "clip_grad_mode",
    "clip_grad_value",
    "shuffle_tags",
    "tag_drop_out",
    "latent_sampling_method",
    "use_weight",
    "create_image_every",
    "save_embedding_every",
    "template_filename",
    "save_image_with_stored_embedding",
    "preview_from_txt2img",
    "preview_prompt",
    "preview_negative_prompt",
    "preview_steps",
    "preview_sampler_name",
    "preview_cfg_scale",
    "preview_seed",
    "preview_width",
    "preview_height",
)
SAMPLER_PARAM_INDEX = 25
PARAMETERS_V1_6 = (*PARAMETERS[:25], "preview_sampler_index", *PARAMETERS[26:])

CLIP_GRAD_MODES = ("disabled", "value", "norm")
LATENT_SAMPLING = ("once", "deterministic", "random")
WEBUI_LOOP_ERROR = "Error training embedding"  # errors.report text of the swallowed exception
WEBUI_ALREADY_TRAINED = "already been trained beyond"  # state.textinfo when embedding.step >= steps


@dataclass
class TrainArgs:
    """The 30 parameters, typed as the webui asserts/uses them. Defaults follow the webui's Train
    tab except where the presets (train_presets) choose otherwise."""

    embedding_name: str
    data_root: str
    log_directory: str
    id_task: str = ""
    learn_rate: str = "0.005"
    batch_size: int = 1
    gradient_step: int = 1
    training_width: int = 512
    training_height: int = 512
    varsize: bool = False
    steps: int = 1500
    clip_grad_mode: str = "disabled"
    clip_grad_value: str = "0.1"
    shuffle_tags: bool = True
    tag_drop_out: float = 0.1
    latent_sampling_method: str = "deterministic"
    use_weight: bool = False
    create_image_every: int = 50
    save_embedding_every: int = 50
    template_filename: str = "style_filewords.txt"
    save_image_with_stored_embedding: bool = True
    preview_from_txt2img: bool = False
    preview_prompt: str = ""
    preview_negative_prompt: str = ""
    preview_steps: int = 20
    preview_sampler_name: str = "Euler a"
    preview_cfg_scale: float = 7.0
    preview_seed: int = -1
    preview_width: int = 512
    preview_height: int = 512

    # -- types -------------------------------------------------------------------------------
    @classmethod
    def coerce(cls, **values) -> TrainArgs:
        """From UI/JSON values: whole-number floats (a ``gr.Number`` gives 5.0) become ``int``,
        numbers given for ``learn_rate``/``clip_grad_value`` become strings. Anything else that
        does not fit raises ``TypeError`` naming the parameter."""
        kinds = {f.name: f.type for f in fields(cls)}
        out = {}
        for k, given in values.items():
            v = given
            if k not in kinds:
                raise TypeError(f"unknown training parameter {k!r}")
            t = kinds[k]
            if t == "int" and isinstance(v, float):
                if not v.is_integer():
                    raise TypeError(f"{k} must be a whole number, got {v}")
                v = int(v)
            elif t == "float" and isinstance(v, int) and not isinstance(v, bool):
                v = float(v)
            elif t == "str" and k in ("learn_rate", "clip_grad_value") and isinstance(v, int | float):
                v = repr(v) if isinstance(v, float) else str(v)
            elif t == "str" and v is None:
                v = ""
            out[k] = v
        args = cls(**out)
        args.check_types()
        return args

    def check_types(self) -> None:
        """Raise ``TypeError`` where the webui would assert or crash on a type."""
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "id_task":
                continue
            ok = {
                "int": isinstance(v, int) and not isinstance(v, bool),
                "float": isinstance(v, float),
                "bool": isinstance(v, bool),
                "str": isinstance(v, str),
            }[f.type]
            if not ok:
                raise TypeError(f"{f.name} must be {f.type}, got {type(v).__name__} {v!r}")
        if self.clip_grad_mode not in CLIP_GRAD_MODES:
            raise TypeError(f"clip_grad_mode must be one of {', '.join(CLIP_GRAD_MODES)}")
        if self.latent_sampling_method not in LATENT_SAMPLING:
            raise TypeError(f"latent_sampling_method must be one of {', '.join(LATENT_SAMPLING)}")

    # -- the call ----------------------------------------------------------------------------
    def to_positional(self, version: str | None = None, sampler_names: list[str] | None = None) -> list:
        """The 30 positional arguments for ``train_embedding`` of that webui version."""
        self.check_types()
        values = [getattr(self, name) for name in PARAMETERS]
        if uses_sampler_index(version):
            values[SAMPLER_PARAM_INDEX] = sampler_index(
                self.preview_sampler_name, sampler_names or [], required=self.preview_from_txt2img
            )
        return values

    def to_kwargs(self, version: str | None = None, sampler_names: list[str] | None = None) -> dict:
        names = PARAMETERS_V1_6 if uses_sampler_index(version) else PARAMETERS
        return dict(zip(names, self.to_positional(version, sampler_names), strict=True))

    def to_dict(self) -> dict:
        return asdict(self)


def parse_version(version: str | None) -> tuple[int, int, int] | None:
    """ "v1.10.1", "1.6.0-RC", "v1.7.0-2-gabc" → (1, 10, 1); unparsable → None."""
    m = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", version or "")
    return (int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)) if m else None


def uses_sampler_index(version: str | None) -> bool:
    """True for webui 1.6.x and older (unknown versions are treated as current)."""
    v = parse_version(version)
    return v is not None and v[:2] < (1, 7)


def sampler_index(name: str, sampler_names: list[str], required: bool) -> int:
    """v1.6 wants ``sd_samplers.samplers[index]``; unused (0) when previews don't use txt2img."""
    lowered = [s.lower() for s in sampler_names]
    if name.lower() in lowered:
        return lowered.index(name.lower())
    if required:
        raise ValueError(
            f"preview sampler {name!r} is not one of the webui's samplers: {', '.join(sampler_names)}"
        )
    return 0


# -- the host ----------------------------------------------------------------------------------


@dataclass
class RawTrainResult:
    """What the bridge observed around the webui call (plain values)."""

    exception: str | None = None  # "Type: message" of an exception that propagated (before the loop)
    console_error: str = ""  # text printed by errors.report / stderr while the call ran
    final_step: int | None = None  # embedding.step of the registered embedding after the call
    interrupted: bool = False  # shared.state.interrupted when the call returned
    message: str = ""  # shared.state.textinfo at return (e.g. "...already been trained beyond...")
    returned_filename: str | None = None  # the filename train_embedding returned


class TrainHost(Protocol):
    def model_facts(self) -> ModelFacts: ...
    def embeddings(self) -> list[EmbeddingInfo]: ...
    def paths(self) -> HostPaths: ...
    def templates(self) -> dict[str, str]: ...
    def is_lowvram(self) -> bool: ...
    def webui_option(self, key: str, default=None): ...
    def train(
        self, args: TrainArgs, progress: Progress, loss_csv_every: int | None = None
    ) -> RawTrainResult: ...


# -- files of a run ----------------------------------------------------------------------------


def run_folder(
    log_directory: str | os.PathLike, embedding_name: str, when: _dt.datetime | None = None
) -> Path:
    """``<log>/<YYYY-MM-DD>/<name>`` — the webui takes the date when the call starts."""
    when = when or _dt.datetime.now()
    return Path(log_directory) / when.strftime("%Y-%m-%d") / embedding_name


def planned_checkpoint_steps(initial_step: int, final_step: int, every: int) -> list[int]:
    """The N of ``<name>-<N>.pt`` a run writes: after each optimizer step ``steps_done =
    embedding.step + 1`` (so N = step + 1, and ``-N`` stores step N-1) and a file when
    ``steps_done % every == 0``."""
    if every <= 0:
        return []
    return [n for n in range(initial_step + 2, final_step + 2) if n % every == 0]


_CKPT = re.compile(r"^(?P<name>.+)-(?P<n>\d+)\.pt$")


def list_checkpoints(folder: str | os.PathLike, embedding_name: str) -> list[tuple[int, Path]]:
    """``(N, path)`` of ``<folder>/embeddings/<name>-<N>.pt``, sorted by N."""
    d = Path(folder) / "embeddings"
    out = []
    if d.is_dir():
        for p in d.iterdir():
            m = _CKPT.match(p.name)
            if m and m.group("name") == embedding_name and p.is_file():
                out.append((int(m.group("n")), p))
    return sorted(out)


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_mtime_ns, st.st_size)


def _snapshot(folder: Path, name: str) -> dict[str, tuple[int, int] | None]:
    return {str(p): _stat(p) for _n, p in list_checkpoints(folder, name)}


@dataclass
class TrainOutcome:
    status: str  # finished | interrupted | failed
    message: str
    steps_done: int | None
    expected_steps: int
    error: str = ""
    run_folder: str | None = None
    checkpoints: list[str] = field(default_factory=list)  # written by this run, by step
    final_file: str | None = None
    final_saved: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


def _tail(text: str, n: int = 4000) -> str:
    text = (text or "").strip()
    return text if len(text) <= n else "…" + text[-n:]


def judge_outcome(
    raw: RawTrainResult,
    expected_final_step: int,
    initial_step: int,
    final_saved: bool,
    final_file: str | None = None,
    checkpoints: list[str] | None = None,
    folder: str | None = None,
) -> TrainOutcome:
    """Decide finished / interrupted / failed from what was observed — never "finished" unless
    the run reached its last step, was saved, and the webui reported no error."""
    checkpoints = checkpoints or []
    steps = raw.final_step
    error = _tail("\n".join(t for t in (raw.exception or "", raw.console_error) if t))
    base = {
        "expected_steps": expected_final_step,
        "run_folder": folder,
        "checkpoints": checkpoints,
        "final_file": final_file,
        "final_saved": final_saved,
        "error": error,
    }
    if raw.exception:
        if raw.interrupted:
            return TrainOutcome(
                "interrupted", "interrupted while preparing the dataset; nothing was trained", steps, **base
            )
        return TrainOutcome("failed", f"training failed before it started: {raw.exception}", steps, **base)
    if WEBUI_ALREADY_TRAINED in (raw.message or ""):
        return TrainOutcome(
            "failed",
            f"nothing was trained: the embedding already has {initial_step} steps and max steps is "
            f"{expected_final_step} (max steps counts from zero; raise it)",
            steps,
            **base,
        )
    where = f"step {steps}" if steps is not None else "an unknown step"
    swallowed = WEBUI_LOOP_ERROR in (raw.console_error or "")
    if raw.interrupted:
        if final_saved and not swallowed:
            return TrainOutcome(
                "interrupted", f"interrupted at {where}; saved to {final_file}", steps, **base
            )
        return TrainOutcome(
            "failed", f"interrupted at {where}, but the final save did not happen", steps, **base
        )
    if swallowed or not final_saved or steps is None or steps < expected_final_step:
        reasons = []
        if steps is not None and steps < expected_final_step:
            reasons.append(f"stopped at step {steps} of {expected_final_step} without an interrupt")
        if not final_saved:
            reasons.append("the final embedding was not saved")
        if swallowed:
            reasons.append("the webui reported an error inside its training loop")
        if not error:
            error = "the webui printed no error text; look at the webui's console"
        base["error"] = error
        return TrainOutcome(
            "failed", "training failed: " + "; ".join(reasons or ["unknown reason"]), steps, **base
        )
    return TrainOutcome("finished", f"finished at step {steps}; saved to {final_file}", steps, **base)


def run_training(
    host: TrainHost,
    args: TrainArgs,
    progress: Progress,
    *,
    initial_step: int,
    expected_final_step: int,
    loss_csv_every: int | None = None,
    now: Callable[[], _dt.datetime] = _dt.datetime.now,
    on_start: Callable[[Path], None] | None = None,
) -> TrainOutcome:
    """Call the host's training (already inside the webui queue, e.g. from ``host.run_job``),
    then judge what happened. The run folder is created right before the call: the webui writes
    its settings file and loss CSV into it without creating it when no checkpoints/previews are
    saved (webui-on-cpu.md)."""
    from lib_textinv.train.preflight import ensure_run_folder

    args.check_types()
    emb_dir = host.paths().embeddings_dir
    final_file = Path(emb_dir) / f"{args.embedding_name}.pt" if emb_dir else None
    before_final = _stat(final_file) if final_file else None
    start = now()
    folder = ensure_run_folder(args.log_directory, args.embedding_name, start)
    before = _snapshot(folder, args.embedding_name)
    if on_start:
        on_start(folder)
    raw = host.train(args, progress, loss_csv_every=loss_csv_every)
    # A run started just before midnight writes into the start date's folder; look at both.
    folders = [folder]
    end_folder = run_folder(args.log_directory, args.embedding_name, now())
    if end_folder != folder:
        folders.append(end_folder)
    written = []
    for f in folders:
        prev = before if f == folder else {}
        written += [
            str(p) for _n, p in list_checkpoints(f, args.embedding_name) if prev.get(str(p)) != _stat(p)
        ]
    after_final = _stat(final_file) if final_file else None
    final_saved = after_final is not None and after_final != before_final
    if raw.final_step is None and final_saved and final_file is not None:
        raw.final_step = _step_in_file(final_file)
    outcome = judge_outcome(
        raw,
        expected_final_step,
        initial_step,
        final_saved,
        str(final_file) if final_file else None,
        written,
        str(folder),
    )
    logger.info("training %s: %s", args.embedding_name, outcome.message)
    return outcome


def train_checked(
    host: TrainHost,
    args: TrainArgs,
    report: Any,
    progress: Progress,
    loss_csv_every: int | None = None,
    on_start: Callable[[Path], None] | None = None,
) -> TrainOutcome:
    """``run_training`` over the step range a passed pre-flight ``report`` worked out (the
    Train section and ``POST /train`` both start training this way)."""
    progress.begin(report.final_step - report.initial_step, "starting")
    return run_training(
        host,
        args,
        progress,
        initial_step=report.initial_step,
        expected_final_step=report.final_step,
        loss_csv_every=loss_csv_every,
        on_start=on_start,
    )


def _step_in_file(path: Path) -> int | None:
    from lib_textinv.kit.embedding_file import EmbeddingFileError, load_embedding

    try:
        return load_embedding(path).step
    except EmbeddingFileError:
        return None
