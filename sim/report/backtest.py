"""The backtest report: the simulator's predictions for a held-out window against what happened,
next to the Erlang A formula as a baseline.

Reads `backtest_intervals.csv` (per interval: offered, agents, observed / predicted / Erlang A
abandonment and ASA), `backtest_summary.csv` (mean absolute errors per metric) and an optional
`backtest.json` with scenario, seed, version and the train/test windows.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..readable import unit_for
from ..verdict.backtest import from_directory as backtest_verdict
from .common import BAD, NEUTRAL, OK, Card, Page, pct, read_meta, read_table, secs, standard_header, style

HINT = "rerun `peaksim backtest ... --out DIR` to write it again"
SERIES = {"observed": ("observed", "#1f2328", None), "predicted": ("peaksim", "#0072B2", None),
          "erlang_a": ("Erlang A", "#E69F00", "dash")}
METRICS = {"abandon_rate": ("abandonment", "pct"), "asa_s": ("ASA", "s")}


def read(directory: Path) -> dict:
    numeric = ["offered", "agents", *[f"{s}_{m}" for s in SERIES for m in METRICS]]
    return {
        "meta": read_meta(directory, ["backtest.json", "run.json"], HINT),
        "intervals": read_table(directory, "backtest_intervals.csv", HINT, required=["interval_start"],
                                numeric=numeric, times=["interval_start"]),
        "summary": read_table(directory, "backtest_summary.csv", HINT, required=["metric", "peaksim_mae"],
                              numeric=["peaksim_mae", "erlang_a_mae"], optional=True),
    }


def build(directory: Path) -> Page:
    data = read(directory)
    meta, intervals, summary = data["meta"], data["intervals"], data["summary"]
    page = Page("backtest", meta, title=str(meta.get("scenario") or "backtest"))
    standard_header(page, meta)
    page.verdict(backtest_verdict(Path(directory)))
    for key in ("train", "test"):
        page.header_item(f"{key} window", meta.get(key))
    page.warnings(meta.get("warnings") or [])
    if summary is not None and not summary.empty:
        page.section("Mean absolute error per interval", "Lower is better; green where peaksim beats Erlang A.")
        page.cards([mae_card(row) for row in summary.to_dict("records")])
    page.section("Predicted vs observed per interval")
    page.figure(per_interval(intervals))
    metrics = [m for m in METRICS if f"observed_{m}" in intervals.columns]
    if metrics:
        page.figure(scatter(intervals, metrics))
    if summary is not None and not summary.empty:
        page.table(summary)
    return page


def _time_unit(intervals: pd.DataFrame, metric: str):
    """Seconds for call-centre waits, minutes or hours when they run longer (never thousands of seconds)."""
    columns = [f"{s}_{metric}" for s in SERIES if f"{s}_{metric}" in intervals.columns]
    return unit_for(None, intervals[columns].to_numpy().ravel())


def mae_card(row: dict) -> Card:
    metric = str(row["metric"])
    fmt = pct if METRICS.get(metric, ("", "s"))[1] == "pct" else secs
    ours, theirs = row.get("peaksim_mae"), row.get("erlang_a_mae")
    status = NEUTRAL
    if ours == ours and theirs is not None and theirs == theirs:
        status = OK if ours <= theirs else BAD
    return Card(f"{METRICS.get(metric, (metric,))[0]} MAE", fmt(ours),
                f"Erlang A {fmt(theirs)}" if theirs is not None else "", status)


def per_interval(intervals: pd.DataFrame) -> go.Figure:
    metrics = [m for m in METRICS if any(f"{s}_{m}" in intervals.columns for s in SERIES)]
    context = [c for c in ("offered", "agents") if c in intervals.columns]
    rows = len(metrics) + (1 if context else 0)
    titles = (["offered contacts and agents"] if context else []) + [METRICS[m][0] for m in metrics]
    fig = make_subplots(rows=rows, cols=1, shared_xaxes=True, vertical_spacing=0.07, subplot_titles=titles,
                        specs=[[{"secondary_y": bool(context) and r == 0}] for r in range(rows)])
    r = 0
    if context:
        r = 1
        fig.add_trace(go.Bar(x=intervals["interval_start"], y=intervals.get("offered"), name="offered",
                             marker={"color": "#C8D6E5"}, hovertemplate="%{x}<br>offered: %{y:,.0f}<extra></extra>"),
                      row=1, col=1, secondary_y=False)
        if "agents" in intervals.columns:
            fig.add_trace(go.Scatter(x=intervals["interval_start"], y=intervals["agents"], mode="lines",
                                     name="agents", line={"color": "#57606a", "shape": "hv"},
                                     hovertemplate="%{x}<br>agents: %{y:,.1f}<extra></extra>"),
                          row=1, col=1, secondary_y=True)
        fig.update_yaxes(title_text="offered", rangemode="tozero", row=1, col=1, secondary_y=False)
        fig.update_yaxes(title_text="agents", rangemode="tozero", row=1, col=1, secondary_y=True, showgrid=False,
                         tickmode="auto")
    for metric in metrics:
        r += 1
        label, unit = METRICS[metric]
        scale = _time_unit(intervals, metric) if unit == "s" else None
        for source, (name, colour, dash) in SERIES.items():
            column = f"{source}_{metric}"
            if column not in intervals.columns:
                continue
            value = "%{y:.1%}" if unit == "pct" else f"%{{y:,.1f}} {scale.symbol}"
            y = intervals[column] / scale.seconds if scale is not None else intervals[column]
            fig.add_trace(go.Scatter(x=intervals["interval_start"], y=y, name=name, legendgroup=source,
                                     showlegend=metric == metrics[0], mode="lines+markers" if source == "observed" else "lines",
                                     line={"color": colour, "dash": dash, "width": 2}, marker={"size": 5},
                                     hovertemplate=f"<b>{name}</b><br>%{{x}}<br>{label}: {value}<extra></extra>"),
                          row=r, col=1)
        fig.update_yaxes(title_text=label + (f" ({scale.symbol})" if scale is not None else ""),
                         tickformat=".0%" if unit == "pct" else None,
                         rangemode="tozero", row=r, col=1)
    fig.update_xaxes(title_text="interval start (local time)", row=rows, col=1)
    return style(fig, 240 * rows + 100, "Held-out window: observed, peaksim and Erlang A per interval", hovermode="x")


def scatter(intervals: pd.DataFrame, metrics: list[str]) -> go.Figure:
    fig = make_subplots(rows=1, cols=len(metrics), subplot_titles=[f"{METRICS[m][0]}: predicted vs observed"
                                                                   for m in metrics])
    for c, metric in enumerate(metrics, start=1):
        label, unit = METRICS[metric]
        scale = _time_unit(intervals, metric) if unit == "s" else None
        size = scale.seconds if scale is not None else 1.0
        observed = intervals[f"observed_{metric}"] / size
        columns = [f"{s}_{metric}" for s in ("predicted", "erlang_a") if f"{s}_{metric}" in intervals.columns]
        top = float(pd.concat([observed, *[intervals[k] / size for k in columns]]).max())
        fig.add_trace(go.Scatter(x=[0, top], y=[0, top], mode="lines", name="perfect prediction", legendgroup="diag",
                                 showlegend=c == 1, line={"color": "#999999", "dash": "dash"}, hoverinfo="skip"),
                      row=1, col=c)
        for source in ("predicted", "erlang_a"):
            column = f"{source}_{metric}"
            if column not in intervals.columns:
                continue
            name, colour, _ = SERIES[source]
            fmt = ":.1%" if unit == "pct" else ":,.1f"
            fig.add_trace(go.Scatter(x=observed, y=intervals[column] / size, mode="markers", name=name, legendgroup=source,
                                     showlegend=c == 1, marker={"color": colour, "size": 7, "opacity": 0.8},
                                     hovertemplate=f"<b>{name}</b><br>observed: %{{x{fmt}}}<br>predicted: "
                                                   f"%{{y{fmt}}}<extra></extra>"), row=1, col=c)
        axis = {"tickformat": ".0%"} if unit == "pct" else {}
        suffix = f" ({scale.symbol})" if scale is not None else ""
        fig.update_xaxes(title_text=f"observed {label}{suffix}", row=1, col=c, **axis)
        fig.update_yaxes(title_text=f"predicted {label}{suffix}", row=1, col=c, **axis)
    return style(fig, 420, "Predicted vs observed (points on the diagonal are exact)")
