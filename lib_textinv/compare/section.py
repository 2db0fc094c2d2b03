"""Section "Compare": pick a training run, sweep its checkpoints into a labelled grid, promote one.

``render`` lays the section out and returns its components (``CompareView``, which the Scores
section beside it reads from ``ctx.compare``); ``wire`` connects the handlers. Handlers are
module-level functions of plain values with the host bound by ``functools.partial``, so tests call
them directly. Generate runs the sweep as a long-work job and streams "cells done/total, ETA" while
it runs; Interrupt stops it inside the sampler (``longwork.stop``) and keeps the cells made. The
finished sweep's record path goes into a ``gr.State`` (``CompareView.output.sweeps``: the latest
sweep of each run), the value Scores scores.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from lib_textinv.compare.checkpoints import (
    TrainingRun,
    find_runs,
    names_with_runs,
    run_from_folder,
)
from lib_textinv.compare.promote import PromoteError, promote_checkpoint
from lib_textinv.compare.sweep_plan import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_PROMPTS,
    DEFAULT_SEEDS,
    PlanCheckpoint,
    PlanError,
    SweepPlan,
    parse_int_list,
    parse_prompts,
    parse_seeds,
    plan_cost,
    plan_sweep,
)
from lib_textinv.compare.sweep_record import run_key
from lib_textinv.compare.sweep_run import SWEEP_KEY, GenParams, plan_checkpoints, start_sweep
from lib_textinv.kit import longwork
from lib_textinv.kit.folder_guard import Forbidden
from lib_textinv.kit.host import Host, Unavailable
from lib_textinv.kit.jobs import Job, JobStatus
from lib_textinv.kit.tab_context import TabContext
from lib_textinv.train.folders import checked_run_folder

logger = logging.getLogger(__name__)

CHOICE_LABELS = {"all": "All", "every": "Every k-th", "list": "Steps listed"}
TABLE_HEADERS = ["token", "step", "stored step", "vectors", "width", "file", "status"]
FALLBACK_SAMPLERS = ["Euler a", "Euler", "DPM++ 2M"]
TXT2IMG_DEFAULTS = {"sampler": "Euler a", "steps": 20, "cfg_scale": 7.0, "width": 512, "height": 512}

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


# -- what the host offers ----------------------------------------------------------------------------


def samplers(host: Host) -> list[str]:
    """The host's sampler names; a short common list where it has none (standalone)."""
    try:
        names = host.samplers()
    except Unavailable as e:
        logger.info("no sampler list: %s", e)
        names = []
    return list(names) or list(FALLBACK_SAMPLERS)


def txt2img_defaults(host: Host) -> dict[str, Any]:
    """txt2img's defaults as the user saved them, over ours."""
    try:
        saved = host.txt2img_defaults()
    except Unavailable as e:
        logger.info("no txt2img defaults: %s", e)
        saved = {}
    return {**TXT2IMG_DEFAULTS, **{k: v for k, v in saved.items() if v is not None}}


def _run(host: Host, run_folder: str) -> TrainingRun:
    """The run in the folder the form names; ``ValueError`` (no folder, a relative one, no run
    there) or ``Forbidden`` (outside the allowed folders of a webui reachable from other machines)."""
    if not (run_folder or "").strip():
        raise ValueError("choose a training run first")
    paths, width = host.paths(), host.model_facts().embedding_width
    return run_from_folder(checked_run_folder(host, run_folder), width, paths.embeddings_dir)


# -- handlers: runs and checkpoints ------------------------------------------------------------------


def on_find_runs(name: str, *, host: Host) -> tuple[dict, str, str]:
    """Embedding name → (runs dropdown update, first run folder, status)."""
    import gradio as gr

    name = (name or "").strip()
    paths = host.paths()
    if not name:
        return gr.update(choices=[], value=None), "", "Type the embedding's name."
    runs = find_runs(paths.ti_log_dir, name, host.model_facts().embedding_width, paths.embeddings_dir)
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


