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

from .arrivals import channel_demand, interval_lengths, poisson_arrivals, replay_counts, uniform_arrivals
from .behaviour import CustomerBehaviour
from .calendar import interval_grid, open_changes
from .contacts import ContactFactory, Streams
from .levers import PeakLevers
from .model import ChannelSpec, ContactCentre, GroupSpec
from .loops import limit_error
from .model_load import LoadAdaptiveCentre
from .records import ORIGINS, ContactLimitReached, ContactLog
from .scenario import MAX_CONTACTS_PER_REPLICATION, Scenario
from .schedule import group_timeline, proficiency_changes, timeline_average

# random sources; contacts created during the run draw from the DYNAMIC offsets of each
SOURCE_ARRIVALS, SOURCE_HANDLE, SOURCE_PATIENCE, SOURCE_REASON, SOURCE_BOT, SOURCE_AUTOMATION = range(6)
SOURCE_DISPERSION, SOURCE_SHRINKAGE, SOURCE_DECISIONS = 6, 7, 8
SOURCE_PROACTIVE, SOURCE_BALK, SOURCE_CALLBACK = 9, 10, 11  # peak levers: new streams, the others do not shift
DYNAMIC = 100


def channel_streams(seed: int, replication: int, c: int, offset: int = 0) -> Streams:
    """The streams a channel's contacts are drawn from (fresh: offset 0; created in-run: DYNAMIC)."""
    return Streams(*(stream(seed, replication, offset + source, c) for source in (
        SOURCE_REASON, SOURCE_HANDLE, SOURCE_PATIENCE, SOURCE_BOT, SOURCE_AUTOMATION)),
        proactive=stream(seed, replication, SOURCE_PROACTIVE, c) if offset == 0 else None)


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
    scheduled: np.ndarray | None = None  # groups × intervals: mean agents scheduled after shrinkage (None: unknown)
    own_skills: np.ndarray | None = None  # groups × channels, when groups help other channels (overflow)
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
        priorities = {names.index(c): p for c, p in group.skills.items()}
        overflow = []
        for c, channel in enumerate(scenario.channels.values()):
            for k, stage in enumerate(channel.overflow or []):
                if group.name in stage.groups:  # helps channel c after stage k's wait
                    priorities[c] = stage.priority
                    overflow.append((c, stage.after, k))
        levels = tuple(tuple(c for c in sorted(priorities) if priorities[c] == p) for p in sorted(set(priorities.values())))
        if not overflow:  # the group's own order (skills as written), as before
            levels = tuple(tuple(names.index(c) for c in level) for level in group.skill_levels)
        groups.append(GroupSpec(group.name, levels, group.proficiency, times, counts,
                                proficiency_changes(group, scenario), tuple(overflow)))
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
    demand = channel_demand(scenario, grid, lambda c: stream(seed, replication, SOURCE_DISPERSION, c))
    chunk = scenario.intervals_per_day
    blocks = []
    for c, name in enumerate(scenario.channels):
        arrivals_rng = stream(seed, replication, SOURCE_ARRIVALS, c)
        streams = channel_streams(seed, replication, c)
        first = len(log)
        d = demand[name]
        reason_counts = scenario.channels[name].arrivals.reason_counts
        by_reason = None if not reason_counts else _prorated_reasons(reason_counts, factory, d, scenario)
        for k0 in range(0, len(grid), chunk):
            part, left, offset = slice(k0, k0 + chunk), scenario.horizon_s - k0 * scenario.interval, k0 * scenario.interval
            reason = None
            if by_reason is not None:  # exact counts per reason, merged in time order
                parts = [uniform_arrivals(counts[part], scenario.interval, left, arrivals_rng, d.seconds[part],
                                          d.calendar, offset) for _, counts in by_reason]
                times = np.concatenate(parts)
                reason = np.repeat([r for r, _ in by_reason], [x.size for x in parts]).astype(np.int64)
                order = np.argsort(times, kind="stable")
                times, reason = times[order], reason[order]
            elif d.counts is not None:  # a replay: exactly these counts
                times = uniform_arrivals(d.counts[part], scenario.interval, left, arrivals_rng, d.seconds[part],
                                         d.calendar, offset)
            else:
                times = poisson_arrivals(d.rate[part], scenario.interval, left, arrivals_rng, d.seconds[part],
                                         d.calendar, offset)
            times = offset + times
            n = times.size
            log.extend(n, channel=c, origin=0, customer=np.arange(len(log), len(log) + n),
                       **factory.draw(c, times, streams, reason))
        blocks.append((first, len(log) - first))
    return blocks


