"""What scripts/textinv.py registers with the webui: the tab, the settings section and the API
routes, all served by one ``WebuiHost`` per process (docs/webui-contract.md §2 callbacks, §3
settings, §5 routes and --api-auth)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from modules import shared

from lib_textinv.kit.ids import SETTINGS_SECTION, TAB_ID, TAB_LABEL

if TYPE_CHECKING:
    from lib_textinv.webui.host import WebuiHost

logger = logging.getLogger(__name__)

# The entry imports only this module at webui start-up; the bridge and the steps are imported when
# the webui first calls back (start-up budget: ≤ 50 ms, bench/startup.py).
HOST: WebuiHost | None = None


def host() -> WebuiHost:
    global HOST
    if HOST is None:
        from lib_textinv.webui.host import WebuiHost

        HOST = WebuiHost()
    return HOST


def on_ui_tabs() -> list[tuple[object, str, str]]:
    import gradio as gr

    from lib_textinv.webui.facts import version_problem

    problem = version_problem()
    if problem:
        logger.error(problem)
        with gr.Blocks(analytics_enabled=False) as blocks:
            gr.HTML(f"<p>{problem}</p>", elem_id=f"{TAB_ID}-version-error")
        return [(blocks, TAB_LABEL, TAB_ID)]
    from lib_textinv.tab import build_tab

    return [(build_tab(host()), TAB_LABEL, TAB_ID)]


def on_ui_settings() -> None:
    import gradio as gr

    from lib_textinv.kit.settings import SETTINGS

    components = {
        "slider": gr.Slider,
        "radio": gr.Radio,
        "checkbox": gr.Checkbox,
        "dropdown": gr.Dropdown,
        "number": gr.Number,
        "textbox": None,
    }
    # OptionInfo.section must be the 2-tuple (id, title): ui_settings.py:141 unpacks it; the category
    # is a separate attribute (options.py:68-76 splits a 3-tuple the same way; absent before 1.7).
    for s in SETTINGS:
        info = shared.OptionInfo(
            s.default, s.label, components[s.component], dict(s.args), section=tuple(SETTINGS_SECTION)
        )
        info.category_id = "training"
        if s.info:
            info = info.info(s.info)
        shared.opts.add_option(s.key, info)


def on_app_started(_demo: object, app: object) -> None:
    from lib_textinv import routes as api

    api.mount(app, host(), getattr(shared.cmd_opts, "api_auth", None))
