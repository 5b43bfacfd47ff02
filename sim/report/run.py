"""The run report: the verdict first, then one small multiple per channel for every KPI.

Each figure has one row per channel on a shared time axis, so five or seven channels never
overlay each other; each row carries its channel's target line, labelled once, and shows
waits in the unit of that channel's threshold (seconds for phone, hours for messaging, days
for email). Lines and bands break where a channel has no data (closed hours).

The page is a list of sections (`SECTIONS`), each a small function `(page, data) -> None` that
adds its cards, figures or tables; a feature that saves a new table adds a function (in this
module or its own, e.g. `outcomes.py`) and inserts it into the list.

Reads `run.json`, `summary.csv`, `intervals.csv` and (when present) `groups.csv` and
`origins.csv`; columns a scenario does not produce (bot, first response …) are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..readable import TimeUnit, threshold_text, unit_for
from ..verdict.facts import ChannelFacts, channel_facts
from ..verdict.run import run_verdict
from . import levers
from . import outcomes as customer_outcomes
from .common import (
    BAD, NEUTRAL, OK, Card, Page, ci_columns, count, esc, hover, line_with_band, pct, read_json, read_table, secs,
    standard_header, style, target_line,
)

HINT = "rerun `peaksim run SCENARIO --out DIR` to write it again"
CHANNEL_KPIS = ["arrived", "offered", "handled", "abandoned", "waiting_end", "abandon_rate", "service_level",
                "asa_s", "wait_p50_s", "wait_p90_s", "backlog", "bot_contained", "bot_escalated",
                "false_containment", "frt_s", "unique_customers", *levers.KPIS]
DURATIONS = ["asa_s", "wait_p90_s", "frt_s"]
ORIGIN_COLOURS = {"fresh": "#0072B2", "redial": "#E69F00", "chaser": "#D55E00", "reopen": "#CC79A7",
                  "bot_bounce": "#009E73"}
OUTCOME_COLOURS = {"bot_contained": "#8FD1BB", "handled": "#0072B2", "abandoned": "#D55E00",
                   "callbacks_accepted": "#56B4E9", "balked": "#E69F00", "waiting_end": "#999999"}
OUTCOME_LABELS = {"bot_contained": "contained by bot", "handled": "handled", "abandoned": "abandoned",
                  "callbacks_accepted": "left for a callback", "balked": "balked", "waiting_end": "still waiting"}
ROW_HEIGHT = 150
X_TITLE = "interval start (local time)"


def read(directory: Path) -> dict:
    """Every input of the run report, validated (one place to adapt when a contract changes)."""
    numeric = ci_columns(CHANNEL_KPIS + customer_outcomes.OUTCOME_KPIS)
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
    """Per channel from the saved scenario: kind (sync/async), SL threshold (s) and target (for sections
    written against this shape, e.g. levers.run_section)."""
    return {name: {"kind": f.kind, "threshold": f.threshold_s, "target": f.target}
            for name, f in channel_facts(meta.get("scenario_definition")).items()}


@dataclass
class RunData:
    """The saved tables plus what every section needs: channel order, facts and display units."""

    directory: Path
    meta: dict
    summary: pd.DataFrame
    intervals: pd.DataFrame
    groups: pd.DataFrame | None
    origins: pd.DataFrame | None
    reasons: pd.DataFrame | None = None
    channels: list[str] = field(default_factory=list)
    facts: dict[str, ChannelFacts] = field(default_factory=dict)
    units: dict[str, TimeUnit] = field(default_factory=dict)
    colour: Callable[[str], str] = lambda name: "#0072B2"  # the page's colour per channel, set by `build`

    def of(self, channel: str) -> pd.DataFrame:
        return self.intervals[self.intervals["channel"].astype(str) == channel]

    def fact(self, channel: str) -> ChannelFacts:
        return self.facts.get(channel) or ChannelFacts(channel)

    def title(self, channel: str) -> str:
        fact = self.fact(channel)
        return esc(channel) + (f" · target {esc(fact.goal())}" if fact.target is not None else "")


def load(directory: Path) -> RunData:
    raw = read(directory)
    data = RunData(Path(directory), raw["meta"], raw["summary"], raw["intervals"], raw["groups"], raw["origins"],
                   raw["reasons"])
    data.facts = channel_facts(data.meta.get("scenario_definition"))
    data.channels = list(dict.fromkeys([*data.facts, *data.summary["channel"].astype(str),
                                        *data.intervals["channel"].astype(str)]))
    for name in data.channels:
        frame = data.of(name)
        summary = data.summary[data.summary["channel"].astype(str) == name]
        values = [v for c in DURATIONS for k in (c, f"{c}_hi") for source in (frame, summary) if k in source.columns
                  for v in source[k].dropna().tolist()]  # bands too: an axis in seconds must not run to thousands
        data.units[name] = unit_for(data.fact(name).threshold_s, values)
    return data


def build(directory: Path) -> Page:
    data = load(directory)
    page = Page("run", data.meta)
    standard_header(page, data.meta)
    for name in data.channels:
        page.colours(name)
    data.colour = page.colours
    for section in SECTIONS:
        section(page, data)
    page.scenario(data.meta.get("scenario_definition"))
    return page


# --- sections, in page order ----------------------------------------------------------------
def verdict_section(page: Page, data: RunData) -> None:
    page.verdict(run_verdict(data.summary, data.intervals, data.meta, data.groups))


def warnings_section(page: Page, data: RunData) -> None:
    page.warnings(data.meta.get("warnings") or [])


def cards_section(page: Page, data: RunData) -> None:
    page.section("Service per channel", "Mean over replications with the 95% confidence interval; green meets the "
                 "channel's service-level target, red misses it. Waits are shown in the unit of the channel's "
                 "threshold (the CSV files keep seconds).")
    for row in data.summary.to_dict("records"):
        name = str(row["channel"])
        page.cards(channel_cards(row, data.fact(name), data.units.get(name)), heading=name)


def service_level_section(page: Page, data: RunData) -> None:
    page.section("Per interval", "Each contact counts in the interval it arrived in. Shaded bands are 95% CIs; "
                 "dashed lines are the channel's target. Lines stop where a channel has no contacts (closed hours).")
    page.figure(per_channel(data, "service_level", "service level", "pct", "Service level per interval"))


def waits_section(page: Page, data: RunData) -> None:
    if any(c in data.intervals.columns for c in ("asa_s", "wait_p90_s")):
        page.figure(waits(data))


def abandonment_section(page: Page, data: RunData) -> None:
    sync = [c for c in data.channels if data.fact(c).kind != "async" and "abandon_rate" in data.intervals.columns
            and data.of(c)["abandon_rate"].notna().any()]
    if sync:
        page.figure(per_channel(data, "abandon_rate", "abandonment", "pct", "Abandonment per interval", sync))


def volumes_section(page: Page, data: RunData) -> None:
    page.figure(volumes(data.intervals, data.channels))


def origins_section(page: Page, data: RunData) -> None:
    if data.origins is not None and data.origins["origin"].nunique() > 1:  # only fresh: nothing to split
        page.figure(origins(data.origins, data.channels))


def bot_section(page: Page, data: RunData) -> None:
    columns = [k for k in ("bot_contained", "bot_escalated") if k in data.intervals.columns]
    if not columns:
        return
    with_bot = [c for c in data.channels if data.of(c)[columns].to_numpy().sum() > 0]
    if with_bot:  # no bot in this scenario: no empty chart
        page.figure(bot(data, with_bot))


def async_section(page: Page, data: RunData) -> None:
    channels = [c for c in data.channels if data.fact(c).kind == "async"]
    if not channels:
        return
    page.section("Async channels", "Backlog: contacts still waiting at the end of each interval. First response: "
                 "mean time to an agent's first answer, in the unit of the channel's threshold.")
    if "backlog" in data.intervals.columns:
        page.figure(per_channel(data, "backlog", "backlog", "n", "Backlog at the end of each interval", channels))
    if "frt_s" in data.intervals.columns and data.intervals["frt_s"].notna().any():
        page.figure(per_channel(data, "frt_s", "first response", "s", "First response time per interval", channels))


def outcomes_section(page: Page, data: RunData) -> None:
    """Customer outcomes of the issues started on each channel (sim/report/outcomes.py)."""
    customer_outcomes.add_run_section(page, data.summary, data.intervals, data.channels)


def levers_section(page: Page, data: RunData) -> None:
    """Callbacks, balking, overflow, prevented contacts and reasons with targets of their own (sim/report/levers.py)."""
    levers.run_section(page, data.summary, data.intervals, data.groups, data.reasons, channel_settings(data.meta))


def agents_section(page: Page, data: RunData) -> None:
    groups = data.groups
    if groups is None or groups.empty:
        return
    page.section("Agents", "Occupancy: share of the time present with at least one contact. "
                 "Agents: scheduled and available after shrinkage, time-averaged.")
    if "occupancy" in groups.columns:
        page.figure(occupancy(groups))
    if "agents" in groups.columns:
        page.figure(agents(groups, page))


SECTIONS: list[Callable[[Page, RunData], None]] = [
    verdict_section, warnings_section, cards_section, service_level_section, waits_section, abandonment_section,
    volumes_section, origins_section, bot_section, outcomes_section, async_section, levers_section, agents_section,
]


# --- cards ----------------------------------------------------------------------------------
def channel_cards(row: dict, fact: ChannelFacts, unit: TimeUnit | None) -> list[Card]:
    target = fact.target
    sl = row.get("service_level")
    status = NEUTRAL if target is None or sl != sl else (OK if sl >= target else BAD)
    goal = f"target {pct(target, 0)} in {threshold_text(fact.threshold_s)}" if target is not None else ""
    wait = (lambda v: secs(v, unit))
    cards = [
        Card("service level", pct(sl), ci(row, "service_level", pct), status, goal),
        Card("ASA", wait(row.get("asa_s")), ci(row, "asa_s", wait)),
        Card("wait p90", wait(row.get("wait_p90_s")), ci(row, "wait_p90_s", wait)),
        Card("abandoned", pct(row.get("abandon_rate")), ci(row, "abandon_rate", pct),
             caption=f"{count(row.get('abandoned'))} contacts" if "abandoned" in row else ""),
        Card("arrived / handled", f"{count(row.get('arrived'))} / {count(row.get('handled'))}",
             f"offered {count(row.get('offered'))}"),
    ]
    if "frt_s" in row and row.get("frt_s") == row.get("frt_s"):
        cards.append(Card("first response", wait(row["frt_s"]), ci(row, "frt_s", wait)))
    if (row.get("bot_contained") or 0) > 0 or (row.get("bot_escalated") or 0) > 0:  # a channel with a bot
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


# --- figures --------------------------------------------------------------------------------
def _grid(titles: list[str]) -> go.Figure:
    return make_subplots(rows=len(titles), cols=1, shared_xaxes=True, vertical_spacing=min(0.08, 0.5 / len(titles)),
                         subplot_titles=titles)


def per_channel(data: RunData, kpi: str, label: str, unit: str, title: str,
                channels: list[str] | None = None) -> go.Figure:
    """One row per channel: `kpi` with its band, the target line on service level."""
    channels = channels or data.channels
    fig = _grid([data.title(c) for c in channels])
    for r, name in enumerate(channels, start=1):
        time_unit = data.units.get(name) if unit == "s" else None
        line_with_band(fig, data.of(name), "interval_start", kpi, name, data.colour(name), label, unit, row=r, col=1,
                       showlegend=False, shape="hv", time_unit=time_unit)
        fact = data.fact(name)
        if kpi == "service_level" and fact.target is not None:
            target_line(fig, fact.target, "#1f2328", f"target {pct(fact.target, 0)}", row=r, col=1)
        axis = f"{label} ({time_unit.symbol})" if time_unit is not None else label
        fig.update_yaxes(title_text=axis, tickformat=".0%" if unit == "pct" else None, rangemode="tozero",
                         range=[0, 1.05] if kpi == "service_level" else None, row=r, col=1)
    fig.update_xaxes(title_text=X_TITLE, row=len(channels), col=1)
    return style(fig, ROW_HEIGHT * len(channels) + 110, title, hovermode="closest")


def waits(data: RunData) -> go.Figure:
    """Per channel: ASA (solid) and the 90th percentile wait (dotted), in the channel's unit."""
    fig = _grid([data.title(c) for c in data.channels])
    for r, name in enumerate(data.channels, start=1):
        unit = data.units.get(name)
        frame = data.of(name)
        colour = data.colour(name)
        if "asa_s" in frame.columns:
            line_with_band(fig, frame, "interval_start", "asa_s", f"{name} ASA", colour, "ASA", "s", row=r, col=1,
                           showlegend=False, shape="hv", time_unit=unit)
        if "wait_p90_s" in frame.columns:
            line_with_band(fig, frame.drop(columns=["wait_p90_s_lo", "wait_p90_s_hi"], errors="ignore"),
                           "interval_start", "wait_p90_s", f"{name} wait p90", colour, "wait p90", "s", row=r, col=1,
                           showlegend=False, shape="hv", time_unit=unit, dash="dot")
        fig.update_yaxes(title_text=f"wait ({unit.symbol})", rangemode="tozero", row=r, col=1)
    fig.update_xaxes(title_text=X_TITLE, row=len(data.channels), col=1)
    return style(fig, ROW_HEIGHT * len(data.channels) + 110,
                 "Waits per interval: ASA (solid, with 95% CI) and 90th percentile (dotted)", hovermode="closest")