def on_pick_run(run_folder: str, *, host: Host) -> tuple[list[list[Any]], dict, str]:
    """Run folder → (checkpoints table, promote dropdown update, status)."""
    import gradio as gr

    try:
        run = _run(host, run_folder)
    except (ValueError, Forbidden) as e:
        return [], gr.update(choices=[], value=None), str(e)
    rows = [
        [c.token, c.step, c.stored_step, c.n_vectors, c.width, str(c.path), c.error or "ok"]
        for c in run.checkpoints
    ]
    tokens = [c.token for c in run.usable]
    return rows, gr.update(choices=tokens, value=tokens[-1] if tokens else None), run.label


def chosen_checkpoints(
    host: Host, run_folder: str, mode: str, every: float, steps_text: str, include_final: bool
) -> tuple[TrainingRun, list[PlanCheckpoint]]:
    run = _run(host, run_folder)
    wanted = parse_int_list(steps_text, "step") if mode == "list" else ()
    return run, plan_checkpoints(run, mode, int(every or 1), wanted, include_final)


def on_choose(
    run_folder: str, mode: str, every: float, steps_text: str, include_final: bool, *, host: Host
) -> tuple[str, str]:
    """(JSON of the chosen checkpoints, status)."""
    try:
        _chosen_run, cps = chosen_checkpoints(host, run_folder, mode, every, steps_text, include_final)
    except (ValueError, PlanError, Forbidden) as e:
        return "[]", str(e)
    return _checkpoints_json(cps), f"{len(cps)} checkpoint(s): " + ", ".join(c.token for c in cps)


def _checkpoints_json(cps: list[PlanCheckpoint]) -> str:
    return json.dumps([{"token": c.token, "step": c.step, "final": c.final, "path": c.path} for c in cps])


# -- handlers: the sweep -----------------------------------------------------------------------------


def sweep_plan_from_form(
    host: Host,
    run_folder: str,
    mode: str,
    every: float,
    steps_text: str,
    include_final: bool,
    prompts_text: str,
    seeds_text: str,
    batch_size: float,
) -> SweepPlan:
    """The plan the form describes; raises ``ValueError``/``PlanError`` with the reason."""
    run, cps = chosen_checkpoints(host, run_folder, mode, every, steps_text, include_final)
    prompts, seeds = parse_prompts(prompts_text), parse_seeds(seeds_text)
    return plan_sweep(cps, prompts, seeds, int(batch_size), name=run.name, run_folder=str(run.folder))


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
    sweeps: dict[str, str] | None = None,
    *,
    host: Host,
) -> Iterator[tuple[Any, ...]]:
    """Generator: yields (status, grid, gallery, checkpoints JSON, grid file, sweeps), ``sweeps``
    being the record path of the latest sweep of each run (``sweep_record.run_key``), this one's
    added when it has finished."""
    import gradio as gr

    sweeps = dict(sweeps or {})
    ok, why = host.feature("generate")
    if not ok:
        yield why, None, [], "[]", "", sweeps
        return
    try:
        plan = sweep_plan_from_form(
            host, run_folder, mode, every, steps_text, include_final, prompts_text, seeds_text, batch_size
        )
        params = GenParams(
            negative_prompt=negative or "",
            sampler=sampler or "Euler a",
            steps=int(steps),
            cfg_scale=float(cfg),
            width=int(width),
            height=int(height),
        )
        job = start_sweep(host, plan, params)
    except (ValueError, PlanError, Forbidden, longwork.Busy) as e:
        yield str(e), None, [], "[]", "", sweeps
        return
    head, cps_json = _cost_line(plan, params.steps), _checkpoints_json(plan.checkpoints)
    for j in longwork.watch(job):
        if j.active:
            yield f"{head}\n{j.progress.describe()}", gr.update(), gr.update(), cps_json, "", sweeps
    result = job.result or {}
    if result.get("record"):
        sweeps[run_key(plan.run_folder)] = result["record"]
    yield f"{head}\n{_outcome(job)}", *_shown(job), cps_json, result.get("grid") or "", sweeps


def _cost_line(plan: SweepPlan, sampling_steps: int) -> str:
    ours, per_cell = plan_cost(plan, sampling_steps)
    return (
        f"{len(plan.cells)} cells ({plan.cols} checkpoints × {plan.rows} rows) in {ours.calls} "
        f"generation calls instead of {per_cell.calls}"
    )


