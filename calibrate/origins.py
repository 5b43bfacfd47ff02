"""Where each contact came from: fresh demand, or a repeat of a contact the same customer made before.

Why: a ticket export counts every contact, but a scenario that simulates customer behaviour
creates the repeats itself (sim/behaviour.py). Fitting arrivals on all contacts would count
redials, chasers, reopens and bot bounces twice, and most of all on the peak days, when
abandonment and slow answers multiply them. So arrivals are fitted on fresh contacts only and
the repeats become behaviour rates (calibrate/repeats.py).

A contact is compared with the **same customer's previous contact** (``customer_id``; contacts
without one are fresh). With ``t`` its creation time and ``p`` that previous contact, it is:

============ =================================================================================
redial       ``p`` was abandoned, and ``t`` is at most ``windows.redial`` after the abandonment
bot_bounce   the bot resolved ``p``, and ``t`` is at most ``windows.bot_bounce`` after ``p`` was created
chaser       ``p`` is on an async channel, still unanswered at ``t`` (not abandoned), and ``t`` is at
             most ``windows.chaser`` after ``p`` was created
reopen       an agent finished ``p`` (answer + handle time, else ``resolved_at``) before ``t``, at most
             ``windows.reopen`` earlier, and ``p`` is not marked ``reopened = false``
fresh        anything else: a new need (a customer's first contact, or one long after the last)
============ =================================================================================

The defaults (24 h, 72 h, 72 h, 7 days) are wider than the delays customers usually take
(minutes for a redial, hours to a day or two for the others) and short enough that a customer's
new need a week later counts as fresh; change them with ``peaksim calibrate --window NAME=DURATION``.

A channel is ``async`` (email, messaging: a backlog, no abandonment) when it has no abandonments
and either has ``resolved_at`` times or a median wait of at least 30 minutes; otherwise ``sync``.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

__all__ = ["ORIGINS", "Windows", "channel_kinds", "classify", "origin_counts"]

ORIGINS = ("fresh", "redial", "chaser", "reopen", "bot_bounce")
_ASYNC_MEDIAN_WAIT = pd.Timedelta("30min")


@dataclass(frozen=True)
class Windows:
    """How long after the previous contact a repeat is still counted as one (pandas durations)."""

    redial: str = "24h"
    chaser: str = "72h"
    reopen: str = "168h"
    bot_bounce: str = "72h"

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            try:
                ok = pd.Timedelta(value) > pd.Timedelta(0)
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise ValueError(f"The '{f.name}' window must be a positive duration such as 24h or 7d. "
                                 f"Got {value!r} instead.")

    @classmethod
    def parse(cls, specs: list[str] | None) -> "Windows":
        """``["redial=12h", "reopen=3d"]`` → Windows (the CLI's ``--window NAME=DURATION``)."""
        values = {}
        names = [f.name for f in fields(cls)]
        for spec in specs or []:
            name, _, duration = str(spec).partition("=")
            if name.strip() not in names or not duration.strip():
                raise ValueError(f"The window {spec!r} must be NAME=DURATION with NAME one of {', '.join(names)}, "
                                 "e.g. redial=12h.")
            values[name.strip()] = duration.strip()
        return cls(**values)

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def channel_kinds(contacts: pd.DataFrame) -> dict[str, str]:
    """``{channel: "sync" | "async"}`` from abandonments, resolution times and waits (module doc)."""
    kinds = {}
    for channel, sub in contacts.groupby("channel", observed=True):
        if sub["abandoned_at"].notna().any():
            kinds[str(channel)] = "sync"
            continue
        wait = (sub["answered_at"] - sub["queued_at"].fillna(sub["created_at"])).dropna()
        slow = len(wait) > 0 and wait.median() >= _ASYNC_MEDIAN_WAIT
        kinds[str(channel)] = "async" if sub["resolved_at"].notna().any() or slow else "sync"
    return kinds


def _end_of_service(contacts: pd.DataFrame) -> pd.Series:
    handled = contacts["answered_at"] + pd.to_timedelta(contacts["handle_time_s"], unit="s")
    return handled.fillna(contacts["resolved_at"])


def classify(contacts: pd.DataFrame, kinds: dict[str, str] | None = None,
             windows: Windows | None = None) -> pd.DataFrame:
    """One row per contact (same index as ``contacts``): ``origin`` (one of :data:`ORIGINS`) and
    ``prior`` (the index label of the previous contact it repeats, -1 for fresh)."""
    windows = windows or Windows()
    kinds = kinds if kinds is not None else channel_kinds(contacts)
    out = pd.DataFrame({"origin": pd.Series("fresh", index=contacts.index, dtype=object),
                        "prior": pd.Series(-1, index=contacts.index, dtype=np.int64)})
    known = contacts[contacts["customer_id"].notna()]
    if known.empty:
        return out
    order = known.sort_values(["customer_id", "created_at"], kind="stable")
    same = order["customer_id"].eq(order["customer_id"].shift())
    prev = order.shift()
    t = order["created_at"]
    is_async = prev["channel"].map(kinds).eq("async")
    end = _end_of_service(prev)
    bot_resolved = prev["bot_resolved"].fillna(False).astype(bool)
    reopened = prev["reopened"]
    w = {name: pd.Timedelta(value) for name, value in windows.to_dict().items()}
    redial = same & prev["abandoned_at"].notna() & (prev["abandoned_at"] <= t) & (t - prev["abandoned_at"] <= w["redial"])
    bounce = same & bot_resolved & (t - prev["created_at"] <= w["bot_bounce"])
    waiting = prev["abandoned_at"].isna() & ~bot_resolved & (prev["answered_at"].isna() | (prev["answered_at"] > t))
    chaser = same & is_async & waiting & (t - prev["created_at"] <= w["chaser"])
    reopen = (same & end.notna() & (end <= t) & (t - end <= w["reopen"])
              & ~reopened.eq(False).fillna(False).astype(bool))
    origin = np.select([redial.to_numpy(bool), bounce.to_numpy(bool), chaser.to_numpy(bool), reopen.to_numpy(bool)],
                       ["redial", "bot_bounce", "chaser", "reopen"], default="fresh")
    prior = np.where(origin != "fresh", np.concatenate([[-1], order.index.to_numpy()[:-1]]), -1)
    out.loc[order.index, "origin"] = origin
    out.loc[order.index, "prior"] = prior.astype(np.int64)
    return out


def origin_counts(contacts: pd.DataFrame, origins: pd.DataFrame) -> pd.DataFrame:
    """``channel, fresh, redial, chaser, reopen, bot_bounce, contacts, fresh_share`` per channel."""
    table = (pd.crosstab(contacts["channel"].astype(str), origins["origin"])
             .reindex(columns=list(ORIGINS), fill_value=0))
    table["contacts"] = table.sum(axis=1)
    table["fresh_share"] = table["fresh"] / table["contacts"]
    return table.rename_axis("channel").reset_index().rename_axis(None, axis=1)
