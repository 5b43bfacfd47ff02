"""The run report: KPI cards per channel against target, per-interval KPIs with CI bands,
volumes by outcome and origin, async backlog, occupancy heatmap and agents on shift.

Reads `run.json`, `summary.csv`, `intervals.csv` and (when present) `groups.csv` and
`origins.csv`. Columns added by later features (bot, origins, first response time, unique
customers) are plotted when present and skipped when absent.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from . import levers
from .common import (
    BAD, NEUTRAL, OK, Card, Page, ci_columns, count, esc, hover, line_with_band, pct, read_json,
    read_table, secs, standard_header, style, target_line,
)

HINT = "rerun `peaksim run SCENARIO --out DIR` to write it again"
CHANNEL_KPIS = ["arrived", "offered", "handled", "abandoned", "waiting_end", "abandon_rate", "service_level",
                "asa_s", "wait_p50_s", "wait_p90_s", "backlog", "bot_contained", "bot_escalated",
                "false_containment", "frt_s", "unique_customers", *levers.KPIS]
ORIGIN_COLOURS = {"fresh": "#0072B2", "redial": "#E69F00", "chaser": "#D55E00", "reopen": "#CC79A7",
                  "bot_bounce": "#009E73"}
OUTCOME_COLOURS = {"bot_contained": "#8FD1BB", "handled": "#0072B2", "abandoned": "#D55E00",
                   "callbacks_accepted": "#56B4E9", "balked": "#E69F00", "waiting_end": "#999999"}
OUTCOME_LABELS = {"bot_contained": "contained by bot", "handled": "handled", "abandoned": "abandoned",
                  "callbacks_accepted": "left for a callback", "balked": "balked", "waiting_end": "still waiting"}


def read(directory: Path) -> dict:
    """Every input of the run report, validated (one place to adapt when a contract changes)."""
    numeric = ci_columns(CHANNEL_KPIS)
    return {
        "meta": read_json(directory, "run.json", HINT),
        "summary": read_table(directory, "summary.csv", HINT, required=["channel", "service_level"], numeric=numeric),
        "intervals": read_table(directory, "intervals.csv", HINT, required=["interval_start", "channel"],
                                numeric=numeric, times=["interval_start"]),
        "groups": read_table(directory, "groups.csv", HINT, required=["interval_start", "group"],
                             numeric=ci_columns(["agents", "occupancy"]), times=["interval_start"], optional=True),
        "origins": read_table(directory, "origins.csv", HINT, required=["interval_start", "channel", "origin"],
                              numeric=ci_columns(["arrived", "handled", "abandoned"]), times=["interval_start"],
                              optional=True),
        "reasons": read_table(directory, "reasons.csv", HINT, required=["channel", "reason"],
                              numeric=ci_columns(["arrived", "handled", "service_level", "asa_s", "abandon_rate"]),
                              optional=True),
    }


def channel_settings(meta: dict) -> dict[str, dict]:
    """Per channel from the saved scenario: kind (sync/async), SL threshold (s) and target."""
    channels = ((meta.get("scenario_definition") or {}).get("channels") or {})
    out = {}
    for name, spec in channels.items():
        spec = spec if isinstance(spec, dict) else {}
        sl = spec.get("service_level") or {}
        out[str(name)] = {"kind": spec.get("kind", "sync"), "threshold": sl.get("threshold"), "target": sl.get("target")}
    return out


def build(directory: Path) -> Page:
    data = read(directory)
    meta, summary, intervals = data["meta"], data["summary"], data["intervals"]
    page = Page("run", meta)
    standard_header(page, meta)
    settings = channel_settings(meta)
    channels = list(dict.fromkeys([*settings, *summary["channel"].astype(str), *intervals["channel"].astype(str)]))
    for name in channels:
        page.colours(name)
    page.warnings(meta.get("warnings") or [])

    page.section("Service per channel", "Mean over replications with the 95% confidence interval; "
                 "green meets the channel's service-level target, red misses it.")
    for row in summary.to_dict("records"):
        page.cards(channel_cards(row, settings.get(str(row["channel"]), {})), heading=f"{row['channel']}")

    page.section("Per interval", "Each contact counts in the interval it arrived in. Shaded bands are 95% CIs; "
                 "dashed lines are service-level targets.")
    page.figure(interval_kpis(intervals, channels, settings, page))
    page.figure(volumes(intervals, channels))
    if data["origins"] is not None and data["origins"]["origin"].nunique() > 1:  # only fresh: nothing to split
        page.figure(origins(data["origins"], channels))
    bot_columns = [k for k in ("bot_contained", "bot_escalated") if k in intervals.columns]
    if bot_columns and intervals[bot_columns].to_numpy().sum() > 0:  # no bot in this scenario: no empty chart
        page.figure(bot(intervals, channels, page))
    async_channels = [c for c in channels if settings.get(c, {}).get("kind") == "async"]
    if async_channels:
        page.section("Async channels", "Backlog: contacts still waiting at the end of each interval.")
        page.figure(backlog(intervals, async_channels, page))

    groups = data["groups"]
    levers.run_section(page, summary, intervals, groups, data["reasons"], settings)
    if groups is not None and not groups.empty:
        page.section("Agents", "Occupancy: share of on-shift time with at least one contact. "
                     "Agents: mean agents on shift after shrinkage.")
        if "occupancy" in groups.columns:
            page.figure(occupancy(groups))
        if "agents" in groups.columns:
            page.figure(agents(groups, page))
    page.scenario(meta.get("scenario_definition"))
    return page


def channel_cards(row: dict, setting: dict) -> list[Card]:
    target, threshold = setting.get("target"), setting.get("threshold")
    sl = row.get("service_level")
    status = NEUTRAL if target is None or sl != sl else (OK if sl >= target else BAD)
    goal = f"target {pct(target, 0)} in {threshold:g} s" if target is not None and threshold is not None else ""
    cards = [
        Card("service level", pct(sl), ci(row, "service_level", pct), status, goal),
        Card("ASA", secs(row.get("asa_s")), ci(row, "asa_s", secs)),
        Card("wait p90", secs(row.get("wait_p90_s")), ci(row, "wait_p90_s", secs)),
        Card("abandoned", pct(row.get("abandon_rate")), ci(row, "abandon_rate", pct),
             caption=f"{count(row.get('abandoned'))} contacts" if "abandoned" in row else ""),
        Card("arrived / handled", f"{count(row.get('arrived'))} / {count(row.get('handled'))}",
             f"offered {count(row.get('offered'))}"),
    ]
    if "frt_s" in row and row.get("frt_s") == row.get("frt_s"):
        cards.append(Card("first response", secs(row["frt_s"]), ci(row, "frt_s", secs)))
    if "bot_contained" in row:
        cards.append(Card("bot contained", count(row.get("bot_contained")), ci(row, "bot_contained", count),
                          caption=f"escalated {count(row.get('bot_escalated'))}" if "bot_escalated" in row else ""))
    if "unique_customers" in row:
        cards.append(Card("unique customers", count(row.get("unique_customers")), ci(row, "unique_customers", count)))
    return cards


def ci(row: dict, kpi: str, fmt) -> str:
    lo, hi = row.get(f"{kpi}_lo"), row.get(f"{kpi}_hi")
    if lo is None or hi is None or lo != lo or hi != hi:
        return ""
    return f"95% CI {fmt(lo)} – {fmt(hi)}"


PANELS = [("service_level", "service level", "pct"), ("asa_s", "ASA (s)", "s"),
          ("wait_p90_s", "wait p90 (s)", "s"), ("abandon_rate", "abandonment", "pct")]


def interval_kpis(intervals: pd.DataFrame, channels: list[str], settings: dict, page: Page) -> go.Figure:
    panels = [p for p in PANELS if p[0] in intervals.columns]
    fig = make_subplots(rows=len(panels), cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        subplot_titles=[label for _, label, _ in panels])
    for r, (kpi, label, unit) in enumerate(panels, start=1):
        for c, name in enumerate(channels):
            frame = intervals[intervals["channel"].astype(str) == name]
            line_with_band(fig, frame, "interval_start", kpi, name, page.colours(name), label.split(" (")[0], unit,
                           row=r, col=1, showlegend=r == 1, shape="hv")
            if kpi == "service_level":
                target = settings.get(name, {}).get("target")
                target_line(fig, target, page.colours(name), f"{esc(name)} target {pct(target, 0)}", row=r, col=1)
        fig.update_yaxes(title_text=label, tickformat=".0%" if unit == "pct" else None, rangemode="tozero",
                         row=r, col=1)
    fig.update_xaxes(title_text="interval start (local time)", row=len(panels), col=1)
    return style(fig, 230 * len(panels) + 80, "Service level, ASA, wait p90 and abandonment per interval",
                 hovermode="x")


def volumes(intervals: pd.DataFrame, channels: list[str]) -> go.Figure:
    """Per channel: arrived contacts stacked by outcome (bot-contained, handled, abandoned, waiting), offered as a line."""
    parts = [p for p in OUTCOME_COLOURS if p in intervals.columns]
    fig = make_subplots(rows=len(channels), cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=[esc(c) for c in channels])
    for r, name in enumerate(channels, start=1):
        frame = intervals[intervals["channel"].astype(str) == name]
        for part in parts:
            fig.add_trace(go.Bar(x=frame["interval_start"], y=frame[part], name=OUTCOME_LABELS[part],
                                 marker={"color": OUTCOME_COLOURS[part], "line": {"width": 0}},
                                 legendgroup=part, showlegend=r == 1,
                                 hovertemplate=hover(OUTCOME_LABELS[part], name, "n")), row=r, col=1)
        if "offered" in frame.columns:
            fig.add_trace(go.Scatter(x=frame["interval_start"], y=frame["offered"], name="offered", mode="lines",
                                     line={"color": "#1f2328", "width": 1.5, "shape": "hv"}, legendgroup="offered",
                                     showlegend=r == 1, hovertemplate=hover("offered", name, "n")), row=r, col=1)
        fig.update_yaxes(title_text="contacts per interval", row=r, col=1)
    fig.update_layout(barmode="stack", bargap=0.05)
    fig.update_xaxes(title_text="interval start (local time)", row=len(channels), col=1)
    return style(fig, 220 * len(channels) + 120, "Contacts per interval by outcome (mean over replications)",
                 hovermode="x")


def origins(frame: pd.DataFrame, channels: list[str]) -> go.Figure:
    """Arrived contacts per interval stacked by origin (fresh, redial, chaser, reopen, bot bounce)."""
    present = [c for c in channels if (frame["channel"].astype(str) == c).any()]
    order = list(dict.fromkeys([*[o for o in ORIGIN_COLOURS if (frame["origin"] == o).any()],
                                *frame["origin"].astype(str)]))
    fig = make_subplots(rows=len(present), cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=[esc(c) for c in present])
    extra = iter(["#332288", "#999933", "#882255", "#44AA99", "#999999"])
    colours = {o: ORIGIN_COLOURS.get(o) or next(extra, "#777777") for o in order}
    for r, name in enumerate(present, start=1):
        sub = frame[frame["channel"].astype(str) == name]
        for origin in order:
            part = sub[sub["origin"].astype(str) == origin]
            if part.empty or "arrived" not in part.columns:
                continue
            fig.add_trace(go.Bar(x=part["interval_start"], y=part["arrived"], name=esc(origin),
                                 marker={"color": colours[origin], "line": {"width": 0}}, legendgroup=origin,
                                 showlegend=r == 1, hovertemplate=hover(f"{esc(origin)} arrived", name, "n")),
                          row=r, col=1)
        fig.update_yaxes(title_text="arrived per interval", row=r, col=1)
    fig.update_layout(barmode="stack", bargap=0.05)
    fig.update_xaxes(title_text="interval start (local time)", row=len(present), col=1)
    return style(fig, 220 * len(present) + 120, "Arrivals per interval by origin (fresh contacts and repeats)",
                 hovermode="x")


def bot(intervals: pd.DataFrame, channels: list[str], page: Page) -> go.Figure:
    kpis = [(k, label) for k, label in [("bot_contained", "contained"), ("bot_escalated", "escalated"),
                                        ("false_containment", "falsely contained")] if k in intervals.columns]
    fig = make_subplots(rows=len(kpis), cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=[f"bot: {label}" for _, label in kpis])
    for r, (kpi, label) in enumerate(kpis, start=1):
        for name in channels:
            frame = intervals[intervals["channel"].astype(str) == name]
            if frame[kpi].notna().any():
                line_with_band(fig, frame, "interval_start", kpi, name, page.colours(name), label, "n",
                               row=r, col=1, showlegend=r == 1, shape="hv")
        fig.update_yaxes(title_text="contacts per interval", row=r, col=1)
    fig.update_xaxes(title_text="interval start (local time)", row=len(kpis), col=1)
    return style(fig, 200 * len(kpis) + 100, "Bot: contained, escalated and falsely contained contacts",
                 hovermode="x")


def backlog(intervals: pd.DataFrame, channels: list[str], page: Page) -> go.Figure:
    kpis = [(k, label, unit) for k, label, unit in [("backlog", "backlog (contacts)", "n"),
                                                    ("frt_s", "first response time (s)", "s")]
            if k in intervals.columns]
    fig = make_subplots(rows=len(kpis), cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=[label for _, label, _ in kpis])
    for r, (kpi, label, unit) in enumerate(kpis, start=1):
        for name in channels:
            frame = intervals[intervals["channel"].astype(str) == name]
            line_with_band(fig, frame, "interval_start", kpi, name, page.colours(name), label.split(" (")[0], unit,
                           row=r, col=1, showlegend=r == 1, shape="hv")
        fig.update_yaxes(title_text=label, rangemode="tozero", row=r, col=1)
    fig.update_xaxes(title_text="interval start (local time)", row=len(kpis), col=1)
    return style(fig, 260 * len(kpis) + 80, "Async backlog at the end of each interval", hovermode="x")


def occupancy(groups: pd.DataFrame) -> go.Figure:
    wide = groups.pivot_table(index="group", columns="interval_start", values="occupancy", sort=False, dropna=False)
    names = [str(g) for g in wide.index]
    fig = go.Figure(go.Heatmap(
        z=wide.to_numpy(), x=list(wide.columns), y=[esc(g) for g in names], zmin=0, zmax=1,
        colorscale="YlOrRd", colorbar={"title": {"text": "occupancy"}, "tickformat": ".0%"},
        hovertemplate="<b>%{y}</b><br>%{x}<br>occupancy: %{z:.1%}<extra></extra>",
    ))
    fig.update_xaxes(title_text="interval start (local time)")
    fig.update_yaxes(title_text="agent group", type="category")
    return style(fig, max(260, 60 * len(names) + 170), "Occupancy by agent group and interval")


def agents(groups: pd.DataFrame, page: Page) -> go.Figure:
    fig = go.Figure()
    for name in dict.fromkeys(groups["group"].astype(str)):
        frame = groups[groups["group"].astype(str) == name]
        line_with_band(fig, frame, "interval_start", "agents", name, page.colours(f"group:{name}"), "agents",
                       "n", shape="hv")
    fig.update_xaxes(title_text="interval start (local time)")
    fig.update_yaxes(title_text="agents on shift", rangemode="tozero")
    return style(fig, 360, "Agents on shift per group (after shrinkage)", hovermode="x")


__all__ = ["build", "read"]
