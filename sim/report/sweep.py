"""The sweep report: service level, abandonment, waits and cost against the swept staffing, per
channel with CI bands and targets, and the cheapest point that meets every target marked.

Reads `sweep.csv` (one row per point × channel; swept settings in `param_<name>` columns) and
`sweep.json` (scenario, seed, `best_point`, marginal values). The best point is the one the
sweep command chose; this module only marks it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..sweep import warning_summary
from .common import (
    OK, Card, Page, ci_columns, hover, line_with_band, number, param_label, pct, read_json, read_table,
    standard_header, style,
)

from . import outcomes as customer_outcomes

HINT = "rerun `peaksim sweep SCENARIO --out DIR` to write it again"
PANELS = [("service_level", "service level", "pct"), ("abandon_rate", "abandonment", "pct"),
          ("asa_s", "ASA (s)", "s"), ("wait_p90_s", "wait p90 (s)", "s")]
BEST = "#1a7f37"


def read(directory: Path) -> dict:
    numeric = [*ci_columns([p for p, _, _ in PANELS] + customer_outcomes.OUTCOME_KPIS), "point", "target_sl", "offered",
               "handled", "agent_hours", "cost"]
    return {
        "meta": read_json(directory, "sweep.json", HINT),
        "sweep": read_table(directory, "sweep.csv", HINT, required=["point", "channel", "service_level"], numeric=numeric),
    }


def best_point(meta: dict):
    """`best_point` as saved: a point number, or a mapping holding `point`; None when no point met the targets."""
    best = meta.get("best_point")
    if isinstance(best, dict):
        best = best.get("point")
    return best


def axis(sweep: pd.DataFrame) -> tuple[str, str]:
    """The x column and its title: the one varying `param_` column, else the point number."""
    params = [c for c in sweep.columns if c.startswith("param_")]
    varying = [c for c in params if sweep[c].nunique(dropna=False) > 1]
    if len(varying) == 1 and pd.api.types.is_numeric_dtype(sweep[varying[0]]):
        return varying[0], param_label(varying[0])
    return "point", "sweep point" + (f" ({', '.join(param_label(p) for p in varying)})" if varying else "")


def build(directory: Path) -> Page:
    data = read(directory)
    meta, sweep = data["meta"], data["sweep"]
    page = Page("sweep", meta)
    standard_header(page, meta)
    page.warnings(meta.get("warnings") or [])
    point_warnings = meta.get("point_warnings") or {}
    if isinstance(point_warnings, dict) and point_warnings:
        page.warnings(warning_summary(point_warnings))
        page.details(f"Warnings of each point ({len(point_warnings)} points)", "\n".join(
            f"point {k}: {w.get('message', w) if isinstance(w, dict) else w}"
            for k, warnings in point_warnings.items() for w in (warnings if isinstance(warnings, list) else [warnings])))
    channels = list(dict.fromkeys(sweep["channel"].astype(str)))
    for name in channels:
        page.colours(name)
    x, x_title = axis(sweep)
    params = [c for c in sweep.columns if c.startswith("param_")]
    best = best_point(meta)
    best_rows = sweep[sweep["point"] == best] if best is not None else sweep.iloc[0:0]

    page.section("Cheapest point meeting every target",
                 "Chosen by the sweep over all points whose service level meets every channel's target.")
    if best_rows.empty:
        page.warnings(["No swept point meets every channel's service-level target; widen the sweep range."])
    else:
        first = best_rows.iloc[0]
        cards = [Card(param_label(p), number(first[p]), status=OK) for p in params]
        cards.append(Card("point", number(first["point"]), status=OK))
        for column, label in (("agent_hours", "agent hours"), ("cost", "cost")):
            if column in best_rows.columns:
                cards.append(Card(label, number(first[column]), status=OK))
        for row in best_rows.to_dict("records"):
            cards.append(Card(f"{row['channel']} service level", pct(row["service_level"]),
                              f"target {pct(row.get('target_sl'), 0)}" if "target_sl" in row else "", OK))
        page.cards(cards)

    page.section("Service against staffing", "Shaded bands are 95% CIs; dashed lines are targets; "
                 "hollow markers are points that miss the channel's target.")
    page.figure(kpis_figure(sweep, channels, x, x_title, best_rows, page))
    outcome_figure = customer_outcomes.sweep_figure(sweep, channels, x, x_title, page)
    if outcome_figure is not None:
        page.section("Customer outcomes against staffing", "Per channel of the issue's first contact (95% CI bands); "
                     "CSAT is modelled (docs/outcomes.md).")
        page.figure(outcome_figure)
    if "cost" in sweep.columns or "agent_hours" in sweep.columns:
        page.figure(cost_figure(sweep, x, x_title, best_rows))
    marginal = meta.get("marginal_values", meta.get("marginal")) or _marginal_rows(
        meta.get("marginal_value_of_one_more_agent"))
    if marginal:
        page.section("Marginal values", "What one more step of each swept setting buys, as saved by the sweep.")
        frame = pd.DataFrame(marginal) if isinstance(marginal, list) else pd.DataFrame(
            [{"setting": k, "value": v} for k, v in marginal.items()])
        page.table(frame)
    page.scenario(meta.get("scenario_definition"))
    return page


def _marginal_rows(saved: list | None) -> list[dict]:
    """`peaksim sweep`'s marginal values (per axis, per channel) as flat table rows."""
    rows = []
    for m in saved or []:
        head = {"axis": m.get("axis"), "from_point": m.get("from_point"), "to_point": m.get("to_point"),
                "extra_agents_on_shift": m.get("extra_agents_on_shift"), "extra_cost": m.get("extra_cost")}
        if not m.get("per_agent"):
            rows.append({**head, "note": m.get("note", "")})
        for channel, values in (m.get("per_agent") or {}).items():
            rows.append({**head, "channel": channel, **values})
    return rows


