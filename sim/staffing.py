"""Per-interval staffing: the fewest agents per group so every channel meets its target in every interval.

Three answers, side by side:

* **Simulation (ISA)**, the iterative staffing algorithm of Feldman, Mandelbaum, Massey & Whitt
  (2008, Management Science 54(2)). Start with so many agents that nobody waits (the
  infinite-server system). Simulate many replications and record, for every contact that
  enters a queue, the number of contacts of its channel already in the system (waiting or in
  service): by PASTA that is the distribution an arrival in interval k sees, *with* the
  carry-over from earlier intervals, abandonment and the scenario's real handle-time and
  patience distributions. Set each interval's staffing to the smallest s whose target is met
  under that distribution, simulate again with the new staffing, and repeat until the staffing
  stops changing. With a threshold of 0 the rule is exactly the paper's
  s_k = min{s : P(L_k ≥ s) ≤ α}; for a threshold T > 0 an arrival that finds n ≥ s in the
  system waits for n − s + 1 departures, whose waiting time (and abandonment) we take from the
  Erlang A per-state formulas (service rate sμ, abandonment rate (j)θ, θ = 1/mean patience), and
  the interval's service level is the average of P(answered within T | n) over the arrivals.
  Replications reuse the same seeds at every iteration (common random numbers), so the
  iteration is a deterministic map and converges rather than flickering with noise. Closed
  intervals get no requirement; async channels also get the backlog rule of sim/backlog.py
  (contacts answered by their deadline through a fluid FIFO queue over the opening hours),
  because the per-state rule ignores that a 24-hour threshold spans a closed night.
* **Verification and repair** (peaksim's pragmatic extension, not part of the paper): the ISA
  staffing is simulated again with the same seeds, and every (channel, interval) in reach that
  misses its target gets capacity added to the groups that serve it first, for a few rounds.
* **Erlang C** and **Erlang A** per interval (SIPP: each interval treated as a steady state at its
  own arrival rate while the channel is open; none while it is closed): the classical WFM
  baselines, blind to carry-over between intervals.

Adaptations (documented in the README, "Staffing"):
* Concurrency: the queue is counted in contact *slots*; a slot's mean holding time is the
  channel's mean handle time × the group proficiency × the channel's factor at full
  concurrency, and a channel needing s slots needs ⌈s / concurrency⌉ agents.
* Multi-skill: each channel's requirement is split over its primary groups (those serving it
  at the best priority any group gives it) in proportion to the contacts each answered in the
  latest iteration, and a group needs the sum of its shares (rounded up). Exact for
  single-skill groups; conservative (no pooling credit) for groups that serve several channels.
* Caps: `max_abandon` (per-arrival abandonment probability from the same per-state formula)
  and `max_occupancy` (E[min(L, s)] / s, busy slots ÷ slots) must also hold.
* Shrinkage: requirements are agents *available*; headcounts written out are agents on shift,
  the smallest h with round(h·(1 − shrinkage)) ≥ requirement, as the scenario counts them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy.special import betainc, gammainc

from . import __version__
from .arrivals import channel_rates
from .backlog import days_beyond, deadline_slots, in_reach, open_seconds
from .calendar import daily_profile, interval_grid, iso, multipliers
from .checks import scenario_warnings
from .erlang import erlang_a_agents, erlang_c_agents
from .errors import PeaksimError
from .executors import run_tasks
from .outcome_targets import OutcomeTargets, staffing_queue_targets
from .replication import simulate
from .runner import run_scenario
from .schedule import scheduled_per_interval
from .scenario import Scenario, scenario_hash
from .sweep import scenario_data

METHODS = ("sim", "erlang_c", "erlang_a")
DEFAULT_MAX_AGENTS = 5000
DEFAULT_REPAIR_ROUNDS = 6
MIN_REPLICATIONS = 2  # the default for a scenario that asks for one replication
SETTLED = 0.01  # the ISA has settled when two iterations in a row move less than this share of agent-hours


@dataclass(frozen=True)
class Targets:
    """Optional caps on top of each channel's service-level target (`channel_max_abandon`: per channel,
    from a minimum FCR, see sim/outcome_targets.py)."""

    max_abandon: float | None = None
    max_occupancy: float | None = None
    channel_max_abandon: dict = field(default_factory=dict)

    def abandon_cap(self, channel: str) -> float | None:
        caps = [c for c in (self.max_abandon, self.channel_max_abandon.get(channel)) if c is not None]
        return min(caps) if caps else None

    def __post_init__(self):
        if self.max_abandon is not None and not 0 < self.max_abandon < 1:
            raise PeaksimError(f"--max-abandon must be a share between 0 and 1, e.g. 0.05 (got {self.max_abandon})")
        if self.max_occupancy is not None and not 0 < self.max_occupancy <= 1:
            raise PeaksimError(f"--max-occupancy must be a share in (0, 1], e.g. 0.85 (got {self.max_occupancy})")


@dataclass(frozen=True)
class ChannelQueue:
    """What the staffing rules need to know about one channel's queue, in slots."""

    name: str
    concurrency: int
    slot_hold_s: float
    theta: float  # abandonment rate per waiting contact (1 / mean patience), 0 without patience
    threshold_s: float
    target: float
    hold_profile: np.ndarray | None = None  # per interval: handle-time multiplier (None: 1 everywhere)

    def at(self, k: int) -> "ChannelQueue":
        """The queue as it is in interval k (its handle-time multiplier applied)."""
        if self.hold_profile is None:
            return self
        return replace(self, slot_hold_s=self.slot_hold_s * float(self.hold_profile[k]), hold_profile=None)

    def hold(self) -> np.ndarray | float:
        """Slot holding time per interval (a scalar when it does not vary)."""
        return self.slot_hold_s if self.hold_profile is None else self.slot_hold_s * self.hold_profile


