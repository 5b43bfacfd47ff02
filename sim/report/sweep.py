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

from ..readable import duration, points, unit_for
from ..sweep import warning_summary
from ..verdict.facts import channel_facts
from ..verdict.sweep import sweep_verdict
from . import outcomes as customer_outcomes
from .common import (
    OK, Card, Page, ci_columns, esc, line_with_band, number, param_label, pct, read_json, read_table,
    standard_header, style, target_line,
)

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
    page.verdict(sweep_verdict(sweep, meta))
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
    facts = channel_facts(meta.get("scenario_definition"))
    x, x_title = axis(sweep)
    params = [c for c in sweep.columns if c.startswith("param_")]
    best = best_point(meta)
    best_rows = sweep[sweep["point"] == best] if best is not None else sweep.iloc[0:0]

    page.section("Cheapest point meeting every target",
                 "Chosen by the sweep over all points whose service level meets every channel's target; cost is "
                 "paid agent-hours (the scheduled roster, before shrinkage) × the cost per hour.")
    if best_rows.empty:
        page.note("No swept point meets every channel's service-level target; the verdict above says why.")
    else:
        first = best_rows.iloc[0]
        cards = [Card(param_label(p), number(first[p]), status=OK) for p in params]
        cards.append(Card("point", number(first["point"]), status=OK))
        for column, label in (("agent_hours", "paid agent-hours"), ("cost", "cost")):
            if column in best_rows.columns:
                cards.append(Card(label, number(first[column]), status=OK))
        for row in best_rows.to_dict("records"):
            cards.append(Card(f"{row['channel']} service level", pct(row["service_level"]),
                              f"target {pct(row.get('target_sl'), 0)}" if "target_sl" in row else "", OK))
        page.cards(cards)

    page.section("Service against staffing", "One row per channel. Shaded bands are 95% CIs; dashed lines are "
                 "targets; hollow markers are points that miss the channel's target; waits are in the unit of the "
                 "channel's threshold.")
    page.figure(kpis_figure(sweep, channels, x, x_title, best_rows, page, facts))
    outcome_figure = customer_outcomes.sweep_figure(sweep, channels, x, x_title, page)
    if outcome_figure is not None:
        page.section("Customer outcomes against staffing", "Per channel of the issue's first contact (95% CI bands); "
                     "CSAT is modelled (docs/outcomes.md).")
        page.figure(outcome_figure)
    if "cost" in sweep.columns or "agent_hours" in sweep.columns:
        page.figure(cost_figure(sweep, x, x_title, best_rows))
    rows = marginal_table(meta.get("marginal_value_of_one_more_agent"), facts)
    if rows is not None and not rows.empty:
        page.section("Marginal value of one more agent", "From the recommended point (or the point closest to "
                     "meeting every target) to the next value of each swept setting, per extra agent at the peak. "
                     "– means the KPI is undefined at one of the two points (e.g. no contact answered).")
        page.table(rows)
    page.scenario(meta.get("scenario_definition"))
    return page


def marginal_table(saved: list | None, facts: dict) -> pd.DataFrame | None:
    """`peaksim sweep`'s marginal values (per axis, per channel) as table rows with readable units."""
    rows = []
    for m in saved or []:
        if not isinstance(m, dict):
            continue
        head = {"setting": str(m.get("axis", "")), "from point": _text(m.get("from_point")),
                "to point": _text(m.get("to_point")),
                "extra agents at peak": _text(m.get("extra_agents_at_peak", m.get("extra_agents_on_shift"))),
                "extra paid hours": _text(m.get("extra_agent_hours")), "extra cost": _text(m.get("extra_cost"))}
        if not m.get("per_agent"):
            rows.append({**head, "channel": "", "service level": "", "abandoned": "", "ASA": "",
                         "note": str(m.get("note", ""))})
            continue
        for channel, values in m["per_agent"].items():
            unit = unit_for(facts[channel].threshold_s) if channel in facts else None
            rows.append({**head, "channel": str(channel),
                         "service level": _pp(values.get("service_level_pp")),
                         "abandoned": _pp(values.get("abandon_rate_pp")),
                         "ASA": duration(values.get("asa_s"), unit, signed=True), "note": ""})
    if not rows:
        return None
    frame = pd.DataFrame(rows).astype(str)
    return frame.loc[:, (frame != "").any()]


