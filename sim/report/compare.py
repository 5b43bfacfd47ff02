"""The comparison report: two runs side by side and their differences B − A with 95% CIs.

Reads `compare.json`, `compare.csv` and (when present) `compare_intervals.csv`, all written
by `peaksim compare` (see sim/compare.py, which computes the differences).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..readable import TimeUnit, duration, unit_for
from ..verdict.compare import compare_verdict
from ..verdict.facts import channel_facts
from . import levers
from . import outcomes as customer_outcomes
from .common import (
    BAD, NEUTRAL, OK, Card, Page, ci_columns, esc, number, pct, read_json, read_table, style,
)

HINT = "rerun `peaksim compare RUN_A RUN_B --out DIR` to write it again"
LABELS = {"service_level": ("service level", "pct"), "abandon_rate": ("abandonment", "pct"),
          "asa_s": ("ASA", "s"), "wait_p50_s": ("wait p50", "s"), "wait_p90_s": ("wait p90", "s"),
          "frt_s": ("first response", "s"), "arrived": ("arrived", "n"), "offered": ("offered", "n"),
          "handled": ("handled", "n"), "abandoned": ("abandoned", "n"), "waiting_end": ("waiting at end", "n"),
          "bot_contained": ("bot contained", "n"), "bot_escalated": ("bot escalated", "n"),
          "false_containment": ("falsely contained", "n"), "unique_customers": ("unique customers", "n"),
          "prevented": ("prevented", "n"), "balked": ("balked", "n"), "callbacks_offered": ("callbacks offered", "n"),
          "callbacks_accepted": ("callbacks accepted", "n"), "callbacks_completed": ("callbacks completed", "n"),
          "callbacks_pending": ("callbacks pending", "n"),
          "callbacks_within_promise": ("callbacks within promise", "n"), "callback_wait_s": ("callback wait", "s"),
          "callback_promise_met": ("callback promise met", "pct"), "overflowed": ("overflowed", "n")}
LABELS.update({k: v for k, v in customer_outcomes.LABELS.items() if k not in LABELS})
HEADLINE = ["service_level", "abandon_rate", "asa_s", "wait_p90_s"]
SHARES = ["service_level", "abandon_rate"]  # comparable across channels on one axis; waits are not (s vs days)
DURATIONS = ["asa_s", "wait_p50_s", "wait_p90_s", "frt_s"]
RUN_STYLE = ("#8C8C8C", "#0072B2")  # A grey (the baseline), B blue (the change)


def read(directory: Path) -> dict:
    return {
        "meta": read_json(directory, "compare.json", HINT),
        "table": read_table(directory, "compare.csv", HINT, required=["channel", "kpi", "a", "b", "diff"],
                            numeric=[*ci_columns(["a", "b", "diff"]), "better", "n_a", "n_b"]),
        "intervals": read_table(directory, "compare_intervals.csv", HINT, required=["run", "interval_start", "channel"],
                                numeric=ci_columns(["service_level", "abandon_rate", "asa_s"]),
                                times=["interval_start"], optional=True),
    }


def fmt(kpi: str, value: float, signed: bool = False, time_unit: TimeUnit | None = None) -> str:
    """A KPI value (or a difference, `signed`) with its unit; durations in `time_unit`, never thousands of seconds."""
    unit = LABELS.get(kpi, (kpi, "n"))[1]
    if unit == "pct":
        text = "–" if value != value else f"{100 * value:+.1f} pp" if signed else pct(value)
    elif unit == "s":
        text = duration(value, time_unit, signed=signed)
    else:
        text = "–" if value != value else f"{value:+,.1f}" if signed else number(value)
    return text


def build(directory: Path) -> Page:
    data = read(directory)
    meta, table = data["meta"], data["table"]
    a, b = meta.get("a") or {}, meta.get("b") or {}
    label_a, label_b = str(a.get("label", "A")), str(b.get("label", "B"))
    page = Page("compare", meta, title=f"{label_b} vs {label_a}")
    page.verdict(compare_verdict(table, meta))
    for side, info in (("A", a), ("B", b)):
        digest = str(info.get("scenario_sha256") or "")[:12]
        page.header_item(side, f"{info.get('label', side)} · seed {info.get('seed')} · "
                               f"{info.get('replications')} reps · sha256 {digest} · peaksim {info.get('peaksim_version')}")
    def said(w: object) -> object:  # run.json stores warnings as {kind, message, …}
        return w.get("message", w) if isinstance(w, dict) else w

    page.warnings([f"A: {said(w)}" for w in a.get("warnings") or []] +
                  [f"B: {said(w)}" for w in b.get("warnings") or []])
    channels = list(dict.fromkeys(table["channel"].astype(str)))
    for name in channels:
        page.colours(name)

    kind = "paired" if "method" in table.columns and (table["method"] == "paired").all() else "Welch"
    page.section("Differences B − A", f"A = {label_a}, B = {label_b}. Each card shows B − A with its 95% {kind} "
                 "confidence interval (paired when both runs share seed and replications); green is a clear "
                 "improvement, red a clear worsening, grey is within noise.")
    facts = channel_facts(definitions_of(meta).get("a"))
    units = {c: unit_for(facts[c].threshold_s if c in facts else None,
                         table.loc[(table["channel"].astype(str) == c) & table["kpi"].isin(DURATIONS), ["a", "b"]]
                         .to_numpy().ravel()) for c in channels}
    for channel in channels:
        rows = table[(table["channel"].astype(str) == channel) & table["kpi"].isin(HEADLINE)]
        page.cards([diff_card(r, units[channel]) for r in rows.to_dict("records")], heading=channel)
    customer_outcomes.compare_section(page, table, channels, lambda r: diff_card(r, units.get(str(r["channel"]))))
    levers.compare_section(page, table, diff_card)
    page.figure(differences(table, channels, page))
    page.figure(side_by_side(table, channels, label_a, label_b))
    if data["intervals"] is not None and not data["intervals"].empty:
        page.figure(per_interval(data["intervals"], channels, label_a, label_b))
    page.section("All differences", "Durations in the unit of the channel's threshold; compare.csv keeps seconds.")
    page.table(readable_table(table, units))
    definitions = definitions_of(meta)
    for side, label in (("a", label_a), ("b", label_b)):
        if definitions.get(side):
            page.details(f"Scenario {side.upper()} used: {label}", json.dumps(definitions[side], indent=2,
                                                                              ensure_ascii=False))
    return page


def definitions_of(meta: dict) -> dict:
    definitions = meta.get("scenario_definitions")
    return definitions if isinstance(definitions, dict) else {}


def readable_table(table: pd.DataFrame, units: dict) -> pd.DataFrame:
    """compare.csv's rows with each value in its unit (percentages, readable durations, counts)."""
    rows = []
    for row in table.to_dict("records"):
        unit = units.get(str(row["channel"]))
        shown = {"channel": str(row["channel"]), "KPI": LABELS.get(row["kpi"], (row["kpi"],))[0]}
        for side in ("a", "b"):
            shown[side.upper()] = (f"{fmt(row['kpi'], row.get(side, float('nan')), time_unit=unit)} "
                                   f"[{fmt(row['kpi'], row.get(f'{side}_lo', float('nan')), time_unit=unit)}, "
                                   f"{fmt(row['kpi'], row.get(f'{side}_hi', float('nan')), time_unit=unit)}]")
        shown["B − A"] = fmt(row["kpi"], row["diff"], True, unit)
        shown["95% CI"] = (f"{fmt(row['kpi'], row.get('diff_lo', float('nan')), True, unit)} … "
                           f"{fmt(row['kpi'], row.get('diff_hi', float('nan')), True, unit)}")
        for n in ("n_a", "n_b"):
            if n in row:
                shown[n] = number(row[n])
        rows.append(shown)
    return pd.DataFrame(rows).astype(str)