def channel_queues(scenario: Scenario, shares: np.ndarray) -> list[ChannelQueue]:
    """Per channel: slot holding time (weighted by the serving groups' proficiency, and by interval
    when the channel has a handle-time profile), patience rate, target."""
    out = []
    grid = None
    for c, (name, ch) in enumerate(scenario.channels.items()):
        proficiency = float(sum(shares[g, c] * grp.proficiency for g, grp in enumerate(scenario.agents)))
        hold = ch.handle_time.mean_s * (proficiency or 1.0) * ch.handle_factors()[-1]
        theta = 0.0 if ch.patience is None else 1.0 / ch.patience.mean_s
        profile = None
        if ch.handle_time_profile is not None:
            grid = interval_grid(scenario) if grid is None else grid
            profile = multipliers(ch.handle_time_profile, grid)
        out.append(ChannelQueue(name, ch.concurrency, hold, theta, ch.service_level.threshold,
                                ch.service_level.target, profile))
    return out


# --- what arrivals see: the ISA's measurement (runs inside workers) -------------------------
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


# --- the per-state rules ----------------------------------------------------------------------
def within_probability(n: np.ndarray, s: int, q: ChannelQueue) -> np.ndarray:
    """P(answered within the threshold | the arrival finds n in the system, s slots)."""
    n = np.asarray(n, dtype=float)
    out = np.ones_like(n)
    waits = n >= s
    if not waits.any():
        return out
    k = n[waits] - s
    rate = s / q.slot_hold_s
    if s == 0:
        out[waits] = 0.0
    elif q.theta == 0.0:
        out[waits] = gammainc(k + 1, rate * q.threshold_s) if q.threshold_s > 0 else 0.0
    else:
        served = rate / (rate + (k + 1) * q.theta)
        x = -math.expm1(-q.theta * q.threshold_s)
        out[waits] = served * (betainc(k + 1, rate / q.theta + 1, x) if q.threshold_s > 0 else 0.0)
    return out


def abandon_probability(n: np.ndarray, s: int, q: ChannelQueue) -> np.ndarray:
    n = np.asarray(n, dtype=float)
    k = np.maximum(n - s, -1.0)
    if q.theta == 0.0:
        return np.zeros_like(n)
    rate = s / q.slot_hold_s
    return np.where(n >= s, (k + 1) * q.theta / (rate + (k + 1) * q.theta), 0.0)


def slots_needed(hist_row: np.ndarray, q: ChannelQueue, targets: Targets) -> int:
    """Smallest s meeting the SL target (and caps) under the number-in-system distribution `hist_row`."""
    total = hist_row.sum()
    if total == 0:
        return 0
    n = np.nonzero(hist_row)[0]
    w = hist_row[n] / total

    def meets(s: int) -> bool:
        if float(np.dot(w, within_probability(n, s, q))) < q.target - 1e-12:
            return False
        cap = targets.abandon_cap(q.name)
        if cap is not None and float(np.dot(w, abandon_probability(n, s, q))) > cap:
            return False
        if targets.max_occupancy is not None and s > 0 and float(np.dot(w, np.minimum(n, s))) / s > targets.max_occupancy:
            return False
        return s > 0

    lo, hi = 0, int(n.max()) + 1  # with n.max()+1 slots nobody waited
    while not meets(hi):
        hi *= 2  # only the occupancy cap can need more slots than were ever in the system
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if meets(mid) else (mid, hi)
    return hi


