"""The training parameters, each listed once: ``TrainArgs`` below.

Every field carries, next to its type and default, what the three faces of training need: the
webui's positional slot in ``train_embedding`` (modules/textual_inversion/textual_inversion.py:400,
v1.10.1: 30 parameters without defaults), its label and row in the Train section's form, its name
and bounds in ``POST /textinv/v1/train`` and whether the dataset presets fill it. The webui call
order (``PARAMETERS``), the form order (``FORM``), the preset fields (``PRESET_FIELDS``) and the
API request model (``train.request``) are all derived from this one list, in its order (the
form's order, top to bottom); tests/train/test_params.py holds the three to it and to the
webui's real signature.

``train_embedding`` asserts some types (``int`` counts, ``str`` rates; docs/webui-contract.md
§12 Training call), so values are coerced and checked here before any call. v1.6.x takes
``preview_sampler_index`` (an index into ``sd_samplers.samplers``) in slot 25; v1.7.0+ takes
``preview_sampler_name``.
"""

from __future__ import annotations

import re
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any

from lib_textinv.kit.host import Host

SAMPLER_SLOT = 25  # preview_sampler_name; v1.6.x: preview_sampler_index
CLIP_GRAD_MODES = ("disabled", "value", "norm")
LATENT_SAMPLING = ("once", "deterministic", "random")
TRAINERS = ("own", "webui")  # ours (SD1/SD2/SDXL, train.own_run) or the webui's Train-tab function
# txt2img's own limits for the preview settings (modules/ui.py: steps 1-150, CFG 1-30, size 64-2048).
PREVIEW_STEPS, PREVIEW_CFG, PREVIEW_SIZE = (1, 150), (1.0, 30.0), (64, 2048)
SEED_MAX = 2**32 - 1
PATH_CHARS = 4096
TEXT_CHARS = 10_000
MANY = 1_000_000  # an upper bound for step counts that is never a real limit
DEFAULT_LOG_DIR = "textual_inversion"  # the log folder the webui's own Train tab starts with
DEFAULT_LOSS_CSV_EVERY = 10


@dataclass(frozen=True)
class Param:
    """One training parameter as every face sees it."""

    name: str  # TrainArgs field = train_embedding's parameter name
    kind: str  # "int" | "float" | "bool" | "str", as the webui asserts or uses it
    default: Any  # MISSING: required
    slot: int | None  # position in train_embedding(*args); None: ours, not the webui's
    label: str = ""
    row: str = ""  # the form row it sits in ("" = not in the form)
    advanced: bool = False  # inside the form's "Advanced" accordion
    elem: str = ""  # elem_id suffix of its form component
    api: str | None = None  # field name in POST /train (None = not in the API)
    preset: bool = False  # filled from the dataset by "Fill presets" and by the API when left out
    from_host: bool = False  # the API's default comes from the host (log folder, loss period)
    lo: float | None = None
    hi: float | None = None
    max_len: int | None = None
    min_len: int | None = None
    choices: tuple[str, ...] = ()
    widget: str = ""  # "" = from the kind; "dropdown" | "slider"
    scale: int | None = None
    step: float | None = None  # a slider's step

    @property
    def required(self) -> bool:
        return self.default is MISSING

    @property
    def kind_type(self) -> type:
        return {"int": int, "float": float, "bool": bool, "str": str}[self.kind]


def _p(default: Any = MISSING, **meta: Any) -> Any:
    """A ``TrainArgs`` field with its ``Param`` facts (name, kind and default are the field's)."""
    return field(default=default, metadata={"param": meta})


