"""Behaviour that depends on the time of day and on load, fitted from a ticket log.

* :func:`patience_profile`: how patience changes over the day, as a multiplier per interval of
  the day (the channel's ``patience_profile``). Patience is right-censored (served callers
  would have waited longer), so each interval's mean is the censored exponential MLE, waits of
  all offered calls ÷ abandonments, divided by the same estimate over the whole day.
* :func:`waiting_at_answer`: how many other customers were waiting when each call was answered.
* :func:`handle_time_by_queue`: agent time per call by that queue length (the channel's
  ``handle_time_by_queue``): talk time from the answered calls, and the agents' availability
  (busy share of present agents, see :func:`calibrate.backtest_observed.agent_availability`) from the
  minutes with that many callers waiting, both relative to the whole log.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from calibrate.profiles import _local, _presence, _step, infer_staffing

__all__ = ["offered_calls", "patience_profile", "waiting_at_answer", "handle_time_by_queue", "DEFAULT_STEPS"]

DEFAULT_STEPS = (0, 1, 3, 6, 10)


def offered_calls(contacts: pd.DataFrame) -> pd.DataFrame:
    """Calls that reached the agent queue with a known outcome: queue entry, end, served, wait (s)."""
    end = contacts["answered_at"].fillna(contacts["abandoned_at"])
    ok = contacts["queued_at"].notna() & end.notna()
    sub = contacts.loc[ok]
    return pd.DataFrame({"queued_at": sub["queued_at"], "end": end[ok], "served": sub["answered_at"].notna().to_numpy(),
                         "reason": sub["reason"], "wait_s": (end[ok] - sub["queued_at"]).dt.total_seconds().to_numpy()})


def patience_profile(contacts: pd.DataFrame, interval="60min", tz=None, min_n=50) -> pd.DataFrame:
    """Per interval of the day (by queue entry, local time): ``interval_of_day, offered,
    abandoned, mean_patience_s, multiplier``. Intervals with fewer than ``min_n`` abandonments
    keep multiplier 1 (too few to say)."""
    step = _step(interval)
    per_day = int(pd.Timedelta("1D") / step)
    off = offered_calls(contacts)
    columns = ["interval_of_day", "offered", "abandoned", "mean_patience_s", "multiplier"]
    abandoned = ~off["served"].to_numpy()
    if not abandoned.any():
        return pd.DataFrame(columns=columns)
    local = _local(off.assign(created_at=off["queued_at"]), tz)
    slot = ((local - local.dt.normalize()) // step).to_numpy(dtype=np.int64) % per_day
    n = np.bincount(slot, minlength=per_day)
    a = np.bincount(slot, weights=abandoned, minlength=per_day)
    w = np.bincount(slot, weights=off["wait_s"].to_numpy(), minlength=per_day)
    overall = w.sum() / a.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(a > 0, w / a, np.nan)
    multiplier = np.where(a >= min_n, mean / overall, 1.0)
    return pd.DataFrame({"interval_of_day": np.arange(per_day), "offered": n, "abandoned": a.astype(int),
                         "mean_patience_s": mean, "multiplier": np.round(multiplier, 4)})


def waiting_at_answer(contacts: pd.DataFrame) -> pd.Series:
    """For each answered call (index of ``contacts``): the other callers still waiting at that
    instant (queued before it, not yet answered or gone)."""
    off = offered_calls(contacts)
    q = np.sort(off["queued_at"].to_numpy(dtype="datetime64[ns]").astype(np.int64))
    e = np.sort(off["end"].to_numpy(dtype="datetime64[ns]").astype(np.int64))
    answered = contacts["answered_at"].dropna()
    t = answered.to_numpy(dtype="datetime64[ns]").astype(np.int64)
    n = np.searchsorted(q, t, side="left") - np.searchsorted(e, t, side="right")
    return pd.Series(np.maximum(n, 0), index=answered.index, name="waiting")


def handle_time_by_queue(contacts: pd.DataFrame, steps=DEFAULT_STEPS, max_gap="30min", min_n=50,
                         resolution="1min", lead="0s", lag="0s", talk_only=False) -> pd.DataFrame:
    """Agent time per call by the number of other callers waiting when it is answered.

    Per step (``waiting`` = its lowest queue length, up to the next step): ``calls`` answered
    there and their mean ``talk_s``; ``availability`` = busy ÷ present agents over the minutes
    whose mean queue lies in the step (minutes with less than one caller waiting measure idle
    time, not availability, so the first step takes the availability of the first step above one
    caller); ``multiplier`` = (talk_s ÷ mean talk) × (reference availability ÷ availability),
    where the reference is the availability over all minutes with at least one caller waiting
    (what the backtest divides talk time by). Steps with fewer than ``min_n`` calls or minutes
    take the multiplier of the step below. ``talk_only`` leaves availability out (multiplier = talk
    ratio): for a replay whose capacity already counts agents only while available
    (:func:`calibrate.capacity.revealed_capacity`).
    """
    steps = tuple(int(s) for s in steps)
    if not steps or steps[0] != 0 or any(b <= a for a, b in zip(steps, steps[1:])):
        raise ValueError(f"The 'steps' parameter of handle_time_by_queue must increase from 0. Got {steps!r} instead.")
    served = contacts["answered_at"].notna() & (contacts["handle_time_s"] > 0)
    waiting = waiting_at_answer(contacts).reindex(contacts.index[served])
    talk = contacts.loc[served, "handle_time_s"].to_numpy(dtype=float)
    k_call = np.searchsorted(steps, waiting.to_numpy(), side="right") - 1
    staffing = infer_staffing(contacts, interval=resolution, max_gap=max_gap, lead=lead, lag=lag)
    if staffing.empty or not served.any():  # nothing to measure: no step changes the handle time
        return pd.DataFrame({"waiting": list(steps), "calls": 0, "talk_s": math.nan, "minutes": 0,
                             "availability": math.nan, "multiplier": 1.0})
    off = offered_calls(contacts)
    first = staffing["interval_start"].iloc[0]
    edges = np.arange(len(staffing) + 1) * pd.Timedelta(resolution).total_seconds()
    t0 = (off["queued_at"] - first).dt.total_seconds().to_numpy()
    queue = _presence(t0, t0 + off["wait_s"].to_numpy(), edges)
    present, busy = staffing["agents"].to_numpy(), staffing["busy_agents"].to_numpy()
    on = present > 0
    k_min = np.searchsorted(steps, queue, side="right") - 1
    pressure = on & (queue >= 1.0)
    reference = busy[pressure].sum() / present[pressure].sum() if pressure.any() else math.nan
    rows = []
    for k, low in enumerate(steps):
        calls = k_call == k
        minutes = on & (k_min == k) & (queue >= 1.0)
        rows.append({"waiting": low, "calls": int(calls.sum()), "talk_s": float(talk[calls].mean()) if calls.any() else math.nan,
                     "minutes": int(minutes.sum()),
                     "availability": float(busy[minutes].sum() / present[minutes].sum()) if minutes.any() else math.nan})
    table = pd.DataFrame(rows)
    above = table.index[(table["minutes"] >= min_n) & (table["waiting"] > 0)]
    if len(above):  # the first step measures idle time: it takes the availability of the first step above
        table.loc[(table["waiting"] == 0) | (table["minutes"] < min_n), "availability"] = np.nan
        table["availability"] = table["availability"].bfill().ffill()
    mean_talk = float(talk.mean()) if talk.size else math.nan
    raw = (table["talk_s"] / mean_talk) * (1.0 if talk_only else reference / table["availability"])
    raw[table["calls"] < min_n] = np.nan
    table["multiplier"] = raw.ffill().fillna(1.0).round(4)
    table.attrs["reference_availability"] = reference
    return table
