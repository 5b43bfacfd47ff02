"""Per-contact records → KPI tables: per replication, then mean and 95% CI over replications.

Definitions follow DESIGN.md: contacts are attributed to the interval in which they
arrived; service level = handled within threshold ÷ (handled + abandoned); ASA and wait
percentiles are over handled contacts; occupancy = time with at least one contact ÷ time on
shift. Every table is tidy: one row per (replication,) interval, channel or group.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .replication import ReplicationRecords
from .scenario import Scenario

COUNT_KPIS = ["arrived", "offered", "handled", "abandoned", "waiting_end"]
RATE_KPIS = ["abandon_rate", "service_level", "asa_s", "wait_p50_s", "wait_p90_s", "backlog"]
CHANNEL_KPIS = COUNT_KPIS + RATE_KPIS
GROUP_KPIS = ["agents", "occupancy"]
BOUNDED_KPIS = {"abandon_rate", "service_level", "occupancy"}  # shares: a CI never leaves [0, 1]


def contact_outcomes(rec: ReplicationRecords) -> pd.DataFrame:
    """One row per contact with derived outcome flags and wait (seconds)."""
    c = rec.contacts
    answered = ~np.isnan(c["answered"])
    offered = ~np.isnan(c["queued"])
    abandoned = offered & ~answered & (c["deadline"] <= rec.horizon_s)
    wait = np.where(answered, c["answered"] - c["queued"],
                    np.where(abandoned, c["deadline"] - c["queued"], np.nan))
    left = np.where(answered, c["answered"], np.where(abandoned, c["deadline"], np.inf))
    return pd.DataFrame({
        "arrival": c["arrival"], "queued": c["queued"], "left_queue": left, "channel": c["channel"],
        "origin": c["origin"], "customer": c["customer"], "reason": c["reason"],
        "offered": offered, "handled": answered, "abandoned": abandoned,
        "waiting_end": offered & ~answered & ~abandoned, "wait": wait,
    })


def _channel_kpis(df: pd.DataFrame, thresholds: np.ndarray, keys: list[str]) -> pd.DataFrame:
    """KPIs for each combination of `keys` (e.g. interval and channel) from per-contact outcomes."""
    df = df.assign(
        within=df["handled"] & (df["wait"] <= thresholds[df["channel"].to_numpy()]),
        handled_wait=df["wait"].where(df["handled"]),
    )
    grouped = df.groupby(keys, sort=True)
    out = grouped.agg(
        arrived=("arrival", "size"), offered=("offered", "sum"), handled=("handled", "sum"),
        abandoned=("abandoned", "sum"), waiting_end=("waiting_end", "sum"), within=("within", "sum"),
        asa_s=("handled_wait", "mean"),
    )
    out["wait_p50_s"] = grouped["handled_wait"].quantile(0.5)
    out["wait_p90_s"] = grouped["handled_wait"].quantile(0.9)
    answered_or_left = out["handled"] + out["abandoned"]
    out["service_level"] = (out["within"] / answered_or_left).where(answered_or_left > 0)
    out["abandon_rate"] = (out["abandoned"] / out["offered"]).where(out["offered"] > 0)
    return out.drop(columns="within").reset_index()


def queue_at(times: np.ndarray, queued: np.ndarray, left: np.ndarray) -> np.ndarray:
    """Number of contacts waiting at each of `times` (entered the queue at or before, not yet left)."""
    entered = np.searchsorted(np.sort(queued), times, side="right")
    gone = np.searchsorted(np.sort(left), times, side="right")
    return entered - gone


def replication_intervals(rec: ReplicationRecords, scenario: Scenario) -> pd.DataFrame:
    """Per interval × channel KPIs of one replication (all intervals, warm-up included)."""
    outcomes = contact_outcomes(rec)
    thresholds = np.array([ch.service_level.threshold for ch in scenario.channels.values()])
    n = scenario.n_intervals
    outcomes["interval"] = np.minimum((outcomes["arrival"] // scenario.interval).astype(int), n - 1)
    table = _channel_kpis(outcomes, thresholds, ["interval", "channel"])
    full = pd.MultiIndex.from_product([range(n), range(len(scenario.channels))], names=["interval", "channel"])
    table = table.set_index(["interval", "channel"]).reindex(full).reset_index()
    table[COUNT_KPIS] = table[COUNT_KPIS].fillna(0)
    ends = np.minimum((np.arange(n) + 1) * scenario.interval, scenario.horizon_s)
    backlog = np.zeros((n, len(scenario.channels)))
    offered = outcomes[outcomes["offered"]]
    for c in range(len(scenario.channels)):
        sub = offered[offered["channel"] == c]
        backlog[:, c] = queue_at(ends, sub["queued"].to_numpy(), sub["left_queue"].to_numpy())
    table["backlog"] = backlog[table["interval"].to_numpy(), table["channel"].to_numpy()]
    table.insert(0, "replication", rec.replication)
    return table


def replication_summary(rec: ReplicationRecords, scenario: Scenario) -> pd.DataFrame:
    """Per channel KPIs of one replication over contacts arriving after the warm-up."""
    outcomes = contact_outcomes(rec)
    outcomes = outcomes[outcomes["arrival"] >= scenario.warmup]
    thresholds = np.array([ch.service_level.threshold for ch in scenario.channels.values()])
    table = _channel_kpis(outcomes, thresholds, ["channel"])
    full = pd.Index(range(len(scenario.channels)), name="channel")
    table = table.set_index("channel").reindex(full).reset_index()
    table[COUNT_KPIS] = table[COUNT_KPIS].fillna(0)
    table["backlog"] = np.nan
    table.insert(0, "replication", rec.replication)
    return table


def spell_seconds(starts: np.ndarray, ends: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Total spell time falling in each [edges[k], edges[k+1]) (vectorised, no loop over spells)."""
    def covered_before(t):
        s = np.sort(starts)
        e = np.sort(ends)
        ns = np.searchsorted(s, t, side="right")
        ne = np.searchsorted(e, t, side="right")
        cs = np.r_[0.0, np.cumsum(s)]
        ce = np.r_[0.0, np.cumsum(e)]
        return (ns * t - cs[ns]) - (ne * t - ce[ne])
    return np.diff(covered_before(edges))


