"""Arrival rates per interval and non-homogeneous Poisson arrival times.

A channel's rate in an interval is built as WFM planners think of it:
    base volume × day-of-week shape × intraday shape × peak events × growth × dispersion,
or given directly as `rate_per_hour` (then only events, growth and dispersion apply), or replayed
as exact `counts` per interval (a backtest feeds a period's own volumes: no Poisson noise on top).
Rates are piecewise constant over reporting intervals, so the exact way to draw the
non-homogeneous Poisson process is per interval: a Poisson count, then that many uniform
times inside the interval.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from .calendar import daily_profile, open_mask
from .scenario import Scenario
from .scenario_peak import WEEKDAY_NAMES, Event


def event_multiplier(event: Event, day: dt.date, channel: str | None = None) -> float:
    """The event's volume multiplier on a local date for `channel` (its own from `multipliers`,
    else `multiplier`), with linear ramps before and after; 1 where the event does not apply."""
    multiplier = event.multiplier if channel is None else event.multiplier_for(channel)
    if multiplier is None:
        return 1.0
    end = event.end or event.date
    if event.date <= day <= end:
        return multiplier
    if event.ramp_before and 0 < (event.date - day).days <= event.ramp_before:
        steps = event.ramp_before + 1 - (event.date - day).days
        return 1 + (multiplier - 1) * steps / (event.ramp_before + 1)
    if event.ramp_after and 0 < (day - end).days <= event.ramp_after:
        steps = event.ramp_after + 1 - (day - end).days
        return 1 + (multiplier - 1) * steps / (event.ramp_after + 1)
    return 1.0


def event_multipliers(scenario: Scenario, channel: str, dates: np.ndarray) -> np.ndarray:
    """Per interval: the largest multiplier of the events that touch this channel (1 if none)."""
    unique = pd.unique(dates)
    by_day = {}
    for day in unique:
        values = [event_multiplier(e, day, channel) for e in scenario.events or []
                  if e.multiplier_for(channel) is not None]
        by_day[day] = max(values, default=1.0)
    return np.array([by_day[d] for d in dates])


def event_shapes(scenario: Scenario, channel: str, grid: pd.DataFrame, rate: np.ndarray) -> np.ndarray:
    """On the core days of events with their own `intraday` shape for this channel, the day's
    volume spread over the day by that shape instead (the day's total is kept)."""
    events = [e for e in scenario.events or [] if e.intraday and channel in e.intraday]
    if not events:
        return rate
    rate = rate.copy()
    dates, slots = grid["date"].to_numpy(), grid["slot"].to_numpy()
    for event in events:
        shape = np.asarray(event.intraday[channel], dtype=float)
        for day in pd.unique(dates):
            if not event.date <= day <= (event.end or event.date):
                continue
            rows = np.flatnonzero(dates == day)
            weights = shape[slots[rows]]
            if weights.sum() > 0:
                rate[rows] = rate[rows].sum() * weights / weights.sum()
    return rate


def _weekday_shares(arrivals, intervals_per_day: int) -> np.ndarray:
    """7 × intervals-per-day: each weekday's share of its day's volume per interval."""
    base = np.asarray(arrivals.intraday or [1.0] * intervals_per_day, dtype=float)
    shares = np.tile(base / base.sum(), (7, 1))
    for day, shape in (arrivals.intraday_by_weekday or {}).items():
        shape = np.asarray(shape, dtype=float)
        shares[WEEKDAY_NAMES.index(day)] = shape / shape.sum() if shape.sum() > 0 else 0.0
    return shares


def daily_dispersion(dates: np.ndarray, cv: float, rng: np.random.Generator) -> np.ndarray:
    """Per interval: a gamma(mean 1, cv) multiplier drawn once per local date (forecast error)."""
    unique, index = np.unique(dates, return_inverse=True)
    shape = 1.0 / cv**2
    return rng.gamma(shape, 1.0 / shape, unique.size)[index]


def channel_rates(scenario: Scenario, grid: pd.DataFrame, rng_for=None) -> dict[str, np.ndarray]:
    """Arrivals per hour in every interval, per channel (zero while a sync channel is closed).

    `rng_for(channel_index)` gives the stream for the random daily dispersion; without it the
    expected rates are returned (what analytic baselines use).
    """
    rates = {}
    dates = grid["date"].to_numpy()
    interval_h = scenario.interval / 3600
    for c, (name, channel) in enumerate(scenario.channels.items()):
        arrivals = channel.arrivals
        if arrivals.counts is not None:  # a replay: the counts as a rate, no events or growth
            rate = np.asarray(arrivals.counts, dtype=float) / interval_h
            if channel.kind == "sync":
                rate = np.where(open_mask(channel.open, grid, scenario.interval), rate, 0.0)
            rates[name] = rate
            continue
        if arrivals.daily is not None:
            dow = np.asarray(arrivals.day_of_week or [1.0] * 7, dtype=float)
            dow = dow / dow.mean()
            weekday = grid["weekday"].to_numpy()
            if arrivals.intraday_by_weekday is None:
                intraday = np.asarray(arrivals.intraday or [1.0] * scenario.intervals_per_day, dtype=float)
                share = (intraday / intraday.sum())[grid["slot"].to_numpy()]
            else:
                share = _weekday_shares(arrivals, scenario.intervals_per_day)[weekday, grid["slot"].to_numpy()]
            rate = arrivals.daily * dow[weekday] * share / interval_h
        else:
            rate = daily_profile(arrivals.rate_per_hour, grid)
        rate = event_shapes(scenario, name, grid, rate * arrivals.growth * event_multipliers(scenario, name, dates))
        if arrivals.dispersion is not None and rng_for is not None:
            rate = rate * daily_dispersion(dates, arrivals.dispersion.cv, rng_for(c))
        if channel.kind == "sync":
            rate = np.where(open_mask(channel.open, grid, scenario.interval), rate, 0.0)
        rates[name] = rate
    return rates


def interval_lengths(n_intervals: int, interval_s: float, horizon_s: float) -> np.ndarray:
    """Seconds of each interval inside the horizon (the last one may be cut short)."""
    return np.maximum(np.minimum(interval_s, horizon_s - np.arange(n_intervals) * interval_s), 0.0)


def uniform_arrivals(counts: np.ndarray, interval_s: float, horizon_s: float, rng: np.random.Generator) -> np.ndarray:
    """Sorted arrival times with exactly ``counts[k]`` arrivals uniform inside interval k.

    Given its count, a Poisson process's arrival times in an interval are independent uniforms,
    so this is the Poisson model conditioned on the observed volumes.
    """
    lengths = interval_lengths(len(counts), interval_s, horizon_s)
    counts = np.where(lengths > 0, np.asarray(counts, dtype=np.int64), 0)
    starts = np.repeat(np.arange(len(counts)) * interval_s, counts)
    times = starts + rng.random(starts.size) * np.repeat(lengths, counts)
    times.sort()
    return times


def poisson_arrivals(rate_per_hour: np.ndarray, interval_s: float, horizon_s: float,
                     rng: np.random.Generator) -> np.ndarray:
    """Sorted arrival times (seconds) of a Poisson process with piecewise-constant rate."""
    lengths = interval_lengths(len(rate_per_hour), interval_s, horizon_s)
    return uniform_arrivals(rng.poisson(rate_per_hour / 3600.0 * lengths), interval_s, horizon_s, rng)
