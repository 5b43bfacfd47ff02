"""Customer outcomes in the reports: cards, per-interval panels, comparison cards and sweep curves.

Small self-contained pieces, each called from one report (run, compare, sweep, staff); they only
plot the outcome columns the commands saved (sim/journeys.py defines them) and show nothing when
a table predates them. Durations are shown in units a person reads (sim/readable.py), never 18,530 s.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..readable import duration
from .common import METHODS, Card, Page, count, esc, line_with_band, pct, style

OUTCOME_KPIS = ["fcr", "csat", "unresolved_share", "resolution_time_mean_s", "resolution_time_p50_s",
                "resolution_time_p90_s", "contacts_per_issue", "channels_per_issue", "revenue_at_risk", "issues",
                "issues_resolved", "issues_open_end"]
LABELS = {"fcr": ("first-contact resolution", "pct"), "csat": ("CSAT (modelled)", "pct"),
          "unresolved_share": ("issues given up", "pct"), "resolution_time_mean_s": ("resolution time mean", "s"),
          "resolution_time_p50_s": ("resolution time p50", "s"), "resolution_time_p90_s": ("resolution time p90", "s"),
          "contacts_per_issue": ("contacts per issue", "n"), "channels_per_issue": ("channels per issue", "n"),
          "revenue_at_risk": ("revenue at risk", "money"), "issues": ("issues", "n"),
          "issues_resolved": ("issues resolved", "n")}
HEADLINE = ["fcr", "csat", "resolution_time_p90_s", "unresolved_share", "revenue_at_risk"]
PANELS = [("fcr", "FCR", "pct"), ("csat", "CSAT (modelled)", "pct"),
          ("resolution_time_p90_s", "resolution p90 (h)", "h"), ("revenue_at_risk", "revenue at risk", "money")]


def money(value: float) -> str:
    return "–" if value is None or value != value else f"{value:,.0f}"


def _ci(row: dict, kpi: str, fmt) -> str:
    lo, hi = row.get(f"{kpi}_lo"), row.get(f"{kpi}_hi")
    if lo is None or hi is None or lo != lo or hi != hi:
        return ""
    return f"95% CI {fmt(lo)} – {fmt(hi)}"


def has_outcomes(frame: pd.DataFrame | None) -> bool:
    return frame is not None and "issues" in frame.columns and frame["issues"].fillna(0).sum() > 0


def outcome_cards(row: dict) -> list[Card]:
    """A channel's customer outcomes (issues started on it), mean with 95% CI."""
    if "issues" not in row or not row.get("issues"):
        return []
    cards = [
        Card("first-contact resolution", pct(row.get("fcr")), _ci(row, "fcr", pct),
             caption=f"{count(row.get('issues_resolved'))} of {count(row.get('issues'))} issues resolved"),
        Card("CSAT (modelled)", pct(row.get("csat")), _ci(row, "csat", pct), caption="share satisfied (4-5 of 5)"),
        Card("resolution time p50 / p90",
             f"{duration(row.get('resolution_time_p50_s'))} / {duration(row.get('resolution_time_p90_s'))}",
             f"mean {duration(row.get('resolution_time_mean_s'))}"),
        Card("contacts per issue", f"{row.get('contacts_per_issue', float('nan')):.2f}",
             _ci(row, "contacts_per_issue", lambda v: f"{v:.2f}"),
             caption=f"{row.get('channels_per_issue', float('nan')):.2f} channels per issue"),
        Card("issues given up", pct(row.get("unresolved_share")), _ci(row, "unresolved_share", pct)),
    ]
    if row.get("revenue_at_risk"):
        cards.append(Card("revenue at risk", money(row.get("revenue_at_risk")), _ci(row, "revenue_at_risk", money)))
    return cards


def add_run_section(page: Page, summary: pd.DataFrame, intervals: pd.DataFrame, channels: list[str]) -> None:
    """The run report's customer-outcome section: cards per channel and the per-interval panels."""
    if not has_outcomes(summary):
        return
    page.section("Customer outcomes", "Per channel of the issue's first contact. An issue is one customer need: "
                 "its first contact and every redial, chaser, reopen and bot bounce. CSAT is modelled "
                 "(the scenario's satisfaction block; defaults are illustrative). Issues still open at the end "
                 "of the horizon are counted apart (docs/outcomes.md).")
    for row in summary.to_dict("records"):
        cards = outcome_cards(row)
        if cards:
            page.cards(cards, heading=f"{row['channel']}: customer outcomes")
    if has_outcomes(intervals):
        page.figure(interval_panels(intervals, channels, page))


