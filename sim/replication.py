"""One replication: scenario → model inputs → SimPy run → per-contact records.

Seeding: replication r of a scenario with seed s uses `SeedSequence(s, spawn_key=(r, source,
channel))` for each random source, so every source has its own stream, the streams do not
shift when a channel is added, and a staffing sweep that reuses the replication indices gets
the same customers at every staffing level (common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import simpy

from .arrivals import channel_rates, poisson_arrivals
from .calendar import interval_grid, open_changes
from .model import ChannelSpec, ContactCentre, GroupSpec
from .records import ContactLog, SpellLog
from .scenario import Scenario
from .schedule import group_timeline

SOURCE_ARRIVALS, SOURCE_HANDLE, SOURCE_PATIENCE = 0, 1, 2


def stream(seed: int, replication: int, source: int, index: int = 0) -> np.random.Generator:
    """The random stream of one source (and channel) in one replication."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(replication, source, index)))


@dataclass
class ReplicationRecords:
    """Everything one replication produced, in columnar form, plus the context to read it."""

    replication: int
    contacts: dict[str, np.ndarray]
    busy: dict[str, np.ndarray]
    staffed: dict[str, np.ndarray]
    horizon_s: float


def build_specs(scenario: Scenario, grid: pd.DataFrame) -> tuple[list[ChannelSpec], list[GroupSpec]]:
    names = list(scenario.channels)
    channels = [
        ChannelSpec(name, ch.concurrency, tuple(ch.handle_factors()), open_changes(ch.open, scenario))
        for name, ch in scenario.channels.items()
    ]
    groups = []
    for group in scenario.agents:
        times, counts = group_timeline(group, scenario, grid)
        levels = tuple(tuple(names.index(c) for c in level) for level in group.skill_levels)
        groups.append(GroupSpec(group.name, levels, group.proficiency, times, counts))
    return channels, groups


def fresh_contacts(scenario: Scenario, grid: pd.DataFrame, replication: int) -> dict[str, np.ndarray]:
    """All first-time contacts of the horizon with their work and patience, sorted by arrival."""
    rates = channel_rates(scenario, grid)
    blocks = []
    for c, (name, channel) in enumerate(scenario.channels.items()):
        seed = scenario.seed
        times = poisson_arrivals(rates[name], scenario.interval, scenario.horizon_s,
                                 stream(seed, replication, SOURCE_ARRIVALS, c))
        n = times.size
        work = channel.handle_time.sample(stream(seed, replication, SOURCE_HANDLE, c), n)
        if channel.patience is not None:
            patience = channel.patience.sample(stream(seed, replication, SOURCE_PATIENCE, c), n)
        else:
            patience = np.full(n, np.inf)
        blocks.append((times, np.full(n, c), work, patience))
    arrival = np.concatenate([b[0] for b in blocks])
    order = np.argsort(arrival, kind="stable")
    channel = np.concatenate([b[1] for b in blocks])[order]
    work = np.concatenate([b[2] for b in blocks])[order]
    patience = np.concatenate([b[3] for b in blocks])[order]
    arrival = arrival[order]
    return {
        "arrival": arrival, "queued": arrival, "deadline": arrival + patience, "work": work,
        "channel": channel, "origin": np.zeros(arrival.size, dtype=np.int64),
        "customer": np.arange(arrival.size), "reason": np.zeros(arrival.size, dtype=np.int64),
        "flags": np.zeros(arrival.size, dtype=np.int64),
    }


def simulate(scenario: Scenario, replication: int) -> ReplicationRecords:
    """Run one replication to the horizon and return its records."""
    grid = interval_grid(scenario)
    channels, groups = build_specs(scenario, grid)
    log = ContactLog()
    fresh = fresh_contacts(scenario, grid, replication)
    first = log.extend(**fresh)
    env = simpy.Environment()
    centre = ContactCentre(env, channels, groups, log, scenario.horizon_s)
    centre.start(fresh["arrival"], first)
    env.run(until=scenario.horizon_s)
    centre.close()
    return ReplicationRecords(replication, log.columns(), centre.busy.columns(), centre.staffed.columns(),
                              scenario.horizon_s)