def volumes(intervals: pd.DataFrame, channels: list[str]) -> go.Figure:
    """Per channel: arrived contacts stacked by outcome (bot-contained, handled, abandoned, waiting), offered as a line."""
    parts = [p for p in OUTCOME_COLOURS if p in intervals.columns]
    fig = _grid([esc(c) for c in channels])
    for r, name in enumerate(channels, start=1):
        frame = intervals[intervals["channel"].astype(str) == name]
        for part in parts:
            fig.add_trace(go.Bar(x=frame["interval_start"], y=frame[part].round(2), name=OUTCOME_LABELS[part],
                                 marker={"color": OUTCOME_COLOURS[part], "line": {"width": 0}},
                                 legendgroup=part, showlegend=r == 1,
                                 hovertemplate=hover(OUTCOME_LABELS[part], name, "n")), row=r, col=1)
        if "offered" in frame.columns:
            fig.add_trace(go.Scatter(x=frame["interval_start"], y=frame["offered"].round(2), name="offered", mode="lines",
                                     line={"color": "#1f2328", "width": 1.5, "shape": "hv"}, legendgroup="offered",
                                     showlegend=r == 1, hovertemplate=hover("offered", name, "n")), row=r, col=1)
        fig.update_yaxes(title_text="contacts", row=r, col=1)
    fig.update_layout(barmode="stack", bargap=0.05)
    fig.update_xaxes(title_text=X_TITLE, row=len(channels), col=1)
    return style(fig, ROW_HEIGHT * len(channels) + 120, "Contacts per interval by outcome (mean over replications)",
                 hovermode="x")