def _outcome(job: Job) -> str:
    if job.result is None and job.status is JobStatus.INTERRUPTED:
        return "Interrupted before any cell was made."
    if job.result is None:
        return f"Failed: {job.error or job.status.value}"
    return job.result["summary"] + "".join(f"\n{w}" for w in job.result["warnings"])


def _shown(job: Job) -> tuple[Any, list[tuple[str, str]]]:
    """(grid, gallery) of a finished sweep job."""
    res = job.result or {}
    cells = [(c["path"], f"{c['token']} · seed {c['seed']} · {c['prompt']}") for c in res.get("cells", [])]
    return res.get("grid"), cells


def on_interrupt(*, host: Host) -> str:
    if not longwork.is_running(SWEEP_KEY):
        return "No sweep is running."
    longwork.stop(host, SWEEP_KEY)
    return "Interrupting: the cells already made are kept."


# -- handlers: promotion -----------------------------------------------------------------------------


def on_pick_promote(token: str) -> str:
    """Default trigger name = the checkpoint's token: ``charcoalstyle-500`` (the tutorial's usage)."""
    return token or ""


def on_promote(
    run_folder: str, token: str, trigger: str, overwrite: bool, prompts_text: str, *, host: Host
) -> tuple[str, str]:
    """(text to type in txt2img, status)."""
    try:
        run = _run(host, run_folder)
        res = promote_checkpoint(
            host,
            run.by_token(token or ""),
            trigger or on_pick_promote(token),
            missing=f"choose a checkpoint of {run.name} to promote",
            overwrite=bool(overwrite),
            sample_prompt=parse_prompts(prompts_text)[0],
        )
    except (ValueError, PromoteError, Forbidden) as e:
        return "", str(e)
    return res.text_to_type, res.message


# -- layout ------------------------------------------------------------------------------------------


@dataclass
class RunPicker:
    name: Any
    find: Any
    runs: Any
    run: Any  # gr.Textbox: the run folder everything below works on
    table: Any


@dataclass
class SweepForm:
    mode: Any
    every: Any
    steps: Any  # "Steps listed"
    include_final: Any
    chosen: Any
    prompts: Any
    seeds: Any
    negative: Any
    sampler: Any
    sampling_steps: Any
    cfg: Any
    width: Any
    height: Any
    batch: Any

    def choose_inputs(self, run: Any) -> list[Any]:
        return [run, self.mode, self.every, self.steps, self.include_final]

    def generate_inputs(self, run: Any) -> list[Any]:
        rest = [self.prompts, self.seeds, self.negative, self.sampler, self.sampling_steps, self.cfg]
        return [*self.choose_inputs(run), *rest, self.width, self.height, self.batch]


@dataclass
class SweepOutput:
    generate: Any
    stop: Any
    note: Any
    status: Any
    grid: Any
    gallery: Any
    grid_file: Any
    sweeps: Any  # gr.State: run_key(run folder) → record path of its latest sweep


@dataclass
class PromoteBox:
    checkpoint: Any
    trigger: Any
    overwrite: Any
    promote: Any
    to_type: Any
    send: Any
    status: Any


@dataclass
class CompareView:
    picker: RunPicker
    form: SweepForm
    output: SweepOutput
    promote: PromoteBox


def render_picker(ctx: TabContext) -> RunPicker:
    import gradio as gr

    eid, names = ctx.elem_id, names_with_runs(ctx.host.paths().ti_log_dir)
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
        find = gr.Button("Find runs", elem_id=eid("compare-find"))
    runs = gr.Dropdown(label="Training runs (newest first)", choices=[], elem_id=eid("compare-runs"))
    run = gr.Textbox(label="Run folder (<log>/<date>/<name>)", elem_id=eid("compare-run"))
    table = gr.Dataframe(
        headers=TABLE_HEADERS, label="Checkpoints", interactive=False, elem_id=eid("compare-table")
    )
    return RunPicker(name, find, runs, run, table)


