"""Inside "Compare", next to the grid: pre-score (fixed-batch loss), CLIP scores, drift, the
recommended step with its rule, and one-click promotion.

It works on what the Compare section hands over (``ctx.compare``): the run
folder, the ``gr.State`` holding the record of each run's latest sweep (Score scores exactly the
sweep of the run it scores), the grid view (Score shows the marked grid there) and the step list
(Pre-score fills it).
``render`` lays it out, ``wire`` connects the handlers; handlers are module-level functions of
plain values with the host bound by ``functools.partial``. Pre-score and Score run as long-work
jobs with a progress bar (ETA) and one Stop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from lib_textinv.compare.checkpoints import run_from_folder
from lib_textinv.compare.promote import promote_checkpoint
from lib_textinv.compare.section import CompareView
from lib_textinv.compare.sweep_record import SweepRecord, SweepRecordError, read_record, run_key
from lib_textinv.kit import longwork
from lib_textinv.kit.folder_guard import Forbidden, checked_folder
from lib_textinv.kit.host import Host, Unavailable
from lib_textinv.kit.progress import Cancelled, Progress
from lib_textinv.kit.tab_context import TabContext
from lib_textinv.scores import scoring
from lib_textinv.scores.charts import (
    NEAREST_HEADERS,
    TABLE_HEADERS,
    clip_chart,
    drift_chart,
    loss_chart,
    nearest_rows,
    recommendation_markdown,
    scatter,
    table_rows,
)
from lib_textinv.scores.fixed_loss import FixedLossResult
from lib_textinv.scores.scoring import SCORES_KEY, ScoreReport
from lib_textinv.train.folders import checked_run_folder

logger = logging.getLogger(__name__)

# What a long action may end with that the user reads as a status, not a crash (a folder given
# as a relative path is a ValueError; one outside the allowed folders is Forbidden).
EXPECTED = (ValueError, Unavailable, longwork.Busy, Forbidden)


# -- handlers ------------------------------------------------------------------------------------


def _run_folder(run_folder: str, fallback: str = "") -> str:
    return (run_folder or "").strip() or (fallback or "").strip()


def allowed_folders(host: Host, run_folder: str, training_folder: str) -> tuple[str, str | None]:
    """(run folder, training images folder or None) as absolute paths the host allows; raises
    ``ValueError`` (a relative path) or ``Forbidden`` (outside the allowed folders)."""
    run = str(checked_run_folder(host, run_folder))
    text = (training_folder or "").strip()
    training = str(checked_folder(text, host.file_access(), "training images folder")) if text else None
    return run, training


def on_prescore(
    run_folder: str, fallback_folder: str, training_folder: str, *, host: Host, bar: Callable | None = None
) -> tuple[str, str, str, FixedLossResult | None]:
    """(loss SVG, pre-selected steps "400, 600", status, loss state). Every checkpoint of the run is
    scored, whatever Compare has chosen: the point is to choose."""
    folder = _run_folder(run_folder, fallback_folder)
    if not folder:
        return loss_chart(None), "", "Pick a training run first.", None
    try:
        folder, training = allowed_folders(host, folder, training_folder)
        result = longwork.run(
            host,
            SCORES_KEY,
            "fixed-batch loss",
            lambda p: scoring.prescore(host, folder, None, training, progress=p),
            bar,
        )
    except Cancelled:
        return loss_chart(None), "", "Pre-score stopped.", None
    except EXPECTED as e:
        return loss_chart(None), "", f"Pre-score not done: {e}", None
    steps = ", ".join(map(str, result.flat_steps))
    status = (
        f"{len(result.points)} checkpoints on a fixed batch of {result.batch_size} samples. "
        f"{result.cost.sentence() if result.cost else ''}"
        + (f" Pre-selected steps {steps} are now Compare's step list." if steps else "")
        + ("\n" + "\n".join(result.problems) if result.problems else "")
    )
    return loss_chart(result), steps, status, result


def use_preselected(steps: str) -> tuple[Any, Any]:
    """Pre-selected steps → Compare's "Steps listed" (mode and list); nothing when there are none."""
    import gradio as gr

    if not (steps or "").strip():
        return gr.update(), gr.update()
    return gr.update(value="list"), gr.update(value=steps)


def marked_grid(report: ScoreReport | None) -> Any:
    """The grid with the recommended column marked, for Compare's grid view (kept as is if none)."""
    import gradio as gr

    path = report.marked_grid_path if report is not None else None
    if not path:
        return gr.update()
    from PIL import Image

    with Image.open(path) as im:
        return im.convert("RGB")


def _sweep(sweeps: dict[str, str] | None, run_folder: str) -> tuple[SweepRecord | None, list[str]]:
    """The record of ``run_folder``'s latest sweep that Compare handed over, or why there is none."""
    path = (sweeps or {}).get(run_key(run_folder))
    if not path:
        return None, []
    try:
        return read_record(path), []
    except SweepRecordError as e:
        return None, [f"the sweep cannot be scored: {e}"]