# --- from channel slots to group headcounts ----------------------------------------------------
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


def _check_max(scenario: Scenario, headcount: np.ndarray, max_agents: int, method: str) -> None:
    over = np.argwhere(headcount > max_agents)
    if over.size:
        g, k = over[0]
        start = iso(interval_grid(scenario)["interval_start"])[k]
        raise PeaksimError(
            f"{method}: group {scenario.agents[g].name!r} would need {int(headcount[g, k])} agents at {start}, "
            f"above --max-agents {max_agents}; the target cannot be met there: raise --max-agents, "
            "lower the channel's target, or reduce its load")


# --- the baselines -------------------------------------------------------------------------------
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


# --- the iterative staffing algorithm -----------------------------------------------------------
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
    """Feldman–Mandelbaum–Massey–Whitt ISA adapted to channels, groups, concurrency and caps (module doc).

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
        _check_max(scenario, proposal, max_agents, "simulation staffing")
        step = proposal - staffing
        omega[step * previous < 0] *= 0.5
        previous = np.where(step != 0, step, previous)
        moved = np.ceil(staffing + omega * step - 1e-9).astype(int)
        hours = scenario.interval / 3600
        history.append({
            "iteration": it, "agent_hours": float(staffing.sum() * hours),
            "max_proposed_change_agents": int(np.abs(step).max()),
            "max_change_agents": int(np.abs(moved - staffing).max()),
            "service_level": _pooled_service(scenario, results),
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


def _pooled_service(scenario: Scenario, results: list[SeenByArrivals]) -> dict[str, float]:
    """Per channel: share of the horizon's answered-or-abandoned contacts answered within the threshold."""
    within, left = sum(r.within for r in results), sum(r.left for r in results)
    return {name: round(float(within[c].sum() / max(left[c].sum(), 1)), 4) for c, name in enumerate(scenario.channels)}


# --- verification and repair ---------------------------------------------------------------------
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
                    "service_level": _pooled_service(scenario, results)})
        if not short_cells:
            break
        extra += add
        need = np.ceil(available + isa.shares @ extra - 1e-9).astype(int)
        proposal = on_shift(need, shrinkage)
        _check_max(scenario, proposal, max_agents, "simulation staffing (repair)")
        headcount = np.maximum(headcount, proposal)
    return IsaResult(headcount, isa.channel_agents + np.ceil(extra - 1e-9).astype(int), isa.shares, isa.history,
                     isa.converged, log)


# --- checking each method's staffing with fresh seeds -------------------------------------------
def check_seed(seed: int) -> int:
    """A root seed independent of `seed`, for re-simulating a staffing on customers it was not fitted to."""
    return int(np.random.SeedSequence([seed, 0x5EED]).generate_state(1, dtype=np.uint64)[0] >> 1)


OUTCOME_COLUMNS = [c for k in ("issues", "fcr", "csat", "resolution_time_p90_s", "unresolved_share")
                   for c in (k, f"{k}_lo", f"{k}_hi")]


def achieved_service(scenario: Scenario, plans: dict[str, np.ndarray], replications: int, seed: int,
                     jobs: int = 1, scheduler=None, progress=None, outcomes: list | None = None) -> pd.DataFrame:
    """Per method, interval and channel: the service level (95% CI) when the plan is re-simulated.

    `outcomes`, when a list, receives per method the customer outcomes of the same runs: a frame per
    interval of issue creation and channel, and the per-channel summary (FCR, CSAT, resolution p90)."""
    frames = []
    for method, headcount in plans.items():
        staffed = with_headcount(scenario, headcount).model_copy(update={"seed": seed})
        result = run_scenario(staffed, replications, jobs, scheduler,
                              progress=(lambda d, t, m=method: progress(f"checking {m}", d, t)) if progress else None)
        iv = result.intervals
        if outcomes is not None:
            outcomes.append((method, iv[["interval_start", "channel", *OUTCOME_COLUMNS]].assign(method=method),
                             result.summary))
        frames.append(pd.DataFrame({
            "interval_start": iv["interval_start"], "channel": iv["channel"], "method": method,
            "target": iv["channel"].map({n: ch.service_level.target for n, ch in scenario.channels.items()}),
            "service_level": iv["service_level"], "service_level_lo": iv["service_level_lo"],
            "service_level_hi": iv["service_level_hi"],
        }))
    return pd.concat(frames, ignore_index=True)


