"""Demand that a sync channel's opening hours leave out, so `validate` and `run` can say how much.

A sync channel takes contacts only while it is open (sim/opening.py), so `per_day` / `per_week`
count the contacts that arrive while it is open: `day_of_week` is normalised over the open
weekdays and each day's `intraday` shape over that day's open part (sim/arrivals.py). A shape
that still gives weight to closed time describes customers the model never sends:

* `intraday` weight on closed hours (a shape fitted on 24-hour data): the contacts a day's
  volume would bring there, read with the shape over the whole day;
* `day_of_week` weight on a weekday the channel is closed: the volume that weekday would get;
* a `rate_per_hour` profile, or replayed `counts`, in closed time: those contacts.

Dates closed by an `exceptions` entry are left out: closing on 25 December is a decision, not a
slip. Flat default shapes never lose anything: they are spread over the open time.
"""

from __future__ import annotations

import numpy as np

from .arrivals import weekday_shapes, event_multipliers, interval_lengths, volume_rate
from .calendar import daily_profile, interval_grid
from .opening import WEEKDAYS, channel_calendar, clock_share
from .scenario import Scenario

MIN_LOST = 0.5  # contacts over the horizon: less is rounding, not a shape that misses the opening hours


def closed_volume(scenario: Scenario) -> dict[str, dict]:
    """Per sync channel with opening hours whose given shapes reach into closed time:
    `{lost, share, parts}` (contacts over the horizon, their share of all demand, and which keys)."""
    grid = interval_grid(scenario)
    lengths = interval_lengths(len(grid), scenario.interval, scenario.horizon_s)
    dates = grid["date"].to_numpy()
    out = {}
    for name, ch in scenario.channels.items():
        hours, arrivals = ch.open, ch.arrivals
        if ch.kind != "sync" or hours is None:
            continue
        opened = channel_calendar(scenario, name).per_interval(scenario.interval, scenario.horizon_s)
        closed = lengths - opened
        unique, index = np.unique(dates, return_inverse=True)
        decided = np.array([hours.closed_by_exception(d) for d in unique], dtype=bool)[index]
        day_open = np.array([hours.on(d) is not None for d in unique], dtype=bool)[index]
        scale = arrivals.growth * event_multipliers(scenario, name, dates)
        parts, lost = [], 0.0
        if arrivals.counts is not None:
            counts = np.asarray(arrivals.counts, dtype=float)
            with np.errstate(invalid="ignore", divide="ignore"):
                missed = float(np.sum(np.where(~decided & (lengths > 0), counts * closed / lengths, 0.0)))
            expected = float(counts.sum()) - missed
            if missed >= MIN_LOST:
                parts.append("arrivals.counts has contacts in closed time")
                lost += missed
        elif arrivals.daily is None:
            rate = daily_profile(arrivals.rate_per_hour, grid) * scale
            missed = float(np.sum(np.where(decided, 0.0, rate * closed / 3600.0)))
            expected = float(np.sum(rate * opened / 3600.0))
            if isinstance(arrivals.rate_per_hour, list) and missed >= MIN_LOST:
                parts.append("arrivals.rate_per_hour gives contacts while it is closed")
                lost += missed
        else:
            expected = float(np.sum(volume_rate(scenario, ch, grid) * scale * opened / 3600.0))
            day = _day_volume(scenario, ch, grid) * scale  # each interval: its date's volume
            intraday = np.asarray(arrivals.intraday or [1.0] * scenario.intervals_per_day, dtype=float)
            shapes = weekday_shapes(arrivals, scenario.intervals_per_day)  # a weekday's own shape where given
            sums = shapes.sum(axis=1, keepdims=True)
            shares = np.divide(shapes, sums, out=np.zeros_like(shapes), where=sums > 0)
            share = shares[grid["weekday"].to_numpy(), grid["slot"].to_numpy()] * lengths / scenario.interval
            if arrivals.intraday is not None or arrivals.intraday_by_weekday is not None:
                missed = float(np.sum(np.where(day_open, day * share * closed / np.maximum(lengths, 1e-9), 0.0)))
                if missed >= MIN_LOST:
                    regular = float(np.dot(intraday, clock_share((hours.start, hours.end), scenario.interval)))
                    regular /= intraday.sum()
                    parts.append(f"arrivals.intraday puts {1 - regular:.0%} of the day's weight on closed hours")
                    lost += missed
            if arrivals.day_of_week is not None:
                missed = float(np.sum(np.where(~day_open & ~decided, day * share, 0.0)))
                if missed >= MIN_LOST:
                    closed_days = [d for d, w in zip(WEEKDAYS, arrivals.day_of_week) if d not in hours.days and w > 0]
                    parts.append(f"arrivals.day_of_week gives weight to closed days ({', '.join(closed_days)})")
                    lost += missed
        if parts:
            out[name] = {"lost": lost, "share": lost / max(lost + expected, 1e-9), "parts": parts}
    return out


def _day_volume(scenario: Scenario, channel, grid) -> np.ndarray:
    """Per interval: its date's volume as `per_day`/`per_week` × `day_of_week` state it for this channel
    (normalised over the open weekdays, before events and growth), closed weekdays included."""
    arrivals, hours = channel.arrivals, channel.open
    dow = np.asarray(arrivals.day_of_week or [1.0] * 7, dtype=float)
    open_days = [WEEKDAYS.index(d) for d in hours.days]
    level = dow[open_days].mean()
    base = arrivals.per_week / len(open_days) if arrivals.per_week is not None else arrivals.per_day
    volume = base * dow / level if level > 0 else base * dow / max(dow.mean(), 1e-12)
    return volume[grid["weekday"].to_numpy()]


def closed_demand_warnings(scenario: Scenario) -> list[dict]:
    """One warning per sync channel whose given shapes put demand where it is closed, with the volume lost."""
    out = []
    for name, found in closed_volume(scenario).items():
        volume = scenario.channels[name].arrivals.daily is not None
        rule = ("per_day/per_week count the contacts that arrive while it is open and are spread over its open hours"
                if volume else "a sync channel takes contacts only while it is open")
        out.append({"kind": "demand_while_closed", "channel": name, "volume_lost": round(found["lost"], 1),
                    "share_lost": round(found["share"], 4),
                    "message": f"{name}: {'; '.join(found['parts'])}: the demand put there, about "
                               f"{found['lost']:,.0f} contacts over the horizon ({found['share']:.1%} of the total), "
                               f"is lost ({rule}); set the shape to 0 where the channel is closed, or extend the "
                               "opening hours if those customers should be served"})
    return out
