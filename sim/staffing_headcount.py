"""From channel slots to group headcounts: skill shares, shrinkage, and the --max-agents guard."""

from __future__ import annotations

import math

import numpy as np

from .calendar import daily_profile, interval_grid, iso
from .errors import PeaksimError
from .scenario import Scenario
from .scenario_dump import scenario_data

DEFAULT_MAX_AGENTS = 5000


def primary_groups(scenario: Scenario) -> np.ndarray:
    """groups × channels: True where the group serves the channel at the best priority any group gives it.

    A channel's requirement is staffed by its primary groups only. Splitting it by the share each
    group happened to answer starves channels that a group serves at a lower priority (email,
    third for chat_team): the group is then staffed for email but spends the time on chat.
    """
    names = list(scenario.channels)
    level = np.full((len(scenario.agents), len(names)), np.inf)
    for g, group in enumerate(scenario.agents):
        for rank, channels in enumerate(group.skill_levels):
            for name in channels:
                level[g, names.index(name)] = rank
    return np.isfinite(level) & (level == level.min(axis=0))


def skill_shares(scenario: Scenario, answered: np.ndarray | None = None) -> np.ndarray:
    """groups × channels: how each channel's requirement is split over its primary groups.

    In proportion to the contacts each primary group answered (equal split if none). Groups that
    serve the channel at a lower priority get none of it: their spare time is a bonus (pooling).
    """
    primary = primary_groups(scenario).astype(float)
    equal = primary / np.maximum(primary.sum(axis=0), 1)
    if answered is None:
        return equal
    mine = answered * primary
    totals = mine.sum(axis=0)
    return np.where(totals > 0, mine / np.maximum(totals, 1), equal)


def on_shift_for(available: int, shrinkage: float) -> int:
    """Smallest headcount h on shift with round(h·(1 − shrinkage)) ≥ available."""
    h = max(0, math.ceil((available - 0.5) / (1.0 - shrinkage) - 1e-9))
    while math.floor(h * (1.0 - shrinkage) + 0.5) < available:
        h += 1
    return h


def shrinkage_per_interval(scenario: Scenario) -> np.ndarray:
    """groups × intervals share not available: `shrinkage` is one value or one per interval of the day."""
    grid = interval_grid(scenario)
    return np.array([daily_profile(g.shrinkage, grid) for g in scenario.agents]).reshape(len(scenario.agents), len(grid))


def on_shift(need: np.ndarray, shrinkage: np.ndarray) -> np.ndarray:
    """groups × intervals headcount on shift for groups × intervals agents available, interval by interval."""
    out = np.zeros(need.shape, dtype=int)
    cache: dict[tuple[int, float], int] = {}
    for index, a in np.ndenumerate(need):
        key = (int(a), float(shrinkage[index]))
        out[index] = cache[key] if key in cache else cache.setdefault(key, on_shift_for(*key))
    return out


def group_headcount(scenario: Scenario, agents_per_channel: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """groups × intervals headcount on shift from channels × intervals agents needed (available)."""
    need = np.ceil(shares @ agents_per_channel - 1e-9).astype(int)
    return on_shift(need, shrinkage_per_interval(scenario))


def with_headcount(scenario: Scenario, headcount: np.ndarray) -> Scenario:
    """The scenario with every group's schedule replaced by a per-interval headcount over the horizon."""
    data = scenario_data(scenario)
    data["agents"] = [{**g, "headcount": None, "shifts": None,
                       "headcount_by_interval": [int(x) for x in headcount[i]]}
                      for i, g in enumerate(data["agents"])]
    return Scenario.model_validate(data)


def check_max_agents(scenario: Scenario, headcount: np.ndarray, max_agents: int, method: str) -> None:
    over = np.argwhere(headcount > max_agents)
    if over.size:
        g, k = over[0]
        start = iso(interval_grid(scenario)["interval_start"])[k]
        raise PeaksimError(
            f"{method}: group {scenario.agents[g].name!r} would need {int(headcount[g, k])} agents at {start}, "
            f"above --max-agents {max_agents}; the target cannot be met there: raise --max-agents, "
            "lower the channel's target, or reduce its load")
