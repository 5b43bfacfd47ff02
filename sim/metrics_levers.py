"""KPIs of the peak levers (docs/levers.md) that need more than a flag count: the rows Outcomes sets
apart (prevented contacts, callbacks), each reason's own service-level target, and the work
groups do on channels they help with (overflow). Flag counts (balked, callbacks offered and
accepted, overflowed) are made with the other counts in `sim.metrics`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .replication import ReplicationRecords
from .scenario import Scenario


def apart_kpis(out: pd.DataFrame, o, key_of, n_keys: int, promise: np.ndarray,
                since: float = -np.inf) -> None:
    """Add the KPIs of the rows Outcomes set apart, keyed like `out` (in place): `prevented`, and for
    callbacks completed, pending at the horizon, within promise, their wait (request → answer) and the
    share that met the promise (within ÷ (completed + pending already past it)).

    `key_of(arrival, channel, reason)` gives the key; only rows arriving at `since` or later count.
    """
    out["prevented"] = out["callbacks_completed"] = out["callbacks_pending"] = 0.0
    out["callbacks_within_promise"] = 0.0
    out["callback_wait_s"] = out["callback_promise_met"] = np.nan

    def keyed(rows: dict) -> tuple[np.ndarray, dict]:
        keep = rows["arrival"] >= since
        rows = {name: column[keep] for name, column in rows.items()}
        return key_of(rows["arrival"], rows["channel"].astype(np.int64), rows["reason"].astype(np.int64)), rows

    def count(key, mask=None):
        return np.bincount(key if mask is None else key[mask], minlength=n_keys)[:n_keys].astype(float)

    if o.prevented is not None:
        out["prevented"] = count(keyed(o.prevented)[0])
    if o.callbacks is not None:
        key, cb = keyed(o.callbacks)
        done = ~np.isnan(cb["answered"])
        wait = cb["answered"] - cb["queued"]
        allowed = promise[cb["channel"]]
        completed, within = count(key, done), count(key, done & (wait <= allowed))
        late = ~done & (o.horizon_s - cb["queued"] > allowed)  # pending and past the promise already: a miss
        out["callbacks_completed"], out["callbacks_pending"] = completed, count(key, ~done)
        out["callbacks_within_promise"] = within
        decided = completed + count(key, late)
        with np.errstate(invalid="ignore", divide="ignore"):
            out["callback_wait_s"] = np.where(completed > 0, np.bincount(key[done], weights=wait[done],
                                                                        minlength=n_keys)[:n_keys] / completed, np.nan)
            out["callback_promise_met"] = np.where(decided > 0, within / decided, np.nan)


def promises(scenario: Scenario) -> np.ndarray:
    """Each channel's callback promise, seconds (inf where the channel offers no callbacks)."""
    return np.array([ch.callback.promise if ch.callback else np.inf for ch in scenario.channels.values()])


def reason_thresholds(scenario: Scenario, n_reasons: int) -> tuple[np.ndarray, np.ndarray]:
    """Service-level threshold and target per channel × reason: the reason's own, else the channel's."""
    from .contacts import GENERAL

    names = [GENERAL] + [r for r in (scenario.reasons or {}) if r != GENERAL]
    threshold, target = np.zeros((len(scenario.channels), n_reasons)), np.zeros((len(scenario.channels), n_reasons))
    for c, channel in enumerate(scenario.channels.values()):
        for r, name in enumerate(names[:n_reasons]):
            own = (scenario.reasons or {}).get(name)
            level = own.service_level if own is not None and own.service_level is not None else channel.service_level
            threshold[c, r], target[c, r] = level.threshold, level.target
    return threshold, target


def overflow_work(rec: ReplicationRecords, scenario: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """Per group × interval (group-major, as replication_groups): contacts each group answered on channels
    it lacks as a skill, by interval of answer, and their agent time (answer → end, or the horizon)."""
    c = rec.contacts
    n, n_groups = scenario.n_intervals, len(scenario.agents)
    group = c["group"].astype(np.int64)
    helped = (group >= 0) & ~rec.own_skills[np.maximum(group, 0), c["channel"]]
    answered = c["answered"][helped]
    busy = np.fmin(c["end"][helped], rec.horizon_s) - answered
    key = group[helped] * n + np.minimum(answered // scenario.interval, n - 1).astype(np.int64)
    size = n_groups * n
    return (np.bincount(key, minlength=size).astype(float), np.bincount(key, weights=busy, minlength=size))
