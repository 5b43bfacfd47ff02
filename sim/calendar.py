"""The horizon's reporting intervals in local time, and daily profiles laid onto them.

Profiles in scenario files repeat every day and are indexed by the local time of day, so a
30-min profile value for 09:00 applies at 09:00 wall-clock even across a DST change.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .opening import OpeningHours, open_calendar
from .scenario import Scenario


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


def open_mask(hours: OpeningHours | None, scenario: Scenario) -> np.ndarray:
    """True for intervals in which the channel is open at some time (see sim/opening.py)."""
    calendar = open_calendar(hours, scenario.start_local, scenario.zone, scenario.horizon_s)
    return calendar.per_interval(scenario.interval, scenario.horizon_s) > 0


def iso(ts: pd.Series | pd.DatetimeIndex) -> list[str]:
    """ISO 8601 with offset, as spreadsheets and other tools read it."""
    return [t.isoformat() for t in pd.DatetimeIndex(ts)]


def open_changes(hours: OpeningHours | None, scenario: Scenario) -> tuple[tuple[float, bool], ...]:
    """(time_s, is_open) from the horizon start, first entry at 0, for a channel's opening hours (sim/opening.py)."""
    return open_calendar(hours, scenario.start_local, scenario.zone, scenario.horizon_s).changes(scenario.horizon_s)
