"""The horizon's reporting intervals in local time, and daily profiles laid onto them.

Profiles in scenario files repeat every day and are indexed by the local time of day, so a
30-min profile value for 09:00 applies at 09:00 wall-clock even across a DST change.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .scenario import WEEKDAYS, OpeningHours, Scenario


def interval_grid(scenario: Scenario) -> pd.DataFrame:
    """One row per reporting interval: start (local, tz-aware), seconds from start, time-of-day slot, weekday."""
    n = scenario.n_intervals
    offsets = np.arange(n) * scenario.interval
    starts = pd.Timestamp(scenario.start_local) + pd.to_timedelta(offsets, unit="s")
    starts = starts.tz_convert(scenario.zone) if starts.tz is not None else starts
    seconds_of_day = starts.hour * 3600 + starts.minute * 60 + starts.second
    return pd.DataFrame({
        "interval_start": starts,
        "t_s": offsets.astype(float),
        "slot": (np.asarray(seconds_of_day) // int(scenario.interval)).astype(int),
        "weekday": np.asarray(starts.day_of_week, dtype=int),
        "date": starts.date,
    })


def daily_profile(values: float | list[float], grid: pd.DataFrame) -> np.ndarray:
    """A constant, a daily profile (one value per interval of the day, repeated every day), or a
    series covering the whole horizon (one value per interval), laid onto every interval."""
    if isinstance(values, (int, float)):
        return np.full(len(grid), float(values))
    array = np.asarray(values, dtype=float)
    if len(array) == len(grid):
        return array
    return array[grid["slot"].to_numpy()]


def multipliers(values: list[float] | None, grid: pd.DataFrame) -> np.ndarray:
    """An optional per-interval multiplier profile (see :func:`daily_profile`); ones when absent."""
    return np.ones(len(grid)) if values is None else daily_profile(values, grid)


def open_mask(hours: OpeningHours | None, grid: pd.DataFrame, interval_s: float) -> np.ndarray:
    """True for intervals whose start lies inside the opening hours."""
    if hours is None:
        return np.ones(len(grid), dtype=bool)
    second = grid["slot"].to_numpy() * interval_s
    days = np.isin(grid["weekday"].to_numpy(), [WEEKDAYS.index(d) for d in hours.days])
    return days & (second >= hours.start) & (second < hours.end)


def iso(ts: pd.Series | pd.DatetimeIndex) -> list[str]:
    """ISO 8601 with offset, as spreadsheets and other tools read it."""
    return [t.isoformat() for t in pd.DatetimeIndex(ts)]


def open_changes(hours: OpeningHours | None, scenario: Scenario) -> tuple[tuple[float, bool], ...]:
    """(time_s, is_open) from the horizon start, first entry at 0, for a channel's opening hours."""
    if hours is None:
        return ()
    import datetime as dt

    start = pd.Timestamp(scenario.start_local)
    spells = []
    first = (start - pd.Timedelta(days=1)).date()
    for d in range(int(scenario.horizon_s // 86400) + 3):
        date = first + dt.timedelta(days=d)
        if WEEKDAYS[date.weekday()] not in hours.days:
            continue
        t0, t1 = (
            (pd.Timestamp(date) + pd.Timedelta(seconds=s)).tz_localize(
                scenario.zone, nonexistent="shift_forward", ambiguous=False) - start
            for s in (hours.start, hours.end)
        )
        spells.append((t0.total_seconds(), t1.total_seconds()))
    changes = [(0.0, any(a <= 0 < b for a, b in spells))]
    for a, b in spells:
        if 0 < a < scenario.horizon_s:
            changes.append((a, True))
        if 0 < b < scenario.horizon_s:
            changes.append((b, False))
    return tuple(sorted(changes, key=lambda c: (c[0], c[1])))
