"""Agent groups inferred from who handled what, with a headcount per interval of the week.

Why: without this year's plan (`peaksim forecast` without ``--base``) the forecast still needs
agents to run. A ticket export says which agent handled which channel and when: agents who
handled the same set of channels form a group (each channel counted as a skill when it is at
least ``min_share`` of the agent's contacts), and the group's presence per interval is measured
as in :func:`calibrate.profiles.infer_staffing` (time-weighted service sessions), averaged per
weekday × interval of the day over the days the export covers.

It is a **starting plan, and a low one**: agents idle for a whole session never appear in a
ticket log, and presence stops at the last service of a session. The forecast's header says so.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from calibrate.profiles import infer_staffing

__all__ = ["infer_groups"]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def infer_groups(contacts: pd.DataFrame, present: pd.DatetimeIndex, interval="60min", max_gap="30min",
                 min_share=0.05) -> tuple[list, pd.DataFrame]:
    """Groups ``[{name, skills, agents, headcount_week: {mon: [...], …}}]`` and the tidy table
    ``group, weekday, interval_of_day, agents`` behind them (see module doc)."""
    handled = contacts[contacts["agent_id"].notna() & contacts["answered_at"].notna()]
    if handled.empty:
        return [], pd.DataFrame(columns=["group", "weekday", "interval_of_day", "agents"])
    share = pd.crosstab(handled["agent_id"], handled["channel"].astype(str), normalize="index")
    skills = {agent: tuple(sorted(row.index[row >= min_share])) for agent, row in share.iterrows()}
    step = pd.Timedelta(interval)
    per_day = int(pd.Timedelta("24h") / step)
    dates = pd.DatetimeIndex(sorted(set(present)))
    groups, rows = [], []
    for skill_set in sorted(set(skills.values()), key=lambda s: (-len(s), s)):
        agents = [a for a, s in skills.items() if s == skill_set]
        mine = handled[handled["agent_id"].isin(agents)]
        staffing = infer_staffing(mine, interval=interval, max_gap=max_gap)
        start = staffing["interval_start"].dt.tz_localize(None)
        frame = pd.DataFrame({"date": start.dt.normalize(), "slot": ((start - start.dt.normalize()) // step).astype(int),
                              "agents": staffing["agents"].to_numpy()})
        grid = pd.MultiIndex.from_product([dates, range(per_day)], names=["date", "slot"])
        full = frame.groupby(["date", "slot"])["agents"].sum().reindex(grid, fill_value=0.0).reset_index()
        full["weekday"] = full["date"].dt.day_of_week
        week = full.groupby(["weekday", "slot"])["agents"].mean().unstack(fill_value=0.0).reindex(range(7), fill_value=0.0)
        name = "_".join(skill_set) or "agents"
        groups.append({"name": name, "skills": list(skill_set), "agents": len(agents),
                       "headcount_week": {WEEKDAYS[w]: [round(float(v), 2) for v in week.loc[w]] for w in range(7)}})
        for w in range(7):
            for s in range(per_day):
                rows.append({"group": name, "weekday": w, "interval_of_day": s, "agents": float(week.loc[w, s])})
    return groups, pd.DataFrame(rows)


def headcount_over(group: dict, grid: pd.DataFrame, per_day: int) -> list[int]:
    """A group's weekly headcount laid onto a scenario's intervals (rounded up: a planner staffs whole agents)."""
    week = np.array([group["headcount_week"][w] for w in WEEKDAYS], dtype=float)
    have = week.shape[1]
    slot = grid["slot"].to_numpy() * have // per_day
    return [int(v) for v in np.ceil(week[grid["weekday"].to_numpy(), slot] - 1e-9)]
