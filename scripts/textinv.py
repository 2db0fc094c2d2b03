"""Loaded by the webui: registers the tab, the settings section and the API routes. Nothing else."""

from modules import script_callbacks

from lib_textinv.webui import callbacks

script_callbacks.on_ui_tabs(callbacks.on_ui_tabs)
script_callbacks.on_ui_settings(callbacks.on_ui_settings)
script_callbacks.on_app_started(callbacks.on_app_started)