@dataclass(kw_only=True)
class TrainArgs:
    """One training run's parameters, in the form's order. Defaults follow the webui's Train tab
    except where the presets (train.presets) choose otherwise."""

    # -- the dataset, the embedding, the prompts
    data_root: str = _p(
        slot=5, label="Dataset folder (training-size images)", row="source", elem="train-dataset",
        api="dataset", max_len=PATH_CHARS, scale=3,
    )  # fmt: skip
    embedding_name: str = _p(
        slot=1, label="Embedding", row="source", elem="train-embedding", api="embedding", max_len=200,
        widget="dropdown", scale=2,
    )  # fmt: skip
    template_filename: str = _p(
        "style_filewords.txt", slot=19, label="Prompt template", row="source", elem="train-template",
        api="template", preset=True, max_len=260, widget="dropdown", scale=2,
    )  # fmt: skip
    # -- which trainer
    trainer: str = _p(
        "own", slot=None, label="Trainer (ours: SD1, SD2 and SDXL; the webui's: SD1 and SD2)", row="trainer",
        elem="train-trainer", api="trainer", choices=TRAINERS, scale=2,
    )  # fmt: skip
    stop_when_flat: bool = _p(
        False, slot=None, label="Stop when it flattens (fixed-batch loss; our trainer)", row="trainer",
        elem="train-stop-flat", api="stop_when_flat",
    )  # fmt: skip
    flat_threshold: float = _p(
        0.1, slot=None, label="Flat when recent/overall loss variance is below", row="trainer",
        elem="train-flat-threshold", api="flat_threshold", lo=0.001, hi=1.0, widget="slider", step=0.01,
    )  # fmt: skip
    eval_every: int = _p(
        25, slot=None, label="Fixed-batch loss every N steps (0 = off)", row="trainer",
        elem="train-eval-every", api="eval_every", lo=0, hi=MANY,
    )  # fmt: skip
    # -- size, length, rate
    training_width: int = _p(
        512, slot=7, label="Width", row="size", elem="train-width", api="width", preset=True, lo=64, hi=4096
    )
    training_height: int = _p(
        512, slot=8, label="Height", row="size", elem="train-height", api="height", preset=True,
        lo=64, hi=4096,
    )  # fmt: skip
    steps: int = _p(
        1500, slot=10, label="Max steps", row="size", elem="train-steps", api="steps", preset=True,
        lo=1, hi=MANY,
    )  # fmt: skip
    learn_rate: str = _p(
        "0.005", slot=2, label="Learning rate (or schedule, e.g. 0.005:500, 0.001)", row="size",
        elem="train-lr", api="learn_rate", preset=True, max_len=1000, min_len=1,
    )  # fmt: skip
    # -- batches and saving
    batch_size: int = _p(
        1, slot=3, label="Batch size", row="batch", elem="train-batch", api="batch_size", preset=True,
        lo=1, hi=1024,
    )  # fmt: skip
    gradient_step: int = _p(
        1, slot=4, label="Gradient accumulation", row="batch", elem="train-accum", api="gradient_step",
        preset=True, lo=1, hi=1024,
    )  # fmt: skip
    save_embedding_every: int = _p(
        50, slot=18, label="Save embedding every N steps", row="batch", elem="train-save-every",
        api="save_embedding_every", preset=True, lo=0, hi=MANY,
    )  # fmt: skip
    create_image_every: int = _p(
        50, slot=17, label="Save image every N steps", row="batch", elem="train-image-every",
        api="create_image_every", preset=True, lo=0, hi=MANY,
    )  # fmt: skip
    # -- captions and latents
    shuffle_tags: bool = _p(
        True, slot=13, label="Shuffle tags", row="tags", elem="train-shuffle", api="shuffle_tags", preset=True
    )
    tag_drop_out: float = _p(
        0.1, slot=14, label="Tag drop-out", row="tags", elem="train-dropout", api="tag_drop_out",
        preset=True, lo=0, hi=1, widget="slider", step=0.05,
    )  # fmt: skip
    latent_sampling_method: str = _p(
        "deterministic", slot=15, label="Latent sampling", row="tags", elem="train-latent",
        api="latent_sampling_method", preset=True, choices=LATENT_SAMPLING,
    )  # fmt: skip
    # -- Advanced: where the run's files go
    log_directory: str = _p(
        slot=6, label="Log folder", row="log", advanced=True, elem="train-log", api="log_directory",
        from_host=True, max_len=PATH_CHARS,
    )  # fmt: skip
    loss_csv_every: int = _p(
        0, slot=None, row="log", advanced=True, elem="train-csv-every", api="loss_csv_every",
        from_host=True, lo=0, hi=MANY,
        label="Loss plot: a point every N steps (the webui's CSV period for this run; 0 = leave it)",
    )  # fmt: skip
    # -- Advanced: our trainer's randomness and resuming
    seed: int = _p(
        0, slot=None, label="Seed (our trainer: shuffling, prompts, noise; -1 = random)", row="own",
        advanced=True, elem="train-seed", api="seed", lo=-1, hi=SEED_MAX,
    )  # fmt: skip
    flip_images: bool = _p(
        False, slot=None, label="Also train on mirrored copies (our trainer)", row="own", advanced=True,
        elem="train-flip", api="flip_images",
    )  # fmt: skip
    resume: bool = _p(
        True, slot=None, row="own",
        label="Continue from this embedding's newest checkpoint in the log folder (our trainer)",
        advanced=True, elem="train-resume", api="resume",
    )  # fmt: skip
    # -- Advanced: images and loss
    varsize: bool = _p(
        False, slot=9, label="Do not resize images", row="flags", advanced=True, elem="train-varsize",
        api="varsize",
    )  # fmt: skip
    use_weight: bool = _p(
        False, slot=16, label="Use PNG alpha as loss weight", row="flags", advanced=True,
        elem="train-weight", api="use_weight",
    )  # fmt: skip
    save_image_with_stored_embedding: bool = _p(
        True, slot=20, label="Save images with embedding in PNG chunks", row="flags", advanced=True,
        elem="train-png-embed", api="save_image_with_stored_embedding",
    )  # fmt: skip
    # -- Advanced: gradient clipping
    clip_grad_mode: str = _p(
        "disabled", slot=11, label="Gradient clipping", row="clip", advanced=True, elem="train-clip-mode",
        api="clip_grad_mode", choices=CLIP_GRAD_MODES,
    )  # fmt: skip
    clip_grad_value: str = _p(
        "0.1", slot=12, label="Clip value (or schedule)", row="clip", advanced=True, elem="train-clip",
        api="clip_grad_value", max_len=1000,
    )  # fmt: skip
    # -- Advanced: previews
    preview_from_txt2img: bool = _p(
        False, slot=21, label="Previews use these txt2img settings", row="preview", advanced=True,
        elem="train-preview-txt2img", api="preview_from_txt2img",
    )  # fmt: skip
    preview_prompt: str = _p(
        "", slot=22, label="Preview prompt", row="preview-text", advanced=True,
        elem="train-preview-prompt", api="preview_prompt", max_len=TEXT_CHARS,
    )  # fmt: skip
    preview_negative_prompt: str = _p(
        "", slot=23, label="Negative prompt", row="preview-text", advanced=True,
        elem="train-preview-neg", api="preview_negative_prompt", max_len=TEXT_CHARS,
    )  # fmt: skip
    preview_steps: int = _p(
        20, slot=24, label="Steps", row="preview-numbers", advanced=True, elem="train-pv-steps",
        api="preview_steps", lo=PREVIEW_STEPS[0], hi=PREVIEW_STEPS[1],
    )  # fmt: skip
    preview_sampler_name: str = _p(
        "Euler a", slot=SAMPLER_SLOT, label="Sampler", row="preview-numbers", advanced=True,
        elem="train-pv-sampler", api="preview_sampler_name", max_len=200,
    )  # fmt: skip
    preview_cfg_scale: float = _p(
        7.0, slot=26, label="CFG scale", row="preview-numbers", advanced=True, elem="train-pv-cfg",
        api="preview_cfg_scale", lo=PREVIEW_CFG[0], hi=PREVIEW_CFG[1],
    )  # fmt: skip
    preview_seed: int = _p(
        -1, slot=27, label="Seed", row="preview-numbers", advanced=True, elem="train-pv-seed",
        api="preview_seed", lo=-1, hi=SEED_MAX,
    )  # fmt: skip
    preview_width: int = _p(
        512, slot=28, label="Width", row="preview-numbers", advanced=True, elem="train-pv-w",
        api="preview_width", lo=PREVIEW_SIZE[0], hi=PREVIEW_SIZE[1],
    )  # fmt: skip
    preview_height: int = _p(
        512, slot=29, label="Height", row="preview-numbers", advanced=True, elem="train-pv-h",
        api="preview_height", lo=PREVIEW_SIZE[0], hi=PREVIEW_SIZE[1],
    )  # fmt: skip
    # -- the webui's progress-task id: the webui's own Train tab passes one; we never do.
    id_task: str = _p("", slot=0)

    # -- types -------------------------------------------------------------------------------
    @classmethod
    def coerce(cls, **values: Any) -> TrainArgs:
        """From UI/JSON values: whole-number floats (a ``gr.Number`` gives 5.0) become ``int``,
        numbers given for ``learn_rate``/``clip_grad_value`` become strings, ``None`` for a text
        becomes "". Anything else that does not fit raises ``TypeError`` naming the parameter."""
        args = cls(**{k: _coerce(k, v) for k, v in values.items()})
        args.check_types()
        return args

    def check_types(self) -> None:
        """Raise ``TypeError`` where the webui would assert or crash on a type."""
        for p in PARAMS:
            v = getattr(self, p.name)
            if p.kind == "float":
                ok = isinstance(v, float)
            else:
                ok = isinstance(v, p.kind_type) and (p.kind == "bool" or not isinstance(v, bool))
            if not ok:
                raise TypeError(f"{p.name} must be {p.kind}, got {type(v).__name__} {v!r}")
            if p.choices and v not in p.choices:
                raise TypeError(f"{p.name} must be one of {', '.join(p.choices)}")

    # -- the call ----------------------------------------------------------------------------
    def to_positional(self, version: str | None = None, sampler_names: list[str] | None = None) -> list:
        """The 30 positional arguments for ``train_embedding`` of that webui version."""
        self.check_types()
        values = [getattr(self, name) for name in PARAMETERS]
        if uses_sampler_index(version):
            values[SAMPLER_SLOT] = sampler_index(
                self.preview_sampler_name, sampler_names or [], required=self.preview_from_txt2img
            )
        return values

    def to_dict(self) -> dict:
        return asdict(self)


