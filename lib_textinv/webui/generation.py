"""txt2img for the step sweep: one batch with a prompt and a seed per image, the user's saved
txt2img defaults, saving images and grids where the webui saves them, and its labelled grids
(docs/webui-contract.md §4 ui-config.json, §16 one batch, §17 images and grids, §18 samplers)."""

from __future__ import annotations

import dataclasses
import json
from contextlib import closing
from typing import Any

from modules import shared

from lib_textinv.kit.progress import Cancelled
from lib_textinv.webui import cell_infotext
from lib_textinv.webui.facts import paths
from lib_textinv.webui.work import stop_requested

# Our field → the txt2img tab's key in ui-config.json (modules/ui_loadsave.py).
TXT2IMG_KEYS = {
    "sampler": "txt2img/Sampling method/value",
    "steps": "txt2img/Sampling steps/value",
    "cfg_scale": "txt2img/CFG Scale/value",
    "width": "txt2img/Width/value",
    "height": "txt2img/Height/value",
}


def samplers() -> list[str]:
    from modules import sd_samplers

    return [s.name for s in sd_samplers.samplers]


def txt2img_defaults() -> dict[str, Any]:
    """The txt2img tab's defaults as the user saved them in ui-config.json."""
    path = getattr(shared.cmd_opts, "ui_config_file", None)
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as f:
            cfg = json.load(f)
    except (OSError, ValueError):
        return {}
    if not isinstance(cfg, dict):
        return {}
    return {k: cfg[v] for k, v in TXT2IMG_KEYS.items() if v in cfg}


def _txt2img_kwargs(prompts: list[str], seeds: list[int], params: Any) -> dict[str, Any]:
    from modules import processing

    n = len(prompts)
    kwargs: dict[str, Any] = {
        "prompt": list(prompts),
        "negative_prompt": [params.negative_prompt] * n,
        "seed": list(seeds),
        "sampler_name": params.sampler,
        "steps": int(params.steps),
        "cfg_scale": float(params.cfg_scale),
        "width": int(params.width),
        "height": int(params.height),
        "batch_size": n,
        "n_iter": 1,
        "do_not_save_samples": True,
        "do_not_save_grid": True,
    }
    fields = {f.name for f in dataclasses.fields(processing.StableDiffusionProcessingTxt2Img)}
    if "scheduler" in fields:  # 1.9+
        kwargs["scheduler"] = params.scheduler
    return kwargs


def generate(prompts: list[str], seeds: list[int], params: Any) -> list[tuple[Any, str]]:
    """One txt2img batch, image i from prompts[i] and seeds[i]. Runs inside run_job (the lock is
    held), without reloading the embedding database (a reload drops the sweep's tokens)."""
    from modules import processing

    p = processing.StableDiffusionProcessingTxt2Img(**_txt2img_kwargs(prompts, seeds, params))
    p.do_not_reload_embeddings = True
    with closing(p):
        processed = processing.process_images(p)
    # Interrupt and Skip stop the sampler early: the half-sampled batch that comes back is not
    # kept as finished cells. "Stop after the current image" (the Interrupt button once a job
    # counts more than one step, modules/ui_toprow.py:105-110) lets a started batch finish, but one
    # not yet started comes back empty (modules/processing.py:938-939); the sweep stops either way.
    state = shared.state
    if state.interrupted or getattr(state, "skipped", False):
        raise Cancelled("interrupted" if state.interrupted else "skipped")
    first = processed.index_of_first_image
    # The webui lists the whole batch's embeddings in every infotext: each cell names its own.
    negatives = [params.negative_prompt] * len(prompts)
    infotexts = cell_infotext.own_infotexts(processed.infotexts[first:], prompts, negatives)
    made = list(zip(processed.images[first:], infotexts, strict=False))
    if not made and stop_requested(state):
        raise Cancelled("stopped")
    return made


def save_image(image: Any, prompt: str, seed: int, infotext: str) -> str:
    from modules import images as webui_images

    path, _ = webui_images.save_image(
        image, paths().outdir_samples, "", seed, prompt, shared.opts.samples_format, info=infotext
    )
    return path


def save_grid(image: Any, prompt: str, seed: int, infotext: str) -> str:
    from modules import images as webui_images

    path, _ = webui_images.save_image(
        image,
        paths().outdir_grids,
        "textinv-sweep",
        seed,
        prompt,
        getattr(shared.opts, "grid_format", "png"),
        info=infotext,
        grid=True,
    )
    return path


def draw_grid(images: list[Any], cols: int, rows: int, col_labels: list[str], row_labels: list[str]) -> Any:
    """images.image_grid + draw_grid_annotations (modules/images.py:36-66, 151-236); fresh
    annotation lists each call because the webui re-wraps them in place."""
    from modules import images as webui_images

    grid = webui_images.image_grid(images, rows=rows)
    w, h = images[0].size
    hor = [[webui_images.GridAnnotation(t)] for t in col_labels]
    ver = [[webui_images.GridAnnotation(t)] for t in row_labels]
    return webui_images.draw_grid_annotations(grid, w, h, hor, ver)
