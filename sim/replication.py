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

from .arrivals import channel_rates, poisson_arrivals, uniform_arrivals
from .behaviour import CustomerBehaviour
from .calendar import interval_grid, open_changes
from .contacts import ContactFactory, Streams
from .model import ChannelSpec, ContactCentre, GroupSpec
from .loops import limit_error
from .records import ContactLimitReached, ContactLog
from .scenario import MAX_CONTACTS_PER_REPLICATION, Scenario
from .schedule import group_timeline, proficiency_changes

# random sources; contacts created during the run draw from the DYNAMIC offsets of each
SOURCE_ARRIVALS, SOURCE_HANDLE, SOURCE_PATIENCE, SOURCE_REASON, SOURCE_BOT, SOURCE_AUTOMATION = range(6)
SOURCE_DISPERSION, SOURCE_SHRINKAGE, SOURCE_DECISIONS = 6, 7, 8
DYNAMIC = 100


def channel_streams(seed: int, replication: int, c: int, offset: int = 0) -> Streams:
    """The streams a channel's contacts are drawn from (fresh: offset 0; created in-run: DYNAMIC)."""
    return Streams(*(stream(seed, replication, offset + source, c) for source in (
        SOURCE_REASON, SOURCE_HANDLE, SOURCE_PATIENCE, SOURCE_BOT, SOURCE_AUTOMATION)))


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
    capped: int = 0  # contacts not created because their customer had reached the per-customer cap


def build_specs(scenario: Scenario, grid: pd.DataFrame, replication: int | None = None
                ) -> tuple[list[ChannelSpec], list[GroupSpec]]:
    """The model's view of channels and groups (random shrinkage needs the replication)."""
    names = list(scenario.channels)
    channels = [
        ChannelSpec(name, ch.concurrency, tuple(ch.handle_factors()), open_changes(ch.open, scenario))
        for name, ch in scenario.channels.items()
    ]
    groups = []
    for group in scenario.agents:
        g = len(groups)
        rng = None if replication is None else stream(scenario.seed, replication, SOURCE_SHRINKAGE, g)
        times, counts = group_timeline(group, scenario, grid, rng)
        levels = tuple(tuple(names.index(c) for c in level) for level in group.skill_levels)
        groups.append(GroupSpec(group.name, levels, group.proficiency, times, counts,
                                proficiency_changes(group, scenario)))
    return channels, groups


def fresh_contacts(scenario: Scenario, grid: pd.DataFrame, replication: int, log: ContactLog,
                   factory: ContactFactory) -> list[tuple[int, int]]:
    """Append every channel's first-time contacts (time-ordered per channel) to the log.

    Everything a contact brings (reason, work, patience, bot and automation path) is drawn at
    arrival from per-channel streams, so the same customers come at every staffing level
    (common random numbers). Drawn a day at a time to bound temporary memory.
    Returns the (first_row, count) block of each channel.
    """
    seed = scenario.seed
    rates = channel_rates(scenario, grid, lambda c: stream(seed, replication, SOURCE_DISPERSION, c))
    chunk = scenario.intervals_per_day
    blocks = []
    for c, name in enumerate(scenario.channels):
        arrivals_rng = stream(seed, replication, SOURCE_ARRIVALS, c)
        streams = channel_streams(seed, replication, c)
        first = len(log)
        replay = scenario.channels[name].arrivals.counts is not None
        for k0 in range(0, len(grid), chunk):
            rate, left = rates[name][k0:k0 + chunk], scenario.horizon_s - k0 * scenario.interval
            if replay:  # exact counts (the rate is count ÷ interval length, so this recovers them)
                times = uniform_arrivals(np.rint(rate * scenario.interval / 3600.0), scenario.interval, left, arrivals_rng)
            else:
                times = poisson_arrivals(rate, scenario.interval, left, arrivals_rng)
            times = k0 * scenario.interval + times
            n = times.size
            log.extend(n, channel=c, origin=0, customer=np.arange(len(log), len(log) + n),
                       **factory.draw(c, times, streams))
        blocks.append((first, len(log) - first))
    return blocks


def simulate(scenario: Scenario, replication: int, columns: tuple[str, ...] | None = None) -> ReplicationRecords:
    """Run one replication to the horizon and return its records.

    `columns`: the contact columns to return (default: all); the others are freed at once,
    which lowers the peak memory of what follows (the KPI reduction needs 42 of 72 bytes a contact).
    """
    grid = interval_grid(scenario)
    channels, groups = build_specs(scenario, grid, replication)
    log = ContactLog()
    log.limit = MAX_CONTACTS_PER_REPLICATION  # every contact, fresh or created in the run, counts
    factory = ContactFactory(scenario, grid)
    try:
        blocks = fresh_contacts(scenario, grid, replication, log, factory)
    except ContactLimitReached as exc:
        raise limit_error(scenario, replication, exc.limit, [len(log)]) from None
    env = simpy.Environment()
    centre = ContactCentre(env, channels, groups, log, scenario.horizon_s, scenario.interval)
    n_channels = len(scenario.channels)
    behaviour = CustomerBehaviour(
        scenario, factory, centre,
        [channel_streams(scenario.seed, replication, c, DYNAMIC) for c in range(n_channels)],
        [stream(scenario.seed, replication, SOURCE_DECISIONS, c) for c in range(n_channels)])
    centre.start(blocks)
    try:
        env.run(until=scenario.horizon_s)
    except ContactLimitReached as exc:  # a loop of in-run contacts: name it, do not run out of memory
        origins = np.bincount(np.frombuffer(log.origin, dtype=np.int8).astype(np.int64), minlength=5)
        raise limit_error(scenario, replication, exc.limit, origins) from None
    centre.close()
    contacts = log.columns() if columns is None else log.take(columns)
    return ReplicationRecords(replication, contacts, np.array(centre.busy_seconds),
                              centre.staffed.columns(), scenario.horizon_s, behaviour.capped)
