"""Agents available for calls, revealed by congestion in a ticket log; teams that serve one call type.

A ticket log shows agents *talking*, not agents *available*. Sessions built from service spells
(:func:`calibrate.profiles.infer_staffing`) count an agent present from the first call to the
last, breaks and wrap-up included, so the backtest had to divide talk time by one availability
factor for the whole period. But availability is not constant: congestion starts precisely when
agents step away. The log does show capacity directly at some moments:

* **while a caller waits** (one who was later answered), a work-conserving centre has every
  available agent busy: the agents in service at that moment *are* the capacity;
* **while nobody waits**, an agent idle inside a session (a gap between two calls shorter than
  ``max_gap``), from ``wrap`` after a call until the next one, is counted available.

So capacity = agents in service + idle agents while nobody they could serve is waiting
(:func:`revealed_capacity`), per reporting step and time-weighted: the replay's agents then
spend all their time on calls (raw talk time, availability 1). Only callers who were later
answered count as waiting: the abandonment times of a replayed period must not shape its
capacity (the backtest's leak test).

**Teams** (:func:`dedicated_teams`): agents who serve (almost) only one call type — a new
internet-banking team, a stock-exchange desk — are a group of their own that serves that type
only, beside the generalists who serve every type. Which agents form a team is read from each
period's own service spells, like its staffing; it does not involve abandonment either.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from calibrate.profiles import _presence, _step
from sim.schedule import timeline_average

__all__ = ["revealed_capacity", "dedicated_teams", "contacts_per_busy_agent", "GENERALISTS", "CAPACITY_COLUMNS",
           "TEAM_COLUMNS"]

GENERALISTS = "generalists"
CAPACITY_COLUMNS = ["interval_start", "group", "agents", "busy_agents", "idle_agents", "congested_share"]
TEAM_COLUMNS = ["agent_id", "calls", "reason", "share", "team"]
_NO_REASON = "unspecified"


def _reasons(frame: pd.DataFrame) -> pd.Series:
    return frame["reason"].astype("string").fillna(_NO_REASON).astype(str)


def dedicated_teams(contacts: pd.DataFrame, min_share=0.9, min_calls=30) -> pd.DataFrame:
    """Each agent's most served call type and its share of the agent's calls; ``team`` is that
    type when the share is at least ``min_share`` over at least ``min_calls`` calls (else empty:
    a generalist). A type that every agent serves mostly (the majority type) forms no team."""
    if not 0.5 < min_share <= 1:
        raise ValueError(f"The 'min_share' parameter of dedicated_teams must be in (0.5, 1]. Got {min_share!r} instead.")
    served = contacts[contacts["answered_at"].notna() & contacts["agent_id"].notna()]
    if served.empty:
        return pd.DataFrame(columns=TEAM_COLUMNS)
    table = pd.crosstab(served["agent_id"].astype(str), _reasons(served))
    calls = table.sum(axis=1)
    main = table.idxmax(axis=1)
    share = table.max(axis=1) / calls
    majority = table.sum(axis=0).idxmax()
    team = main.where((share >= min_share) & (calls >= min_calls) & (main != majority), "")
    return pd.DataFrame({"agent_id": table.index, "calls": calls.to_numpy(), "reason": main.to_numpy(),
                         "share": share.round(4).to_numpy(), "team": team.to_numpy()})



def contacts_per_busy_agent(contacts: pd.DataFrame) -> float:
    """Contacts an agent holds at once while busy (Σ service time ÷ each agent's busy time): 1 on a
    one-call-at-a-time channel (a phone log's rare overlapping records aside), more on chat."""
    served = contacts["agent_id"].notna() & contacts["answered_at"].notna() & (contacts["handle_time_s"] > 0)
    if not served.any():
        return 1.0
    start = contacts.loc[served, "answered_at"].astype("int64").to_numpy() / 1e9
    spells = pd.DataFrame({"agent": contacts.loc[served, "agent_id"].astype(str).to_numpy(), "start": start,
                           "end": start + contacts.loc[served, "handle_time_s"].to_numpy(dtype=float)})
    spells = spells.sort_values(["agent", "start"], kind="stable")
    reach = spells.groupby("agent", sort=False)["end"].cummax()
    before = reach.groupby(spells["agent"], sort=False).shift().fillna(-np.inf)
    busy = (spells["end"].clip(lower=before) - spells["start"].clip(lower=before)).clip(lower=0).sum()
    return float((spells["end"] - spells["start"]).sum() / busy) if busy > 0 else 1.0

def _count(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The number of spells [start, end) open from each change time on: (times, counts)."""
    if len(starts) == 0:
        return np.zeros(0), np.zeros(0)
    t = np.concatenate([starts, ends])
    d = np.concatenate([np.ones(len(starts)), -np.ones(len(ends))])
    order = np.argsort(t, kind="stable")
    t, level = t[order], np.cumsum(d[order])
    last = np.r_[t[1:] != t[:-1], True]  # the level after every change at one instant
    return t[last], level[last]


def _at(times: np.ndarray, counts: np.ndarray, points: np.ndarray) -> np.ndarray:
    k = np.searchsorted(times, points, side="right") - 1
    return np.where(k >= 0, counts[np.maximum(k, 0)], 0.0) if len(times) else np.zeros(len(points))


def _idle_spells(spells: pd.DataFrame, wrap: float, max_gap: float) -> tuple[np.ndarray, np.ndarray]:
    """Per agent, the idle part of each gap between calls: from ``wrap`` after the calls so far
    ended until the next call starts, in gaps of at most ``max_gap`` (longer ones end a session)."""
    spells = spells.sort_values(["agent", "start"], kind="stable")
    reach = spells.groupby("agent", sort=False)["end"].cummax()
    following = spells.groupby("agent", sort=False)["start"].shift(-1)
    gap = following - reach
    keep = (gap <= max_gap) & (gap > wrap)
    return (reach[keep] + wrap).to_numpy(dtype=float), following[keep].to_numpy(dtype=float)


def revealed_capacity(contacts: pd.DataFrame, interval="15min", wrap="10s", max_gap="30min",
                      teams: pd.DataFrame | None = None) -> pd.DataFrame:
    """Agents available per interval (time-weighted, fractional) and per group, from service spells.

    ``agents`` = ``busy_agents`` (in service) + ``idle_agents`` (idle inside a session, ``wrap``
    after a call, while no later-answered caller of a type the agent serves was waiting);
    ``congested_share`` is the share of the interval with such a caller waiting. Groups: one
    per team of ``teams`` (:func:`dedicated_teams`; serving its type only) and
    ``"generalists"`` (every other agent, serving every type), or ``"generalists"`` alone.
    Returns ``CAPACITY_COLUMNS``, one row per interval and group.
    """
    step = _step(interval)
    wrap_s, gap_s = pd.Timedelta(wrap).total_seconds(), pd.Timedelta(max_gap).total_seconds()
    if wrap_s < 0 or gap_s <= 0:
        raise ValueError(f"The 'wrap' and 'max_gap' parameters of revealed_capacity must be ≥ 0 and > 0. "
                         f"Got {wrap!r}, {max_gap!r} instead.")
    served = contacts["agent_id"].notna() & contacts["answered_at"].notna() & (contacts["handle_time_s"] >= 0)
    if not served.any():
        return pd.DataFrame(columns=CAPACITY_COLUMNS)
    first = contacts.loc[served, "answered_at"].min()
    waited = contacts["queued_at"].notna() & contacts["answered_at"].notna()
    if waited.any():
        first = min(first, contacts.loc[waited, "queued_at"].min())
    first = first.floor(step, ambiguous=False, nonexistent="shift_forward")
    secs = lambda times: (times - first).dt.total_seconds().to_numpy()  # noqa: E731
    start = secs(contacts.loc[served, "answered_at"])
    spells = pd.DataFrame({"agent": contacts.loc[served, "agent_id"].astype(str).to_numpy(), "start": start,
                           "end": start + contacts.loc[served, "handle_time_s"].to_numpy(dtype=float)})
    width = step.total_seconds()
    n_bins = max(1, int(np.ceil(spells["end"].max() / width)))
    edges = np.arange(n_bins + 1) * width
    queue_reason = _reasons(contacts.loc[waited]).to_numpy()
    queue_start, queue_end = secs(contacts.loc[waited, "queued_at"]), secs(contacts.loc[waited, "answered_at"])
    team_of = {} if teams is None else {a: t for a, t in zip(teams["agent_id"], teams["team"]) if t}
    spells["group"] = [team_of.get(a, GENERALISTS) for a in spells["agent"]]
    frames = []
    for group, part in spells.groupby("group", sort=True):
        mine = np.ones(len(queue_reason), bool) if group == GENERALISTS else queue_reason == group
        q_times, q_counts = _count(queue_start[mine], queue_end[mine])
        i_times, i_counts = _count(*_idle_spells(part, wrap_s, gap_s))
        times = np.union1d(q_times, i_times)
        free = _at(i_times, i_counts, times) * (_at(q_times, q_counts, times) <= 0)
        idle = timeline_average(times, free, edges) if len(times) else np.zeros(n_bins)
        congested = timeline_average(q_times, (q_counts > 0).astype(float), edges) if len(q_times) else np.zeros(n_bins)
        busy = _presence(part["start"].to_numpy(), part["end"].to_numpy(), edges)
        frames.append(pd.DataFrame({"interval_start": first + step * np.arange(n_bins), "group": group,
                                    "agents": busy + idle, "busy_agents": busy, "idle_agents": idle,
                                    "congested_share": congested}))
    return pd.concat(frames, ignore_index=True)[CAPACITY_COLUMNS]