def diff_card(row: dict, unit: TimeUnit | None = None) -> Card:
    kpi = row["kpi"]
    lo, hi, better = row.get("diff_lo"), row.get("diff_hi"), row.get("better", 0)
    status = NEUTRAL
    if lo == lo and hi == hi and better and (lo > 0 or hi < 0):
        status = OK if (lo > 0) == (better > 0) else BAD
    interval = (f"95% CI {fmt(kpi, lo, True, unit)} … {fmt(kpi, hi, True, unit)}" if lo == lo
                else "CI needs ≥ 2 replications")
    return Card(f"{LABELS.get(kpi, (kpi,))[0]} B − A", fmt(kpi, row["diff"], True, unit), interval, status,
                f"A {fmt(kpi, row['a'], time_unit=unit)} → B {fmt(kpi, row['b'], time_unit=unit)}")


def differences(table: pd.DataFrame, channels: list[str], page: Page) -> go.Figure:
    """Forest plot: B − A per channel for service level and abandonment, with CI whiskers and a zero line
    (waits differ by channel, seconds to days, so they are in the cards and the table)."""
    kpis = [k for k in SHARES if (table["kpi"] == k).any()]
    fig = make_subplots(rows=1, cols=len(kpis), shared_yaxes=True, horizontal_spacing=0.04,
                        subplot_titles=[f"{LABELS[k][0]} B − A" for k in kpis])
    for c, kpi in enumerate(kpis, start=1):
        rows = table[table["kpi"] == kpi]
        unit = LABELS[kpi][1]
        for name in channels:
            row = rows[rows["channel"].astype(str) == name]
            if row.empty:
                continue
            fig.add_trace(go.Scatter(
                x=row["diff"], y=[esc(name)], mode="markers", name=esc(name), legendgroup=name, showlegend=c == 1,
                marker={"color": page.colours(name), "size": 11},
                error_x={"type": "data", "symmetric": False, "array": row["diff_hi"] - row["diff"],
                         "arrayminus": row["diff"] - row["diff_lo"], "color": page.colours(name), "thickness": 2},
                customdata=row[["diff_lo", "diff_hi"]].to_numpy(),
                hovertemplate=(f"<b>{esc(name)}</b><br>{LABELS[kpi][0]} B − A: "
                               + ("%{x:+.1%} [%{customdata[0]:+.1%}, %{customdata[1]:+.1%}]" if unit == "pct"
                                  else "%{x:+,.1f} s [%{customdata[0]:+,.1f}, %{customdata[1]:+,.1f}]")
                               + "<extra></extra>"),
            ), row=1, col=c)
        fig.add_vline(x=0, line={"color": "#57606a", "width": 1}, row=1, col=c)
        fig.update_xaxes(title_text="B − A" + (" (share)" if unit == "pct" else " (s)"),
                         tickformat="+.0%" if unit == "pct" else None, zeroline=False, row=1, col=c)
    fig.update_yaxes(title_text="channel", type="category", row=1, col=1)
    return style(fig, max(300, 50 * len(channels) + 220), "Difference B − A with 95% CI")