def _empty(loss_state: FixedLossResult | None, status: str) -> tuple[Any, ...]:
    return (
        table_rows(None),
        clip_chart(None),
        scatter(None),
        drift_chart(None),
        nearest_rows(None),
        recommendation_markdown(None),
        status,
        None,
        marked_grid(None),
        loss_chart(loss_state),
        loss_state,
    )


def on_score(
    run_folder: str,
    fallback_folder: str,
    sweeps: dict[str, str] | None,
    training_folder: str,
    tolerance: float,
    loss_state: FixedLossResult | None,
    *,
    host: Host,
    bar: Callable | None = None,
) -> tuple[Any, ...]:
    """(table, CLIP chart, scatter, drift chart, nearest table, recommendation, status, report,
    marked grid, loss chart, loss state) for the run's latest sweep in ``sweeps``. The fixed-batch loss
    is computed too when the run has not been pre-scored, so there is a recommendation even
    without CLIP weights."""
    folder = _run_folder(run_folder, fallback_folder)
    if not folder:
        return _empty(loss_state, "Pick a training run first.")
    try:
        folder, training = allowed_folders(host, folder, training_folder)
    except (ValueError, Forbidden) as e:
        return _empty(loss_state, f"Scores not done: {e}")
    record, notes = _sweep(sweeps, folder)

    def work(p: Progress) -> ScoreReport:
        loss, loss_notes = scoring.loss_for(host, folder, loss_state, training, p)
        report = scoring.score(
            host,
            folder,
            record,
            training_folder=training,
            tolerance=float(tolerance) / 100.0,
            loss=loss,
            progress=p,
        )
        report.problems[:0] = notes + loss_notes
        return report

    try:
        report = longwork.run(host, SCORES_KEY, "scores", work, bar)
    except Cancelled:
        return _empty(loss_state, "Scoring stopped.")
    except EXPECTED as e:
        return _empty(loss_state, f"Scores not done: {e}")
    return (
        table_rows(report),
        clip_chart(report),
        scatter(report),
        drift_chart(report),
        nearest_rows(report),
        recommendation_markdown(report),
        score_status(report),
        report,
        marked_grid(report),
        loss_chart(report.loss),
        report.loss,
    )


def score_status(report: ScoreReport) -> str:
    marked = report.marked_grid_path
    return (
        f"Scored {len(report.clip.cells) if report.clip else 0} cells."
        + (f" CSV: {report.csv_path}" if report.csv_path else "")
        + (f"\nThe grid with the recommended column marked: {marked}" if marked else "")
        + ("\n" + "\n".join(report.problems) if report.problems else "")
    )


def on_stop(*, host: Host) -> str:
    if not longwork.is_running(SCORES_KEY):
        return "Nothing is being scored."
    longwork.stop(host, SCORES_KEY)
    return "Stopping the scoring…"


def on_promote(report: ScoreReport | None, *, host: Host) -> str:
    """Copy the recommended checkpoint into embeddings/ as ``<name>-<N>`` (never overwriting)."""
    if report is None or report.recommendation is None:
        return "Nothing to promote: score the sweep first."
    step = report.recommendation.step
    try:
        run = run_from_folder(report.run_folder, host.model_facts().embedding_width)
        result = promote_checkpoint(
            host, run.by_step(step), missing=f"checkpoint for step {step} not found in {report.run_folder}"
        )
    except (ValueError, OSError, Unavailable) as e:  # PromoteError is a ValueError
        return f"Not promoted: {e}"
    return result.message


# -- layout --------------------------------------------------------------------------------------


@dataclass
class ScoresView:
    training_folder: Any
    tolerance: Any
    prescore: Any
    score: Any
    stop: Any
    promote: Any
    status: Any
    recommendation: Any
    loss_plot: Any
    preselected: Any
    table: Any
    clip_plot: Any
    scatter_plot: Any
    drift_plot: Any
    nearest: Any
    loss_state: Any
    report_state: Any


def _needs_model(why: str) -> str:
    return f"Scoring needs the webui's loaded model: {why}"


def render_controls(ctx: TabContext) -> tuple[Any, ...]:
    """(training folder, tolerance, pre-score, score, stop, promote, status)."""
    import gradio as gr

    eid, reason = ctx.elem_id, ctx.unavailable_reason("generate")
    gr.Markdown("#### Scores and the recommended step")
    note = gr.Markdown(
        _needs_model(reason) if reason else "", visible=reason is not None, elem_id=eid("scores-unavailable")
    )
    with gr.Row():
        training_folder = gr.Textbox(
            label="Training images (empty: the folder the run was trained on)",
            elem_id=eid("scores-training-folder"),
        )
        tolerance = gr.Slider(
            label="CLIP-T tolerance (%)",
            minimum=0,
            maximum=50,
            step=1,
            value=5,
            elem_id=eid("scores-tolerance"),
        )
    with gr.Row():
        ok = reason is None
        prescore = gr.Button("Pre-score (fixed-batch loss)", interactive=ok, elem_id=eid("scores-prescore"))
        score = gr.Button("Score the sweep", variant="primary", interactive=ok, elem_id=eid("scores-score"))
        stop = gr.Button("Stop scoring", interactive=ok, elem_id=eid("scores-stop"))
        promote = gr.Button("Promote the recommended step", interactive=ok, elem_id=eid("scores-promote"))
    status = gr.Textbox(label="Scoring", interactive=False, lines=3, elem_id=eid("scores-status"))
    ctx.gate("generate", prescore, score, stop, promote, note=note, render=_needs_model)
    return training_folder, tolerance, prescore, score, stop, promote, status