def _grid(frame: pd.DataFrame, channels: list[str], x: str, x_title: str, page: Page, title: str,
          mode: str = "lines", shape: str = "hv") -> go.Figure:
    """One row per channel (small multiples, shared x axis), one column per outcome KPI, with CI bands."""
    panels = [p for p in PANELS if p[0] in frame.columns]
    if "revenue_at_risk" in frame.columns and not frame["revenue_at_risk"].fillna(0).any():
        panels = [p for p in panels if p[0] != "revenue_at_risk"]
    frame = frame.copy()
    for suffix in ("", "_lo", "_hi"):  # resolution times in hours on the axis (the CSV stays in seconds)
        column = f"resolution_time_p90_s{suffix}"
        if column in frame.columns:
            frame[column] = frame[column] / 3600.0
    shown = [c for c in channels if frame.loc[frame["channel"].astype(str) == c, "fcr"].notna().any()] or channels[:1]
    fig = make_subplots(rows=len(shown), cols=len(panels), shared_xaxes=True, vertical_spacing=0.06,
                        horizontal_spacing=0.06,
                        subplot_titles=[f"{esc(c)}: {label}" for c in shown for _, label, _ in panels])
    for r, name in enumerate(shown, start=1):
        part = frame[frame["channel"].astype(str) == name].sort_values(x)
        for col, (kpi, label, unit) in enumerate(panels, start=1):
            line_with_band(fig, part, x, kpi, name, page.colours(name), label, unit, row=r, col=col,
                           showlegend=False, shape=shape, mode=mode)
            fig.update_yaxes(tickformat=".0%" if unit == "pct" else None, rangemode="tozero", row=r, col=col)
    for col in range(1, len(panels) + 1):
        fig.update_xaxes(title_text=x_title, row=len(shown), col=col)
    return style(fig, 170 * len(shown) + 150, title, hovermode="x")


def interval_panels(intervals: pd.DataFrame, channels: list[str], page: Page) -> go.Figure:
    """FCR, CSAT, resolution p90 and revenue at risk per interval of issue creation, a row per channel."""
    return _grid(intervals, channels, "interval_start", "issue started (local time)", page,
                 "Customer outcomes per interval of issue creation (95% CI bands)")


def compare_section(page: Page, table: pd.DataFrame, channels: list[str], diff_card) -> None:
    """Comparison cards (B − A with paired CIs) of the headline outcomes, per channel."""
    rows = table[table["kpi"].isin(HEADLINE)]
    revenue = rows["kpi"] == "revenue_at_risk"
    if not rows.loc[revenue, ["a", "b"]].fillna(0).to_numpy().any():  # neither run priced lost sales
        rows = rows[~revenue]
    if rows.empty:
        return
    page.section("Customer outcomes B − A", "Issues per channel of their first contact; same CIs as above.")
    for channel in channels:
        part = rows[rows["channel"].astype(str) == channel]
        ordered = [r for k in HEADLINE for r in part[part["kpi"] == k].to_dict("records")]
        if ordered:
            page.cards([diff_card(r) for r in ordered], heading=f"{channel}: outcomes")


def sweep_figure(sweep: pd.DataFrame, channels: list[str], x: str, x_title: str, page: Page) -> go.Figure | None:
    """FCR, CSAT, resolution p90 and revenue at risk against the swept staffing, a row per channel."""
    if "fcr" not in sweep.columns:
        return None
    return _grid(sweep, channels, x, x_title, page, "Customer outcomes against staffing (95% CI bands)",
                 mode="lines+markers", shape="linear")


def staff_figure(outcomes: pd.DataFrame, page: Page) -> go.Figure | None:
    """Per channel: FCR and resolution p90 reached by each method's staffing, per interval (95% CI)."""
    if outcomes is None or outcomes.empty or "fcr" not in outcomes.columns:
        return None
    channels = list(dict.fromkeys(outcomes["channel"].astype(str)))
    frame = outcomes.copy()
    for suffix in ("", "_lo", "_hi"):
        column = f"resolution_time_p90_s{suffix}"
        if column in frame.columns:
            frame[column] = frame[column] / 3600.0
    fig = make_subplots(rows=len(channels), cols=2, shared_xaxes=True, vertical_spacing=0.08, horizontal_spacing=0.08,
                        subplot_titles=[t for c in channels for t in (f"{esc(c)}: first-contact resolution",
                                                                      f"{esc(c)}: resolution time p90 (h)")])
    for r, channel in enumerate(channels, start=1):
        part = frame[frame["channel"].astype(str) == channel]
        for method in dict.fromkeys(part["method"].astype(str)):
            label, colour, dash = METHODS.get(method, (method, "#777777", None))
            rows = part[part["method"].astype(str) == method]
            for col, (kpi, unit) in enumerate((("fcr", "pct"), ("resolution_time_p90_s", "h")), start=1):
                if kpi in rows.columns:
                    line_with_band(fig, rows, "interval_start", kpi, label, colour, LABELS[kpi][0], unit, row=r,
                                   col=col, showlegend=r == 1 and col == 1, dash=dash, shape="hv")
        fig.update_yaxes(tickformat=".0%", rangemode="tozero", row=r, col=1)
        fig.update_yaxes(rangemode="tozero", row=r, col=2)
    return style(fig, 230 * len(channels) + 120, "Customer outcomes reached by each method's staffing (95% CI)",
                 hovermode="x")


__all__ = ["add_run_section", "compare_section", "duration", "has_outcomes", "interval_panels", "outcome_cards",
           "staff_figure", "sweep_figure"]