def render_choice(ctx: TabContext) -> tuple[Any, Any, Any, Any, Any]:
    """(mode, every, steps listed, include final, chosen JSON)."""
    import gradio as gr

    eid = ctx.elem_id
    with gr.Row():
        mode = gr.Radio(
            label="Checkpoints", choices=list(CHOICE_LABELS), value="all", elem_id=eid("compare-mode")
        )
        every = gr.Number(
            label="k (every k-th)", value=2, precision=0, minimum=1, elem_id=eid("compare-every")
        )
        steps = gr.Textbox(label="Steps (list)", placeholder="250, 500, 1000", elem_id=eid("compare-steps"))
        final = gr.Checkbox(label="Include the final embedding", value=False, elem_id=eid("compare-final"))
    chosen = gr.Textbox(
        label="Chosen checkpoints (JSON)", value="[]", interactive=False, elem_id=eid("compare-checkpoints")
    )
    return mode, every, steps, final, chosen


def render_form(ctx: TabContext) -> SweepForm:
    import gradio as gr

    eid, host = ctx.elem_id, ctx.host
    mode, every, steps_listed, include_final, chosen = render_choice(ctx)
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
    defaults, names = txt2img_defaults(host), samplers(host)
    with gr.Row():
        sampler = gr.Dropdown(
            label="Sampler",
            choices=names,
            value=defaults["sampler"] if defaults["sampler"] in names else names[0],
            elem_id=eid("compare-sampler"),
        )
        sampling_steps = _slider(ctx, "Sampling steps", 1, 150, 1, int(defaults["steps"]), "sampling-steps")
        cfg = _slider(ctx, "CFG scale", 1.0, 30.0, 0.5, float(defaults["cfg_scale"]), "cfg")
    with gr.Row():
        width = _slider(ctx, "Width", 64, 2048, 8, int(defaults["width"]), "width")
        height = _slider(ctx, "Height", 64, 2048, 8, int(defaults["height"]), "height")
        batch_default = int(host.setting("sweep_batch_size", DEFAULT_BATCH_SIZE))
        batch = _slider(ctx, "Batch size (cells per generation call)", 1, 64, 1, batch_default, "batch")
    return SweepForm(
        mode=mode,
        every=every,
        steps=steps_listed,
        include_final=include_final,
        chosen=chosen,
        prompts=prompts,
        seeds=seeds,
        negative=negative,
        sampler=sampler,
        sampling_steps=sampling_steps,
        cfg=cfg,
        width=width,
        height=height,
        batch=batch,
    )


def _slider(ctx: TabContext, label: str, low: float, high: float, step: float, value: float, key: str):
    import gradio as gr

    return gr.Slider(
        label=label, minimum=low, maximum=high, step=step, value=value, elem_id=ctx.elem_id(f"compare-{key}")
    )


def render_output(ctx: TabContext) -> SweepOutput:
    import gradio as gr

    eid, reason = ctx.elem_id, ctx.unavailable_reason("generate")
    with gr.Row():
        generate = gr.Button(
            "Generate", variant="primary", interactive=reason is None, elem_id=eid("compare-generate")
        )
        stop = gr.Button("Interrupt", interactive=reason is None, elem_id=eid("compare-interrupt"))
    note = gr.Markdown(
        f"⚠ {reason}" if reason else "", visible=reason is not None, elem_id=eid("compare-unavailable")
    )
    status = gr.Textbox(label="Status", interactive=False, lines=3, elem_id=eid("compare-status"))
    ctx.gate("generate", generate, stop, note=note)
    grid = gr.Image(label="Grid", type="pil", interactive=False, elem_id=eid("compare-grid"))
    gallery = gr.Gallery(label="Cells (click for full size)", columns=6, elem_id=eid("compare-cells"))
    grid_file = gr.Textbox(label="Grid saved as", interactive=False, elem_id=eid("compare-grid-file"))
    return SweepOutput(generate, stop, note, status, grid, gallery, grid_file, gr.State({}))


