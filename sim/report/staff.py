"""The staffing report: required agents per interval by simulation, Erlang C and Erlang A, the
service level each achieves, and (when a shift plan was made) the plan's coverage.

Reads `staffing.csv`, and when present `staffing_sl.csv`, `shifts.csv`, `coverage.csv` and a
`staffing.json` (or `run.json`) with scenario, seed and version.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..verdict.staff import staff_verdict
from . import outcomes as customer_outcomes
from .common import (
    METHODS, Page, ci_columns, count, esc, hover, line_with_band, number, read_meta, read_table, standard_header,
    style,
)

HINT = "rerun `peaksim staff SCENARIO --out DIR` to write it again"


def read(directory: Path) -> dict:
    return {
        "meta": read_meta(directory, ["staffing.json", "staff.json", "run.json"], HINT),
        "staffing": read_table(directory, "staffing.csv", HINT, required=["interval_start", "group", "agents_sim"],
                               numeric=["agents_sim", "agents_erlang_c", "agents_erlang_a", "agents_current"],
                               times=["interval_start"]),
        "sl": read_table(directory, "staffing_sl.csv", HINT, required=["interval_start", "channel", "method",
                                                                       "service_level"],
                         numeric=[*ci_columns(["service_level"]), "target"], times=["interval_start"], optional=True),
        "shifts": read_table(directory, "shifts.csv", HINT, required=["template", "agents"],
                             numeric=["agents", "paid_hours", "cost"], optional=True),
        "outcomes": read_table(directory, "staffing_outcomes.csv", HINT, required=["interval_start", "channel", "method"],
                               numeric=ci_columns(["issues", "fcr", "csat", "resolution_time_p90_s", "unresolved_share"]),
                               times=["interval_start"], optional=True),
        "coverage": read_table(directory, "coverage.csv", HINT, required=["interval_start", "group", "required",
                                                                          "planned"],
                               numeric=["required", "planned", *ci_columns(["service_level"])],
                               times=["interval_start"], optional=True),
    }


def build(directory: Path) -> Page:
    data = read(directory)
    meta, staffing = data["meta"], data["staffing"]
    page = Page("staff", meta)
    standard_header(page, meta)
    page.verdict(staff_verdict(staffing, meta))
    page.warnings(meta.get("warnings") or [])
    page.section("Required agents per interval", "The fewest agents on shift that meet the targets, found by "
                 "simulation, next to the Erlang C (no abandonment) and Erlang A (with abandonment) formulas and "
                 "the scenario's current plan (all on shift, before shrinkage).")
    page.figure(required(staffing))
    sl = data["sl"]
    if sl is not None and not sl.empty:
        channels = list(dict.fromkeys(sl["channel"].astype(str)))
        for name in channels:
            page.colours(name)
        page.figure(service_levels(sl, channels))
    figure = customer_outcomes.staff_figure(data["outcomes"], page)
    if figure is not None:
        page.section("Customer outcomes", "First-contact resolution and resolution time p90 of the issues started in "
                     "each interval, when each method's staffing is re-simulated (95% CI bands).")
        page.figure(figure)
    shifts, coverage = data["shifts"], data["coverage"]
    if shifts is not None or coverage is not None:
        page.section("Shift plan", "Shift templates chosen to cover the requirement, and the service level the "
                     "planned agents reach.")
    if shifts is not None and not shifts.empty:
        page.table(shifts, formats={"agents": count, "paid_hours": number, "cost": number})
        page.figure(shift_bars(shifts))
    if coverage is not None and not coverage.empty:
        page.figure(coverage_figure(coverage, page))
    page.scenario(meta.get("scenario_definition"))
    return page


def required(staffing: pd.DataFrame) -> go.Figure:
    groups = list(dict.fromkeys(staffing["group"].astype(str)))
    fig = make_subplots(rows=len(groups), cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=[esc(g) for g in groups])
    for r, group in enumerate(groups, start=1):
        frame = staffing[staffing["group"].astype(str) == group]
        for method, (label, colour, dash) in METHODS.items():
            column = f"agents_{method}"
            if column not in frame.columns:
                continue
            fig.add_trace(go.Scatter(x=frame["interval_start"], y=frame[column], mode="lines", name=label,
                                     legendgroup=method, showlegend=r == 1,
                                     line={"color": colour, "dash": dash, "shape": "hv", "width": 2},
                                     hovertemplate=hover(f"{label} agents", group, "n")), row=r, col=1)
        fig.update_yaxes(title_text="agents", rangemode="tozero", row=r, col=1)
    fig.update_xaxes(title_text="interval start (local time)", row=len(groups), col=1)
    return style(fig, 230 * len(groups) + 120, "Required agents: simulation vs Erlang C vs Erlang A", hovermode="x")


def service_levels(sl: pd.DataFrame, channels: list[str]) -> go.Figure:
    fig = make_subplots(rows=len(channels), cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=[f"{esc(c)}: service level at the required staffing" for c in channels])
    for r, channel in enumerate(channels, start=1):
        frame = sl[sl["channel"].astype(str) == channel]
        for method in dict.fromkeys(frame["method"].astype(str)):
            label, colour, dash = METHODS.get(method, (method, "#777777", None))
            part = frame[frame["method"].astype(str) == method]
            line_with_band(fig, part, "interval_start", "service_level", f"{label}", colour, "service level", "pct",
                           row=r, col=1, showlegend=r == 1, dash=dash, shape="hv")
        if "target" in frame.columns and frame["target"].notna().any():
            targets = frame.drop_duplicates("interval_start")
            fig.add_trace(go.Scatter(x=targets["interval_start"], y=targets["target"], mode="lines", name="target",
                                     legendgroup="target", showlegend=r == 1,
                                     line={"color": "#cf222e", "dash": "dash", "width": 1.5, "shape": "hv"},
                                     hovertemplate=hover("target", channel, "pct")), row=r, col=1)
        fig.update_yaxes(title_text="service level", tickformat=".0%", rangemode="tozero", row=r, col=1)
    fig.update_xaxes(title_text="interval start (local time)", row=len(channels), col=1)
    return style(fig, 230 * len(channels) + 120, "Service level reached by each method's staffing (95% CI)",
                 hovermode="x")


def shift_bars(shifts: pd.DataFrame) -> go.Figure:
    def clock(value: object) -> str:  # "2026-11-27T09:00:00-05:00" → "11-27 09:00": bars are narrow
        text = str(value)
        return f"{text[5:10]} {text[11:16]}" if len(text) >= 16 and text[10] == "T" else text

    text = [f"{esc(clock(s))}–{esc(clock(e)[-5:])}" for s, e in zip(shifts.get("start", [""] * len(shifts)),
                                                                 shifts.get("end", [""] * len(shifts)))]
    fig = go.Figure(go.Bar(
        x=[esc(t) for t in shifts["template"]], y=shifts["agents"], text=text, textposition="inside",
        insidetextanchor="middle",
        marker={"color": "#0072B2"}, hovertemplate="<b>%{x}</b><br>%{text}<br>agents: %{y:,.0f}<extra></extra>",
    ))
    fig.update_xaxes(title_text="shift template", type="category")
    fig.update_yaxes(title_text="agents", rangemode="tozero")
    return style(fig, 340, "Agents per shift template")


def coverage_figure(coverage: pd.DataFrame, page: Page) -> go.Figure:
    groups = list(dict.fromkeys(coverage["group"].astype(str)))
    has_sl = "service_level" in coverage.columns
    fig = make_subplots(rows=len(groups), cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        specs=[[{"secondary_y": has_sl}] for _ in groups],
                        subplot_titles=[f"{esc(g)}: planned vs required" for g in groups])
    for r, group in enumerate(groups, start=1):
        frame = coverage[coverage["group"].astype(str) == group]
        fig.add_trace(go.Scatter(x=frame["interval_start"], y=frame["required"], mode="lines", name="required",
                                 legendgroup="required", showlegend=r == 1,
                                 line={"color": "#1f2328", "dash": "dash", "shape": "hv"},
                                 hovertemplate=hover("required agents", group, "n")), row=r, col=1)
        fig.add_trace(go.Scatter(x=frame["interval_start"], y=frame["planned"], mode="lines", name="planned",
                                 legendgroup="planned", showlegend=r == 1, fill="tozeroy",
                                 fillcolor="rgba(0, 114, 178, 0.15)", line={"color": "#0072B2", "shape": "hv"},
                                 hovertemplate=hover("planned agents", group, "n")), row=r, col=1)
        if has_sl:
            colours = None
            if "meets_target" in frame.columns:
                ok = frame["meets_target"].astype(str).str.lower().isin(["true", "1"])
                colours = ["#1a7f37" if v else "#cf222e" for v in ok]
            fig.add_trace(go.Scatter(
                x=frame["interval_start"], y=frame["service_level"], mode="markers", name="service level",
                legendgroup="sl", showlegend=r == 1, marker={"color": colours or "#777777", "size": 7},
                error_y={"type": "data", "symmetric": False,
                         "array": (frame["service_level_hi"] - frame["service_level"]) if "service_level_hi" in frame else None,
                         "arrayminus": (frame["service_level"] - frame["service_level_lo"]) if "service_level_lo" in frame else None,
                         "color": "#999999", "thickness": 1},
                hovertemplate=hover("service level", group, "pct")), row=r, col=1, secondary_y=True)
            fig.update_yaxes(title_text="service level", tickformat=".0%", range=[0, 1.05], dtick=0.2, showgrid=False,
                             row=r, col=1, secondary_y=True)
        fig.update_yaxes(title_text="agents", rangemode="tozero", row=r, col=1, **({"secondary_y": False} if has_sl else {}))
    fig.update_xaxes(title_text="interval start (local time)", row=len(groups), col=1)
    return style(fig, 240 * len(groups) + 120, "Shift plan coverage (green: meets target, red: misses)",
                 hovermode="x")


__all__ = ["build", "read"]
