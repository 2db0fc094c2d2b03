"""Section "Compare": pick a training run, sweep its checkpoints into a labelled grid, promote one.

Handlers are module-level functions of plain values (the host is bound with ``functools.partial``)
so tests call them directly. Generation runs in ``host.run_job`` (the webui's queue lock and
progress state) on a worker thread; the handler polls its ``Progress`` and reports
"cells done/total, ETA" until it ends. Interrupt cancels that Progress: the cells made are kept.
"""

from __future__ import annotations

import inspect
import json
import logging
import threading
from functools import partial
from typing import Any

from lib_textinv.compare.checkpoints import TrainingRun, find_runs, names_with_runs, run_from_folder
from lib_textinv.compare.promote import PromoteError, promote
from lib_textinv.compare.sweep_plan import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_PROMPTS,
    DEFAULT_SEEDS,
    PlanError,
    parse_int_list,
    parse_prompts,
    parse_seeds,
    plan_cost,
    plan_sweep,
)
from lib_textinv.compare.sweep_run import GenParams, SweepResult, plan_checkpoints, run_sweep
from lib_textinv.kit.progress import Progress

logger = logging.getLogger(__name__)

CHOICE_LABELS = {"all": "All", "every": "Every k-th", "list": "Steps listed"}
TABLE_HEADERS = ["token", "step", "stored step", "vectors", "width", "file", "status"]
POLL_SECONDS = 0.5
FALLBACK_SAMPLERS = ["Euler a", "Euler", "DPM++ 2M"]

# The sweep now running (one at a time: the webui's queue serialises generation anyway).
_CURRENT: dict[str, Progress | None] = {"progress": None}

SEND_TO_TXT2IMG_JS = """
(text) => {
  const app = (typeof gradioApp === 'function') ? gradioApp() : document;
  const box = app.querySelector('#txt2img_prompt textarea');
  if (!box || !text) { return [text]; }
  box.value = text;
  box.dispatchEvent(new Event('input', {bubbles: true}));
  if (typeof switch_to_txt2img === 'function') { switch_to_txt2img(); }
  else {
    const tab = app.querySelector('#tabs > .tab-nav > button');
    if (tab) { tab.click(); }
  }
  return [text];
}
"""


# -- host helpers (the bridge adds these; standalone falls back) -------------------------------------


def _expected_width(host) -> int | None:
    return host.model_facts().embedding_width


def _samplers(host) -> list[str]:
    fn = getattr(host, "samplers", None)
    return list(fn()) if callable(fn) else list(FALLBACK_SAMPLERS)


def _txt2img_defaults(host) -> dict[str, Any]:
    fn = getattr(host, "txt2img_defaults", None)
    defaults = {"sampler": "Euler a", "steps": 20, "cfg_scale": 7.0, "width": 512, "height": 512}
    if callable(fn):
        defaults.update({k: v for k, v in (fn() or {}).items() if v is not None})
    return defaults


def _run(host, run_folder: str) -> TrainingRun:
    if not (run_folder or "").strip():
        raise ValueError("choose a training run first")
    return run_from_folder(run_folder.strip(), _expected_width(host), host.paths().embeddings_dir)


# -- handlers ----------------------------------------------------------------------------------------


def on_find_runs(name: str, *, host) -> tuple[dict, str, str]:
    """Embedding name → (runs dropdown update, first run folder, status)."""
    import gradio as gr

    name = (name or "").strip()
    paths = host.paths()
    if not name:
        return gr.update(choices=[], value=None), "", "Type the embedding's name."
    runs = find_runs(paths.ti_log_dir, name, _expected_width(host), paths.embeddings_dir)
    if not runs:
        where = paths.ti_log_dir or "(no log folder known: paste a run folder below)"
        return gr.update(choices=[], value=None), "", f"No training runs of {name!r} under {where}."
    folders = [str(r.folder) for r in runs]
    lines = "\n".join(f"- {r.label}" for r in runs)
    return (
        gr.update(choices=folders, value=folders[0]),
        folders[0],
        f"{len(runs)} run(s), newest first:\n{lines}",
    )


def on_pick_run(run_folder: str, *, host) -> tuple[list[list[Any]], dict, str]:
    """Run folder → (checkpoints table, promote dropdown update, status)."""
    import gradio as gr

    try:
        run = _run(host, run_folder)
    except ValueError as e:
        return [], gr.update(choices=[], value=None), str(e)
    rows = [
        [c.token, c.step, c.stored_step, c.n_vectors, c.width, str(c.path), c.error or "ok"]
        for c in run.checkpoints
    ]
    tokens = [c.token for c in run.usable]
    return rows, gr.update(choices=tokens, value=tokens[-1] if tokens else None), run.label


