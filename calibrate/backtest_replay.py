"""The pieces of the replayed scenario: training fits in scenario form (scaled, patience family chosen),
whole agents from fractional staffing, demand and profiles at the replay's step, the scenario itself."""
from __future__ import annotations

import numpy as np
import pandas as pd

from calibrate.backtest_settings import ROUNDING, BacktestError

__all__ = ["scale_distribution", "patience_for_replay", "whole_agents"]


def scale_distribution(dist: dict, factor: float) -> dict:
    """A scenario distribution (dict) with every duration multiplied by ``factor``."""
    out = dict(dist)
    for key in ("mean", "sd", "scale", "value"):
        if key in out and out[key] is not None:
            out[key] = float(out[key]) * factor
    if "values" in out:
        out["values"] = [float(v) * factor for v in out["values"]]
    return out


def patience_for_replay(fit, choice="km") -> dict:
    """The patience distribution to simulate with, in scenario form.

    AIC ranks families by likelihood over *all* waits, and most waits are short, so with
    thousands of calls it can prefer a family (often lognormal) that matches the first minute
    closely but whose tail beyond the longest observed waits is pure extrapolation: its mean can
    be several times that of the other candidates. A replay only needs the survival curve over
    the waits that occur, so ``"km"`` takes the candidate with the smallest largest gap to the
    Kaplan–Meier estimate over the observed range (``km_max_abs_diff``); ``"aic"`` keeps the
    calibration's choice.
    """
    from calibrate.fit import _scenario as scenario_form

    if choice not in ("km", "aic"):
        raise BacktestError(f"The 'patience' parameter of backtest must be 'km' or 'aic'. Got {choice!r} instead.")
    if choice == "aic":
        return fit.to_scenario()
    table = fit.table[np.isfinite(fit.table["km_max_abs_diff"])]
    best = table.sort_values("km_max_abs_diff", kind="stable").iloc[0]
    return scenario_form(best["candidate"], best["params"])


def whole_agents(agents: np.ndarray, rounding: str = "dither") -> np.ndarray:
    """Fractional agents per interval → whole agents the model can schedule.

    ``dither`` (error diffusion): round the running total, so every stretch of consecutive
    intervals keeps the fractional total to within one agent-interval (8.25 agents over four
    quarter-hours become 8, 8, 8, 9). ``nearest`` rounds each value half up, ``ceil``/``floor``
    bracket it.
    """
    agents = np.asarray(agents, dtype=float)
    if rounding not in ROUNDING:
        raise BacktestError(f"The 'rounding' parameter must be one of {ROUNDING}. Got {rounding!r} instead.")
    if rounding == "dither":
        total = np.floor(np.cumsum(agents) + 0.5)
        return np.diff(np.r_[0.0, total]).astype(int)
    if rounding == "ceil":
        return np.ceil(agents - 1e-9).astype(int)
    if rounding == "floor":
        return np.floor(agents + 1e-9).astype(int)
    return np.floor(agents + 0.5).astype(int)


def _demand(counts, arrivals, interval_s, reason_counts=None) -> dict:
    demand = ({"counts": [int(c) for c in counts]} if arrivals == "counts"
              else {"rate_per_hour": [float(c) * 3600.0 / interval_s for c in counts]})
    if reason_counts is not None:
        demand["reason_counts"] = reason_counts
    return demand


def _scenario(start, n, interval_s, channels: dict, groups: list, replications, seed, reasons=None):
    """The replayed scenario: ``channels`` {name: channel keys}, ``groups`` [(name, skills, agents per step)]."""
    from sim.scenario import parse_scenario

    data = {
        "name": "backtest", "start": start.isoformat(), "timezone": str(start.tz),
        "duration": float(n * interval_s), "interval": float(interval_s),
        "seed": int(seed), "replications": int(replications),
        "channels": {c: {"service_level": {"threshold": 20.0, "target": 0.8}, **keys} for c, keys in channels.items()},
        "agents": [{"name": g, "skills": list(skills), "headcount_by_interval": [int(a) for a in agents]}
                   for g, skills, agents in groups],
    }
    if reasons:
        data["reasons"] = reasons
    return parse_scenario(data, "<backtest scenario>")


def _laid_onto(profile: list, interval_s: float) -> list:
    """A calibration's per-interval-of-day profile at the replay's interval (repeated or averaged,
    as a scenario referencing the calibration would get it)."""
    from sim.calibration_ref import resample_daily
    from sim.errors import ScenarioError

    try:
        return [float(m) for m in resample_daily(list(profile), "<calibration>", "handle_time_profile", interval_s)]
    except ScenarioError as exc:
        raise BacktestError(f"{exc.lines[0]}") from None


def _profile_of_day(profile, start, n_steps: int, step_s: float) -> np.ndarray:
    """A per-interval-of-day multiplier at each replay step, by local clock time (ones without one)."""
    if profile is None:
        return np.ones(n_steps)
    per_day = np.asarray(_laid_onto(profile, step_s), dtype=float)
    local = pd.DatetimeIndex(start + pd.to_timedelta(np.arange(n_steps) * step_s, unit="s"))
    slot = ((local - local.normalize()) // pd.Timedelta(seconds=step_s)).to_numpy(dtype=np.int64)
    return per_day[slot % len(per_day)]