def current_plan(scenario: Scenario, grid: pd.DataFrame) -> np.ndarray:
    """Agents on shift per group and interval (time-averaged, before shrinkage) in the scenario as written."""
    return np.array([np.round(scheduled_per_interval(g.model_copy(update={"shrinkage": 0.0}), scenario, grid), 4)
                     for g in scenario.agents])


@dataclass
class StaffResult:
    staffing: pd.DataFrame  # interval_start, group, agents_sim, agents_erlang_c, agents_erlang_a
    service: pd.DataFrame  # interval_start, channel, method, target, service_level (+CI)
    plans: dict[str, np.ndarray]
    staffed_scenario: Scenario
    meta: dict
    outcomes: pd.DataFrame | None = None  # interval_start, channel, method, issues, fcr, csat, resolution p90 (+CI)


def run_staff(scenario: Scenario, replications: int | None = None, check_replications: int | None = None,
              targets: Targets = Targets(), jobs: int = 1, scheduler=None, max_iterations: int = 12,
              max_agents: int = DEFAULT_MAX_AGENTS, seed_for_check: int | None = None,
              progress=None, repair_rounds: int = DEFAULT_REPAIR_ROUNDS,
              outcome_targets: OutcomeTargets = OutcomeTargets()) -> StaffResult:
    """ISA staffing (then verification and repair) plus Erlang C / Erlang A baselines, each re-simulated with fresh seeds.

    Outcome targets (a minimum FCR, resolution-time promises) are staffed to through the queue targets
    they imply (sim/outcome_targets.py); the re-simulation then reports the outcomes each plan reaches."""
    # at least 2 (as `peaksim staff -r` requires): with one replication the check has no CI, and every
    # interval would count as "significantly below target"
    n = replications or max(scenario.replications, MIN_REPLICATIONS)
    planned, caps, translation = staffing_queue_targets(scenario, outcome_targets)
    targets = replace(targets, channel_max_abandon={**targets.channel_max_abandon, **caps})
    isa = iterative_staffing(planned, n, targets, jobs, scheduler, max_iterations, max_agents, progress)
    if repair_rounds:
        isa = repair_staffing(planned, isa, n, repair_rounds, jobs, scheduler, max_agents, progress)
    queues = channel_queues(planned, isa.shares)
    erl = erlang_agents(planned, queues, targets, max_agents)
    plans = {"sim": isa.headcount, **{m: group_headcount(scenario, erl[m], isa.shares) for m in erl}}
    grid = interval_grid(scenario)
    starts = iso(grid["interval_start"])
    names = [g.name for g in scenario.agents]
    staffing = pd.DataFrame({
        "interval_start": np.repeat(starts, len(names)),
        "group": np.tile(names, len(starts)),
        **{f"agents_{m}": plans[m].T.ravel() for m in METHODS},
        # the scenario's own roster on the same footing (on shift, before shrinkage): what hires are measured against
        "agents_current": current_plan(scenario, grid).T.ravel(),
    })
    seed = check_seed(scenario.seed) if seed_for_check is None else seed_for_check
    per_method: list = []
    service = achieved_service(scenario, plans, check_replications or n, seed, jobs, scheduler, progress, per_method)
    outcomes = pd.concat([frame for _, frame, _ in per_method], ignore_index=True)
    outcomes = outcomes[["interval_start", "channel", "method", *OUTCOME_COLUMNS]]
    hours = {m: float(plans[m].sum() * scenario.interval / 3600) for m in METHODS}
    meets = service.assign(ok=service["service_level"] >= service["target"]).dropna(subset=["service_level"])
    reach = in_reach(scenario)
    position = pd.Series(np.arange(len(starts)), index=starts)
    # as a bool array: on an empty frame (no interval with contacts) a plain list would become a float column
    meets["in_reach"] = np.array([bool(reach[c][position[t]]) for c, t in zip(meets["channel"], meets["interval_start"])],
                                 dtype=bool)
    reached = meets[meets["in_reach"]]
    meta = {
        "peaksim_version": __version__, "scenario": scenario.name, "scenario_sha256": scenario_hash(scenario),
        "seed": scenario.seed, "replications": n, "check_seed": seed, "check_replications": check_replications or n,
        "algorithm": "iterative staffing algorithm (Feldman, Mandelbaum, Massey & Whitt 2008)",
        "iterations": isa.history, "converged": isa.converged, "repair_rounds": isa.repair,
        "max_abandon": targets.max_abandon, "max_occupancy": targets.max_occupancy,
        "agent_hours": hours,
        "share_of_intervals_meeting_target": {m: float(g["ok"].mean()) for m, g in meets.groupby("method")},
        "share_of_intervals_not_significantly_below_target": {
            m: float((g["service_level_hi"] >= g["target"]).mean()) for m, g in meets.groupby("method")},
        "share_of_intervals_in_reach_meeting_target": {m: float(g["ok"].mean()) for m, g in reached.groupby("method")},
        "share_of_intervals_in_reach_meeting_target_by_channel": {
            m: {c: float(x["ok"].mean()) for c, x in g.groupby("channel", sort=False)} for m, g in reached.groupby("method")},
        "intervals_in_reach": "channel open at arrival, or a whole interval of open time before the deadline "
                              "(sim/backlog.py)",
        "headcount": "agents on shift (before shrinkage) per interval",
        "outcome_targets": {**outcome_targets.describe(), "staffed_as": translation},
        "outcomes_by_method": {m: {row["channel"]: {k: row[k] for k in ("fcr", "csat", "resolution_time_p90_s",
                                                                         "unresolved_share")}
                                   for row in summary.to_dict("records")} for m, _, summary in per_method},
    }
    if outcome_targets:
        meta["share_of_intervals_meeting_outcome_targets"] = outcome_shares(outcomes, outcome_targets)
    staffed = with_headcount(scenario, isa.headcount)
    meta["warnings"] = scenario_warnings(staffed)  # what a run of the staffed plan would warn about
    return StaffResult(staffing, service, plans, staffed, meta, outcomes)