def _text(value) -> str:
    if value is None or value != value:
        return "–"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.4g}"
    return str(value)


def _pp(value) -> str:
    return "–" if value is None or value != value else points(value / 100, 2)


def kpis_figure(sweep: pd.DataFrame, channels: list[str], x: str, x_title: str, best_rows: pd.DataFrame,
                page: Page, facts: dict | None = None) -> go.Figure:
    """A grid: one row per channel, one column per KPI (service level, abandonment, waits)."""
    facts = facts or {}
    columns = [p for p in PANELS if p[0] in sweep.columns and p[0] != "wait_p90_s"]
    titles = [f"{esc(name)}: {label.split(' (')[0]}" for name in channels for _, label, _ in columns]
    fig = make_subplots(rows=len(channels), cols=len(columns), shared_xaxes=True, subplot_titles=titles,
                        vertical_spacing=min(0.09, 0.5 / len(channels)), horizontal_spacing=0.07)
    for r, name in enumerate(channels, start=1):
        frame = sweep[sweep["channel"].astype(str) == name].sort_values(x)
        colour = page.colours(name)
        waits = [v for c in ("asa_s", "wait_p90_s") if c in frame.columns for v in frame[c].dropna()]
        unit = unit_for(facts[name].threshold_s if name in facts else None, waits)
        for c, (kpi, label, kind) in enumerate(columns, start=1):
            line_with_band(fig, frame, x, kpi, name, colour, label.split(" (")[0], kind, row=r, col=c,
                           showlegend=False, mode="lines+markers", time_unit=unit if kind == "s" else None)
            if kind == "s" and "wait_p90_s" in frame.columns:
                line_with_band(fig, frame[[x, "wait_p90_s"]], x, "wait_p90_s", f"{name} wait p90", colour, "wait p90",
                               "s", row=r, col=c, showlegend=False, dash="dot", time_unit=unit)
            if "meets_target" in frame.columns:
                missed = frame[~frame["meets_target"].astype(str).str.lower().isin(["true", "1"])]
                scale = unit.seconds if kind == "s" else 1.0
                fig.add_trace(go.Scatter(x=missed[x], y=missed[kpi] / scale, mode="markers", showlegend=False,
                                         marker={"color": "white", "size": 8, "line": {"color": colour, "width": 2}},
                                         legendgroup=name, hoverinfo="skip"), row=r, col=c)
            if kpi == "service_level" and "target_sl" in frame.columns and frame["target_sl"].notna().any():
                target_line(fig, float(frame["target_sl"].dropna().iloc[0]), "#1f2328",
                            f"target {pct(frame['target_sl'].dropna().iloc[0], 0)}", row=r, col=c)
            if not best_rows.empty:
                fig.add_vline(x=best_rows[x].iloc[0], line={"color": BEST, "width": 2, "dash": "dot"}, row=r, col=c)
            title = f"{label.split(' (')[0]} ({unit.symbol})" if kind == "s" else label
            fig.update_yaxes(title_text=title, tickformat=".0%" if kind == "pct" else None, rangemode="tozero",
                             row=r, col=c)
    for c in range(1, len(columns) + 1):
        fig.update_xaxes(title_text=x_title, row=len(channels), col=c)
    return style(fig, 190 * len(channels) + 130, "Service level, abandonment and waits (ASA solid, p90 dotted) "
                 "against staffing; the dotted green line marks the recommended point", hovermode="closest")


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