def chosen_checkpoints(host, run_folder: str, mode: str, every: float, steps_text: str, include_final: bool):
    run = _run(host, run_folder)
    wanted = parse_int_list(steps_text, "step") if mode == "list" else ()
    return plan_checkpoints(run, mode, int(every or 1), wanted, include_final)


def on_choose(
    run_folder: str, mode: str, every: float, steps_text: str, include_final: bool, *, host
) -> tuple[str, str]:
    """(JSON of the chosen checkpoints for ``compare_checkpoints``, status)."""
    try:
        cps = chosen_checkpoints(host, run_folder, mode, every, steps_text, include_final)
    except (ValueError, PlanError) as e:
        return "[]", str(e)
    return _checkpoints_json(cps), f"{len(cps)} checkpoint(s): " + ", ".join(c.token for c in cps)


def _checkpoints_json(cps) -> str:
    return json.dumps([{"token": c.token, "step": c.step, "final": c.final, "path": c.path} for c in cps])


def on_generate(
    run_folder,
    mode,
    every,
    steps_text,
    include_final,
    prompts_text,
    seeds_text,
    negative,
    sampler,
    steps,
    cfg,
    width,
    height,
    batch_size,
    *,
    host,
):
    """Generator: yields (status, grid image, gallery, checkpoints JSON, grid folder)."""
    ok, why = host.feature("generate")
    if not ok:
        yield why, None, [], "[]", ""
        return
    try:
        cps = chosen_checkpoints(host, run_folder, mode, every, steps_text, include_final)
        plan = plan_sweep(cps, parse_prompts(prompts_text), parse_seeds(seeds_text), int(batch_size))
    except (ValueError, PlanError) as e:
        yield str(e), None, [], "[]", ""
        return
    params = GenParams(
        negative_prompt=negative or "",
        sampler=sampler or "Euler a",
        steps=int(steps),
        cfg_scale=float(cfg),
        width=int(width),
        height=int(height),
    )
    ours, per_cell = plan_cost(plan, params.steps)
    head = (
        f"{len(plan.cells)} cells ({plan.cols} checkpoints × {plan.rows} rows) in {ours.calls} "
        f"generation calls instead of {per_cell.calls}"
    )
    progress = Progress(text="step sweep")
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["result"] = host.run_job("Step sweep", partial(run_sweep, plan, host, params), progress)
        except Exception as e:  # shown to the user in the status line; the traceback goes to the log
            logger.exception("step sweep failed")
            box["error"] = f"{type(e).__name__}: {e}"

    _CURRENT["progress"] = progress
    worker = threading.Thread(target=work, name="textinv-sweep", daemon=True)
    worker.start()
    cps_json = _checkpoints_json(cps)
    try:
        while worker.is_alive():
            yield f"{head}\n{progress.describe()}", None, [], cps_json, ""
            worker.join(POLL_SECONDS)
    finally:
        _CURRENT["progress"] = None
    if "error" in box:
        yield f"{head}\nFailed: {box['error']}", None, [], cps_json, ""
        return
    result: SweepResult = box["result"]
    warn = "".join(f"\n{w}" for w in result.warnings)
    yield (
        f"{head}\n{result.summary()}{warn}",
        result.grid,
        gallery_items(result),
        cps_json,
        result.grid_dir or "",
    )


def gallery_items(result: SweepResult) -> list[tuple[Any, str]]:
    return [(r.path or r.image, f"{r.cell.token} · seed {r.cell.seed} · {r.cell.text}") for r in result.cells]


def on_interrupt() -> str:
    progress = _CURRENT["progress"]
    if progress is None:
        return "No sweep is running."
    progress.cancel()
    return "Interrupting: the cells already made are kept."


def on_pick_promote(token: str) -> str:
    """Default trigger name = the checkpoint's token: ``charcoalstyle-500`` (the tutorial's usage)."""
    return token or ""


