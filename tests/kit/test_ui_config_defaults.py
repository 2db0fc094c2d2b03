"""Defaults that come from our settings or from the model are not pinned by the webui's
ui-config.json.

The webui keeps every labelled control's default in ui-config.json under "<tab>/<label>/<field>"
(modules/ui_loadsave.py of webui 1.10.1, UiLoadsave.add_component/apply_field): the first start
records it, later starts force the recorded value back onto the control, unless the control has
``do_not_save_to_config``. Found checking the real webui page: the captioning batch size and the
pixel limit stopped following our settings after the first start, and the model-sized width and
height of Dataset and Crop stayed at the first start's 512 (the webui builds the tab before it
loads its model). Shared labels are tests/kit/test_ui_config_keys.py's subject.

``loadsave`` below is that logic for the fields of the controls we use."""

from __future__ import annotations

import gradio as gr

from lib_textinv.kit.host import ModelFacts, StandaloneHost
from lib_textinv.tab import build_tab

TRACKED = {
    gr.Slider: ("value", "minimum", "maximum", "step"),
    gr.Radio: ("value",),
    gr.Checkbox: ("value",),
    gr.Textbox: ("value",),
    gr.Number: ("value",),
    gr.Dropdown: ("value",),
}


def _choices(x) -> list:
    return [c[0] if isinstance(c, tuple) else c for c in getattr(x, "choices", None) or []]


def loadsave(blocks, saved: dict, path: str = "textinv") -> dict:
    """One webui start over our tab: applies ``saved`` to the controls, returns what it writes."""
    settings = dict(saved)

    def apply(x, field: str) -> None:
        if getattr(x, "do_not_save_to_config", False):
            return
        key = f"{path}/{x.label}/{field}"
        value = settings.get(key)
        if value is None:
            settings[key] = getattr(x, field)
        elif field == "value" and type(x) in (gr.Radio, gr.Dropdown) and value not in _choices(x):
            pass
        else:
            setattr(x, field, float(value) if type(x) is gr.Number and field == "value" else value)

    def walk(x) -> None:
        if hasattr(x, "children"):
            for c in x.children:
                walk(c)
        elif getattr(x, "label", None) is not None and type(x) in TRACKED:
            for field in TRACKED[type(x)]:
                apply(x, field)

    walk(blocks)
    return settings


class Host(StandaloneHost):
    def __init__(self, settings: dict | None = None, native: int | None = None):
        super().__init__()
        self._settings = settings or {}
        self._native = native

    def setting(self, name, default=None):
        return self._settings.get(name, default)

    def model_facts(self):
        if self._native is None:
            return super().model_facts()
        return ModelFacts(
            loaded=True, family="SD2-v", native_resolution=self._native, trainable=True, reason=""
        )


def value_of(blocks, elem_id: str):
    return next(b.value for b in blocks.blocks.values() if getattr(b, "elem_id", None) == elem_id)


def test_defaults_from_our_settings_follow_the_settings():
    saved = loadsave(build_tab(Host()), {})
    blocks = build_tab(Host({"caption_batch_size": 2, "max_megapixels": 40}))
    loadsave(blocks, saved)
    assert value_of(blocks, "textinv-captions-batch-size") == 2
    assert value_of(blocks, "textinv-dataset-max-mp") == 40


def test_model_sized_defaults_follow_the_model():
    """First start: the webui builds the tab before its model loads (512); a later build (Reload
    UI, restart) with a 768-px model shows 768."""
    saved = loadsave(build_tab(Host()), {})
    blocks = build_tab(Host(native=768))
    loadsave(blocks, saved)
    for elem in ("crop-width", "crop-height", "dataset-width", "dataset-height"):
        assert value_of(blocks, f"textinv-{elem}") == 768, elem