def replication_groups(rec: ReplicationRecords, scenario: Scenario) -> pd.DataFrame:
    """Per interval × group: mean agents on shift and occupancy."""
    n = scenario.n_intervals
    edges = np.minimum(np.arange(n + 1) * scenario.interval, scenario.horizon_s)
    length = np.diff(edges)
    frames = []
    for g in range(len(scenario.agents)):
        staffed = rec.staffed["group"] == g
        busy = rec.busy["group"] == g
        on = spell_seconds(rec.staffed["start"][staffed], rec.staffed["end"][staffed], edges)
        used = spell_seconds(rec.busy["start"][busy], rec.busy["end"][busy], edges)
        frames.append(pd.DataFrame({
            "interval": np.arange(n), "group": g, "agents": on / length,
            "occupancy": np.where(on > 0, used / np.where(on > 0, on, 1.0), np.nan),
            "busy_s": used, "staffed_s": on,
        }))
    table = pd.concat(frames, ignore_index=True)
    table.insert(0, "replication", rec.replication)
    return table


def mean_ci(per_rep: pd.DataFrame, keys: list[str], kpis: list[str], level: float = 0.95) -> pd.DataFrame:
    """Mean over replications with a Student-t confidence interval (`_lo`, `_hi`) per KPI."""
    grouped = per_rep.groupby(keys, sort=True)[kpis]
    mean = grouped.mean()
    sd = grouped.std(ddof=1)
    count = grouped.count()
    t = stats.t.ppf(0.5 + level / 2, np.maximum(count - 1, 1))
    half = pd.DataFrame(t, index=count.index, columns=kpis) * sd / np.sqrt(count)
    half = half.where(count > 1)
    columns = {}
    for kpi in kpis:
        columns[kpi] = mean[kpi]
        upper = 1.0 if kpi in BOUNDED_KPIS else np.inf
        columns[f"{kpi}_lo"] = (mean[kpi] - half[kpi]).clip(lower=0.0)
        columns[f"{kpi}_hi"] = (mean[kpi] + half[kpi]).clip(upper=upper)
    return pd.DataFrame(columns).reset_index()