def on_promote(
    run_folder: str, token: str, trigger: str, overwrite: bool, prompts_text: str, *, host
) -> tuple[str, str]:
    """(text to type in txt2img, status)."""
    try:
        run = _run(host, run_folder)
        cp = run.by_token(token or "")
        if cp is None or not cp.usable:
            raise ValueError(cp.error if cp else f"choose a checkpoint of {run.name} to promote")
        emb_dir = host.paths().embeddings_dir
        if not emb_dir:
            raise ValueError("no embeddings folder known (standalone mode): run the tab inside the webui")
        sample = parse_prompts(prompts_text)[0]
        res = promote(
            host,
            cp.path,
            emb_dir,
            trigger or on_pick_promote(token),
            overwrite=bool(overwrite),
            expected_width=_expected_width(host),
            sample_prompt=sample,
        )
    except (ValueError, PromoteError) as e:
        return "", str(e)
    return res.text_to_type, res.message


# -- UI ----------------------------------------------------------------------------------------------


def _js_kwargs(method, js: str) -> dict[str, str]:
    """gradio 3 takes ``_js=``, gradio 4 ``js=``."""
    return {"js": js} if "js" in inspect.signature(method).parameters else {"_js": js}


def build(ctx) -> None:
    import gradio as gr

    host = ctx.host
    eid = ctx.elem_id
    gen_reason = ctx.unavailable_reason("generate")
    defaults = _txt2img_defaults(host)
    samplers = _samplers(host)
    default_sampler = defaults["sampler"] if defaults["sampler"] in samplers else (samplers or [None])[0]
    names = names_with_runs(host.paths().ti_log_dir)
    batch_default = int(host.setting("sweep_batch_size", DEFAULT_BATCH_SIZE))

    gr.Markdown(
        "### Compare\nRender every chosen checkpoint side by side (columns = steps, rows = prompt × "
        "seed), several checkpoints per batch, then promote the one you like."
    )
    with gr.Row():
        name = gr.Dropdown(
            label="Embedding",
            choices=names,
            value=names[0] if names else None,
            allow_custom_value=True,
            elem_id=eid("compare-name"),
        )
        find_btn = gr.Button("Find runs", elem_id=eid("compare-find"))
    runs = gr.Dropdown(label="Training runs (newest first)", choices=[], elem_id=eid("compare-runs"))
    run_box = gr.Textbox(label="Run folder (<log>/<date>/<name>)", elem_id=eid("compare-run"))
    table = gr.Dataframe(
        headers=TABLE_HEADERS, label="Checkpoints", interactive=False, elem_id=eid("compare-table")
    )
    with gr.Row():
        mode = gr.Radio(
            label="Checkpoints", choices=list(CHOICE_LABELS), value="all", elem_id=eid("compare-mode")
        )
        every = gr.Number(
            label="k (every k-th)", value=2, precision=0, minimum=1, elem_id=eid("compare-every")
        )
        steps_text = gr.Textbox(
            label="Steps (list)", placeholder="250, 500, 1000", elem_id=eid("compare-steps")
        )
        include_final = gr.Checkbox(
            label="Include the final embedding", value=False, elem_id=eid("compare-final")
        )
    chosen = gr.Textbox(
        label="Chosen checkpoints (JSON)", value="[]", interactive=False, elem_id=eid("compare-checkpoints")
    )
    prompts = gr.Textbox(
        label="Prompts (one per line; {} marks the trigger, else it is appended)",
        lines=4,
        value="\n".join(DEFAULT_PROMPTS),
        elem_id=eid("compare-prompts"),
    )
    with gr.Row():
        seeds = gr.Textbox(
            label="Seeds", value=", ".join(map(str, DEFAULT_SEEDS)), elem_id=eid("compare-seeds")
        )
        negative = gr.Textbox(label="Negative prompt", elem_id=eid("compare-negative"))
    with gr.Row():
        sampler = gr.Dropdown(
            label="Sampler", choices=samplers, value=default_sampler, elem_id=eid("compare-sampler")
        )
        steps = gr.Slider(
            label="Sampling steps",
            minimum=1,
            maximum=150,
            step=1,
            value=int(defaults["steps"]),
            elem_id=eid("compare-sampling-steps"),
        )
        cfg = gr.Slider(
            label="CFG scale",
            minimum=1.0,
            maximum=30.0,
            step=0.5,
            value=float(defaults["cfg_scale"]),
            elem_id=eid("compare-cfg"),
        )
    with gr.Row():
        width = gr.Slider(
            label="Width",
            minimum=64,
            maximum=2048,
            step=8,
            value=int(defaults["width"]),
            elem_id=eid("compare-width"),
        )
        height = gr.Slider(
            label="Height",
            minimum=64,
            maximum=2048,
            step=8,
            value=int(defaults["height"]),
            elem_id=eid("compare-height"),
        )
        batch = gr.Slider(
            label="Batch size (cells per generation call)",
            minimum=1,
            maximum=64,
            step=1,
            value=batch_default,
            elem_id=eid("compare-batch"),
        )
    with gr.Row():
        gen_btn = gr.Button(
            "Generate", variant="primary", interactive=gen_reason is None, elem_id=eid("compare-generate")
        )
        stop_btn = gr.Button("Interrupt", interactive=gen_reason is None, elem_id=eid("compare-interrupt"))
    gen_note = gr.Markdown(
        f"⚠ {gen_reason}" if gen_reason else "",
        visible=gen_reason is not None,
        elem_id=eid("compare-unavailable"),
    )
    status = gr.Textbox(label="Status", interactive=False, lines=3, elem_id=eid("compare-status"))
    ctx.gate("generate", gen_btn, stop_btn, note=gen_note)
    grid = gr.Image(label="Grid", type="pil", interactive=False, elem_id=eid("compare-grid"))
    gallery = gr.Gallery(label="Cells (click for full size)", columns=6, elem_id=eid("compare-cells"))
    grid_dir = gr.Textbox(label="Grid saved in", interactive=False, elem_id=eid("compare-grid-dir"))

    gr.Markdown("#### Promote a checkpoint to the embeddings folder")
    emb_dir_known = bool(host.paths().embeddings_dir)
    with gr.Row():
        promote_cp = gr.Dropdown(label="Checkpoint", choices=[], elem_id=eid("compare-promote-checkpoint"))
        trigger = gr.Textbox(
            label="Trigger name (file name in embeddings/)", elem_id=eid("compare-promote-name")
        )
        overwrite = gr.Checkbox(
            label="Overwrite an existing file", value=False, elem_id=eid("compare-promote-overwrite")
        )
        promote_btn = gr.Button("Promote", interactive=emb_dir_known, elem_id=eid("compare-promote"))
    with gr.Row():
        to_type = gr.Textbox(
            label="Type this in txt2img", interactive=False, elem_id=eid("compare-promote-text")
        )
        send_btn = gr.Button(
            "Send to txt2img", interactive=host.kind != "standalone", elem_id=eid("compare-send-txt2img")
        )
    promote_status = gr.Textbox(
        label="Promotion",
        interactive=False,
        value="" if emb_dir_known else "Promotion needs the webui's embeddings folder.",
        elem_id=eid("compare-promote-status"),
    )

    ctx.extra["compare_run"] = run_box
    ctx.extra["compare_checkpoints"] = chosen
    ctx.extra["compare_grid_dir"] = grid_dir
    ctx.extra["compare_grid"] = grid
    ctx.extra["compare_mode"] = mode
    ctx.extra["compare_steps"] = steps_text

    find_btn.click(partial(on_find_runs, host=host), inputs=[name], outputs=[runs, run_box, status])
    runs.change(lambda folder: folder or "", inputs=[runs], outputs=[run_box])
    choose_inputs = [run_box, mode, every, steps_text, include_final]
    run_box.change(
        partial(on_pick_run, host=host), inputs=[run_box], outputs=[table, promote_cp, status]
    ).then(partial(on_choose, host=host), inputs=choose_inputs, outputs=[chosen, status])
    for comp in (mode, every, steps_text, include_final):
        comp.change(partial(on_choose, host=host), inputs=choose_inputs, outputs=[chosen, status])
    if ctx.embedding_name is not None:
        ctx.embedding_name.change(lambda n: gr.update(value=n), inputs=[ctx.embedding_name], outputs=[name])
    if ctx.run_folder is not None:
        ctx.run_folder.change(lambda f: f or "", inputs=[ctx.run_folder], outputs=[run_box])
    gen_btn.click(
        partial(on_generate, host=host),
        inputs=[*choose_inputs, prompts, seeds, negative, sampler, steps, cfg, width, height, batch],
        outputs=[status, grid, gallery, chosen, grid_dir],
    )
    stop_btn.click(on_interrupt, inputs=[], outputs=[status], queue=False)
    promote_cp.change(on_pick_promote, inputs=[promote_cp], outputs=[trigger])
    promote_btn.click(
        partial(on_promote, host=host),
        inputs=[run_box, promote_cp, trigger, overwrite, prompts],
        outputs=[to_type, promote_status],
    )
    send_btn.click(
        None, inputs=[to_type], outputs=[to_type], **_js_kwargs(send_btn.click, SEND_TO_TXT2IMG_JS)
    )
