"""What a score report looks like in the tab: SVG charts, table rows and the recommendation text
(pure: report → values for gradio components)."""

from __future__ import annotations

from typing import Any

from lib_textinv.scores.fixed_loss import FixedLossResult
from lib_textinv.scores.scoring import ScoreReport

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
    xs = [float(r.step) for r in rows]
    rec = [float(report.recommendation.step)] if report and report.recommendation else None
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

    drift = report.drift if report else None
    rows = drift.rows if drift else []
    xs = [float(r.step) for r in rows]
    norms = drift.ordinary_norms if drift and rows else {"*": 0.0}
    series = []
    for part, ordinary in norms.items():  # SDXL: one pair of lines per text encoder
        of = "" if len(norms) == 1 else f" ({part})"
        series.append(Series(f"mean vector norm{of}", xs, [r.parts[part].mean_norm for r in rows]))
        if rows:
            series.append(Series(f"ordinary token norm{of}", [xs[0], xs[-1]], [ordinary] * 2, dashed=True))
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
        for label, norm, nbs in r.vector_rows():  # "0", "1"…; SDXL "clip_l 0", "clip_g 0"…
            out.append(
                [r.step, label, round(norm, 4), ", ".join(f"{n.token} ({n.similarity:.2f})" for n in nbs)]
            )
    return out


def recommendation_markdown(report: ScoreReport | None) -> str:
    if report is None or report.recommendation is None:
        return "**Recommended step:** none yet (score the sweep, or pre-score the run)."
    r = report.recommendation
    return f"**Recommended step: {r.step}** (`{r.checkpoint}`)  \n{r.rule}  \n{r.why}"
