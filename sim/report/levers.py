"""Report sections for the peak levers (docs/levers.md): what each lever did in a run, and in a
comparison what it changed beside abandonment and service level.

Self-contained: the run and compare reports call `run_section` and `compare_section`; both read
only columns the commands saved (summary.csv, intervals.csv, groups.csv, reasons.csv,
compare.csv) and draw nothing when no lever was used.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..readable import threshold_text
from .common import BAD, NEUTRAL, OK, Card, Page, count, esc, hover, line_with_band, pct, secs, style

COUNTS = ["prevented", "balked", "callbacks_offered", "callbacks_accepted", "callbacks_completed",
          "callbacks_pending", "callbacks_within_promise", "overflowed"]
RATES = ["callback_wait_s", "callback_promise_met"]
KPIS = COUNTS + RATES
PER_INTERVAL = [("prevented", "prevented by notifications"), ("balked", "balked on hearing the wait"),
                ("callbacks_accepted", "callbacks accepted"), ("overflowed", "answered by overflow groups")]
COMPARED = ["service_level", "abandon_rate", "balked", "callbacks_accepted", "callbacks_within_promise",
            "callback_wait_s", "prevented", "overflowed"]


def used(frame: pd.DataFrame | None) -> bool:
    """Whether any lever left a trace in the table (columns absent in runs of older versions)."""
    present = [k for k in COUNTS if frame is not None and k in frame.columns]
    return bool(present) and float(frame[present].fillna(0).to_numpy().sum()) > 0


def run_section(page: Page, summary: pd.DataFrame, intervals: pd.DataFrame, groups: pd.DataFrame | None,
                reasons: pd.DataFrame | None, settings: dict[str, dict]) -> None:
    """Cards per channel, levers per interval, overflow work per group, reasons against their own targets
    (when a reason has a target of its own; `settings` are the channels' from the saved scenario)."""
    overflow_groups = groups is not None and "overflow_handled" in groups.columns
    own_targets = reasons is not None and "sl_target" in reasons.columns and any(
        (row["sl_target"], row["sl_threshold_s"]) != (settings.get(str(row["channel"]), {}).get("target"),
                                                     settings.get(str(row["channel"]), {}).get("threshold"))
        for row in reasons.to_dict("records"))
    if not (used(summary) or overflow_groups):
        if own_targets:
            reason_table(page, reasons)
        return
    page.section("Peak levers", "Prevented contacts never arrived (not in `arrived`); balked callers heard the "
                 "expected wait and left at once (not offered, not abandoned); callers who accepted a callback "
                 "left the queue and an agent called them back; overflowed contacts were answered by a group "
                 "that helps after a wait.")
    for row in summary.to_dict("records"):
        cards = lever_cards(row)
        if cards:
            page.cards(cards, heading=str(row["channel"]))
    page.figure(per_interval(intervals, page))
    if overflow_groups and groups["overflow_handled"].fillna(0).sum() > 0:
        page.figure(overflow_work(groups, page))
    if own_targets:
        reason_table(page, reasons)


def lever_cards(row: dict) -> list[Card]:
    cards = []
    if row.get("prevented", 0) > 0:
        cards.append(Card("prevented", count(row["prevented"]), ci(row, "prevented", count),
                          caption="by proactive notifications"))
    if row.get("balked", 0) > 0:
        cards.append(Card("balked", count(row["balked"]), ci(row, "balked", count), caption="left on hearing the wait"))
    if row.get("callbacks_offered", 0) > 0:
        cards.append(Card("callbacks accepted", f"{count(row['callbacks_accepted'])} / "
                          f"{count(row['callbacks_offered'])}", "accepted / offered",
                          caption=f"{count(row.get('callbacks_pending'))} pending at the end"))
        met = row.get("callback_promise_met")
        cards.append(Card("callback promise met", pct(met), ci(row, "callback_promise_met", pct),
                          NEUTRAL if met != met else (OK if met >= 0.95 else BAD),
                          f"callback wait {secs(row.get('callback_wait_s'))}"))
    if row.get("overflowed", 0) > 0:
        cards.append(Card("overflowed", count(row["overflowed"]), ci(row, "overflowed", count),
                          caption="answered by helper groups"))
    return cards


def ci(row: dict, kpi: str, fmt) -> str:
    lo, hi = row.get(f"{kpi}_lo"), row.get(f"{kpi}_hi")
    return "" if lo is None or hi is None or lo != lo or hi != hi else f"95% CI {fmt(lo)} – {fmt(hi)}"


def per_interval(intervals: pd.DataFrame, page: Page) -> go.Figure:
    panels = [(k, label) for k, label in PER_INTERVAL if k in intervals.columns and intervals[k].fillna(0).sum() > 0]
    fig = make_subplots(rows=max(len(panels), 1), cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=[label for _, label in panels])
    for r, (kpi, label) in enumerate(panels, start=1):
        for name in dict.fromkeys(intervals["channel"].astype(str)):
            frame = intervals[intervals["channel"].astype(str) == name]
            if frame[kpi].fillna(0).sum() > 0:
                line_with_band(fig, frame, "interval_start", kpi, name, page.colours(name), label, "n",
                               row=r, col=1, showlegend=r == 1, shape="hv")
        fig.update_yaxes(title_text="contacts per interval", rangemode="tozero", row=r, col=1)
    fig.update_xaxes(title_text="interval start (local time)", row=max(len(panels), 1), col=1)
    return style(fig, 200 * max(len(panels), 1) + 100, "Levers per interval (mean over replications)",
                 hovermode="x")


def overflow_work(groups: pd.DataFrame, page: Page) -> go.Figure:
    fig = go.Figure()
    for name in dict.fromkeys(groups["group"].astype(str)):
        frame = groups[groups["group"].astype(str) == name]
        if frame["overflow_handled"].fillna(0).sum() > 0:
            fig.add_trace(go.Bar(x=frame["interval_start"], y=frame["overflow_handled"], name=esc(name),
                                 marker={"color": page.colours(f"group:{name}"), "line": {"width": 0}},
                                 hovertemplate=hover("overflow contacts answered", name, "n")))
    fig.update_layout(barmode="stack", bargap=0.05)
    fig.update_xaxes(title_text="interval start (local time)")
    fig.update_yaxes(title_text="contacts answered on other channels", rangemode="tozero")
    return style(fig, 340, "Overflow work: contacts each group answered outside its own skills", hovermode="x")


def reason_table(page: Page, reasons: pd.DataFrame) -> None:
    page.section("Reasons against their own targets", "Each reason's service level against its own target "
                 "(`reasons.NAME.service_level`, else the channel's).")
    columns = [c for c in ["channel", "reason", "arrived", "handled", "sl_threshold_s", "sl_target", "service_level",
                           "sl_met", "asa_s", "abandon_rate"] if c in reasons.columns]
    # durations as a planner reads them (reasons.csv keeps seconds)
    labels = {"sl_threshold_s": "threshold", "asa_s": "ASA"}
    page.table(reasons[columns].rename(columns=labels), formats={"threshold": threshold_text, "ASA": secs})


def compare_section(page: Page, table: pd.DataFrame, diff_card) -> None:
    """B − A of the lever KPIs beside abandonment and service level, for channels where a lever acted;
    `diff_card` draws a row as the compare report's headline cards do."""
    levers = table[table["kpi"].isin(COUNTS)]
    acted = levers[(levers[["a", "b"]].fillna(0).abs().sum(axis=1)) > 0]["channel"].astype(str).unique()
    if not len(acted):
        return
    page.section("Peak levers: effect on abandonment and service level",
                 "For each channel where a lever acted in A or B: the lever's own counts beside the service "
                 "level and abandonment they change (B − A with 95% CI).")
    for channel in acted:
        rows = table[(table["channel"].astype(str) == channel) & table["kpi"].isin(COMPARED)]
        rows = rows.set_index("kpi").reindex([k for k in COMPARED if k in set(rows["kpi"])]).reset_index()
        page.cards([diff_card(r) for r in rows.to_dict("records")], heading=channel)
