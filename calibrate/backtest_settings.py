"""The settings a backtest accepts, checked before any data is read, and the error a backtest raises."""
from __future__ import annotations

import pandas as pd

from calibrate.backtest_capacity import CAPACITY, TALK_TIME

__all__ = ["BacktestError", "check_settings", "ROUNDING", "ARRIVALS"]

ROUNDING = ("dither", "nearest", "ceil", "floor")
ARRIVALS = ("counts", "poisson")


class BacktestError(ValueError):
    """A backtest that cannot be run as asked (bad settings, or data without what it needs)."""


def check_settings(interval, staffing_step, arrivals, min_offered, replications, capacity, teams, wrap, talk_time
                   ) -> tuple[pd.Timedelta, float, float]:
    """Refuse settings a backtest cannot run; return the comparison interval (a Timedelta and in
    seconds) and the staffing step in seconds."""
    step, sub = pd.Timedelta(interval), pd.Timedelta(staffing_step)
    interval_s, sub_s = step.total_seconds(), sub.total_seconds()
    if interval_s not in (900.0, 1800.0, 3600.0):
        raise BacktestError(f"The 'interval' parameter of backtest must be 15min, 30min or 60min. Got {interval!r} instead.")
    if sub_s not in (900.0, 1800.0, 3600.0) or interval_s % sub_s:
        raise BacktestError("The 'staffing_step' parameter of backtest must be 15min, 30min or 60min and divide "
                         f"'interval'. Got {staffing_step!r} instead.")
    if arrivals not in ARRIVALS:
        raise BacktestError(f"The 'arrivals' parameter of backtest must be one of {ARRIVALS}. Got {arrivals!r} instead.")
    if min_offered < 1:
        raise BacktestError(f"The 'min_offered' parameter of backtest must be ≥ 1. Got {min_offered!r} instead.")
    if replications < 1:
        raise BacktestError(f"The 'replications' parameter of backtest must be ≥ 1. Got {replications!r} instead.")
    if capacity not in CAPACITY:
        raise BacktestError(f"The 'capacity' parameter of backtest must be one of {CAPACITY}. Got {capacity!r} instead.")
    if teams and capacity != "revealed":
        raise BacktestError("The 'teams' parameter of backtest needs capacity='revealed' (a team's capacity is revealed "
                            f"by its own callers waiting). Got capacity={capacity!r} instead.")
    try:
        wrap_ok = pd.Timedelta(wrap) >= pd.Timedelta(0)
    except (ValueError, TypeError):
        wrap_ok = False
    if not wrap_ok:
        raise BacktestError(f"The 'wrap' parameter of backtest must be a duration ≥ 0 such as '10s'. Got {wrap!r} instead.")
    if talk_time not in TALK_TIME:
        raise BacktestError(f"The 'talk_time' parameter of backtest must be one of {TALK_TIME}. Got {talk_time!r} instead.")
    return step, interval_s, sub_s
