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

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from . import __version__
from .backlog import in_reach
from .calendar import interval_grid, iso
from .checks import scenario_warnings
from .outcome_targets import OutcomeTargets, staffing_queue_targets
from .scenario import Scenario, scenario_hash
from .staffing_check import OUTCOME_COLUMNS, achieved_service, check_seed, current_plan, outcome_shares
from .staffing_erlang import erlang_agents
from .staffing_headcount import (
    DEFAULT_MAX_AGENTS, group_headcount, on_shift, on_shift_for, primary_groups, shrinkage_per_interval, skill_shares,
    with_headcount,
)
from .staffing_isa import SETTLED, IsaResult, channel_slots, initial_channel_agents, iterative_staffing
from .staffing_measure import SeenByArrivals, histograms, measure, seen_by_arrivals
from .staffing_outputs import scenario_yaml, write_staff
from .staffing_repair import calibrated_step, repair_staffing
from .staffing_rules import ChannelQueue, Targets, abandon_probability, channel_queues, slots_needed, within_probability

__all__ = [  # the public names, here since before the split into sim/staffing_*.py
    "METHODS", "DEFAULT_MAX_AGENTS", "DEFAULT_REPAIR_ROUNDS", "MIN_REPLICATIONS", "SETTLED",
    "Targets", "ChannelQueue", "channel_queues", "within_probability", "abandon_probability", "slots_needed",
    "SeenByArrivals", "seen_by_arrivals", "histograms", "measure",
    "primary_groups", "skill_shares", "on_shift_for", "shrinkage_per_interval", "on_shift", "group_headcount",
    "with_headcount", "erlang_agents", "IsaResult", "initial_channel_agents", "channel_slots", "iterative_staffing",
    "calibrated_step", "repair_staffing", "check_seed", "OUTCOME_COLUMNS", "achieved_service", "current_plan",
    "outcome_shares", "StaffResult", "run_staff", "scenario_yaml", "write_staff",
]

METHODS = ("sim", "erlang_c", "erlang_a")
DEFAULT_REPAIR_ROUNDS = 6
MIN_REPLICATIONS = 2  # the default for a scenario that asks for one replication


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
