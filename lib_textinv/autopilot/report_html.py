"""The report as HTML: one page (``report.html``: a file with everything embedded, so it can be
shared) and the same body for the tab. Built from the report's data only."""

from __future__ import annotations

import html
from typing import Any

from lib_textinv.kit.svgplot import Series, line_chart

STYLE = " ".join(
    [
        ".tia-report{font-family:system-ui,sans-serif;font-size:14px;line-height:1.4;color:#222}",
        ".tia-report h2{margin:18px 0 6px;font-size:18px} .tia-report h1{font-size:22px}",
        ".tia-report table{border-collapse:collapse;margin:4px 0}",
        ".tia-report td,.tia-report th{border:1px solid #ccc;padding:3px 6px;vertical-align:top}",
        ".tia-report .refused{background:#fde2e1} .tia-report .excluded{background:#eee}",
        ".tia-report .crops{display:flex;flex-wrap:wrap;gap:6px}",
        ".tia-report figure{margin:0;font-size:11px;text-align:center;max-width:170px}",
        ".tia-report .text{font-family:monospace;background:#f4f4f4;padding:8px;white-space:pre-wrap}",
        ".tia-report .rec{background:#fff0dc}",
    ]
)


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _table(headers: list[str], rows: list[list[Any]], classes: list[str] | None = None) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        f'<tr class="{(classes or [""] * len(rows))[i]}">'
        + "".join(f"<td>{_e(c)}</td>" for c in row)
        + "</tr>"
        for i, row in enumerate(rows)
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _stages(data: dict) -> str:
    rows = [
        [
            s["label"],
            "✓" if s["finished"] else "—",
            "" if s["seconds"] is None else f"{s['seconds']:.1f} s",
            s["decision"],
        ]
        for s in data["stages"]
    ]
    return "<h2>Stages</h2>" + _table(["stage", "done", "time", "decision"], rows)


def _dataset(data: dict) -> str:
    images = data["dataset"]["images"]
    rows = [
        [
            i["name"],
            "used" if i["usable"] and not i["excluded"] else "left out" if i["usable"] else "refused",
            i["why"],
            i["box"],
        ]
        for i in images
    ]
    classes = ["refused" if not i["usable"] else "excluded" if i["excluded"] else "" for i in images]
    summary = f"<p>{_e(data['dataset']['summary'])}</p>" if data["dataset"]["summary"] else ""
    return "<h2>Dataset</h2>" + summary + _table(["file", "", "why", "crop box [x, y, w, h]"], rows, classes)


def _crops(data: dict) -> str:
    caps = data.get("captions") or {}
    figs = "".join(
        f'<figure><img src="{c["image"]}" alt="{_e(c["name"])}"><figcaption>{_e(c["name"])}<br>'
        f"{_e(caps.get(c['name'], ''))}</figcaption></figure>"
        for c in data["crops"]
        if c.get("image")
    )
    return f'<h2>Crops and captions</h2><div class="crops">{figs or "none yet"}</div>'


def _parameters(data: dict) -> str:
    rows = [[k, v["value"], v["reason"]] for k, v in data["parameters"].items()]
    return "<h2>Parameters</h2>" + _table(["parameter", "value", "why"], rows)


def _curves(data: dict) -> str:
    train = data["training"]["loss"]
    fixed = data["fixed_loss"].get("points") or []
    chart1 = line_chart(
        [Series("loss", [p[0] for p in train], [p[1] for p in train], color="#0072B2")],
        title="Training loss",
        x_label="step",
        y_label="loss",
    )
    chart2 = line_chart(
        [Series("fixed-batch loss", [p["step"] for p in fixed], [p["loss"] for p in fixed])],
        title="Fixed-batch loss (markers: the candidates swept)",
        x_label="step",
        y_label="loss",
        highlight_x=data["fixed_loss"].get("candidates") or [],
    )
    why = data["fixed_loss"].get("why")
    return f"<h2>Loss curves</h2>{chart1}{chart2}" + (f"<p>Candidates: {_e(why)}</p>" if why else "")


def _scores(data: dict) -> str:
    rows = data["scores"]["checkpoints"]
    steps = [r["step"] for r in rows]

    def col(key: str) -> list[float]:
        return [float("nan") if r[key] is None else r[key] for r in rows]

    chart = line_chart(
        [
            Series("CLIP-I (likeness)", steps, col("clip_i")),
            Series("CLIP-T (prompt)", steps, col("clip_t"), dashed=True),
        ],
        title="CLIP scores vs step",
        x_label="step",
        y_label="cosine",
        highlight_x=[data["choice"]["step"]] if data.get("choice") else None,
    )
    keys = ["step", "checkpoint", "fixed_loss", "clip_i", "clip_t", "mean_norm", "norm_ratio", "recommended"]
    table = _table(
        keys, [[_num(r[k]) for k in keys] for r in rows], ["rec" if r["recommended"] else "" for r in rows]
    )
    notes = "".join(f"<li>{_e(p)}</li>" for p in data["scores"]["problems"])
    return "<h2>Scores</h2>" + table + chart + (f"<ul>{notes}</ul>" if notes else "")


def _num(v: Any) -> Any:
    return f"{v:.4f}" if isinstance(v, float) else v


def _grid(data: dict) -> str:
    g = data["grid"]
    if not g.get("image"):
        return ""
    what = "the chosen column framed" if g["marked"] else "not marked"
    return f'<h2>Grid ({what})</h2><img src="{g["image"]}" alt="grid" style="max-width:100%">'


def _choice(data: dict) -> str:
    c, p, t = data.get("choice") or {}, data.get("promoted") or {}, data["txt2img"]
    if not c:
        return "<h2>Choice</h2><p>Not chosen yet.</p>"
    out = f"<h2>Choice</h2><p><b>Step {_e(c.get('step'))}</b>. Rule: {_e(c.get('rule'))}"
    out += f"<br>{_e(c.get('why'))}</p>"
    if p:
        out += f"<p>Promoted as <b>{_e(p.get('token'))}</b> ({_e(p.get('path'))}): "
        out += f"{_e(p.get('trigger_reason'))}</p>"
        out += f'<p>Type this in txt2img:</p><div class="text">{_e(t["infotext"])}</div>'
    return out


def render_body(data: dict) -> str:
    head = (
        f"<h1>Autopilot report: {_e(data['name'])} ({_e(data['kind'])})</h1>"
        f"<p>From {_e(data['folder'])}; made {_e(data['made'])}; files in {_e(data['run_folder'])}</p>"
    )
    parts = [head, _choice(data), _stages(data), _dataset(data), _crops(data), _parameters(data)]
    parts += [_curves(data), _grid(data), _scores(data)]
    return f'<div class="tia-report"><style>{STYLE}</style>{"".join(parts)}</div>'


def render_page(data: dict) -> str:
    title = f"Autopilot report: {_e(data['name'])}"
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>'
        f"<body>{render_body(data)}</body></html>\n"
    )