def _prorated_reasons(reason_counts: dict, factory: ContactFactory, d, scenario: Scenario) -> list:
    """(reason index, counts per interval) of a replay by reason, each prorated by open share as
    the channel's `counts` are (whole open intervals keep their counts exactly)."""
    lengths = interval_lengths(len(d.seconds), scenario.interval, scenario.horizon_s)
    return [(factory.reasons.index(r), replay_counts(np.asarray(v, dtype=float), d.seconds, lengths))
            for r, v in reason_counts.items()]


def uses_levers(scenario: Scenario) -> bool:
    """Whether any in-run lever is set (priority, callback, balking, overflow): else nothing is installed."""
    in_channels = any(ch.callback or ch.balking or ch.overflow for ch in scenario.channels.values())
    return in_channels or any(r.priority is not None for r in (scenario.reasons or {}).values())


def needs_wide_flags(scenario: Scenario) -> bool:
    """16-bit flags (sim/contacts.py): for callbacks, and for the journey marks REOPENED and RETURN_LATE
    when customers may come back (reopens, redials, bot bounces); else 8 bits, a byte a contact less."""
    channels = scenario.channels.values()
    comes_back = (any(r.fcr < 1 for r in (scenario.reasons or {}).values())
                  or any(ch.behaviour is not None and ch.behaviour.redial is not None for ch in channels)
                  or any(ch.bot is not None and ch.bot.false_containment > 0 for ch in channels))
    return comes_back or any(ch.callback is not None for ch in channels)


def simulate(scenario: Scenario, replication: int, columns: tuple[str, ...] | None = None) -> ReplicationRecords:
    """Run one replication to the horizon and return its records.

    `columns`: the contact columns to return (default: all); the others are freed at once,
    which lowers the peak memory of what follows (the KPI reduction needs 42 of 72 bytes a contact).
    """
    grid = interval_grid(scenario)
    channels, groups = build_specs(scenario, grid, replication)
    log = ContactLog(wide_flags=needs_wide_flags(scenario))
    log.limit = MAX_CONTACTS_PER_REPLICATION  # every contact, fresh or created in the run, counts
    factory = ContactFactory(scenario, grid)
    try:
        blocks = fresh_contacts(scenario, grid, replication, log, factory)
    except ContactLimitReached as exc:
        raise limit_error(scenario, replication, exc.limit, [len(log)]) from None
    env = simpy.Environment()
    steps = [None if ch.handle_time_by_queue is None
             else (tuple(ch.handle_time_by_queue.waiting), tuple(ch.handle_time_by_queue.multiplier))
             for ch in scenario.channels.values()]
    if any(s is not None for s in steps):  # load-adaptive handle time: a subclass, the base stays as fast
        centre = LoadAdaptiveCentre(env, channels, groups, log, scenario.horizon_s, scenario.interval, steps=steps)
    else:
        centre = ContactCentre(env, channels, groups, log, scenario.horizon_s, scenario.interval)
    n_channels = len(scenario.channels)
    behaviour = CustomerBehaviour(
        scenario, factory, centre,
        [channel_streams(scenario.seed, replication, c, DYNAMIC) for c in range(n_channels)],
        [stream(scenario.seed, replication, SOURCE_DECISIONS, c) for c in range(n_channels)])
    if uses_levers(scenario):
        PeakLevers(scenario, factory, centre,
                   [stream(scenario.seed, replication, SOURCE_BALK, c) for c in range(n_channels)],
                   [stream(scenario.seed, replication, SOURCE_CALLBACK, c) for c in range(n_channels)])
    centre.start(blocks)
    try:
        centre.run(scenario.horizon_s)
    except ContactLimitReached as exc:  # a loop of in-run contacts: name it, do not run out of memory
        origins = np.bincount(np.frombuffer(log.origin, dtype=np.int8).astype(np.int64), minlength=len(ORIGINS))
        raise limit_error(scenario, replication, exc.limit, origins) from None
    centre.close()
    contacts = log.columns() if columns is None else log.take(columns)
    edges = np.minimum(np.arange(scenario.n_intervals + 1) * scenario.interval, scenario.horizon_s)
    scheduled = np.array([timeline_average(g.times, g.counts, edges) for g in groups]).reshape(len(groups), -1)
    return ReplicationRecords(replication, contacts, np.array(centre.busy_seconds),
                              centre.staffed.columns(), scenario.horizon_s, scheduled, own_skills(scenario),
                              behaviour.capped)


def own_skills(scenario: Scenario) -> np.ndarray | None:
    """groups × channels: whether the group has the channel as a skill; None if no channel overflows."""
    if not any(ch.overflow for ch in scenario.channels.values()):
        return None
    return np.array([[name in group.skills for name in scenario.channels] for group in scenario.agents])
