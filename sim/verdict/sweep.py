"""The sweep verdict: the recommended point, or exactly why there is none.

A sweep recommends the cheapest point at which every channel meets its target. When no point
does, "widen the range" is only the right advice for a channel the swept groups serve and
whose service level is still rising at the top of the range. A channel no swept setting
staffs misses whatever the sweep does (sweep its own group, or `peaksim staff` it); a channel
whose service level stays flat although the swept groups serve it is held back by something
else (opening hours, skill priorities, another group).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..readable import duration, listing, points, share
from ..result_files import read_json, read_table
from . import BAD, MIXED, OK, Verdict
from .facts import channel_facts

HINT = "rerun `peaksim sweep SCENARIO --out DIR` to write it again"
RISING_PP = 0.005  # service level still climbing by at least half a point on the last step up


def from_directory(directory: Path) -> Verdict:
    table = read_table(directory, "sweep.csv", HINT, required=["point", "channel", "service_level"],
                       numeric=["point", "service_level", "target_sl", "agent_hours", "cost"])
    return sweep_verdict(table, read_json(directory, "sweep.json", HINT))


def _met(table: pd.DataFrame) -> pd.Series:
    if "meets_target" in table.columns:
        return table["meets_target"].astype(str).str.lower().isin(["true", "1", "1.0"])
    return table["service_level"] >= table["target_sl"]


def point_text(table: pd.DataFrame, point: int) -> str:
    """`chat_team 24 at peak, other groups ×1.1` for a point's swept settings."""
    row = table[table["point"] == point].iloc[0]
    parts = []
    params = [c for c in table.columns if c.startswith("param_")]
    alone = not any(c.startswith("param_agents_") for c in params)
    for column in params:
        value = row[column]
        shown = f"{value:g}" if isinstance(value, float) else str(value)
        if column.startswith("param_agents_"):
            parts.append(f"{column.removeprefix('param_agents_')} {shown} at peak")
        elif column == "param_scale":
            parts.append(f"{'every group' if alone else 'other groups'} ×{shown}")
        else:
            parts.append(f"{column.removeprefix('param_')} {shown}")
    return ", ".join(parts)


def swept_groups(meta: dict) -> tuple[set[str], bool]:
    """(groups set by --agents, whether --scale moves every other group)."""
    axes = meta.get("axes") or {}
    fixed = {name.removeprefix("agents_") for name in axes if name.startswith("agents_")}
    return fixed, "scale" in axes


def affected(channel_groups: list[str], fixed: set[str], scaled: bool) -> bool:
    return any(g in fixed for g in channel_groups) or (scaled and any(g not in fixed for g in channel_groups))


def marginal_lines(meta: dict) -> list[str]:
    lines = []
    for m in meta.get("marginal_value_of_one_more_agent") or []:
        if not m.get("per_agent"):
            if m.get("note"):
                lines.append(f"One more agent ({m.get('axis')}): {m['note']}")
            continue
        gains = []
        for channel, v in m["per_agent"].items():
            sl = "–" if v.get("service_level_pp") is None else points(v["service_level_pp"] / 100, 2)
            ab = "–" if v.get("abandon_rate_pp") is None else points(v["abandon_rate_pp"] / 100, 2)
            asa = "– (no contact answered at one of the points)" if v.get("asa_s") is None else duration(
                v["asa_s"], signed=True)
            gains.append(f"{channel} {sl} service level, {ab} abandoned, {asa} ASA")
        extra = m.get("extra_agents_at_peak", m.get("extra_agents_on_shift"))
        cost = f", {m['extra_agent_hours']:,.0f} more paid hours" if m.get("extra_agent_hours") is not None else ""
        lines.append(f"One more agent ({m.get('axis')}, from point {m.get('from_point')}; a step adds "
                     f"{extra:g} at peak{cost}): {'; '.join(gains)}")
    return lines


