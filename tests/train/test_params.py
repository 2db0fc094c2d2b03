"""The one parameter table (``train.params``) and everything derived from it: the webui call
(order and types, against the real signature as the contract double mirrors it), the Train form
(order, labels, defaults, presets) and the API request model (names, bounds, choices)."""

from __future__ import annotations

import ast
import inspect
from dataclasses import MISSING, fields
from pathlib import Path

import pytest

from lib_textinv.kit.host import StandaloneHost
from lib_textinv.kit.tab_context import TabContext
from lib_textinv.train import section
from lib_textinv.train.params import (
    FORM,
    PARAMETERS,
    PARAMS,
    PRESET_FIELDS,
    SAMPLER_SLOT,
    TrainArgs,
    uses_sampler_index,
)
from lib_textinv.train.presets import scan_dataset, suggest_presets
from lib_textinv.train.request import TrainRequest
from tests.train.fake_webui import FakeWebui

pytestmark = pytest.mark.api  # the request model: run again under pydantic 2 by .ci/run
DOUBLE = Path(__file__).parents[1] / "webui_double" / "modules" / "textual_inversion" / "textual_inversion.py"


def double_signature() -> list[str]:
    """train_embedding's parameters in the contract double (read with ast: nothing imported)."""
    tree = ast.parse(DOUBLE.read_text(encoding="utf-8"))
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "train_embedding")
    assert not fn.args.defaults and not fn.args.kwonlyargs  # 30 positional, no defaults, as in the webui
    return [a.arg for a in fn.args.args]


# -- the webui call ------------------------------------------------------------------------------


def test_webui_call_order_is_the_real_signature():
    assert list(PARAMETERS) == double_signature()
    assert len(PARAMETERS) == 30
    fake = [p for p in inspect.signature(FakeWebui.train_embedding).parameters if p != "self"]
    assert fake == list(PARAMETERS)  # the unit tests' fake takes the same call
    assert PARAMETERS[SAMPLER_SLOT] == "preview_sampler_name"  # v1.6.x: an index in this slot


def test_every_slot_once_and_only_ours_without_one():
    slots = sorted(p.slot for p in PARAMS if p.slot is not None)
    assert slots == list(range(30))
    ours = {"loss_csv_every", "trainer", "stop_when_flat", "flat_threshold", "eval_every", "seed"}
    assert {p.name for p in PARAMS if p.slot is None} == ours | {"flip_images", "resume"}


def test_positional_call_puts_each_value_in_its_slot():
    args = TrainArgs(
        embedding_name="e", data_root="/d", log_directory="/l", steps=77, learn_rate="0.01", loss_csv_every=3
    )
    pos = args.to_positional("v1.10.1")
    assert len(pos) == 30
    for p in PARAMS:
        if p.slot is not None:
            assert pos[p.slot] == getattr(args, p.name), p.name
    assert 3 not in pos[1:]  # the loss-plot period is ours: never passed to the webui


# -- the form ------------------------------------------------------------------------------------


# Inputs whose choices or default the host decides (its templates, its embeddings, its log folder…).
HOST_DECIDES = ("data_root", "embedding_name", "template_filename", "log_directory", "loss_csv_every")


def _built():
    import gradio as gr

    with gr.Blocks() as demo:
        ui = section.render(TabContext(host=StandaloneHost()))
    return demo, ui


def test_form_order_labels_and_defaults_come_from_the_table():
    _demo, ui = _built()
    assert list(ui.form) == list(FORM)  # rendered top to bottom in the table's order
    assert tuple(p.name for p in PARAMS if p.row) == FORM
    for p in PARAMS:
        if not p.row:
            continue
        comp = ui.form[p.name]
        assert comp.label == p.label and comp.elem_id == f"textinv-{p.elem}", p.name
        if p.name not in (
            "data_root",
            "embedding_name",
            "template_filename",
            "log_directory",
            "loss_csv_every",
        ):
            assert comp.value == p.default, p.name  # the others take the host's choices/defaults
        if p.choices:
            assert [c[0] if isinstance(c, tuple) else c for c in comp.choices] == list(p.choices)


def test_preset_fields_are_what_the_presets_fill(tmp_path):
    assert tuple(p.name for p in PARAMS if p.preset) == PRESET_FIELDS
    (tmp_path / "d").mkdir()
    assert set(suggest_presets(scan_dataset(tmp_path / "d")).values) == set(PRESET_FIELDS)


# -- the API model ---------------------------------------------------------------------------------


def _api_fields() -> dict:
    if hasattr(TrainRequest, "model_fields"):  # pydantic 2
        return dict(TrainRequest.model_fields)
    return dict(TrainRequest.__fields__)


def test_api_model_has_one_field_per_api_parameter():
    names = set(_api_fields())
    assert names == {p.api for p in PARAMS if p.api} | {"preset"}
    assert len([p for p in PARAMS if p.api]) == len({p.api for p in PARAMS if p.api})


@pytest.mark.parametrize(
    "p", [p for p in PARAMS if p.api and (p.lo is not None or p.choices)], ids=lambda p: p.name
)
def test_api_refuses_what_the_table_refuses(p):
    base = {"embedding": "e", "dataset": "/d"}
    if p.choices:
        bad: object = "not-a-choice"
    else:
        bad = p.lo - 1 if p.kind == "int" else p.lo - 0.5
    with pytest.raises(ValueError):  # pydantic's ValidationError is a ValueError in 1 and 2
        TrainRequest(**base, **{p.api: bad})
    ok = p.choices[0] if p.choices else p.lo
    assert TrainRequest(**base, **{p.api: ok}).as_dict()[p.api] == ok


def test_api_defaults_are_the_table_defaults_or_left_to_presets_and_host():
    given = TrainRequest(embedding="e", dataset="/d").as_dict()
    for p in PARAMS:
        if not p.api or p.required:
            continue
        want = None if (p.preset or p.from_host) else p.default
        assert given[p.api] == want, p.name


def test_typed_fields_match_the_dataclass():
    kinds = {f.name: f.type for f in fields(TrainArgs)}
    for p in PARAMS:
        assert kinds[p.name] == p.kind
        assert (p.default is MISSING) == p.required


def test_sampler_slot_changes_with_the_version():
    assert uses_sampler_index("v1.6.1") and uses_sampler_index("1.6.0-RC")
    assert not uses_sampler_index("v1.7.0") and not uses_sampler_index("v1.10.1")
    assert not uses_sampler_index("")
