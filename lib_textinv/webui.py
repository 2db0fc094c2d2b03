"""The host bridge: the ONLY module that imports the webui's ``modules.*``.

Everything the tab, the API and the core need from AUTOMATIC1111 goes through ``WebuiHost``
(a ``lib_textinv.host.Host``), so the rest of the package stays pure and testable. Line numbers
cite v1.10.1 (see ../shared/webui-api.md). Forge loads the tab; features it removed (training,
creating embeddings) report why they are unavailable.
"""

from __future__ import annotations

import logging
import os
import re
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from modules import shared

from lib_textinv.host import EmbeddingInfo, Host, HostPaths, ModelFacts
from lib_textinv.ids import SETTINGS_SECTION, TAB_ID, TAB_LABEL
from lib_textinv.progress import ForwardingProgress, Progress

logger = logging.getLogger(__name__)
T = TypeVar("T")
MIN_VERSION = (1, 6, 0)
WIDTHS = {"SD1": 768, "SD2": 1024, "SD2-v": 1024, "SDXL": 2048}


def is_forge() -> bool:
    import importlib.util

    return importlib.util.find_spec("modules_forge") is not None


def webui_version() -> tuple[int, ...] | None:
    """(1, 10, 1) from the git tag, or None when unknown (a zip download has no tag)."""
    try:
        from modules import launch_utils

        tag = launch_utils.git_tag()
    except (ImportError, AttributeError, OSError) as e:
        logger.debug("webui version unknown: %s", e)
        return None
    m = re.match(r"v?(\d+)\.(\d+)\.?(\d+)?", str(tag or ""))
    return tuple(int(x or 0) for x in m.groups()) if m else None


def version_problem() -> str | None:
    v = webui_version()
    if v is not None and v < MIN_VERSION:
        return (
            f"sd-webui-textinv needs AUTOMATIC1111 webui 1.6 or newer; this is {'.'.join(map(str, v))}. "
            "Update the webui (git pull) and restart."
        )
    return None


def _loaded_model():
    """The loaded model or None, without triggering a (blocking) load (modules/sd_models.py:683-701)."""
    from modules import sd_models

    return getattr(sd_models.model_data, "sd_model", None)


def _family(m) -> str:
    if getattr(m, "is_sdxl", False):
        return "SDXL"
    if getattr(m, "is_sd3", False):
        return "SD3"
    if getattr(m, "is_sd2", False):
        return "SD2-v" if getattr(m, "parameterization", "eps") == "v" else "SD2"
    if getattr(m, "is_sd1", False):
        return "SD1"
    return "unknown"