def kpis_figure(sweep: pd.DataFrame, channels: list[str], x: str, x_title: str, best_rows: pd.DataFrame,
                page: Page) -> go.Figure:
    panels = [p for p in PANELS if p[0] in sweep.columns]
    fig = make_subplots(rows=len(panels), cols=1, shared_xaxes=True, vertical_spacing=0.07,
                        subplot_titles=[label for _, label, _ in panels])
    for r, (kpi, label, unit) in enumerate(panels, start=1):
        for name in channels:
            frame = sweep[sweep["channel"].astype(str) == name].sort_values(x)
            colour = page.colours(name)
            line_with_band(fig, frame, x, kpi, name, colour, label.split(" (")[0], unit, row=r, col=1,
                           showlegend=r == 1, mode="lines+markers")
            if "meets_target" in frame.columns:
                missed = frame[~frame["meets_target"].astype(str).str.lower().isin(["true", "1"])]
                fig.add_trace(go.Scatter(x=missed[x], y=missed[kpi], mode="markers", showlegend=False,
                                         marker={"color": "white", "size": 8, "line": {"color": colour, "width": 2}},
                                         legendgroup=name, hovertemplate=hover(f"{label} (misses target)", name, unit)),
                              row=r, col=1)
            if kpi == "service_level" and "target_sl" in frame.columns and frame["target_sl"].notna().any():
                fig.add_trace(go.Scatter(x=frame[x], y=frame["target_sl"], mode="lines", showlegend=False,
                                         legendgroup=name, line={"color": colour, "dash": "dash", "width": 1.5},
                                         hovertemplate=hover("target", name, "pct")), row=r, col=1)
        if not best_rows.empty:
            fig.add_vline(x=best_rows[x].iloc[0], line={"color": BEST, "width": 2, "dash": "dot"}, row=r, col=1)
        fig.update_yaxes(title_text=label, tickformat=".0%" if unit == "pct" else None, rangemode="tozero",
                         row=r, col=1)
    if not best_rows.empty:
        fig.add_annotation(x=best_rows[x].iloc[0], y=1, xref="x", yref="paper", yanchor="bottom",
                           text="cheapest meeting all targets", showarrow=False, font={"color": BEST})
    fig.update_xaxes(title_text=x_title, row=len(panels), col=1)
    return style(fig, 220 * len(panels) + 120, "Service level, abandonment and waits against staffing",
                 hovermode="x")


def cost_figure(sweep: pd.DataFrame, x: str, x_title: str, best_rows: pd.DataFrame) -> go.Figure:
    """Cost (and agent hours) per point: one value per point, so the first channel's row is shown."""
    points = sweep.drop_duplicates("point").sort_values(x)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    if "cost" in points.columns:
        fig.add_trace(go.Scatter(x=points[x], y=points["cost"], mode="lines+markers", name="cost",
                                 line={"color": "#1f2328", "width": 2},
                                 hovertemplate="point %{x}<br>cost: %{y:,.0f}<extra></extra>"), secondary_y=False)
    if "agent_hours" in points.columns:
        fig.add_trace(go.Scatter(x=points[x], y=points["agent_hours"], mode="lines", name="agent hours",
                                 line={"color": "#999999", "dash": "dot"},
                                 hovertemplate="point %{x}<br>agent hours: %{y:,.1f} h<extra></extra>"),
                      secondary_y=True)
    if not best_rows.empty:
        best = points[points["point"] == best_rows["point"].iloc[0]]
        y = best["cost"] if "cost" in best.columns else best["agent_hours"]
        fig.add_trace(go.Scatter(x=best[x], y=y, mode="markers", name="cheapest meeting all targets",
                                 marker={"symbol": "star", "size": 18, "color": BEST},
                                 hovertemplate="cheapest meeting all targets<br>%{x}<br>%{y:,.0f}<extra></extra>"),
                      secondary_y="cost" not in best.columns)
    fig.update_xaxes(title_text=x_title)
    fig.update_yaxes(title_text="cost", rangemode="tozero", secondary_y=False)
    fig.update_yaxes(title_text="agent hours", rangemode="tozero", secondary_y=True, showgrid=False, tickmode="auto")
    return style(fig, 380, "Cost against staffing")


__all__ = ["build", "read"]
