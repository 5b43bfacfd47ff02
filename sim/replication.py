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
    busy_seconds: np.ndarray  # groups × intervals
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


def fresh_contacts(scenario: Scenario, grid: pd.DataFrame, replication: int, log: ContactLog
                   ) -> list[tuple[int, int]]:
    """Append every channel's first-time contacts (time-ordered per channel) to the log.

    Work and patience are drawn at arrival, from per-channel streams, so the same customer
    brings the same work and patience whatever the staffing (common random numbers).
    Returns the (first_row, count) block of each channel.
    """
    rates = channel_rates(scenario, grid)
    chunk = scenario.intervals_per_day  # draw a day at a time: bounded temporary memory
    blocks = []
    for c, (name, channel) in enumerate(scenario.channels.items()):
        seed = scenario.seed
        arrivals_rng = stream(seed, replication, SOURCE_ARRIVALS, c)
        handle_rng = stream(seed, replication, SOURCE_HANDLE, c)
        patience_rng = stream(seed, replication, SOURCE_PATIENCE, c)
        first = len(log)
        for k0 in range(0, len(grid), chunk):
            times = k0 * scenario.interval + poisson_arrivals(
                rates[name][k0:k0 + chunk], scenario.interval, scenario.horizon_s - k0 * scenario.interval,
                arrivals_rng)
            n = times.size
            work = channel.handle_time.sample(handle_rng, n)
            if channel.patience is not None:
                deadline = times + channel.patience.sample(patience_rng, n)
            else:
                deadline = np.inf
            log.extend(n, arrival=times, queued=times, deadline=deadline, work=work, channel=c,
                       origin=0, customer=np.arange(len(log), len(log) + n), reason=0, flags=0)
        blocks.append((first, len(log) - first))
    return blocks


def simulate(scenario: Scenario, replication: int) -> ReplicationRecords:
    """Run one replication to the horizon and return its records."""
    grid = interval_grid(scenario)
    channels, groups = build_specs(scenario, grid)
    log = ContactLog()
    blocks = fresh_contacts(scenario, grid, replication, log)
    env = simpy.Environment()
    centre = ContactCentre(env, channels, groups, log, scenario.horizon_s, scenario.interval)
    centre.start(blocks)
    env.run(until=scenario.horizon_s)
    centre.close()
    return ReplicationRecords(replication, log.columns(), np.array(centre.busy_seconds),
                              centre.staffed.columns(), scenario.horizon_s)