class WebuiHost(Host):
    def __init__(self) -> None:
        super().__init__(kind="forge" if is_forge() else "webui")
        self._active: Progress | None = None

    # -- facts -------------------------------------------------------------------------------
    def paths(self) -> HostPaths:
        from modules import paths_internal

        opts, cmd = shared.opts, shared.cmd_opts
        return HostPaths(
            embeddings_dir=getattr(cmd, "embeddings_dir", None),
            # The Train tab's default log directory, relative to the process cwd (modules/ui.py:950).
            ti_log_dir=os.path.abspath("textual_inversion"),
            templates_dir=getattr(cmd, "textual_inversion_templates_dir", None),
            outdir_samples=getattr(opts, "outdir_samples", "")
            or getattr(opts, "outdir_txt2img_samples", None),
            outdir_grids=getattr(opts, "outdir_grids", "") or getattr(opts, "outdir_txt2img_grids", None),
            data_dir=paths_internal.data_path,
        )

    def model_facts(self) -> ModelFacts:
        m = _loaded_model()
        if m is None or getattr(m, "sd_checkpoint_info", None) is None:
            return ModelFacts(reason="no model is loaded yet (select a checkpoint at the top of the page)")
        family = _family(m)
        info = m.sd_checkpoint_info
        trainable, reason = family in ("SD1", "SD2", "SD2-v"), ""
        if self.kind == "forge":
            trainable, reason = False, "Forge removed Textual Inversion training; use AUTOMATIC1111 to train"
        elif family == "SDXL":
            reason = "the webui cannot create or train SDXL embeddings (SD1 and SD2 only)"
        elif not trainable:
            reason = f"the webui cannot train embeddings for {family} models (SD1 and SD2 only)"
        return ModelFacts(
            loaded=True,
            family=family,
            name=getattr(info, "model_name", "") or "",
            short_hash=getattr(info, "shorthash", "") or "",
            native_resolution=768 if family in ("SD2-v", "SDXL") else 512,
            embedding_width=WIDTHS.get(family),
            trainable=trainable,
            reason=reason,
        )

    def feature(self, name: str) -> tuple[bool, str]:
        facts = self.model_facts()
        if name in ("caption", "upscale"):
            return True, ""
        if name == "deepbooru":
            import importlib.util

            ok = importlib.util.find_spec("modules.deepbooru") is not None
            return ok, "" if ok else "DeepBooru is not part of this webui"
        if name == "clip":
            import importlib.util

            ok = importlib.util.find_spec("open_clip") is not None
            return ok, "" if ok else "open_clip is not installed"
        if not facts.loaded:
            return False, facts.reason
        if name in ("tokenizer", "generate"):
            if self.kind == "forge" and name == "tokenizer":
                return False, "token counts need the A1111 text encoder wrapper (not in Forge)"
            return True, ""
        if name in ("create", "train"):
            if not facts.trainable:
                return False, facts.reason
            if name == "train" and self.is_lowvram():
                return (
                    False,
                    "the webui refuses Textual Inversion training with --lowvram; restart without it",
                )
            return True, ""
        return False, f"{name}: not offered by this webui"

    def setting(self, key: str, default: Any = None) -> Any:
        key = key if key.startswith("textinv_") else f"textinv_{key}"
        return getattr(shared.opts, key, default)

    def is_lowvram(self) -> bool:
        return bool(getattr(shared.cmd_opts, "lowvram", False))

    def embeddings(self) -> list[EmbeddingInfo]:
        db = self._embedding_db()
        if db is None:
            return []
        out = []
        for loaded, table in ((True, db.word_embeddings), (False, db.skipped_embeddings)):
            for name, e in table.items():
                vec = getattr(e, "vec", None)
                width = getattr(e, "shape", None) or (int(vec.shape[-1]) if hasattr(vec, "shape") else None)
                out.append(
                    EmbeddingInfo(
                        name=name,
                        filename=getattr(e, "filename", None),
                        vectors=int(getattr(e, "vectors", 0) or 0),
                        width=width,
                        step=getattr(e, "step", None),
                        loaded=loaded,
                    )
                )
        return out

    def templates(self) -> dict[str, str]:
        try:
            from modules.textual_inversion import textual_inversion as ti
        except ImportError:
            return {}
        if not ti.textual_inversion_templates:
            ti.list_textual_inversion_templates()
        return {name: t.path for name, t in ti.textual_inversion_templates.items()}

    def state_file(self, name: str) -> str | None:
        from modules import paths_internal

        return os.path.join(paths_internal.data_path, "textinv", name)

    # -- work --------------------------------------------------------------------------------
    def run_job(self, title: str, fn: Callable[[Progress], T], progress: Progress | None = None) -> T:
        """Under the webui's queue lock (never beside a txt2img), with its job state, so the
        progress bar and Interrupt work (modules/call_queue.py:8-46, modules/progress.py:23-53)."""
        from modules import progress as webui_progress
        from modules.call_queue import queue_lock

        state = shared.state
        create = getattr(webui_progress, "create_task_id", None)
        task_id = create("textinv") if create else f"task(textinv-{uuid.uuid4().hex[:12]})"
        webui_progress.add_task_to_queue(task_id)

        def sync(p: Progress) -> None:
            state.job_count = max(1, p.total)
            state.job_no = min(p.done, max(0, p.total - 1)) if p.total else 0
            state.textinfo = p.text

        inner = progress or Progress(text=title)
        with queue_lock:
            state.begin(job=f"textinv: {title}")
            webui_progress.start_task(task_id)
            fp = ForwardingProgress(inner, on_update=sync, is_cancelled=lambda: bool(state.interrupted))
            self._active = fp
            try:
                return fn(fp)
            finally:
                self._active = None
                webui_progress.finish_task(task_id)
                state.end()

    def interrupt(self) -> None:
        # Only our own job: never interrupt a txt2img that someone else is running.
        if self._active is not None:
            shared.state.interrupt()

    # -- internals ---------------------------------------------------------------------------
    @staticmethod
    def _embedding_db():
        from modules import sd_hijack

        return getattr(sd_hijack.model_hijack, "embedding_db", None)


HOST: WebuiHost | None = None


def host() -> WebuiHost:
    global HOST
    if HOST is None:
        HOST = WebuiHost()
    return HOST


# -- registration (scripts/textinv.py calls these through script_callbacks) --------------------


def on_ui_tabs():
    import gradio as gr

    problem = version_problem()
    if problem:
        logger.error(problem)
        with gr.Blocks(analytics_enabled=False) as blocks:
            gr.HTML(f"<p>{problem}</p>", elem_id=f"{TAB_ID}-version-error")
        return [(blocks, TAB_LABEL, TAB_ID)]
    from lib_textinv.ui import build_tab

    return [(build_tab(host()), TAB_LABEL, TAB_ID)]


def on_ui_settings() -> None:
    import gradio as gr

    from lib_textinv.settings import SETTINGS

    components = {
        "slider": gr.Slider,
        "radio": gr.Radio,
        "checkbox": gr.Checkbox,
        "dropdown": gr.Dropdown,
        "number": gr.Number,
        "textbox": None,
    }
    section = (*SETTINGS_SECTION, "training")  # (id, title, category) modules/options.py:68-76
    for s in SETTINGS:
        info = shared.OptionInfo(s.default, s.label, components[s.component], dict(s.args), section=section)
        if s.info:
            info = info.info(s.info)
        shared.opts.add_option(s.key, info)


def on_app_started(_demo, app) -> None:
    from lib_textinv import api

    api.mount(app, host(), getattr(shared.cmd_opts, "api_auth", None))
