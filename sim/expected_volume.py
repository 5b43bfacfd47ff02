"""The fresh contacts a scenario expects per day and channel, from its arrival model alone (no
simulation): what `peaksim forecast` leads with, so a planner sees the volume before running it."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from .arrivals import channel_demand
from .calendar import interval_grid
from .readable import days_text
from .scenario import Scenario


def expected_daily(scenario: Scenario) -> pd.DataFrame:
    """Tidy table: date, channel, contacts (expected fresh contacts; repeats come on top in a run)."""
    grid = interval_grid(scenario)
    frames = []
    for name, demand in channel_demand(scenario, grid).items():
        contacts = demand.rate * demand.seconds / 3600.0 if demand.counts is None else demand.counts
        frames.append(pd.DataFrame({"date": grid["date"], "channel": name, "contacts": contacts}))
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["date", "channel", "contacts"])
    return table.groupby(["date", "channel"], sort=True, as_index=False)["contacts"].sum()


def volume_headline(scenario: Scenario) -> str:
    """`Expected 176,000 fresh contacts over 16 days (chat 75,000, voice 40,000, …); busiest day Fri 26 Nov
    2027 (Black Friday): 21,000, 2.4× the median day`."""
    daily = expected_daily(scenario)
    if daily.empty or daily["contacts"].sum() <= 0:
        return "Expected no fresh contacts in these dates: check the calibration's channels and the dates"
    per_channel = daily.groupby("channel")["contacts"].sum().sort_values(ascending=False)
    per_day = daily.groupby("date")["contacts"].sum()
    busiest = per_day.idxmax()
    median = float(per_day.median())
    events = [e.name for e in scenario.events or [] if e.date <= busiest <= (e.end or e.date)]
    text = (f"Expected {_round(per_channel.sum())} fresh contacts over {len(per_day)} days ("
            + ", ".join(f"{name} {_round(value)}" for name, value in per_channel.items()) + "); busiest day "
            + f"{days_text([busiest])}" + (f" ({', '.join(events)})" if events else "")
            + f": {_round(per_day.max())}")
    if median > 0 and per_day.max() > 1.05 * median:
        text += f", {per_day.max() / median:.1f}× the median day"
    return text + ". Redials, chasers and reopens come on top in the run."


def events_outside(scenario: Scenario, first: dt.date, last: dt.date) -> list:
    """Events whose days and ramps cannot touch `first`..`last` (a plan from another year keeps its own
    dates: they would change nothing, silently)."""
    return [e for e in scenario.events or []
            if (e.end or e.date) + dt.timedelta(days=e.ramp_after) < first
            or e.date - dt.timedelta(days=e.ramp_before) > last]


def _round(value: float) -> str:
    """Three significant figures: an expectation, not a count."""
    value = float(value)
    if value >= 1000:
        digits = len(str(int(value))) - 3
        return f"{round(value, -digits):,.0f}"
    return f"{value:,.0f}"
