"""Rosters for sweeps: a group's schedule scaled to a headcount at its peak, and the hours it pays.

A sweep asks "what if chat had 24 agents at its busiest time?", not "what if 24 chat agents sat
in the office day and night". So `--agents GROUP=N` keeps the shape of the group's roster (its
shifts, overtime dates or headcount profile) and scales it so that the most agents on shift at
any one time is N. A group given as one constant headcount has no shape of its own: it is on
shift while at least one of its channels is open (around the clock when none has opening
hours). Paid hours are the scheduled hours on shift, before shrinkage, so a shop open twelve
hours a day pays for twelve.
"""

from __future__ import annotations

import math

import numpy as np

from .calendar import interval_grid, open_mask
from .scenario import AgentGroup, Scenario
from .schedule import group_timeline, scheduled_per_interval


def half_up(x: float) -> int:
    return int(math.floor(x + 0.5 + 1e-9))


def on_shift(group: AgentGroup, scenario: Scenario) -> np.ndarray:
    """Agents on shift per reporting interval (time-averaged, before shrinkage), as the roster is written:
    seasonal hires count from the horizon start here (their hire date still applies when simulated)."""
    plain = group.model_copy(update={"shrinkage": 0.0, "shrinkage_random": False, "ramp": None})
    return scheduled_per_interval(plain, scenario, interval_grid(scenario))


def peak(group: AgentGroup, scenario: Scenario) -> float:
    """The most agents the roster has on shift in any interval."""
    values = on_shift(group, scenario)
    return float(values.max()) if len(values) else 0.0


def open_hours_mask(group: AgentGroup, scenario: Scenario) -> np.ndarray:
    """True in the intervals where at least one of the group's channels is open (special dates included)."""
    mask = np.zeros(scenario.n_intervals, dtype=bool)
    for channel in group.skills:
        mask |= open_mask(scenario.channels[channel].open, scenario)  # open at some time in the interval
    return mask


def at_peak(group_data: dict, group: AgentGroup, scenario: Scenario, agents: int) -> dict:
    """The dumped group with its roster scaled so that its peak on shift is `agents` (see the module doc)."""
    cleared = {**group_data, "headcount": None, "shifts": None, "headcount_by_interval": None}
    shape = on_shift(group, scenario)
    top = float(shape.max()) if len(shape) else 0.0
    constant = isinstance(group.headcount, int) or top <= 0
    if constant:
        mask = open_hours_mask(group, scenario)
        if mask.all():
            return {**cleared, "headcount": int(agents)}
        return {**cleared, "headcount_by_interval": [int(agents) if m else 0 for m in mask]}
    if abs(top - agents) < 1e-9 and np.allclose(shape, np.round(shape)):
        return dict(group_data)  # already this roster: keep it exactly as written
    return {**cleared, "headcount_by_interval": [half_up(h * agents / top) for h in shape]}


def scaled(group_data: dict, factor: float) -> dict:
    """A dumped agent group with every scheduled count multiplied by `factor` (rounded half up)."""
    group = dict(group_data)
    if group.get("shifts") is not None:
        group["shifts"] = [{**s, "agents": half_up(s["agents"] * factor)} for s in group["shifts"]]
    elif group.get("headcount_by_interval") is not None:
        group["headcount_by_interval"] = [half_up(h * factor) for h in group["headcount_by_interval"]]
    elif isinstance(group.get("headcount"), list):
        group["headcount"] = [half_up(h * factor) for h in group["headcount"]]
    else:
        group["headcount"] = half_up(group["headcount"] * factor)
    return group


def paid_hours(scenario: Scenario) -> float:
    """Paid agent-hours of the whole horizon, all groups: scheduled time on shift before shrinkage
    (seasonal hires from their hire date)."""
    grid = interval_grid(scenario)
    total = 0.0
    for group in scenario.agents:
        times, counts = group_timeline(group.model_copy(update={"shrinkage": 0.0, "shrinkage_random": False}),
                                       scenario, grid)
        durations = np.diff(np.r_[times, scenario.horizon_s])
        total += float(np.sum(durations * counts)) / 3600.0
    return total


def peaks(scenario: Scenario) -> dict[str, float]:
    """Per group: the most agents on shift at once."""
    return {group.name: peak(group, scenario) for group in scenario.agents}
