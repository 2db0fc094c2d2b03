"""modules/script_callbacks.py:127-147, 456-496 — registration records (callback, source)."""

callback_map = {"callbacks_ui_tabs": [], "callbacks_ui_settings": [], "callbacks_app_started": []}


def clear_callbacks():
    for v in callback_map.values():
        v.clear()


def on_ui_tabs(callback, *, name=None):  # :473-483; callback() -> list[(Blocks, title, elem_id)]
    callback_map["callbacks_ui_tabs"].append(callback)


def on_ui_settings(callback, *, name=None):  # :493-496; callback() -> None
    callback_map["callbacks_ui_settings"].append(callback)


def on_app_started(callback, *, name=None):  # :456-459; callback(demo, app) -> None
    callback_map["callbacks_app_started"].append(callback)