def origins(frame: pd.DataFrame, channels: list[str]) -> go.Figure:
    """Arrived contacts per interval stacked by origin (fresh, redial, chaser, reopen, bot bounce)."""
    present = [c for c in channels if (frame["channel"].astype(str) == c).any()]
    order = list(dict.fromkeys([*[o for o in ORIGIN_COLOURS if (frame["origin"] == o).any()],
                                *frame["origin"].astype(str)]))
    fig = _grid([esc(c) for c in present])
    extra = iter(["#332288", "#999933", "#882255", "#44AA99", "#999999"])
    colours = {o: ORIGIN_COLOURS.get(o) or next(extra, "#777777") for o in order}
    for r, name in enumerate(present, start=1):
        sub = frame[frame["channel"].astype(str) == name]
        for origin in order:
            part = sub[sub["origin"].astype(str) == origin]
            if part.empty or "arrived" not in part.columns:
                continue
            fig.add_trace(go.Bar(x=part["interval_start"], y=part["arrived"].round(2), name=esc(origin),
                                 marker={"color": colours[origin], "line": {"width": 0}}, legendgroup=origin,
                                 showlegend=r == 1, hovertemplate=hover(f"{esc(origin)} arrived", name, "n")),
                          row=r, col=1)
        fig.update_yaxes(title_text="arrived", row=r, col=1)
    fig.update_layout(barmode="stack", bargap=0.05)
    fig.update_xaxes(title_text=X_TITLE, row=len(present), col=1)
    return style(fig, ROW_HEIGHT * len(present) + 120, "Arrivals per interval by origin (fresh contacts and repeats)",
                 hovermode="x")


