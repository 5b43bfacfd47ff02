"""Staffing sweeps: one scenario simulated over a grid of staffing levels with common random numbers.

A sweep point is the scenario with a different staffing and the *same* seed, so replication r
of every point sees the same customers (arrival times, handle times, patience: streams are
keyed by (seed, replication, source, channel)). Differences between points then come from
staffing, not from noise, and KPI curves over the grid are smooth.

Axes
- `agents <group>=start:stop:step`: the group's roster keeps its shape (shifts, overtime dates,
  headcount profile) and is scaled so that its peak on shift is each value; a constant headcount
  is on shift while one of the group's channels is open (sim/roster.py). The stop value is
  included, as a planner reads `10:40:2`.
- `scale start:stop:step`: every schedule (headcount, profile, shifts) not set by an agents
  axis is multiplied, rounding half up.
Several axes make a grid (row-major, in the order given). Cost is paid hours: the scheduled
time on shift, before shrinkage, times `--cost-per-hour`.

`sweep.csv` (one row per point × channel) is appended as each point finishes, so an
interrupted sweep keeps its finished points; `resume=True` skips them and the final file is
rewritten sorted by point, byte-identical to an uninterrupted sweep.

This module runs the points and writes the results; the grid and each point's scenario are in
sim/sweep_grid.py, the sweep.csv rows and what --resume keeps of them in sim/sweep_journal.py, the
recommended point, marginal values and warnings in sim/sweep_tables.py.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import __version__
from .csv_safety import restore_frame
from .errors import PeaksimError
from .executors import run_tasks
from .outcome_targets import OutcomeTargets
from .outputs import atomic_write, write_json
from .runner import aggregate, run_replication
from .scenario import Scenario, scenario_hash
from . import roster
# the parts of a sweep; sim.sweep re-exports their names, which callers import from here
from .scenario_dump import clock_text, scenario_data
from .sweep_grid import (MAX_POINTS, MAX_TASKS, Axis, agent_hours, agents_axis, apply_point, check_axes, grid,
                         parse_range, scale_axis, scaled_group)
from .sweep_journal import (KPI_COLUMNS, MAX_JOURNAL_BYTES, RESUME_FIX, csv_header, format_rows, point_rows,
                            read_finished, resume_points, sweep_columns)
from .sweep_tables import best_point, marginal_values, point_warnings, warning_summary

__all__ = ["KPI_COLUMNS", "DEFAULT_COST_PER_HOUR", "MAX_POINTS", "MAX_TASKS", "MAX_JOURNAL_BYTES", "RESUME_FIX",
           "Axis", "parse_range", "agents_axis", "scale_axis", "check_axes", "grid", "clock_text", "scenario_data",
           "apply_point", "agent_hours", "scaled_group", "sweep_columns", "point_rows", "format_rows",
           "read_finished", "resume_points", "SweepResult", "sweep_identity", "run_sweep", "point_warnings",
           "warning_summary", "best_point", "marginal_values"]

DEFAULT_COST_PER_HOUR = 25.0


@dataclass
class SweepResult:
    table: pd.DataFrame
    meta: dict
    paths: list[Path]


def sweep_identity(scenario: Scenario, axes: list[Axis], replications: int, cost_per_hour: float,
                   outcomes: OutcomeTargets = OutcomeTargets()) -> dict:
    return {
        "scenario": scenario.name,
        "scenario_sha256": scenario_hash(scenario),
        "seed": scenario.seed,
        "replications": replications,
        "axes": {a.name: list(a.values) for a in axes},
        "cost_per_hour": cost_per_hour,
        "outcome_targets": outcomes.describe(),
        "agents_axis": "roster scaled to its peak on shift",  # what --agents means (an older sweep set a flat headcount)
    }


def run_sweep(scenario: Scenario, axes: list[Axis], out: Path, replications: int | None = None,
              jobs: int = 1, scheduler=None, resume: bool = False,
              cost_per_hour: float = DEFAULT_COST_PER_HOUR, progress=None, prepare=None,
              outcomes: OutcomeTargets = OutcomeTargets()) -> SweepResult:
    """Simulate every grid point (same replication seeds at each), appending sweep.csv as points finish.

    `outcomes` (a minimum FCR, resolution-time promises) must hold as well for a channel to meet its target;
    `prepare()`, if given, is called once everything is checked, before the first write into `out`."""
    n = replications or scenario.replications
    check_axes(axes, n)
    if not (cost_per_hour >= 0 and math.isfinite(cost_per_hour)):
        raise PeaksimError(f"--cost-per-hour must be a non-negative number (got {cost_per_hour})")
    points = grid(axes)
    scenarios = [apply_point(scenario, p, axes) for p in points]
    csv_path, json_path = out / "sweep.csv", out / "sweep.json"
    identity = sweep_identity(scenario, axes, n, cost_per_hour, outcomes)

    finished = resume_points(out, identity, axes, list(scenario.channels), len(points)) if resume else {}
    if prepare is not None:  # everything is checked: the caller may now clear the folder of other results
        prepare()
    with _journal_errors(csv_path):
        write_json({**identity, "status": "running", "points": len(points), "peaksim_version": __version__}, json_path)
        atomic_write(csv_path, csv_header(axes) + "".join(finished[p] for p in sorted(finished)))

        pending = [k for k in range(len(points)) if k not in finished]
        tasks = [(scenarios[k], r) for k in pending for r in range(n)]
        results: dict[int, list] = {k: [None] * n for k in pending}
        remaining = {k: n for k in pending}
        done = 0
        if progress:
            progress(0, len(tasks))
        with open(csv_path, "a", encoding="utf-8", newline="") as fh:
            for t, result in run_tasks(run_replication, tasks, jobs, scheduler):
                k, r = pending[t // n], t % n
                results[k][r] = result
                remaining[k] -= 1
                if remaining[k] == 0:
                    summary = aggregate(scenarios[k], results.pop(k)).summary
                    text = format_rows(point_rows(k, points[k], axes, scenarios[k], summary, cost_per_hour, outcomes))
                    fh.write(text)
                    fh.flush()
                    finished[k] = text
                done += 1
                if progress:
                    progress(done, len(tasks))
        atomic_write(csv_path, csv_header(axes) + "".join(finished[p] for p in sorted(finished)))

        table = restore_frame(pd.read_csv(csv_path))
        best = best_point(table, axes)
        peaks = [roster.peaks(sc) for sc in scenarios]
        meta = {**identity, "status": "complete", "points": len(points), "peaksim_version": __version__,
                "best_point": best, "marginal_value_of_one_more_agent": marginal_values(table, axes, scenario, best, peaks),
                "point_warnings": point_warnings(scenarios, table, n),
                "agents_at_peak": {str(k): p for k, p in enumerate(peaks)},
                "agent_hours": "paid agent-hours over the whole horizon, all groups: the scheduled roster on shift, "
                               "before shrinkage",
                "cost": f"agent_hours x cost_per_hour ({cost_per_hour:g} per agent-hour)",
                # the scenario as validated, channel order kept (it keys the random streams), for the verdict and report
                "scenario_definition": json.loads(scenario.model_dump_json())}
        write_json({k: meta[k] for k in sorted(meta)}, json_path, sort_keys=False)
    return SweepResult(table, meta, [csv_path, json_path])


@contextlib.contextmanager
def _journal_errors(csv_path: Path):
    """A full disk or read-only folder while the sweep writes: one line; the finished points stay on disk."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO):
            raise
        raise PeaksimError(f"{csv_path}: cannot write the sweep (got {exc.strerror}); the points finished so far "
                           "are kept: free space or fix the permissions, then rerun with --resume") from None
