"""The staffing verdict: agent-hours by method, the share of intervals each meets, peak agents per
group, and how many more agents than the current plan the recommended staffing needs.

"Hires" are counted per group as the largest gap, at any one interval, between the agents the
simulation staffing puts on shift and those the scenario's own roster has on shift then (both
before shrinkage): the fewest extra people who could close every gap, if each of them worked
at that moment. Groups are counted apart because their skills differ.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..readable import clock, day_text, listing, share
from ..result_files import read_json, read_table
from . import BAD, NEUTRAL, OK, Verdict

HINT = "rerun `peaksim staff SCENARIO --out DIR` to write it again"
METHODS = {"sim": "simulation (ISA)", "erlang_c": "Erlang C per interval", "erlang_a": "Erlang A per interval"}


def from_directory(directory: Path) -> Verdict:
    staffing = read_table(directory, "staffing.csv", HINT, required=["interval_start", "group", "agents_sim"],
                          numeric=[f"agents_{m}" for m in [*METHODS, "current"]], times=["interval_start"])
    meta = read_json(directory, "staffing.json", HINT, optional=True) or {}
    return staff_verdict(staffing, meta)


def interval_hours(staffing: pd.DataFrame) -> float:
    """The reporting interval in hours, from the spacing of the interval starts (30 min if unknown)."""
    starts = pd.Series(sorted(staffing["interval_start"].unique()))
    steps = starts.diff().dropna().dt.total_seconds()
    steps = steps[steps > 0]
    return float(steps.mode().iloc[0]) / 3600 if not steps.empty else 0.5


def hires(staffing: pd.DataFrame) -> pd.DataFrame:
    """Per group: the peak of the simulation staffing and when, the current plan then, and the gaps."""
    hours = interval_hours(staffing)
    rows = []
    for group, part in staffing.groupby(staffing["group"].astype(str), sort=False):
        part = part.sort_values("interval_start")
        peak = part.loc[part["agents_sim"].idxmax()]
        row = {"group": group, "peak": float(peak["agents_sim"]), "peak_at": peak["interval_start"],
               "agent_hours": float(part["agents_sim"].sum() * hours)}
        for method in ("erlang_c", "erlang_a"):
            column = f"agents_{method}"
            row[f"peak_{method}"] = float(part[column].max()) if column in part.columns else np.nan
        if "agents_current" in part.columns and part["agents_current"].notna().any():
            gap = part["agents_sim"] - part["agents_current"]
            worst = part.loc[gap.idxmax()]
            row.update(current_at_peak=float(peak["agents_current"]), current_peak=float(part["agents_current"].max()),
                       hires=max(0.0, float(np.ceil(gap.max() - 1e-9))), hires_at=worst["interval_start"],
                       current_then=float(worst["agents_current"]), needed_then=float(worst["agents_sim"]),
                       short_hours=float(gap.clip(lower=0).sum() * hours),
                       spare_hours=float((-gap).clip(lower=0).sum() * hours),
                       short_intervals=int((gap > 0).sum()))
        rows.append(row)
    return pd.DataFrame(rows)


def _when(moment) -> str:
    return f"{day_text(moment.date())} {clock(moment)}"


def group_line(row: pd.Series) -> str:
    text = f"{row['group']}: up to {row['peak']:,.0f} on shift ({_when(row['peak_at'])}"
    others = [f"{label} {row[f'peak_{m}']:,.0f}" for m, label in (("erlang_c", "Erlang C"), ("erlang_a", "Erlang A"))
              if row.get(f"peak_{m}") == row.get(f"peak_{m}")]
    text += f"; {', '.join(others)})" if others else ")"
    if row.get("hires") != row.get("hires") or "hires" not in row:
        return text
    if row["hires"] > 0:
        text += (f"; current plan {row['current_then']:,.0f} where the gap is largest ({_when(row['hires_at'])}, "
                 f"{row['needed_then']:,.0f} needed): +{row['hires']:,.0f} agents; short in {row['short_intervals']} "
                 f"intervals ({row['short_hours']:,.0f} agent-hours), {row['spare_hours']:,.0f} agent-hours spare "
                 "elsewhere")
    else:
        text += (f"; the current plan covers every interval (peak {row['current_peak']:,.0f}; "
                 f"{row['spare_hours']:,.0f} agent-hours more than needed)")
    return text


def staff_verdict(staffing: pd.DataFrame, meta: dict) -> Verdict:
    hours = meta.get("agent_hours") or {}
    meets = meta.get("share_of_intervals_meeting_target") or {}
    not_below = meta.get("share_of_intervals_not_significantly_below_target") or {}
    in_reach = meta.get("share_of_intervals_in_reach_meeting_target") or {}
    table = hires(staffing)
    if "sim" not in hours:  # a hand-made or older folder: derive agent-hours from the table
        step = interval_hours(staffing)
        hours = {m: float(staffing[f"agents_{m}"].sum() * step) for m in METHODS if f"agents_{m}" in staffing.columns}
    details = []
    for method, label in METHODS.items():
        if method not in hours:
            continue
        text = f"{label}: {hours[method]:,.0f} agent-hours"
        if method in meets:
            text += f"; {share(meets[method])} of intervals meet target (mean)"
        if method in not_below:
            text += f", {share(not_below[method])} not significantly below"
        if method in in_reach:
            text += f"; {share(in_reach[method])} of the intervals in reach"
        details.append(text)
    if "agents_current" in staffing.columns and staffing["agents_current"].notna().any():
        current = float(staffing["agents_current"].sum() * interval_hours(staffing))
        details.append(f"current plan (the scenario's roster): {current:,.0f} agent-hours on shift")
    details += [group_line(row) for _, row in table.iterrows()]

    sim_share = in_reach.get("sim", meets.get("sim"))
    headline = f"Simulation staffing needs {hours.get('sim', float('nan')):,.0f} agent-hours"
    if sim_share is not None:
        headline += f" and meets target in {share(sim_share)} of intervals{' in reach' if 'sim' in in_reach else ''}"
    baselines = [f"{label.split(' per')[0]} {hours[m]:,.0f} h" + (f", {share(in_reach.get(m, meets.get(m)))}"
                                                                   if m in meets else "")
                 for m, label in METHODS.items() if m != "sim" and m in hours]
    if baselines:
        headline += f" ({'; '.join(baselines)})"
    status = NEUTRAL
    if "hires" in table.columns:
        short = table[table["hires"] > 0]
        if short.empty:
            headline += "; the current plan already covers it in every interval."
            status = OK
        else:
            parts = [f"{r['group']} +{r['hires']:,.0f}" for _, r in short.iterrows()]
            headline += (f"; against the current plan it needs {short['hires'].sum():,.0f} more agents at the "
                         f"busiest gaps ({listing(parts)}).")
            status = BAD
    else:
        headline += "."
    return Verdict("staff", status, headline, details)