BOT_LINES = [("bot_contained", "contained", "#009E73", None), ("bot_escalated", "escalated", "#0072B2", "dash"),
             ("false_containment", "falsely contained", "#D55E00", "dot")]


def bot(data: RunData, channels: list[str]) -> go.Figure:
    """Per channel with a bot: contacts contained, escalated and falsely contained per interval."""
    lines = [spec for spec in BOT_LINES if spec[0] in data.intervals.columns]
    fig = _grid([esc(c) for c in channels])
    for r, name in enumerate(channels, start=1):
        for kpi, label, colour, dash in lines:
            line_with_band(fig, data.of(name), "interval_start", kpi, label, colour, label, "n", row=r, col=1,
                           showlegend=r == 1, shape="hv", dash=dash, legendgroup=kpi)
        fig.update_yaxes(title_text="contacts", rangemode="tozero", row=r, col=1)
    fig.update_xaxes(title_text=X_TITLE, row=len(channels), col=1)
    return style(fig, ROW_HEIGHT * len(channels) + 120, "Bot: contained, escalated and falsely contained contacts",
                 hovermode="closest")


def occupancy(groups: pd.DataFrame) -> go.Figure:
    wide = groups.pivot_table(index="group", columns="interval_start", values="occupancy", sort=False, dropna=False)
    names = [str(g) for g in wide.index]
    fig = go.Figure(go.Heatmap(
        z=wide.to_numpy().round(3), x=list(wide.columns), y=[esc(g) for g in names], zmin=0, zmax=1,
        colorscale="YlOrRd", colorbar={"title": {"text": "occupancy"}, "tickformat": ".0%"},
        hovertemplate="<b>%{y}</b><br>%{x}<br>occupancy: %{z:.1%}<extra></extra>",
    ))
    fig.update_xaxes(title_text=X_TITLE)
    fig.update_yaxes(title_text="agent group", type="category")
    return style(fig, max(260, 60 * len(names) + 170), "Occupancy by agent group and interval")


def agents(groups: pd.DataFrame, page: Page) -> go.Figure:
    names = list(dict.fromkeys(groups["group"].astype(str)))
    fig = _grid([esc(g) for g in names])
    for r, name in enumerate(names, start=1):
        frame = groups[groups["group"].astype(str) == name]
        line_with_band(fig, frame, "interval_start", "agents", name, page.colours(f"group:{name}"), "agents", "n",
                       row=r, col=1, showlegend=False, shape="hv")
        fig.update_yaxes(title_text="agents", rangemode="tozero", row=r, col=1)
    fig.update_xaxes(title_text=X_TITLE, row=len(names), col=1)
    return style(fig, ROW_HEIGHT * len(names) + 110, "Agents on shift per group (after shrinkage)",
                 hovermode="closest")


__all__ = ["SECTIONS", "RunData", "build", "load", "read"]
