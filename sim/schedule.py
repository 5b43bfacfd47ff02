"""How many agents of each group are available when: headcount profiles or shifts, minus shrinkage.

The model only needs, per group, the times at which the number of available agents changes
and the new number. Shifts are laid out on local dates, so a 08:00 shift starts at 08:00
wall-clock on both sides of a DST change.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from .calendar import daily_profile
from .scenario import WEEKDAYS, AgentGroup, Scenario


def available(count: np.ndarray, shrinkage: float) -> np.ndarray:
    """Agents actually available out of `count` on shift (rounded half up, as WFM tools do)."""
    return np.floor(np.asarray(count, dtype=float) * (1.0 - shrinkage) + 0.5).astype(int)


def shift_spells(group: AgentGroup, scenario: Scenario) -> list[tuple[float, float, int]]:
    """Every shift occurrence in the horizon as (start_s, end_s, agents), clipped to the horizon."""
    zone = scenario.zone
    start = pd.Timestamp(scenario.start_local)
    horizon = scenario.horizon_s
    first = (start - pd.Timedelta(days=1)).date()
    days = int(horizon // 86400) + 3
    spells = []
    for d in range(days):
        date = first + dt.timedelta(days=d)
        for shift in group.shifts or []:
            if shift.dates is not None:
                if date not in shift.dates:
                    continue
            elif WEEKDAYS[date.weekday()] not in shift.days:
                continue
            begin = _local(date, shift.start, zone)
            end_date = date + dt.timedelta(days=1) if shift.end <= shift.start else date
            end = _local(end_date, shift.end, zone)
            t0 = max((begin - start).total_seconds(), 0.0)
            t1 = min((end - start).total_seconds(), horizon)
            if t1 > t0 and shift.agents > 0:
                spells.append((t0, t1, shift.agents))
    return spells


def _local(date: dt.date, seconds: int, zone) -> pd.Timestamp:
    naive = pd.Timestamp(date) + pd.Timedelta(seconds=seconds)
    return naive.tz_localize(zone, nonexistent="shift_forward", ambiguous=False)


def group_timeline(group: AgentGroup, scenario: Scenario, grid: pd.DataFrame,
                   rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(times_s, available_agents): the available count from each time until the next one.

    Shrinkage is the share of scheduled agents not available; a per-interval profile or random
    shrinkage (binomial draws with `rng`, when `shrinkage_random`) is applied per interval.
    """
    if group.shifts is not None:
        events: dict[float, int] = {0.0: 0}
        for t0, t1, n in shift_spells(group, scenario):
            events[t0] = events.get(t0, 0) + n
            events[t1] = events.get(t1, 0) - n
        times = np.array(sorted(events))
        counts = np.cumsum([events[t] for t in times])
    elif group.headcount_by_interval is not None:
        times = grid["t_s"].to_numpy()
        counts = np.asarray(group.headcount_by_interval, dtype=int)
    else:
        times = grid["t_s"].to_numpy()
        counts = daily_profile(group.headcount, grid)
    if group.ramp is not None:  # seasonal hires are on no shift before they are hired
        hired = (_local(group.ramp.hired, 0, scenario.zone) - pd.Timestamp(scenario.start_local)).total_seconds()
        if hired > 0:
            merged = np.union1d(times, [hired])
            counts = np.asarray(counts)[np.searchsorted(times, merged, side="right") - 1]
            counts = np.where(merged < hired, 0, counts)
            times = merged
    if isinstance(group.shrinkage, list) or (group.shrinkage_random and rng is not None):
        # evaluate at every interval start as well, so shrinkage can change per interval
        starts = grid["t_s"].to_numpy()
        merged = np.union1d(times, starts)
        counts = counts[np.searchsorted(times, merged, side="right") - 1]
        times = merged
        slot = np.minimum((times // scenario.interval).astype(int), len(grid) - 1)
        shrink = daily_profile(group.shrinkage, grid)[slot]
        if group.shrinkage_random and rng is not None:
            counts = rng.binomial(np.asarray(counts, dtype=np.int64), 1.0 - shrink)
        else:
            counts = np.floor(np.asarray(counts, dtype=float) * (1.0 - shrink) + 0.5).astype(int)
    else:
        counts = available(counts, group.shrinkage)
    keep = np.r_[True, np.diff(counts) != 0]
    return times[keep].astype(float), counts[keep]


def scheduled_per_interval(group: AgentGroup, scenario: Scenario, grid: pd.DataFrame) -> np.ndarray:
    """Time-averaged available agents in each interval, from the timeline (for baselines and reports)."""
    times, counts = group_timeline(group, scenario, grid)
    return timeline_average(times, counts, np.r_[grid["t_s"].to_numpy(), scenario.horizon_s])


def timeline_average(times: np.ndarray, counts: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Time average over each [edges[k], edges[k+1]) of the step function that is counts[i] from times[i]."""
    times, counts = np.asarray(times, dtype=float), np.asarray(counts, dtype=float)
    if times.size == 0:
        return np.zeros(len(edges) - 1)
    integral = np.r_[0.0, np.cumsum(counts[:-1] * np.diff(times))]  # ∫ up to each change

    def area(x):
        i = np.searchsorted(times, x, side="right") - 1
        return np.where(i >= 0, integral[np.maximum(i, 0)] + counts[np.maximum(i, 0)] * (x - times[np.maximum(i, 0)]),
                        0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(np.diff(edges) > 0, np.diff(area(edges)) / np.diff(edges), 0.0)


def proficiency_changes(group: AgentGroup, scenario: Scenario) -> tuple[tuple[float, float], ...]:
    """Seasonal hires: (time_s, handle-time multiplier) at each local midnight while they ramp up."""
    ramp = group.ramp
    if ramp is None:
        return ()
    start = pd.Timestamp(scenario.start_local)
    changes = []
    for d in range(int(scenario.horizon_s // 86400) + 2):
        day = (start + pd.Timedelta(days=d)).date()
        weeks = (day - ramp.hired).days / 7
        progress = min(max(weeks / ramp.weeks, 0.0), 1.0)
        value = group.proficiency + (ramp.final - group.proficiency) * progress
        t = max((_local(day, 0, scenario.zone) - start).total_seconds(), 0.0)
        if t < scenario.horizon_s and (not changes or changes[-1][1] != value):
            changes.append((t, value))
    return tuple(changes)
