"""What the test or training period's ticket log says happened: offered calls, their tallies per
interval, the agents' availability and the censored exponential patience (the Erlang-A input)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from calibrate.profiles import _presence, infer_staffing

__all__ = ["exponential_patience_mle", "agent_availability", "observed_intervals"]


def _offered(contacts: pd.DataFrame) -> pd.DataFrame:
    """Offered calls with a known outcome: queue entry, served flag, wait (seconds)."""
    end = contacts["answered_at"].fillna(contacts["abandoned_at"])
    ok = contacts["queued_at"].notna() & end.notna()
    sub = contacts.loc[ok]
    return pd.DataFrame({"queued_at": sub["queued_at"], "served": sub["answered_at"].notna().to_numpy(),
                         "wait_s": (end[ok] - sub["queued_at"]).dt.total_seconds().to_numpy()})


def exponential_patience_mle(contacts: pd.DataFrame) -> float:
    """Censored exponential MLE of mean patience: Σ waits of all offered calls ÷ abandonments."""
    off = _offered(contacts)
    n_abandoned = int((~off["served"]).sum())
    if n_abandoned == 0:
        return math.inf
    return float(off["wait_s"].sum() / n_abandoned)


def agent_availability(contacts: pd.DataFrame, max_gap="30min", min_queue=1.0, resolution="1min", lead="0s",
                       lag="0s") -> dict:
    """Share of present agents' time spent in service while customers were waiting.

    A ticket log records talk time only. Between calls agents also wrap up, take short breaks and
    do other work, and the staffing inferred from service spells counts them as present through
    gaps shorter than ``max_gap``. While customers wait, a present agent who could take a call
    would: so in the minutes where on average at least ``min_queue`` calls were waiting, the
    share ``busy ÷ present`` is the fraction of an agent's present time actually available for
    calls. Its inverse scales talk time into agent time per call (the model's handle time).

    Returns ``{"availability", "minutes", "busy_agent_hours", "present_agent_hours"}``.
    """
    step = pd.Timedelta(resolution)
    staffing = infer_staffing(contacts, interval=resolution, max_gap=max_gap, lead=lead, lag=lag)
    if staffing.empty:
        return {"availability": math.nan, "minutes": 0, "busy_agent_hours": 0.0, "present_agent_hours": 0.0}
    first = staffing["interval_start"].iloc[0]
    off = _offered(contacts)
    t0 = (off["queued_at"] - first).dt.total_seconds().to_numpy()
    edges = np.arange(len(staffing) + 1) * step.total_seconds()
    queue = _presence(t0, t0 + off["wait_s"].to_numpy(), edges)
    present = staffing["agents"].to_numpy()
    waiting = (queue >= min_queue) & (present > 0)
    busy, on = staffing["busy_agents"].to_numpy()[waiting].sum(), present[waiting].sum()
    hours = step.total_seconds() / 3600.0
    return {"availability": float(busy / on) if on > 0 else math.nan, "minutes": int(waiting.sum()),
            "busy_agent_hours": float(busy * hours), "present_agent_hours": float(on * hours)}


def observed_intervals(contacts: pd.DataFrame, start: pd.Timestamp, n_intervals: int, interval_s: float
                       ) -> pd.DataFrame:
    """Per interval from ``start`` (by queue entry): offered, abandoned, served, observed rates."""
    off = _offered(contacts)
    k = ((off["queued_at"] - start).dt.total_seconds() // interval_s).astype(int).to_numpy()
    inside = (k >= 0) & (k < n_intervals)
    k, served, wait = k[inside], off["served"].to_numpy()[inside], off["wait_s"].to_numpy()[inside]
    offered = np.bincount(k, minlength=n_intervals).astype(float)
    n_served = np.bincount(k[served], minlength=n_intervals).astype(float)
    wait_served = np.bincount(k[served], weights=wait[served], minlength=n_intervals)
    with np.errstate(invalid="ignore", divide="ignore"):
        return pd.DataFrame({"offered": offered, "served": n_served, "abandoned": offered - n_served,
                             "observed_abandon_rate": np.where(offered > 0, (offered - n_served) / offered, np.nan),
                             "observed_asa_s": np.where(n_served > 0, wait_served / n_served, np.nan)})


def _span(contacts: pd.DataFrame, interval_s: float) -> tuple:
    """(start, intervals) covering a period's offered calls from the midnight before the first."""
    off = _offered(contacts)
    start = off["queued_at"].min().floor("D", ambiguous=False, nonexistent="shift_forward")
    return start, int((off["queued_at"].max() - start).total_seconds() // interval_s) + 1, interval_s
