"""The request of ``POST /textinv/v1/train`` (and ``/train/preflight``), derived from the
parameter table (``train.params``): one field per parameter the API offers, under its API name,
with the table's bounds and choices. Values left out are filled from the dataset presets
(``preset`` fields) or from the host (the log folder, the loss-plot period)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from lib_textinv.kit.api_models import Field, Model
from lib_textinv.kit.host import Host
from lib_textinv.train.folders import checked_dataset_folder, checked_log_folder
from lib_textinv.train.params import PARAMS, Param, TrainArgs, host_default
from lib_textinv.train.presets import TEMPLATES, is_folder, scan_dataset, suggest_presets

PRESET_KINDS = tuple(TEMPLATES)  # style | subject


class DatasetNotFound(ValueError):
    """The request's dataset is not a folder."""


def _choice_pattern(choices: tuple[str, ...]) -> str:
    return "^(" + "|".join(choices) + ")$"


def _field(p: Param) -> tuple[Any, Any]:
    """(annotation, Field) of one parameter in the request."""
    optional = p.preset or p.from_host
    required = p.required and not optional
    kind = p.kind_type
    annotation = (kind | None) if optional else kind
    limits: dict[str, Any] = {}
    if p.lo is not None:
        limits["ge"] = p.lo
    if p.hi is not None:
        limits["le"] = p.hi
    if p.max_len is not None:
        limits["max_length"] = p.max_len
    if p.min_len is not None or (required and p.kind == "str"):
        limits["min_length"] = p.min_len or 1
    pattern = _choice_pattern(p.choices) if p.choices else None
    default = ... if required else None if optional else p.default
    return annotation, Field(default, pattern=pattern, description=p.label, **limits)


def _request_model() -> type[Model]:
    annotations: dict[str, Any] = {"preset": str}
    namespace: dict[str, Any] = {
        "preset": Field(
            "style",
            pattern=_choice_pattern(PRESET_KINDS),
            description="which template family the presets use",
        )
    }
    for p in PARAMS:
        if p.api is not None:
            annotations[p.api], namespace[p.api] = _field(p)
    namespace.update(__annotations__=annotations, __module__=__name__, __doc__=__doc__)
    return cast(type[Model], type("TrainRequest", (Model,), namespace))


if TYPE_CHECKING:
    TrainRequest = Model
else:
    TrainRequest = _request_model()


def request_to_args(host: Host, req: Model) -> TrainArgs:
    """``TrainArgs`` from the request: presets from the dataset, then the host's defaults, then
    what was given. Raises ``BadFolder`` (a relative path…) or ``Forbidden`` (outside the allowed
    folders) for the dataset or a log folder given, ``DatasetNotFound``, or ``TypeError`` for a
    value that does not fit."""
    given = req.as_dict()
    dataset = str(checked_dataset_folder(host, given["dataset"]))
    if given["log_directory"] is not None:
        given["log_directory"] = str(checked_log_folder(host, given["log_directory"]))
    if not is_folder(dataset):
        raise DatasetNotFound(f"dataset folder not found: {given['dataset']}")
    given["dataset"] = dataset
    values: dict[str, Any] = dict(
        suggest_presets(
            scan_dataset(dataset),
            given["preset"],
            batch_size=given["batch_size"] or 1,
            gradient_step=given["gradient_step"] or 1,
        ).values
    )
    for p in PARAMS:
        if p.api is None:
            continue
        if given[p.api] is not None:
            values[p.name] = given[p.api]
        elif p.from_host:
            values[p.name] = host_default(host, p.name)
    return TrainArgs.coerce(**values)