def render_promote(ctx: TabContext) -> PromoteBox:
    import gradio as gr

    eid, host = ctx.elem_id, ctx.host
    gr.Markdown("#### Promote a checkpoint to the embeddings folder")
    emb_dir_known = bool(host.paths().embeddings_dir)
    with gr.Row():
        checkpoint = gr.Dropdown(label="Checkpoint", choices=[], elem_id=eid("compare-promote-checkpoint"))
        trigger = gr.Textbox(
            label="Trigger name (file name in embeddings/)", elem_id=eid("compare-promote-name")
        )
        overwrite = gr.Checkbox(
            label="Overwrite an existing file", value=False, elem_id=eid("compare-promote-overwrite")
        )
        promote = gr.Button("Promote", interactive=emb_dir_known, elem_id=eid("compare-promote"))
    with gr.Row():
        to_type = gr.Textbox(
            label="Type this in txt2img", interactive=False, elem_id=eid("compare-promote-text")
        )
        send = gr.Button(
            "Send to txt2img", interactive=host.kind != "standalone", elem_id=eid("compare-send-txt2img")
        )
    status = gr.Textbox(
        label="Promotion",
        interactive=False,
        value="" if emb_dir_known else "Promotion needs the webui's embeddings folder.",
        elem_id=eid("compare-promote-status"),
    )
    return PromoteBox(checkpoint, trigger, overwrite, promote, to_type, send, status)


def render(ctx: TabContext) -> CompareView:
    return CompareView(render_picker(ctx), render_form(ctx), render_output(ctx), render_promote(ctx))


# -- wiring ------------------------------------------------------------------------------------------


def wire_runs(ctx: TabContext, view: CompareView) -> None:
    import gradio as gr

    host, picker, form, out = ctx.host, view.picker, view.form, view.output
    picker.find.click(
        partial(on_find_runs, host=host), inputs=[picker.name], outputs=[picker.runs, picker.run, out.status]
    )
    picker.runs.change(lambda folder: folder or "", inputs=[picker.runs], outputs=[picker.run])
    choose = partial(on_choose, host=host)
    choose_inputs = form.choose_inputs(picker.run)
    picker.run.change(
        partial(on_pick_run, host=host),
        inputs=[picker.run],
        outputs=[picker.table, view.promote.checkpoint, out.status],
    ).then(choose, inputs=choose_inputs, outputs=[form.chosen, out.status])
    for comp in (form.mode, form.every, form.steps, form.include_final):
        comp.change(choose, inputs=choose_inputs, outputs=[form.chosen, out.status])
    if ctx.embedding_name is not None:
        ctx.embedding_name.change(
            lambda n: gr.update(value=n), inputs=[ctx.embedding_name], outputs=[picker.name]
        )
    if ctx.run_folder is not None:
        ctx.run_folder.change(lambda f: f or "", inputs=[ctx.run_folder], outputs=[picker.run])


def wire_sweep(ctx: TabContext, view: CompareView) -> None:
    out = view.output
    out.generate.click(
        partial(on_generate, host=ctx.host),
        inputs=[*view.form.generate_inputs(view.picker.run), out.sweeps],
        outputs=[out.status, out.grid, out.gallery, view.form.chosen, out.grid_file, out.sweeps],
    )
    out.stop.click(partial(on_interrupt, host=ctx.host), inputs=[], outputs=[out.status], queue=False)


def wire_promote(ctx: TabContext, view: CompareView) -> None:
    box = view.promote
    box.checkpoint.change(on_pick_promote, inputs=[box.checkpoint], outputs=[box.trigger])
    box.promote.click(
        partial(on_promote, host=ctx.host),
        inputs=[view.picker.run, box.checkpoint, box.trigger, box.overwrite, view.form.prompts],
        outputs=[box.to_type, box.status],
    )
    box.send.click(
        None, inputs=[box.to_type], outputs=[box.to_type], **js_kwargs(box.send.click, SEND_TO_TXT2IMG_JS)
    )


def js_kwargs(method: Callable, js: str) -> dict[str, str]:
    """gradio 3 (the webui) takes ``_js=``, gradio 4 (Forge) ``js=``."""
    return {"js": js} if "js" in inspect.signature(method).parameters else {"_js": js}


def build(ctx: TabContext) -> CompareView:
    view = render(ctx)
    ctx.compare = view
    wire_runs(ctx, view)
    wire_sweep(ctx, view)
    wire_promote(ctx, view)
    return view
