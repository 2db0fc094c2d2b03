"""``python -m lib_textinv``: the same tab without a webui, on 127.0.0.1, for the features that need
no model (and for browser tests). JS and CSS are injected the way the webui injects them
(modules/ui_gradio_extensions.py:52-63): scripts before ``</head>``, styles before ``</body>``."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from lib_textinv.kit.host import StandaloneHost

ROOT = Path(__file__).resolve().parent.parent
logger = logging.getLogger(__name__)
_PATCHED: set = set()  # our own TemplateResponse wrappers (patch once per process)


def head_html() -> str:
    scripts = "".join(
        f"<script>\n{p.read_text(encoding='utf-8')}\n</script>\n"
        for p in sorted((ROOT / "javascript").glob("*.js"))
    )
    return scripts


def css_html() -> str:
    css = ROOT / "style.css"
    return f"<style>\n{css.read_text(encoding='utf-8')}\n</style>\n" if css.is_file() else ""


def patch_template_response() -> None:
    """Inject our JS/CSS into gradio's page (only in our own standalone process)."""
    import gradio.routes

    original = gradio.routes.templates.TemplateResponse
    if original in _PATCHED:
        return

    def template_response(*args, **kwargs):
        res = original(*args, **kwargs)
        res.body = res.body.replace(b"</head>", f"{head_html()}</head>".encode())
        res.body = res.body.replace(b"</body>", f"{css_html()}</body>".encode())
        res.init_headers()
        return res

    _PATCHED.add(template_response)
    gradio.routes.templates.TemplateResponse = template_response


def create_app(host: StandaloneHost):
    import gradio as gr
    from fastapi import FastAPI

    from lib_textinv import routes as api
    from lib_textinv.tab import build_tab

    patch_template_response()
    blocks = build_tab(host)
    blocks.queue(concurrency_count=4)
    app = FastAPI(title="sd-webui-textinv (standalone)")
    api.mount(app, host)
    return gr.mount_gradio_app(app, blocks, path="/")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m lib_textinv", description=__doc__)
    parser.add_argument("--port", type=int, default=7870)
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default: loopback only)")
    parser.add_argument("--templates-dir", default=None, help="a webui textual_inversion_templates folder")
    parser.add_argument(
        "--state-dir",
        default=str(Path.home() / ".cache" / "sd-webui-textinv"),
        help="where recent folders are remembered",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    import uvicorn

    host = StandaloneHost(templates_dir=args.templates_dir, state_dir=args.state_dir)
    app = create_app(host)
    logger.info("textinv standalone on http://%s:%d", args.host, args.port)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
