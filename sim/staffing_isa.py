"""The iterative staffing algorithm (Feldman, Mandelbaum, Massey & Whitt 2008) over channels and groups."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .arrivals import channel_rates
from .backlog import days_beyond, deadline_slots, open_seconds
from .calendar import interval_grid
from .scenario import Scenario
from .staffing_headcount import DEFAULT_MAX_AGENTS, check_max_agents, group_headcount, skill_shares
from .staffing_measure import SeenByArrivals, histograms, measure, pooled_service
from .staffing_rules import ChannelQueue, Targets, channel_queues, slots_needed

SETTLED = 0.01  # the ISA has settled when two iterations in a row move less than this share of agent-hours


@dataclass
class IsaResult:
    headcount: np.ndarray  # groups × intervals, on shift
    channel_agents: np.ndarray  # channels × intervals, available
    shares: np.ndarray
    history: list[dict]
    converged: bool
    repair: list[dict] = field(default_factory=list)


def initial_channel_agents(scenario: Scenario, queues: list[ChannelQueue]) -> np.ndarray:
    """So many agents that (almost) nobody waits: load + 6√load + 6 slots, over the interval and the one before."""
    rates = channel_rates(scenario, interval_grid(scenario))
    opened = open_seconds(scenario)
    out = []
    for q in queues:
        load = rates[q.name] / 3600.0 * q.hold()
        load = np.maximum(load, np.r_[0.0, load[:-1]])
        out.append(np.where(opened[q.name] > 0, np.ceil((load + 6 * np.sqrt(load) + 6) / q.concurrency), 0))
    return np.array(out, dtype=int)


def channel_slots(scenario: Scenario, results: list[SeenByArrivals], queues: list[ChannelQueue],
                  targets: Targets) -> np.ndarray:
    """channels × intervals slots the rules ask for, given what one iteration's arrivals saw.

    Sync channels: the per-state rule, and nothing while the channel is closed. Async channels:
    the larger of the per-state rule and the backlog rule (sim/backlog.py), fed with the
    contacts that entered the queue in the simulation (chasers, reopens and redials included).
    """
    n = scenario.n_intervals
    opened = open_seconds(scenario, days_beyond(scenario))
    hists = histograms(results, len(queues), n)
    queued = sum(r.queued for r in results) / len(results)
    out = np.zeros((len(queues), n))
    for c, (h, q, ch) in enumerate(zip(hists, queues, scenario.channels.values())):
        is_open = opened[q.name][:n] > 0
        per_state = np.array([slots_needed(h[k], q.at(k), targets) if is_open[k] else 0 for k in range(n)],
                             dtype=float)
        if ch.kind == "async":  # work in base-handle-time contacts, so a handle-time profile counts
            work = queued[c] * (1.0 if q.hold_profile is None else q.hold_profile[:n])
            per_state = deadline_slots(work, q.slot_hold_s, opened[q.name], scenario.interval, q.threshold_s,
                                       q.target, floor=per_state)
        out[c] = per_state
    return out


def iterative_staffing(scenario: Scenario, replications: int, targets: Targets = Targets(), jobs: int = 1,
                       scheduler=None, max_iterations: int = 12, max_agents: int = DEFAULT_MAX_AGENTS,
                       progress=None) -> IsaResult:
    """Feldman–Mandelbaum–Massey–Whitt ISA adapted to channels, groups, concurrency and caps (sim/staffing.py).

    Each iteration maps the current staffing s to the ISA's proposal T(s). A cell (group,
    interval) moves all the way to T(s), as in the paper, until its proposal changes direction;
    from then on it moves half as far each time it flips again (under-relaxation). Without
    abandonment an understaffed interval builds a queue that inflates the next proposal, and the
    plain iteration can cycle between two staffings; the damping settles it on the larger one.
    The iteration stops when the staffing no longer changes, or when for two iterations in a
    row the agent-hours moved by less than 1% (customer behaviour and blended groups keep such
    a staffing creeping by an agent here and there: a chat agent who picked up an email cannot
    take a chat until it is done, so more chat agents also answer more email); otherwise after
    `max_iterations`. The verification-and-repair rounds take it from there.
    """
    shares = skill_shares(scenario)
    queues = channel_queues(scenario, shares)
    channel_agents = initial_channel_agents(scenario, queues)
    staffing = group_headcount(scenario, channel_agents, shares)
    omega = np.ones(staffing.shape)
    previous = np.zeros(staffing.shape)
    history = []
    converged, small_steps = False, 0
    for it in range(1, max_iterations + 1):
        results = measure(scenario, staffing, replications, jobs, scheduler, progress, f"staffing iteration {it}")
        shares = skill_shares(scenario, sum(r.answered for r in results))
        queues = channel_queues(scenario, shares)
        slots = channel_slots(scenario, results, queues, targets)
        channel_agents = np.ceil(slots / np.array([[q.concurrency] for q in queues]) - 1e-9).astype(int)
        proposal = group_headcount(scenario, channel_agents, shares)
        check_max_agents(scenario, proposal, max_agents, "simulation staffing")
        step = proposal - staffing
        omega[step * previous < 0] *= 0.5
        previous = np.where(step != 0, step, previous)
        moved = np.ceil(staffing + omega * step - 1e-9).astype(int)
        hours = scenario.interval / 3600
        history.append({
            "iteration": it, "agent_hours": float(staffing.sum() * hours),
            "max_proposed_change_agents": int(np.abs(step).max()),
            "max_change_agents": int(np.abs(moved - staffing).max()),
            "service_level": pooled_service(scenario, results),
            "required_agent_hours": {q.name: float(channel_agents[c].sum() * hours) for c, q in enumerate(queues)},
            "group_agent_hours": {g.name: float(staffing[i].sum() * hours) for i, g in enumerate(scenario.agents)},
        })
        if np.array_equal(moved, staffing):
            converged = True
            break
        small_steps = small_steps + 1 if np.abs(moved - staffing).sum() <= SETTLED * staffing.sum() else 0
        staffing = moved
        if small_steps >= 2:
            break
    return IsaResult(staffing, channel_agents, shares, history, converged)
