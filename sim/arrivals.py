"""Arrival rates per interval and non-homogeneous Poisson arrival times.

A channel's rate in an interval is built as WFM planners think of it:
    base volume × day-of-week shape × intraday shape × peak events × growth × dispersion,
or given directly as `rate_per_hour` (then only events, growth and dispersion apply), or replayed
as exact `counts` per interval (a backtest feeds a period's own volumes: no Poisson noise on top).
Rates are piecewise constant over reporting intervals, so the exact way to draw the
non-homogeneous Poisson process is per interval: a Poisson count, then that many uniform
times inside the interval. A sync channel takes contacts only while open (sim/opening.py):
an interval's count covers its open seconds and its times fall in its open part.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .calendar import daily_profile
from .opening import WEEKDAYS, OpenCalendar, channel_calendar, wall_clock_open_share
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


def event_shapes(scenario: Scenario, channel: str, grid: pd.DataFrame, rate: np.ndarray,
                 seconds: np.ndarray) -> np.ndarray:
    """On the core days of events with their own `intraday` shape for this channel, the day's
    contacts spread over the day by that shape instead (the day's total is kept; like `intraday`,
    the shape is normalised over the open part of the day: `seconds` are the open seconds)."""
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
            weights = shape[slots[rows]] * seconds[rows]
            if weights.sum() > 0:
                total = float((rate[rows] * seconds[rows]).sum())
                rate[rows] = total * shape[slots[rows]] / weights.sum()
    return rate


def weekday_shapes(arrivals, intervals_per_day: int) -> np.ndarray:
    """7 × intervals-per-day: each weekday's relative volume per interval (its own shape from
    `intraday_by_weekday`, else `intraday`, else flat); not normalised."""
    shapes = np.tile(np.asarray(arrivals.intraday or [1.0] * intervals_per_day, dtype=float), (7, 1))
    for day, shape in (arrivals.intraday_by_weekday or {}).items():
        shapes[WEEKDAY_NAMES.index(day)] = np.asarray(shape, dtype=float)
    return shapes


def daily_dispersion(dates: np.ndarray, cv: float, rng: np.random.Generator) -> np.ndarray:
    """Per interval: a gamma(mean 1, cv) multiplier drawn once per local date (forecast error)."""
    unique, index = np.unique(dates, return_inverse=True)
    shape = 1.0 / cv**2
    return rng.gamma(shape, 1.0 / shape, unique.size)[index]


@dataclass
class Demand:
    """One channel's arrivals per interval, as the arrival generator and the baselines need them.

    `rate`: contacts per hour while the channel takes contacts; `seconds`: how long it takes them
    in each interval (a sync channel's open seconds: none arrive while it is closed; the whole
    interval, cut at the horizon, for an async one, whose contacts wait for the opening);
    `counts`: a replay's exact contacts per interval (None for Poisson demand); `calendar`: where a
    sync channel's partly open intervals are open (arrivals are placed only there).
    """

    rate: np.ndarray
    seconds: np.ndarray
    counts: np.ndarray | None = None
    calendar: OpenCalendar | None = None

    @property
    def expected(self) -> np.ndarray:
        """Expected contacts per interval."""
        return self.counts.astype(float) if self.counts is not None else self.rate / 3600.0 * self.seconds


def channel_demand(scenario: Scenario, grid: pd.DataFrame, rng_for=None) -> dict[str, Demand]:
    """Per channel: the demand of every interval (see `Demand`).

    `rng_for(channel_index)` gives the stream for the random daily dispersion; without it the
    expected rates are returned (what analytic baselines use).
    """
    out = {}
    dates = grid["date"].to_numpy()
    lengths = interval_lengths(len(grid), scenario.interval, scenario.horizon_s)
    for c, (name, channel) in enumerate(scenario.channels.items()):
        arrivals = channel.arrivals
        hours = channel.open if channel.kind == "sync" else None  # async contacts arrive around the clock
        calendar = channel_calendar(scenario, name) if hours is not None else None
        seconds = lengths if calendar is None else calendar.per_interval(scenario.interval, scenario.horizon_s)
        if arrivals.counts is not None:  # a replay: the counts, prorated by open share; no events or growth
            counts = replay_counts(np.asarray(arrivals.counts, dtype=float), seconds, lengths)
            with np.errstate(invalid="ignore", divide="ignore"):
                rate = np.where(seconds > 0, counts / seconds * 3600.0, 0.0)
            out[name] = Demand(rate, seconds, counts, calendar)
            continue
        if arrivals.daily is not None:
            rate = volume_rate(scenario, channel, grid)
        else:
            rate = daily_profile(arrivals.rate_per_hour, grid)
        rate = event_shapes(scenario, name, grid, rate * arrivals.growth * event_multipliers(scenario, name, dates),
                            seconds)
        if arrivals.dispersion is not None and rng_for is not None:
            rate = rate * daily_dispersion(dates, arrivals.dispersion.cv, rng_for(c))
        if calendar is not None:
            rate = np.where(seconds > 0, rate, 0.0)
        out[name] = Demand(rate, seconds, None, calendar)
    return out


def channel_rates(scenario: Scenario, grid: pd.DataFrame, rng_for=None) -> dict[str, np.ndarray]:
    """Arrivals per hour in every interval while the channel takes contacts, per channel (see `channel_demand`)."""
    return {name: demand.rate for name, demand in channel_demand(scenario, grid, rng_for).items()}


def volume_rate(scenario: Scenario, channel, grid: pd.DataFrame) -> np.ndarray:
    """`per_day`/`per_week` × `day_of_week` × `intraday` as contacts per hour while open (before events and growth).

    A sync channel with opening hours takes contacts only while open, so its volume counts the
    contacts that arrive while it is open: `day_of_week` is normalised over its open weekdays
    (`per_week` is spread over them) and each date's volume over that date's open part by the
    intraday shape (default flat). Without opening hours (or on async channels, whose contacts
    arrive around the clock) the shapes are normalised over the whole week and day.
    """
    arrivals = channel.arrivals
    interval_h = scenario.interval / 3600
    shapes = weekday_shapes(arrivals, scenario.intervals_per_day)
    dow = np.asarray(arrivals.day_of_week or [1.0] * 7, dtype=float)
    weekday, slot = grid["weekday"].to_numpy(), grid["slot"].to_numpy()
    hours = channel.open if channel.kind == "sync" else None
    if hours is None:
        sums = shapes.sum(axis=1, keepdims=True)
        share = np.divide(shapes, sums, out=np.zeros_like(shapes), where=sums > 0)
        return arrivals.daily * (dow / dow.mean())[weekday] * share[weekday, slot] / interval_h
    open_days = [WEEKDAYS.index(d) for d in hours.days]
    level = dow[open_days].mean()
    base = arrivals.per_week / len(open_days) if arrivals.per_week is not None else arrivals.per_day
    day_volume = base * dow / level if level > 0 else np.zeros(7)
    dates, index = np.unique(grid["date"].to_numpy(), return_inverse=True)
    weight = np.array([float(np.dot(shapes[d.weekday()], wall_clock_open_share(hours, d, scenario.interval)))
                       for d in dates])
    per_weight = np.divide(1.0, weight, out=np.zeros_like(weight), where=weight > 0)
    return day_volume[weekday] * shapes[weekday, slot] * per_weight[index] / interval_h


def replay_counts(counts: np.ndarray, seconds: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Replayed counts prorated by each interval's open share, rounded so that running totals stay
    within half a contact of the prorated ones (whole intervals keep their counts exactly)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(lengths > 0, np.minimum(seconds / lengths, 1.0), 0.0)
    if np.all((share == 0.0) | (share == 1.0)):
        return np.where(share > 0, counts, 0.0).astype(np.int64)
    running = np.floor(np.cumsum(counts * share) + 0.5)
    return np.diff(np.r_[0.0, running]).astype(np.int64)


def interval_lengths(n_intervals: int, interval_s: float, horizon_s: float) -> np.ndarray:
    """Seconds of each interval inside the horizon (the last one may be cut short)."""
    return np.maximum(np.minimum(interval_s, horizon_s - np.arange(n_intervals) * interval_s), 0.0)


def uniform_arrivals(counts: np.ndarray, interval_s: float, horizon_s: float, rng: np.random.Generator,
                     seconds: np.ndarray | None = None, calendar: OpenCalendar | None = None,
                     offset: float = 0.0) -> np.ndarray:
    """Sorted arrival times with exactly ``counts[k]`` arrivals uniform inside interval k.

    Given its count, a Poisson process's arrival times in an interval are independent uniforms,
    so this is the Poisson model conditioned on the observed volumes. With `seconds` (open
    seconds per interval) and `calendar`, a partly open interval's arrivals are uniform over its
    open part only; times are relative to `offset`, the first interval's start from the horizon start.
    """
    lengths = interval_lengths(len(counts), interval_s, horizon_s)
    counts = np.where(lengths > 0, np.asarray(counts, dtype=np.int64), 0)
    starts = np.repeat(np.arange(len(counts)) * interval_s, counts)
    u = rng.random(starts.size)
    times = starts + u * np.repeat(lengths, counts)
    if calendar is not None:
        partial = (seconds > 0) & (seconds < lengths)
        if partial.any():
            rows = np.repeat(partial, counts)
            open_s = np.repeat(seconds, counts)[rows]
            times[rows] = calendar.place(offset + starts[rows], u[rows] * open_s) - offset
    times.sort()
    return times


def poisson_arrivals(rate_per_hour: np.ndarray, interval_s: float, horizon_s: float,
                     rng: np.random.Generator, seconds: np.ndarray | None = None,
                     calendar: OpenCalendar | None = None, offset: float = 0.0) -> np.ndarray:
    """Sorted arrival times (seconds) of a Poisson process with piecewise-constant rate, while open
    (`seconds`: open seconds per interval, default the whole interval; see `uniform_arrivals`)."""
    lengths = interval_lengths(len(rate_per_hour), interval_s, horizon_s)
    exposure = lengths if seconds is None else seconds
    return uniform_arrivals(rng.poisson(rate_per_hour / 3600.0 * exposure), interval_s, horizon_s, rng, seconds,
                            calendar, offset)
