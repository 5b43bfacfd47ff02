"""Verification and repair: re-simulate the ISA staffing and add agents where an interval misses its target."""

from __future__ import annotations

import math

import numpy as np

from .backlog import days_beyond, in_reach, open_seconds
from .scenario import Scenario
from .staffing_headcount import DEFAULT_MAX_AGENTS, check_max_agents, on_shift, shrinkage_per_interval
from .staffing_isa import IsaResult
from .staffing_measure import histograms, measure, pooled_service
from .staffing_rules import ChannelQueue, channel_queues, within_probability


def calibrated_step(hist_row: np.ndarray, q: ChannelQueue, measured: float, wanted: float) -> int:
    """Slots to add so the per-state rule's service level rises from `measured` to `wanted` (at least 1).

    The rule's level at s slots is read off the arrivals' number-in-system distribution; the
    staffing "as the rule sees it" is the most slots at which it predicts no more than measured.
    """
    total = hist_row.sum()
    if total == 0:
        return 1
    n = np.nonzero(hist_row)[0]
    w = hist_row[n] / total
    level = [float(np.dot(w, within_probability(n, s, q))) for s in range(int(n.max()) + 2)]
    seen = max([s for s, v in enumerate(level) if v <= measured + 1e-12], default=0)
    need = next((s for s, v in enumerate(level) if v >= wanted - 1e-12), len(level))
    return max(1, need - seen)


def repair_staffing(scenario: Scenario, isa: IsaResult, replications: int, rounds: int = 6, jobs: int = 1,
                    scheduler=None, max_agents: int = DEFAULT_MAX_AGENTS, progress=None) -> IsaResult:
    """Re-simulate the ISA staffing and add agents where an interval in reach misses its target.

    A pragmatic extension of the ISA, not part of the paper: the per-state and backlog rules are
    approximations (exponential patience, no pooling credit, no feedback of the staffing on the
    behaviour), so each round simulates the staffing with the fitting seeds, takes every
    (channel, interval) in reach whose service level is below its target plus one standard
    error (at most 0.05), and adds capacity for that channel to its primary groups:
    sync channels the slots the per-state rule says separate the measured service level from the
    target, both read off the same number-in-system distribution (so the rule's bias, e.g. from
    random shrinkage or non-exponential patience, cancels), at least one agent, and one agent in
    the interval before when it is more than 0.15 short (the backlog came from there); async
    channels the work of the missing
    contacts, spread as a rate over the open time between the interval and its deadline. Agents
    are only added, so the rounds end when nothing is short or after `rounds` rounds.
    """
    reach = in_reach(scenario)
    opened = open_seconds(scenario, days_beyond(scenario))
    n, width = scenario.n_intervals, scenario.interval
    queues = channel_queues(scenario, isa.shares)
    shrinkage = shrinkage_per_interval(scenario)
    available = np.floor(isa.headcount * (1.0 - shrinkage) + 0.5)
    extra = np.zeros((len(queues), n))  # channel agents added
    headcount = isa.headcount.copy()
    log = []
    for round_ in range(1, rounds + 1):
        results = measure(scenario, headcount, replications, jobs, scheduler, progress, f"repair round {round_}")
        within, left = sum(r.within for r in results), sum(r.left for r in results)
        hists = histograms(results, len(queues), n)
        add = np.zeros_like(extra)
        short_cells = 0
        for c, (q, ch) in enumerate(zip(queues, scenario.channels.values())):
            with np.errstate(invalid="ignore", divide="ignore"):
                sl = within[c] / left[c]
                margin = np.minimum(0.05, np.sqrt(q.target * (1 - q.target) / left[c]))
            short = reach[q.name] & (left[c] > 0) & (sl < q.target + margin)
            short_cells += int(short.sum())
            for k in np.flatnonzero(short):
                gap = q.target + margin[k] - sl[k]
                if ch.kind == "sync":
                    add[c, k] += math.ceil(calibrated_step(hists[c][k], q.at(k), sl[k], q.target + margin[k])
                                           / q.concurrency)
                    if gap > 0.15 and k > 0 and opened[q.name][k - 1] > 0:
                        add[c, k - 1] += 1
                    continue
                missing = gap * left[c, k] / replications  # contacts per replication
                end = int(math.ceil(((k + q.target) * width + q.threshold_s) / width))
                window = np.zeros(n)
                window[k:min(end, n)] = opened[q.name][k:min(end, n)]
                if window.sum() > 0:
                    add[c] += missing * q.at(k).slot_hold_s / window.sum() * (window > 0) / q.concurrency
        log.append({"round": round_, "short_intervals": short_cells,
                    "agent_hours": float(headcount.sum() * width / 3600),
                    "service_level": pooled_service(scenario, results)})
        if not short_cells:
            break
        extra += add
        need = np.ceil(available + isa.shares @ extra - 1e-9).astype(int)
        proposal = on_shift(need, shrinkage)
        check_max_agents(scenario, proposal, max_agents, "simulation staffing (repair)")
        headcount = np.maximum(headcount, proposal)
    return IsaResult(headcount, isa.channel_agents + np.ceil(extra - 1e-9).astype(int), isa.shares, isa.history,
                     isa.converged, log)
