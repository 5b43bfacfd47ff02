"""The classical baselines: per-interval Erlang C and Erlang A staffing (SIPP), blind to carry-over."""

from __future__ import annotations

import math

import numpy as np

from .arrivals import channel_rates
from .backlog import open_seconds
from .calendar import interval_grid
from .erlang import erlang_a_agents, erlang_c_agents
from .errors import PeaksimError
from .scenario import Scenario
from .staffing_rules import ChannelQueue, Targets


def erlang_agents(scenario: Scenario, queues: list[ChannelQueue], targets: Targets,
                  max_agents: int) -> dict[str, np.ndarray]:
    """channels × intervals agents (available) from per-interval Erlang C and Erlang A (SIPP)."""
    grid = interval_grid(scenario)
    rates = channel_rates(scenario, grid)  # while open: a partly open interval is staffed for its open part
    opened = open_seconds(scenario)
    out = {m: np.zeros((len(queues), len(grid)), dtype=int) for m in ("erlang_c", "erlang_a")}
    for c, (q, ch) in enumerate(zip(queues, scenario.channels.values())):
        patience = ch.patience.mean_s if ch.patience is not None else None
        cache: dict[float, tuple[int, int]] = {}
        hold_of = np.broadcast_to(q.hold(), rates[q.name].shape)
        for k, rate in enumerate(rates[q.name]):
            if opened[q.name][k] <= 0:  # closed all interval: nobody can serve it (async work waits)
                continue
            hold = float(hold_of[k])
            if (rate, hold) not in cache:
                lam = rate / 3600.0
                a = lam * hold
                floor = math.ceil(a / targets.max_occupancy - 1e-9) if targets.max_occupancy and a > 0 else 0
                try:
                    sc = erlang_c_agents(a, hold, q.threshold_s, q.target, max_agents * q.concurrency)
                    sa = erlang_a_agents(lam, hold, patience, q.threshold_s, q.target,
                                         targets.abandon_cap(q.name), max_agents * q.concurrency)
                except ValueError:
                    raise PeaksimError(f"{q.name}: Erlang needs more than --max-agents {max_agents} agents at "
                                       f"{rate:g} contacts/h; raise --max-agents or lower the target") from None
                cache[rate, hold] = (math.ceil(max(sc, floor) / q.concurrency),
                                     math.ceil(max(sa, floor) / q.concurrency))
            out["erlang_c"][c, k], out["erlang_a"][c, k] = cache[rate, hold]
    return out
