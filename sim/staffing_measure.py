"""What arrivals see: the ISA's measurement of a staffing by simulation (runs inside workers)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .executors import run_tasks
from .replication import simulate
from .scenario import Scenario
from .staffing_headcount import with_headcount


@dataclass
class SeenByArrivals:
    """One replication's (interval, number-in-system) counts per channel and who answered what."""

    replication: int
    triples: list[np.ndarray]  # per channel: array (m, 3) of interval, n in system, count
    answered: np.ndarray  # groups × channels answered contacts
    queued: np.ndarray  # channels × intervals: contacts entering the queue (by queue-entry interval)
    within: np.ndarray  # channels × intervals: answered within the threshold (by arrival interval)
    left: np.ndarray  # channels × intervals: answered, abandoned or still waiting past the threshold at the
    #                   horizon (by arrival interval): the SL denominator, as in the KPIs


def seen_by_arrivals(scenario: Scenario, replication: int) -> SeenByArrivals:
    """Simulate one replication; count the contacts of the same channel in the system at each queue entry."""
    rec = simulate(scenario, replication)
    c = rec.contacts
    offered = ~np.isnan(c["queued"])
    answered = ~np.isnan(c["answered"])
    abandoned = offered & ~answered & (c["deadline"] <= rec.horizon_s)
    left = np.where(answered, c["end"], np.where(abandoned, c["deadline"], np.inf))
    left = np.where(np.isnan(left), np.inf, left)  # answered but still in service at the horizon
    n_int = scenario.n_intervals
    interval = np.minimum((c["arrival"] // scenario.interval).astype(np.int64), n_int - 1)
    triples = []
    for ch in range(len(scenario.channels)):
        mine = offered & (c["channel"] == ch)
        queued, gone = c["queued"][mine], left[mine]
        in_system = (np.searchsorted(np.sort(queued), queued, side="left")
                     - np.searchsorted(np.sort(gone), queued, side="right"))
        width = int(in_system.max(initial=0)) + 1
        keys, counts = np.unique(interval[mine] * width + in_system, return_counts=True)
        triples.append(np.column_stack([keys // width, keys % width, counts]).astype(np.int64))
    groups, n_ch = len(scenario.agents), len(scenario.channels)
    by = np.zeros((groups, n_ch), dtype=np.int64)
    np.add.at(by, (c["group"][answered].astype(np.int64), c["channel"][answered].astype(np.int64)), 1)
    channel = c["channel"].astype(np.int64)
    entered = offered & (c["queued"] <= rec.horizon_s)
    q_int = np.minimum((c["queued"][entered] // scenario.interval).astype(np.int64), n_int - 1)
    queued = np.bincount(channel[entered] * n_int + q_int, minlength=n_ch * n_int).reshape(n_ch, n_int)
    thresholds = np.array([ch.service_level.threshold for ch in scenario.channels.values()])
    in_time = answered & (c["answered"] - c["queued"] <= thresholds[channel])
    key = channel * n_int + interval
    within = np.bincount(key[in_time], minlength=n_ch * n_int).reshape(n_ch, n_int)
    # as in the KPIs (sim/metrics.py): still waiting at the horizon past the threshold is a miss
    late = entered & ~answered & ~abandoned & (rec.horizon_s - c["queued"] > thresholds[channel])
    left_n = np.bincount(key[answered | abandoned | late], minlength=n_ch * n_int).reshape(n_ch, n_int)
    return SeenByArrivals(replication, triples, by, queued, within, left_n)


def histograms(results: list[SeenByArrivals], n_channels: int, n_intervals: int) -> list[np.ndarray]:
    """Per channel: counts[interval, n] of arrivals that found n contacts in the system."""
    out = []
    for ch in range(n_channels):
        rows = np.concatenate([r.triples[ch] for r in results]) if results else np.zeros((0, 3), int)
        width = int(rows[:, 1].max(initial=0)) + 1
        hist = np.zeros((n_intervals, width))
        np.add.at(hist, (rows[:, 0], rows[:, 1]), rows[:, 2])
        out.append(hist)
    return out


def measure(scenario: Scenario, headcount: np.ndarray, replications: int, jobs: int, scheduler, progress,
            label: str) -> list[SeenByArrivals]:
    """Simulate the staffing with the fitting seeds (common random numbers at every step)."""
    staffed = with_headcount(scenario, headcount)
    results: list[SeenByArrivals | None] = [None] * replications
    for done, (k, res) in enumerate(run_tasks(seen_by_arrivals, [(staffed, r) for r in range(replications)],
                                              jobs, scheduler), start=1):
        results[k] = res
        if progress:
            progress(label, done, replications)
    return results


def pooled_service(scenario: Scenario, results: list[SeenByArrivals]) -> dict[str, float]:
    """Per channel: share of the horizon's answered-or-abandoned contacts answered within the threshold."""
    within, left = sum(r.within for r in results), sum(r.left for r in results)
    return {name: round(float(within[c].sum() / max(left[c].sum(), 1)), 4) for c, name in enumerate(scenario.channels)}
