"""Replications of a scenario, on any executor, aggregated into KPI tables with 95% CIs."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import __version__
from .calendar import interval_grid, iso
from .executors import run_tasks
from .contacts import ContactFactory
from .provenance import environment
from .metrics import (
    CHANNEL_KPIS, GROUP_KPIS, ORIGIN_KPIS, OVERFLOW_GROUP_KPIS, Outcomes, mean_ci, reason_thresholds,
    replication_groups, replication_intervals, replication_origins, replication_reasons, replication_summary,
)
from .journey_tables import issue_tables
from .journeys import INTERVAL_ISSUE_KPIS, ISSUE_KPIS, Issues, journey_columns
from .records import ORIGINS
from .replication import own_skills, simulate
from .scenario import Scenario, scenario_hash


@dataclass
class ReplicationKPIs:
    """What a worker sends back: small per-replication tables, never the raw records."""

    replication: int
    intervals: pd.DataFrame
    summary: pd.DataFrame
    groups: pd.DataFrame
    origins: pd.DataFrame
    reasons: pd.DataFrame
    contacts: int
    capped: int = 0  # contacts not created: their customer had reached the per-customer cap (sim.loops)


def reason_names(scenario: Scenario) -> list[str]:
    return ContactFactory(scenario, interval_grid(scenario).iloc[:1]).reasons


def run_replication(scenario: Scenario, replication: int) -> ReplicationKPIs:
    """Simulate one replication and reduce it to KPI tables (runs inside workers)."""
    overflow = own_skills(scenario) is not None
    columns = Outcomes.COLUMNS + (Outcomes.OVERFLOW_COLUMNS if overflow else ()) + journey_columns(scenario)
    records = simulate(scenario, replication, tuple(dict.fromkeys(columns)))
    outcomes = Outcomes(records)
    if outcomes.kept is None:  # (with rows set apart by the levers the journeys read the deadlines themselves)
        del records.contacts["deadline"]  # Outcomes keeps what it needs of it: 8 bytes a contact less from here on
    n_reasons = len(reason_names(scenario))
    # the journeys take `end` (and `bot_end`) from the records and overwrite it; overflow needs `end` later
    contacts = {**records.contacts, "end": records.contacts["end"].copy()} if overflow else records.contacts
    issues = Issues(contacts, outcomes, scenario)
    journeys = issue_tables(issues, scenario, n_reasons)
    del issues, contacts
    records.contacts.pop("deadline", None)
    return ReplicationKPIs(
        replication,
        _joined(replication_intervals(records, scenario, outcomes), journeys["intervals"]),
        _joined(replication_summary(records, scenario, outcomes), journeys["summary"]),
        replication_groups(records, scenario),
        replication_origins(records, scenario, outcomes),
        _joined(replication_reasons(records, scenario, outcomes, n_reasons), journeys["reasons"]),
        int(records.contacts["arrival"].size),
        records.capped,
    )


def _joined(contact_kpis: pd.DataFrame, issue_kpis: pd.DataFrame) -> pd.DataFrame:
    """The contact KPI table with the outcome KPIs of the same keys beside it (same row order)."""
    return pd.concat([contact_kpis, issue_kpis.set_axis(contact_kpis.index)], axis=1)


def with_targets(reasons: pd.DataFrame, scenario: Scenario, names: dict) -> pd.DataFrame:
    """reasons.csv with each row's own service-level threshold and target (the reason's, else the
    channel's) beside its service level, and whether the mean meets it."""
    threshold, target = reason_thresholds(scenario, len(names["reason"]))
    c = pd.Index(names["channel"]).get_indexer(reasons["channel"])
    r = pd.Index(names["reason"]).get_indexer(reasons["reason"])
    at = reasons.columns.get_loc("service_level")
    reasons.insert(at, "sl_target", target[c, r])
    reasons.insert(at, "sl_threshold_s", threshold[c, r])
    reasons.insert(at + 2, "sl_met", (reasons["service_level"] >= reasons["sl_target"]).where(
        reasons["service_level"].notna()))
    return reasons


@dataclass
class RunResult:
    """KPI tables of a run, ready to write: tidy frames with readable names."""

    scenario: Scenario
    summary: pd.DataFrame
    intervals: pd.DataFrame
    groups: pd.DataFrame
    replications: pd.DataFrame
    origins: pd.DataFrame
    reasons: pd.DataFrame
    meta: dict = field(default_factory=dict)


