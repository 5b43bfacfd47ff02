"""Opening hours and backlogs: what the staffing rules need to know about time a channel is closed.

A contact that arrives while its channel is closed waits for the next opening. Three questions
follow, each answered per channel and reporting interval:

open time
    Seconds of the interval during which the channel is open, from the channel's calendar
    (sim/opening.py: weekly hours and dated exceptions). An agent scheduled for a channel in an
    interval with no open time cannot serve it, so no rule may ask for one.

reach
    Could the interval's arrivals meet the target at all? A contact is in reach if the channel is
    open when it arrives, or, when it is closed, if at least one whole interval of open time
    lies between its arrival and its deadline (arrival + threshold): enough time to work through
    the backlog that built up while closed. The interval is in reach when at least the target
    share of its arrivals (spread evenly over the interval; for a sync channel over its open part,
    where its contacts arrive) are. Voice arrivals at 03:00
    (redials, bot bounces) and 1-hour WhatsApp messages sent at midnight are out of reach; so are
    1-hour messages sent in the half hour before an 08:00 opening (answering them in time would
    mean clearing the whole night's backlog within minutes); a 24-hour email sent at midnight is
    in reach. Shares of intervals meeting the target are reported over the intervals in reach.

deadline capacity (async work)
    For async channels with long thresholds the requirement comes from the backlog, not from the
    state an arrival finds: contacts arriving in interval k must be answered by about
    t_k + target·Δ + threshold (the target-quantile arrival of the interval, answered in time),
    and the queue is first-in first-out, so everything ahead of them must be answered too. A
    forward pass over a fluid FIFO backlog sets each open interval's capacity to the smallest
    constant rate that, from now on, meets every deadline of the work already waiting (plus a
    √n allowance for Poisson noise): work that cannot be answered in time no longer drives the
    rate, but still takes its place in the queue. This is the classical "minimum rate to meet
    all known deadlines" rule; it spreads a day's email over the open hours and clears the
    night's messages fast enough that the messages of the last closed hour still make it.
"""

from __future__ import annotations

import math

import numpy as np

from .opening import channel_calendar
from .scenario import Scenario

REACH_POINTS = 60  # arrival instants per interval when checking reach
MIN_WINDOW = 1.0  # in intervals: a deadline with less open time left no longer drives the rate (as for reach)


def open_seconds(scenario: Scenario, extra_days: int = 0) -> dict[str, np.ndarray]:
    """Per channel: open seconds in each interval of the horizon and `extra_days` days beyond it
    (deadlines may fall after the horizon: the calendar, exceptions included, goes on past it)."""
    n = scenario.n_intervals + extra_days * scenario.intervals_per_day
    return {name: channel_calendar(scenario, name, extra_days).per_interval(scenario.interval, scenario.horizon_s, n)
            for name in scenario.channels}


def _cumulative_open(seconds: np.ndarray, width: float):
    """t ↦ open seconds in [0, t), open time taken as spread evenly inside each interval."""
    cumulative = np.r_[0.0, np.cumsum(seconds)]
    grid = np.arange(cumulative.size) * width
    return lambda t: np.interp(t, grid, cumulative)


def days_beyond(scenario: Scenario) -> int:
    """Whole days to look beyond the horizon for the longest threshold."""
    longest = max(ch.service_level.threshold for ch in scenario.channels.values())
    return int(math.ceil((longest + scenario.interval) / 86400.0)) + 1


def in_reach(scenario: Scenario) -> dict[str, np.ndarray]:
    """Per channel: True for intervals whose arrivals could meet the target with unlimited agents."""
    n, width = scenario.n_intervals, scenario.interval
    extra = days_beyond(scenario)
    out = {}
    for name, seconds in open_seconds(scenario, extra).items():
        ch = scenario.channels[name]
        if np.all(seconds[:n] >= width - 1e-9):
            out[name] = np.ones(n, dtype=bool)
            continue
        calendar = channel_calendar(scenario, name, extra)
        spread = (np.arange(REACH_POINTS) + 0.5) / REACH_POINTS
        arrivals = (np.arange(n)[:, None] + spread) * width
        partly = (seconds[:n] > 0) & (seconds[:n] < width - 1e-9)
        if ch.kind == "sync" and partly.any():  # sync contacts arrive only while open: in the open part
            arrivals[partly] = calendar.place((np.arange(n)[partly] * width)[:, None], spread * seconds[:n][partly, None])
        open_now = calendar.is_open(arrivals)
        window = calendar.open_seconds(arrivals, arrivals + ch.service_level.threshold)
        reachable = open_now | (window >= MIN_WINDOW * width - 1e-9)
        out[name] = reachable.mean(axis=1) >= ch.service_level.target - 1e-9
    return out


def deadline_slots(arrivals: np.ndarray, hold_s: float, seconds: np.ndarray, width: float, threshold_s: float,
                   target: float, z: float = 1.0, floor: np.ndarray | None = None) -> np.ndarray:
    """Slots per interval that clear a FIFO backlog in time (module docstring).

    `arrivals`: contacts entering the queue per interval; `seconds`: open seconds per interval,
    extending beyond the arrivals so late deadlines see the following days' opening hours;
    `floor`: slots planned anyway (e.g. by the per-state rule), which drain the backlog too.
    """
    n = arrivals.size
    opened = _cumulative_open(seconds, width)
    deadline = opened((np.arange(n) + target) * width + threshold_s)
    start = opened(np.arange(n) * width)
    slots = np.zeros(n)
    pending: list[list[float]] = []  # FIFO of [bucket, contacts left]
    for j in range(n):
        if arrivals[j] > 0:
            pending.append([j, float(arrivals[j])])
        if seconds[j] <= 0 or not pending:
            continue
        ahead, rate = 0.0, 0.0 if floor is None else float(floor[j])
        for k, left in pending:
            k = int(k)
            late_share = (1.0 - target) * arrivals[k]
            position = ahead + max(left - late_share, 0.0)
            ahead += left
            window = deadline[k] - start[j]
            if window >= MIN_WINDOW * width and position > 0:
                rate = max(rate, (position + z * math.sqrt(position)) * hold_s / window)
        slots[j] = rate
        served = rate * seconds[j] / hold_s
        while pending and served > 0:
            take = min(served, pending[0][1])
            pending[0][1] -= take
            served -= take
            if pending[0][1] <= 1e-9:
                pending.pop(0)
    return slots