def side_by_side(table: pd.DataFrame, channels: list[str], label_a: str, label_b: str) -> go.Figure:
    kpis = [k for k in SHARES if (table["kpi"] == k).any()]
    fig = make_subplots(rows=1, cols=len(kpis), horizontal_spacing=0.06, subplot_titles=[LABELS[k][0] for k in kpis])
    for c, kpi in enumerate(kpis, start=1):
        rows = table[table["kpi"] == kpi].set_index(table[table["kpi"] == kpi]["channel"].astype(str))
        rows = rows.reindex([ch for ch in channels if ch in rows.index])
        unit = LABELS[kpi][1]
        for side, label, colour in (("a", label_a, RUN_STYLE[0]), ("b", label_b, RUN_STYLE[1])):
            error = {}
            if f"{side}_lo" in rows.columns:
                error = {"error_y": {"type": "data", "symmetric": False, "array": rows[f"{side}_hi"] - rows[side],
                                     "arrayminus": rows[side] - rows[f"{side}_lo"], "color": "#1f2328"}}
            fig.add_trace(go.Bar(
                x=[esc(ch) for ch in rows.index], y=rows[side], name=esc(label), legendgroup=side, showlegend=c == 1,
                marker={"color": colour}, **error,
                hovertemplate=f"<b>{esc(label)}</b><br>%{{x}}<br>{LABELS[kpi][0]}: "
                              + ("%{y:.1%}" if unit == "pct" else "%{y:,.1f} s") + "<extra></extra>",
            ), row=1, col=c)
        fig.update_yaxes(tickformat=".0%" if unit == "pct" else None, rangemode="tozero",
                         title_text=LABELS[kpi][0] + ("" if unit == "pct" else " (s)"), row=1, col=c)
        fig.update_xaxes(type="category", row=1, col=c)
    fig.update_layout(barmode="group")
    return style(fig, 380, "A and B side by side (mean with 95% CI)")


def per_interval(intervals: pd.DataFrame, channels: list[str], label_a: str, label_b: str) -> go.Figure:
    present = [c for c in channels if (intervals["channel"].astype(str) == c).any()]
    fig = make_subplots(rows=len(present), cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=[f"{esc(c)}: service level" for c in present])
    for r, name in enumerate(present, start=1):
        for label, colour, dash in ((label_a, RUN_STYLE[0], "dot"), (label_b, RUN_STYLE[1], None)):
            frame = intervals[(intervals["channel"].astype(str) == name) & (intervals["run"].astype(str) == label)]
            if "service_level" not in frame.columns or frame.empty:
                continue
            fig.add_trace(go.Scatter(
                x=frame["interval_start"], y=frame["service_level"], mode="lines", name=esc(label), legendgroup=label,
                showlegend=r == 1, line={"color": colour, "dash": dash, "shape": "hv", "width": 2},
                hovertemplate=f"<b>{esc(label)}</b> · {esc(name)}<br>%{{x}}<br>service level: %{{y:.1%}}<extra></extra>",
            ), row=r, col=1)
        fig.update_yaxes(title_text="service level", tickformat=".0%", rangemode="tozero", row=r, col=1)
    fig.update_xaxes(title_text="interval start (local time)", row=len(present), col=1)
    return style(fig, 230 * len(present) + 120, "Service level per interval, A and B", hovermode="x")