PARAMS: tuple[Param, ...] = tuple(
    Param(name=f.name, kind=str(f.type), default=f.default, **f.metadata["param"]) for f in fields(TrainArgs)
)
BY_NAME: dict[str, Param] = {p.name: p for p in PARAMS}
# train_embedding's parameter names in the webui's order.
PARAMETERS: tuple[str, ...] = tuple(
    p.name for p in sorted((p for p in PARAMS if p.slot is not None), key=lambda p: p.slot or 0)
)
# The Train form's inputs in the order its handlers receive them (top to bottom).
FORM: tuple[str, ...] = tuple(p.name for p in PARAMS if p.row)
# What "Fill presets" fills, in form order.
PRESET_FIELDS: tuple[str, ...] = tuple(p.name for p in PARAMS if p.preset)
# The form's rows in order, each with its parameters.
ROWS: dict[str, tuple[Param, ...]] = {
    row: tuple(p for p in PARAMS if p.row == row) for row in dict.fromkeys(p.row for p in PARAMS if p.row)
}


def _coerce(name: str, v: Any) -> Any:
    p = BY_NAME.get(name)
    if p is None:
        raise TypeError(f"unknown training parameter {name!r}")
    if p.kind == "int" and isinstance(v, float):
        if not v.is_integer():
            raise TypeError(f"{name} must be a whole number, got {v}")
        return int(v)
    if p.kind == "float" and isinstance(v, int) and not isinstance(v, bool):
        return float(v)
    if p.kind == "str" and v is None:
        return ""
    if p.kind == "str" and name in ("learn_rate", "clip_grad_value") and isinstance(v, int | float):
        return repr(v) if isinstance(v, float) else str(v)
    return v


def out_of_bounds(args: TrainArgs, exclude: tuple[str, ...] = ()) -> list[str]:
    """``"<name> <value> must be between lo and hi"`` for each number outside its bounds."""
    bad = []
    for p in PARAMS:
        if p.name not in exclude and (p.lo is not None or p.hi is not None):
            v = getattr(args, p.name)
            if (p.lo is not None and v < p.lo) or (p.hi is not None and v > p.hi):
                bad.append(f"{p.name} {v} must be between {_num(p.lo)} and {_num(p.hi)}")
    return bad


def host_default(host: Host, name: str) -> Any:
    """The default of a ``from_host`` parameter: the webui's TI log folder, our loss-plot period."""
    if name == "log_directory":
        return host.paths().ti_log_dir or DEFAULT_LOG_DIR
    if name == "loss_csv_every":
        return int(host.setting("train_loss_csv_every", DEFAULT_LOSS_CSV_EVERY) or 0)
    raise KeyError(f"{name} has no host default")


def _num(v: float | None) -> str:
    return "…" if v is None else f"{v:g}"


# -- webui versions ---------------------------------------------------------------------------


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