def render(ctx: TabContext) -> ScoresView:
    import gradio as gr

    eid = ctx.elem_id
    training_folder, tolerance, prescore, score, stop, promote, status = render_controls(ctx)
    recommendation = gr.Markdown(recommendation_markdown(None), elem_id=eid("scores-recommendation"))
    with gr.Row():
        loss_plot = gr.HTML(loss_chart(None), elem_id=eid("scores-loss-plot"))
        preselected = gr.Textbox(
            label="Pre-selected steps (copied into Compare's 'Steps listed')",
            interactive=False,
            elem_id=eid("scores-preselected"),
        )
    table = gr.Dataframe(headers=TABLE_HEADERS, interactive=False, elem_id=eid("scores-table"))
    with gr.Row():
        clip_plot = gr.HTML(clip_chart(None), elem_id=eid("scores-clip-plot"))
        scatter_plot = gr.HTML(scatter(None), elem_id=eid("scores-scatter"))
    with gr.Row():
        drift_plot = gr.HTML(drift_chart(None), elem_id=eid("scores-drift-plot"))
        nearest = gr.Dataframe(headers=NEAREST_HEADERS, interactive=False, elem_id=eid("scores-nearest"))
    return ScoresView(
        training_folder=training_folder,
        tolerance=tolerance,
        prescore=prescore,
        score=score,
        stop=stop,
        promote=promote,
        status=status,
        recommendation=recommendation,
        loss_plot=loss_plot,
        preselected=preselected,
        table=table,
        clip_plot=clip_plot,
        scatter_plot=scatter_plot,
        drift_plot=drift_plot,
        nearest=nearest,
        loss_state=gr.State(None),
        report_state=gr.State(None),
    )


# -- wiring --------------------------------------------------------------------------------------


@dataclass
class Handed:
    """What the Compare section hands over, or hidden stand-ins when it is absent."""

    run: Any
    fallback: Any
    sweeps: Any
    grid: Any
    mode: Any
    steps: Any


def handed_over(ctx: TabContext) -> Handed:
    import gradio as gr

    compare = ctx.compare
    fallback = ctx.run_folder if ctx.run_folder is not None else gr.Textbox(visible=False)
    if not isinstance(compare, CompareView):  # Compare failed to load: Scores still works on the run
        return Handed(fallback, fallback, gr.State({}), gr.Image(visible=False), None, None)
    return Handed(
        run=compare.picker.run,
        fallback=fallback,
        sweeps=compare.output.sweeps,
        grid=compare.output.grid,
        mode=compare.form.mode,
        steps=compare.form.steps,
    )


def wire_prescore(ctx: TabContext, view: ScoresView, given: Handed) -> None:
    import gradio as gr

    host = ctx.host

    def prescore(run, fallback, training, progress=gr.Progress()):
        return on_prescore(run, fallback, training, host=host, bar=progress)

    done = view.prescore.click(
        prescore,
        inputs=[given.run, given.fallback, view.training_folder],
        outputs=[view.loss_plot, view.preselected, view.status, view.loss_state],
    )
    if given.mode is not None and given.steps is not None:
        done.then(use_preselected, inputs=[view.preselected], outputs=[given.mode, given.steps])


def wire_score(ctx: TabContext, view: ScoresView, given: Handed) -> None:
    import gradio as gr

    host = ctx.host

    def score(run, fallback, sweeps, training, tolerance, loss, progress=gr.Progress()):
        return on_score(run, fallback, sweeps, training, tolerance, loss, host=host, bar=progress)

    view.score.click(
        score,
        inputs=[
            given.run,
            given.fallback,
            given.sweeps,
            view.training_folder,
            view.tolerance,
            view.loss_state,
        ],
        outputs=[
            view.table,
            view.clip_plot,
            view.scatter_plot,
            view.drift_plot,
            view.nearest,
            view.recommendation,
            view.status,
            view.report_state,
            given.grid,
            view.loss_plot,
            view.loss_state,
        ],
    )
    view.stop.click(partial(on_stop, host=host), inputs=[], outputs=[view.status], queue=False)
    view.promote.click(partial(on_promote, host=host), inputs=[view.report_state], outputs=[view.status])


def build(ctx: TabContext) -> ScoresView:
    view = render(ctx)
    given = handed_over(ctx)
    wire_prescore(ctx, view, given)
    wire_score(ctx, view, given)
    return view