def run_scenario(scenario: Scenario, replications: int | None = None, jobs: int = 1,
                 scheduler: str | None = None, progress=None, ci_width: float = 0.05) -> RunResult:
    """Run the replications and aggregate; `progress(done, total)` is called as each finishes.

    The result's meta has `warnings` (see `sim.checks`) and the intervals table an `unstable`
    column. If the run stops early (Ctrl-C, an error), the exception carries `peaksim_partial`:
    the aggregated finished replications 0..k-1, or None.
    """
    n = replications or scenario.replications
    started = time.perf_counter()
    results: list[ReplicationKPIs | None] = [None] * n
    done = 0
    try:
        for k, result in run_tasks(run_replication, [(scenario, r) for r in range(n)], jobs, scheduler):
            results[k] = result
            done += 1
            if progress:
                progress(done, n)
    except BaseException as exc:  # Ctrl-C or a failure: keep what finished for the caller to write
        exc.peaksim_partial = _partial(scenario, results, n, time.perf_counter() - started)
        raise
    result = aggregate(scenario, results, time.perf_counter() - started)
    from .checks import annotate  # warnings: unstable intervals, warm-up, replications vs CI width

    annotate(scenario, result, ci_width)
    return result


def _partial(scenario: Scenario, results: list, requested: int, wall_s: float) -> RunResult | None:
    """The finished replications of an interrupted run, aggregated (the first k in order, so a rerun agrees)."""
    finished = []
    for r in results:  # only a prefix: replication 0..k-1, what a run with --replications k would give
        if r is None:
            break
        finished.append(r)
    if not finished:
        return None
    try:
        partial = aggregate(scenario, finished, wall_s)
    except Exception:  # never hide the original error behind one from the partial results
        return None
    partial.meta["replications_requested"] = requested
    return partial


def aggregate(scenario: Scenario, results: list[ReplicationKPIs], wall_s: float = 0.0) -> RunResult:
    """Mean and CI over replications, warm-up intervals dropped, names and ISO times attached."""
    names = {"channel": np.array(list(scenario.channels)), "group": np.array([g.name for g in scenario.agents]),
             "origin": np.array(ORIGINS), "reason": np.array(reason_names(scenario))}
    grid = interval_grid(scenario)
    starts = np.array(iso(grid["interval_start"]))
    keep = grid["t_s"].to_numpy() >= scenario.warmup
    totals = [k for k in CHANNEL_KPIS if k != "backlog"]

    def table(frames: list[pd.DataFrame], keys: list[str], kpis: list[str], drop_empty: bool = False):
        """Mean and CI per key over replications, after the warm-up, with names and ISO times."""
        per_rep = pd.concat(frames, ignore_index=True)
        if "interval" in keys:
            per_rep = per_rep[keep[per_rep["interval"].to_numpy()]]
        out = mean_ci(per_rep, keys, kpis)
        if drop_empty:  # e.g. origins and reasons a channel never sees
            out = out[out["arrived"] > 0].reset_index(drop=True)
        for key in keys:
            if key in names:
                out[key] = names[key][out[key].to_numpy()]
        if "interval" in keys:
            out.insert(0, "interval_start", starts[out["interval"].to_numpy()])
            out = out.drop(columns="interval")
        return out

    intervals = table([r.intervals for r in results], ["interval", "channel"], CHANNEL_KPIS + INTERVAL_ISSUE_KPIS)
    totals = totals + ISSUE_KPIS
    summary = table([r.summary for r in results], ["channel"], totals)
    overflow = GROUP_KPIS + OVERFLOW_GROUP_KPIS if own_skills(scenario) is not None else GROUP_KPIS
    groups = table([r.groups for r in results], ["interval", "group"], overflow)
    origins = table([r.origins for r in results], ["interval", "channel", "origin"], ORIGIN_KPIS, drop_empty=True)
    reasons = with_targets(table([r.reasons for r in results], ["channel", "reason"], totals, drop_empty=True),
                           scenario, names)

    per_rep = pd.concat([r.summary for r in results], ignore_index=True)
    channel_names = names["channel"]
    replications = per_rep.assign(channel=channel_names[per_rep["channel"].to_numpy()])
    meta = {
        "peaksim_version": __version__,
        "scenario": scenario.name,
        "scenario_sha256": scenario_hash(scenario),
        "seed": scenario.seed,
        "replications": len(results),
        "contacts_simulated": int(sum(r.contacts for r in results)),
        "contacts_capped": int(sum(getattr(r, "capped", 0) for r in results)),
        "wall_seconds": round(wall_s, 3),
        "status": "complete",
        "environment": environment(),
    }
    return RunResult(scenario, summary, intervals, groups, replications, origins, reasons, meta)