def sweep_verdict(table: pd.DataFrame, meta: dict) -> Verdict:
    table = table.assign(_met=_met(table))
    facts = channel_facts(meta.get("scenario_definition"))
    fixed, scaled = swept_groups(meta)
    best = meta.get("best_point")
    best = best.get("point") if isinstance(best, dict) else best
    channels = list(dict.fromkeys(table["channel"].astype(str)))
    by_cost = table.drop_duplicates("point").sort_values(["agent_hours", "point"]) if "agent_hours" in table.columns \
        else table.drop_duplicates("point").sort_values("point")
    order = list(by_cost["point"])
    details = []
    if best is not None and (table["point"] == best).any():
        rows = table[table["point"] == best]
        first = rows.iloc[0]
        cost = f", cost {first['cost']:,.0f}" if "cost" in rows.columns and first["cost"] == first["cost"] else ""
        headline = (f"Recommended: point {best} ({point_text(table, best)}), the smallest staffing meeting every "
                    f"target: {first['agent_hours']:,.0f} paid agent-hours{cost}.")
        details.append("Smallest staffing meeting every target: " + "; ".join(
            f"{r['channel']} {share(r['service_level'], 1)} against {share(r['target_sl'])}" for _, r in rows.iterrows())
            + " (service level over the whole horizon: `peaksim run` that staffing to see its worst days)")
        cheaper = [p for p in order[:order.index(best)]] if best in order else []
        if cheaper:
            below = table[(table["point"] == cheaper[-1]) & ~table["_met"]]
            if not below.empty:
                details.append(f"The next cheaper point ({cheaper[-1]}: {point_text(table, cheaper[-1])}) misses on "
                               + listing(f"{r['channel']} ({share(r['service_level'], 1)})" for _, r in below.iterrows()))
        return Verdict("sweep", OK, headline, details + marginal_lines(meta))

    reasons, short = [], []
    never = []
    for channel in channels:
        rows = table[table["channel"].astype(str) == channel].set_index("point").reindex(order)
        if rows["_met"].any():
            met = [int(p) for p in rows.index[rows["_met"].astype(bool)]]
            details.append(f"{channel}: meets target at point{'s' if len(met) > 1 else ''} "
                           f"{', '.join(map(str, met[:8]))}{' …' if len(met) > 8 else ''}")
            continue
        never.append(channel)
        top = rows["service_level"].idxmax() if rows["service_level"].notna().any() else None
        best_sl = rows["service_level"].max()
        fact = facts.get(channel)
        goal = fact.goal() if fact else share(rows["target_sl"].iloc[0])
        groups = fact.groups if fact else []
        head = f"{channel} misses {goal} at every point (best {share(best_sl, 1)}" + (f" at point {top})" if top is not None else ")")
        if fact is not None and groups and not affected(groups, fixed, scaled):
            reasons.append(f"{head}: no swept group serves it ({listing(groups)} {'is' if len(groups) == 1 else 'are'} "
                           "not swept), so no range of this sweep can fix it; sweep "
                           f"{'it' if len(groups) == 1 else 'them'} too (--agents {groups[0]}=…) or staff it with "
                           "`peaksim staff`")
            short.append(f"{channel} misses at every point and no swept group serves it")
            continue
        sl = rows["service_level"].dropna()
        step = float(sl.iloc[-1] - sl.iloc[-2]) if len(sl) >= 2 else 0.0
        if len(sl) < 2:
            reasons.append(f"{head}; only one point was swept, so the sweep cannot tell whether more agents help: "
                           "give a range (start:stop:step)")
            short.append(f"{channel} misses at the only point swept")
        elif step >= RISING_PP:
            reasons.append(f"{head}, still rising at the most staffed point ({points(step, 1)} on the last step): "
                           "widen the range upwards")
            short.append(f"{channel} is still short at the top of the range (widen it upwards)")
        else:
            reasons.append(f"{head}, and more of the swept agents barely move it ({points(step, 1)} on the last step): "
                           "its shortfall lies elsewhere (opening hours, skill priorities or a group not swept)")
            short.append(f"{channel} misses at every point and the swept agents barely move it")
    if never:
        headline = f"No point meets every target: {listing(short)}."
    else:
        headline = ("No point meets every target at once: each channel meets it somewhere, but never together "
                    f"({'; '.join(details)}).")
    return Verdict("sweep", BAD if never else MIXED, headline, reasons + details + marginal_lines(meta))