def outcome_shares(outcomes: pd.DataFrame, targets: OutcomeTargets) -> dict[str, dict[str, float]]:
    """Per method and targeted channel: share of intervals (with issues) whose outcomes meet the targets."""
    out: dict[str, dict[str, float]] = {}
    for (method, channel), rows in outcomes.groupby(["method", "channel"], sort=False):
        if channel not in targets.min_fcr and channel not in targets.promise_s:
            continue
        rows = rows[rows["issues"] > 0]
        ok = [targets.met(channel, r) for r in rows.to_dict("records")]
        out.setdefault(method, {})[channel] = float(np.mean(ok)) if ok else float("nan")
    return out


def scenario_yaml(scenario: Scenario, comment: str = "") -> str:
    """The scenario as YAML that `peaksim run` reads back unchanged (durations in seconds, ISO times)."""
    import yaml

    data = _drop_none(scenario_data(scenario, mode="json"))
    # the calibration's values are already merged into the channels: the file stands alone (a relative
    # `calibration:` path would not resolve from the output folder), the source is kept as a comment
    source = data.pop("calibration", None)
    if source is not None:
        comment = f"{comment}\ncalibrated values merged from {source}".lstrip("\n")
    head = "".join(f"# {line}\n" for line in comment.splitlines())
    return head + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120, default_flow_style=None)


def _drop_none(value):
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def write_staff(result: StaffResult, out, command: list[str] | None = None) -> list:
    """staffing.csv, staffing_sl.csv, staffed_scenario.yaml and staffing.json."""
    from .outputs import atomic_write, write_csv, write_json

    paths = [out / "staffing.csv", out / "staffing_sl.csv", out / "staffed_scenario.yaml", out / "staffing.json"]
    write_csv(result.staffing, paths[0])
    write_csv(result.service, paths[1])
    if result.outcomes is not None:
        write_csv(result.outcomes, out / "staffing_outcomes.csv")
        paths.append(out / "staffing_outcomes.csv")
    atomic_write(paths[2], scenario_yaml(result.staffed_scenario,
                                         f"{result.staffed_scenario.name}: headcount per interval found by "
                                         f"`peaksim staff` (peaksim {__version__})"))
    write_json({**result.meta, **({"command": command} if command else {})}, paths[3])
    return paths
