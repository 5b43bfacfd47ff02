"""Arrival rates per interval and non-homogeneous Poisson arrival times.

Rates are piecewise constant over reporting intervals, so the exact way to draw a
non-homogeneous Poisson process is per interval: a Poisson count, then that many uniform
times inside the interval. Done for the whole horizon in a few numpy calls.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .calendar import daily_profile, open_mask
from .scenario import Scenario


def channel_rates(scenario: Scenario, grid: pd.DataFrame) -> dict[str, np.ndarray]:
    """Arrivals per hour in every interval, per channel (zero while a sync channel is closed)."""
    rates = {}
    for name, channel in scenario.channels.items():
        rate = daily_profile(channel.arrivals.rate_per_hour, grid)
        if channel.kind == "sync":
            rate = np.where(open_mask(channel.open, grid, scenario.interval), rate, 0.0)
        rates[name] = rate
    return rates


def poisson_arrivals(rate_per_hour: np.ndarray, interval_s: float, horizon_s: float,
                     rng: np.random.Generator) -> np.ndarray:
    """Sorted arrival times (seconds) of a Poisson process with piecewise-constant rate."""
    lengths = np.minimum(interval_s, horizon_s - np.arange(len(rate_per_hour)) * interval_s)
    counts = rng.poisson(rate_per_hour / 3600.0 * np.maximum(lengths, 0.0))
    starts = np.repeat(np.arange(len(rate_per_hour)) * interval_s, counts)
    times = starts + rng.random(starts.size) * np.repeat(lengths, counts)
    times.sort()
    return times
