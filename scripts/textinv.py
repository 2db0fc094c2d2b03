"""Loaded by the webui: registers the tab, the settings section and the API routes. Nothing else."""

from modules import script_callbacks

from lib_textinv.webui import bridge as webui

script_callbacks.on_ui_tabs(webui.on_ui_tabs)
script_callbacks.on_ui_settings(webui.on_ui_settings)
script_callbacks.on_app_started(webui.on_app_started)
