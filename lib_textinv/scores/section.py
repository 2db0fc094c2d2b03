"""Inside "Compare", next to the grid: pre-score (fixed-batch loss), CLIP scores, drift, the
recommended step with its rule, and one-click promotion.

Reads the Compare section's shared components (``ctx.extra["compare_run"]``, ``["compare_checkpoints"]``,
``["compare_grid_dir"]``; falls back to ``ctx.run_folder``). Handlers are module-level functions of
plain values with the host bound by ``functools.partial``; heavy work runs in ``host.run_job``.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from lib_textinv.kit.host import Unavailable
from lib_textinv.kit.progress import Cancelled
from lib_textinv.scores.fixed_loss import FixedLossResult
from lib_textinv.scores.scoring import ScoreReport

logger = logging.getLogger(__name__)

TABLE_HEADERS = [
    "step",
    "checkpoint",
    "fixed-batch loss",
    "CLIP-I",
    "CLIP-T",
    "cells",
    "mean norm",
    "norm / ordinary",
    "recommended",
]
NEAREST_HEADERS = ["step", "vector", "norm", "nearest tokens (cosine)"]


# -- charts (pure: report → SVG) ---------------------------------------------------------------


def loss_chart(result: FixedLossResult | None) -> str:
    from lib_textinv.kit.svgplot import Series, line_chart

    pts = result.points if result else []
    return line_chart(
        [Series("fixed-batch loss", [p.step for p in pts], [p.loss for p in pts])],
        title="Fixed-batch loss vs step (dashed: pre-selected)",
        x_label="step",
        y_label="loss",
        highlight_x=list(result.flat_steps) if result else None,
    )


def clip_chart(report: ScoreReport | None) -> str:
    from lib_textinv.kit.svgplot import Series, line_chart

    rows = report.clip.checkpoints if report and report.clip else []
    xs = [r.step for r in rows]
    rec = [report.recommendation.step] if report and report.recommendation else None
    return line_chart(
        [
            Series("CLIP-I (likeness)", xs, [r.clip_i for r in rows]),
            Series("CLIP-T (prompt)", xs, [r.clip_t for r in rows], dashed=True),
        ],
        title="CLIP scores vs step (marker: recommended)",
        x_label="step",
        y_label="cosine",
        highlight_x=rec,
    )


def scatter(report: ScoreReport | None) -> str:
    from lib_textinv.kit.svgplot import scatter_chart

    rows = report.clip.checkpoints if report and report.clip else []
    label = str(report.recommendation.step) if report and report.recommendation else None
    return scatter_chart(
        [(r.clip_i, r.clip_t, str(r.step)) for r in rows],
        title="CLIP-T vs CLIP-I per checkpoint",
        x_label="CLIP-I (likeness)",
        y_label="CLIP-T (editability)",
        highlight_label=label,
    )


def drift_chart(report: ScoreReport | None) -> str:
    from lib_textinv.kit.svgplot import Series, line_chart

    rows = report.drift.rows if report and report.drift else []
    xs = [r.step for r in rows]
    series = [Series("mean vector norm", xs, [r.mean_norm for r in rows])]
    if rows:
        series.append(
            Series("ordinary token norm", [xs[0], xs[-1]], [report.drift.ordinary_norm] * 2, dashed=True)
        )
    return line_chart(series, title="Vector norm vs step", x_label="step", y_label="norm")


def table_rows(report: ScoreReport | None) -> list[list[Any]]:
    def f(v: Any, digits: int = 4) -> Any:
        return "" if v is None else round(v, digits) if isinstance(v, float) else v

    return [
        [
            r["step"],
            r["checkpoint"],
            f(r["fixed_loss"], 5),
            f(r["clip_i"]),
            f(r["clip_t"]),
            r["cells"],
            f(r["mean_norm"]),
            f(r["norm_ratio"], 2),
            "◀" if r["recommended"] else "",
        ]
        for r in (report.table() if report else [])
    ]


def nearest_rows(report: ScoreReport | None) -> list[list[Any]]:
    out = []
    for r in report.drift.rows if report and report.drift else []:
        for i, (norm, nbs) in enumerate(zip(r.vector_norms, r.nearest, strict=True)):
            out.append([r.step, i, round(norm, 4), ", ".join(f"{n.token} ({n.similarity:.2f})" for n in nbs)])
    return out


def recommendation_markdown(report: ScoreReport | None) -> str:
    if report is None or report.recommendation is None:
        return "**Recommended step:** none yet (score the sweep, or pre-score the run)."
    r = report.recommendation
    return f"**Recommended step: {r.step}** (`{r.checkpoint}`)  \n{r.rule}  \n{r.why}"


# -- handlers ------------------------------------------------------------------------------------


def _run_folder(run_folder: str, fallback: str = "") -> str:
    return (run_folder or "").strip() or (fallback or "").strip()


def on_prescore(run_folder: str, fallback_folder: str, training_folder: str, *, host):
    """(loss SVG, pre-selected steps "400, 600", status, loss state). Every checkpoint of the run is
    scored, whatever Compare has chosen: the point is to choose."""
    from lib_textinv.scores import scoring

    folder = _run_folder(run_folder, fallback_folder)
    if not folder:
        return loss_chart(None), "", "Pick a training run first.", None
    try:
        result = host.run_job(
            "fixed-batch loss",
            lambda p: scoring.prescore(
                host, folder, None, (training_folder or "").strip() or None, progress=p
            ),
        )
    except (ValueError, Unavailable, Cancelled) as e:
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


def on_score(
    run_folder: str,
    fallback_folder: str,
    chosen_json: str,
    grid_dir: str,
    cells_folder: str,
    training_folder: str,
    tolerance: float,
    loss_state: FixedLossResult | None,
    *,
    host,
):
    """(table, CLIP chart, scatter, drift chart, nearest table, recommendation, status, report,
    marked grid, loss chart, loss state). The fixed-batch loss is computed too when the run has
    not been pre-scored, so there is a recommendation even without CLIP weights."""
    from lib_textinv.scores import scoring

    folder = _run_folder(run_folder, fallback_folder)
    empty = (
        table_rows(None),
        clip_chart(None),
        scatter(None),
        drift_chart(None),
        nearest_rows(None),
        recommendation_markdown(None),
    )
    keep = (marked_grid(None), loss_chart(loss_state), loss_state)
    if not folder:
        return (*empty, "Pick a training run first.", None, *keep)
    training = (training_folder or "").strip() or None

    def work(p):
        loss, notes = scoring.loss_for(host, folder, loss_state, training, p)
        report = scoring.score(
            host,
            folder,
            grid_dir=(grid_dir or "").strip(),
            cells_folder=(cells_folder or "").strip(),
            chosen_json=chosen_json,
            training_folder=training,
            tolerance=float(tolerance) / 100.0,
            loss=loss,
            progress=p,
        )
        report.problems[:0] = notes
        return report

    try:
        report = host.run_job("scores", work)
    except (ValueError, Unavailable, Cancelled) as e:
        return (*empty, f"Scores not done: {e}", None, *keep)
    status = (
        f"Scored {len(report.clip.cells) if report.clip else 0} cells."
        + (f" CSV: {report.csv_path}" if report.csv_path else "")
        + (
            f"\nThe grid with the recommended column marked: {report.marked_grid_path}"
            if report.marked_grid_path
            else ""
        )
        + ("\n" + "\n".join(report.problems) if report.problems else "")
    )
    return (
        table_rows(report),
        clip_chart(report),
        scatter(report),
        drift_chart(report),
        nearest_rows(report),
        recommendation_markdown(report),
        status,
        report,
        marked_grid(report),
        loss_chart(report.loss),
        report.loss,
    )


def on_promote(report: ScoreReport | None, *, host) -> str:
    """Copy the recommended checkpoint into embeddings/ as ``<name>-<N>`` (never overwriting)."""
    if report is None or report.recommendation is None:
        return "Nothing to promote: score the sweep first."
    try:
        from lib_textinv.compare import promote as promote_mod
    except ImportError:
        return "Promotion is not available in this version."
    from lib_textinv.scores.scoring import run_checkpoints

    step = report.recommendation.step
    try:
        _name, cps, _ = run_checkpoints(report.run_folder, host.model_facts().embedding_width)
        source = next((c for c in cps if c.step == step), None)
        if source is None:
            return f"checkpoint for step {step} not found in {report.run_folder}"
        emb_dir = host.paths().embeddings_dir
        result = promote_mod.promote(
            host, source.path, emb_dir, source.token, expected_width=host.model_facts().embedding_width
        )
    except (ValueError, OSError, Unavailable) as e:  # PromoteError is a ValueError
        return f"Not promoted: {e}"
    return result.message


# -- layout --------------------------------------------------------------------------------------


def _needs_model(why: str) -> str:
    return f"Scoring needs the webui's loaded model: {why}"


def _extra(ctx, key: str):
    return ctx.extra.get(key)


def build(ctx) -> None:
    import gradio as gr

    host, eid = ctx.host, ctx.elem_id
    reason = ctx.unavailable_reason("generate")
    run_box = _extra(ctx, "compare_run") or ctx.run_folder
    fallback = ctx.run_folder
    chosen = _extra(ctx, "compare_checkpoints")
    grid_dir = _extra(ctx, "compare_grid_dir")

    gr.Markdown("#### Scores and the recommended step")
    note = gr.Markdown(
        _needs_model(reason) if reason else "", visible=reason is not None, elem_id=eid("scores-unavailable")
    )
    with gr.Row():
        training_folder = gr.Textbox(
            label="Training images (empty: the folder the run was trained on)",
            elem_id=eid("scores-training-folder"),
        )
        cells_folder = gr.Textbox(
            label="Cell images folder (empty: the webui's samples folder)", elem_id=eid("scores-cells-folder")
        )
        tolerance = gr.Slider(
            label="CLIP-T tolerance (%)",
            minimum=0,
            maximum=50,
            step=1,
            value=5,
            elem_id=eid("scores-tolerance"),
        )
    # Hidden stand-ins keep the handlers' signatures when Compare's components are absent.
    run_in = run_box if run_box is not None else gr.Textbox(visible=False)
    fallback_in = fallback if fallback is not None else gr.Textbox(visible=False)
    chosen_in = chosen if chosen is not None else gr.Textbox(visible=False)
    grid_in = grid_dir if grid_dir is not None else gr.Textbox(visible=False)
    grid_view = _extra(ctx, "compare_grid") or gr.Image(visible=False)
    mode, steps_list = _extra(ctx, "compare_mode"), _extra(ctx, "compare_steps")

    with gr.Row():
        prescore_btn = gr.Button(
            "Pre-score (fixed-batch loss)", interactive=reason is None, elem_id=eid("scores-prescore")
        )
        score_btn = gr.Button(
            "Score the sweep", variant="primary", interactive=reason is None, elem_id=eid("scores-score")
        )
        promote_btn = gr.Button(
            "Promote the recommended step", interactive=reason is None, elem_id=eid("scores-promote")
        )
    status = gr.Textbox(label="Scoring", interactive=False, lines=3, elem_id=eid("scores-status"))
    ctx.gate("generate", prescore_btn, score_btn, promote_btn, note=note, render=_needs_model)
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
    loss_state = gr.State(None)
    report_state = gr.State(None)
    ctx.extra["score_preselected_steps"] = preselected

    prescored = prescore_btn.click(
        partial(on_prescore, host=host),
        inputs=[run_in, fallback_in, training_folder],
        outputs=[loss_plot, preselected, status, loss_state],
    )
    if mode is not None and steps_list is not None:
        prescored.then(use_preselected, inputs=[preselected], outputs=[mode, steps_list])
    score_btn.click(
        partial(on_score, host=host),
        inputs=[
            run_in,
            fallback_in,
            chosen_in,
            grid_in,
            cells_folder,
            training_folder,
            tolerance,
            loss_state,
        ],
        outputs=[
            table,
            clip_plot,
            scatter_plot,
            drift_plot,
            nearest,
            recommendation,
            status,
            report_state,
            grid_view,
            loss_plot,
            loss_state,
        ],
    )
    promote_btn.click(partial(on_promote, host=host), inputs=[report_state], outputs=[status])
