"""Checking each method's staffing with fresh seeds: the service and outcomes each plan achieves."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .outcome_targets import OutcomeTargets
from .runner import run_scenario
from .scenario import Scenario
from .schedule import scheduled_per_interval
from .staffing_headcount import with_headcount


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
