"""What each contact brings with it, drawn when it is created: reason, work, patience, and its
path through automation and the chatbot.

Fresh contacts are drawn in numpy blocks from per-channel streams (the same customers at every
staffing level: common random numbers). Contacts created during a run (redials, chasers,
reopens, bot bounces) go through the same `draw`, one at a time, from their own streams.

Flags (bit field in the contact log):
    BOT        met the chatbot          CONTAINED  resolved by the bot (apparent containment)
    FALSE      "contained" but returns  AUTO       resolved by automation, never offered
    ESCALATED  bot handed it to an agent queue after the session
    BALKED     told the expected wait, left at once (never offered)
    PREVENTED  prevented by a proactive notification: never arrived (kept as a row so the
               prevented volume is reported, but left out of every contact KPI)
    CB_OFFERED offered a callback      CB_ACCEPTED  accepted it: left the queue at `deadline`;
               its callback is a row of origin `callback` (the two need a 16-bit flags column,
               which the log gets only when a channel offers callbacks)
    REOPENED   set after an agent's answer when the customer decides to reopen (not resolved)
    RETURN_LATE  set when this contact's follow-up (redial, reopen, bot bounce) would arrive after
               the horizon: the customer's issue is still open at the horizon (sim/journeys.py)
               REOPENED and RETURN_LATE are set during the run by sim/behaviour.py, after the model
               has read the flags; they also need the 16-bit flags column (sim/replication.py)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .calendar import multipliers
from .scenario import Scenario
from .scenario_peak import Reason

BOT, CONTAINED, FALSE, AUTO, ESCALATED = 1, 2, 4, 8, 16
BALKED, PREVENTED, CB_OFFERED, CB_ACCEPTED = 32, 64, 128, 256
REOPENED, RETURN_LATE = 512, 1024  # journey marks (need the 16-bit flags column: sim/replication.py)
GENERAL = "general"


def mix_vector(mix: dict[str, float] | None, reasons: list[str]) -> np.ndarray:
    """Reason shares as a probability vector over all reasons (no mix: everything is `general`)."""
    vector = np.zeros(len(reasons))
    if not mix:
        vector[0] = 1.0
        return vector
    for name, share in mix.items():
        vector[reasons.index(name)] = share
    return vector / vector.sum()


@dataclass
class Streams:
    """The random streams one channel's contacts are drawn from."""

    reason: np.random.Generator
    handle: np.random.Generator
    patience: np.random.Generator
    bot: np.random.Generator
    automation: np.random.Generator
    proactive: np.random.Generator | None = None  # fresh contacts only: prevention by notifications


class ContactFactory:
    """Turns arrival times on a channel into complete contact rows."""

    def __init__(self, scenario: Scenario, grid: pd.DataFrame):
        self.scenario = scenario
        self.interval = scenario.interval
        self.n_intervals = len(grid)
        self.reasons = [GENERAL] + [r for r in (scenario.reasons or {}) if r != GENERAL]
        self.reason_models = [(scenario.reasons or {}).get(name, Reason()) for name in self.reasons]
        self.channels = list(scenario.channels.values())
        self.handle_profiles = [multipliers(ch.handle_time_profile, grid) for ch in self.channels]
        self.patience_profiles = [multipliers(ch.patience_profile, grid) for ch in self.channels]
        self.reason_patience = any(m.patience is not None for m in self.reason_models)
        names = list(scenario.channels)
        dates = grid["date"].to_numpy()
        self.mixes: list[list[np.ndarray]] = []
        self.mix_of_interval: list[np.ndarray] = []
        for c, channel in enumerate(self.channels):
            mixes = [mix_vector(channel.reasons, self.reasons)]
            index = np.zeros(len(grid), dtype=np.int64)
            for event in scenario.events or []:
                if event.reason_mix and names[c] in event.reason_mix:
                    mixes.append(mix_vector(event.reason_mix[names[c]], self.reasons))
                    end = event.end or event.date
                    index[(dates >= event.date) & (dates <= end)] = len(mixes) - 1
            self.mixes.append(mixes)
            self.mix_of_interval.append(index)
        # automation (and prevention) apply from the first interval on or after its start date
        def first_interval(start):
            if start is None:
                return 0
            hits = np.flatnonzero(dates >= start)
            return int(hits[0]) if hits.size else self.n_intervals

        self.automation_from = [first_interval(r.automation.start if r.automation else None)
                                for r in self.reason_models]
        self.prevention = []  # per channel: [(reason, first interval, share)]
        for c, name in enumerate(names):
            self.prevention.append([(r, first_interval(m.proactive.start), m.proactive.deflect)
                                    for r, m in enumerate(self.reason_models)
                                    if m.proactive is not None and m.proactive.deflect > 0
                                    and (m.proactive.channels is None or name in m.proactive.channels)])

    def automation(self, c: int, r: int):
        """(first interval, automation) of reason r on channel c, or None if it never applies."""
        auto = self.reason_models[r].automation
        if auto is None or (auto.channels is not None and list(self.scenario.channels)[c] not in auto.channels):
            return None
        return self.automation_from[r], auto

    def draw(self, c: int, times: np.ndarray, rng: Streams, reason: np.ndarray | None = None,
             at_arrival: bool = True) -> dict[str, np.ndarray]:
        """Complete contact columns for arrivals `times` (seconds) on channel c (reasons drawn
        from the channel's mix unless given, as for a redial that keeps its reason).
        `at_arrival=False` leaves what depends on the arrival time (automation, the handle-time and
        patience profiles) to the caller (see `Templates`) and prevents nothing: notifications prevent
        fresh contacts only."""
        channel = self.channels[c]
        n = times.size
        k = np.minimum((times // self.interval).astype(np.int64), self.n_intervals - 1)
        if reason is None:
            reason = self._reasons(c, k, rng.reason)
        work = np.empty(n)
        present = np.flatnonzero(np.bincount(reason)) if n else ()  # = np.unique(reason) (small ints), without hashing
        for r in present:
            rows = reason == r
            model = self.reason_models[r]
            dist = model.handle_time or channel.handle_time
            work[rows] = dist.sample(rng.handle, int(rows.sum())) * model.handle_factor
        if channel.handle_time_profile is not None and at_arrival:
            work *= self.handle_profiles[c][k]
        flags = np.zeros(n, dtype=np.int8)
        queued = times.copy()
        for r in present if at_arrival else ():
            applies = self.automation(c, int(r))
            if applies is None:
                continue
            start, auto = applies
            active = (reason == r) & (k >= start)
            resolved = active & (rng.automation.random(n) < auto.auto_resolve)
            work[active] *= 1.0 - auto.handle_time_reduction
            flags[resolved] |= AUTO
            queued[resolved] = np.nan
        prevented = self._prevented(c, reason, k, rng) if at_arrival and self.prevention[c] else None
        if prevented is not None:  # never arrive: not automated, never meet the bot (its draws stay aligned)
            flags[prevented] = PREVENTED
            queued[prevented] = np.nan
        bot_end = np.full(n, np.nan)
        patience_factor = np.ones(n)
        bot = channel.bot
        if bot is not None:
            candidates = (flags & (AUTO | PREVENTED)) == 0
            session = bot.session.sample(rng.bot, n)
            containment = np.array([m.bot_containment if m.bot_containment is not None else bot.containment
                                    for m in self.reason_models])[reason]
            contained = candidates & (rng.bot.random(n) < containment)
            false = contained & (rng.bot.random(n) < bot.false_containment)
            escalated = candidates & ~contained
            flags[candidates] |= BOT
            flags[contained] |= CONTAINED
            flags[false] |= FALSE
            flags[escalated] |= ESCALATED
            bot_end[candidates] = times[candidates] + session[candidates]
            queued[contained] = np.nan
            queued[escalated] = bot_end[escalated]
            work[escalated] *= bot.escalation_handle_factor
            patience_factor[escalated] = bot.escalation_patience_factor
        patience = self._patience(channel, reason, present, rng.patience)
        if patience is not None:
            if channel.patience_profile is not None and at_arrival:
                patience_factor = patience_factor * self.patience_profiles[c][k]
            deadline = queued + patience * patience_factor
        else:
            deadline = np.full(n, np.inf)
        return {"arrival": times, "queued": queued, "deadline": deadline, "work": work,
                "reason": reason, "flags": flags, "bot_end": bot_end}

    def _patience(self, channel, reason: np.ndarray, present, rng: np.random.Generator) -> np.ndarray | None:
        """Each contact's patience (s): its reason's own on a sync channel, else the channel's; None
        if nobody abandons. Without reason patience the stream is used exactly as before."""
        own = (self.reason_patience and channel.kind == "sync"
               and any(self.reason_models[r].patience is not None for r in present))
        if not own:
            return None if channel.patience is None else channel.patience.sample(rng, reason.size)
        patience = np.full(reason.size, np.inf)
        for r in present:
            dist = self.reason_models[r].patience or channel.patience
            if dist is not None:
                rows = reason == r
                patience[rows] = dist.sample(rng, int(rows.sum()))
        return patience

    def _prevented(self, c: int, reason: np.ndarray, k: np.ndarray, rng: Streams) -> np.ndarray:
        """Which contacts proactive notifications prevent: one uniform per contact from the channel's own
        stream (drawn for all, so the decision of one contact does not depend on the others')."""
        u = rng.proactive.random(reason.size)
        prevented = np.zeros(reason.size, dtype=bool)
        for r, start, share in self.prevention[c]:
            prevented |= (reason == r) & (k >= start) & (u < share)
        return prevented

    def _reasons(self, c: int, k: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        mixes = self.mixes[c]
        if len(mixes) == 1 and mixes[0][0] == 1.0:
            return np.zeros(k.size, dtype=np.int64)
        which = self.mix_of_interval[c][k]
        u = rng.random(k.size)
        cumulative = np.cumsum(np.vstack(mixes), axis=1)
        cumulative[:, -1] = 1.0
        return (u[:, None] >= cumulative[which]).sum(axis=1).astype(np.int64)


class Templates:
    """Contacts created during the run, drawn in blocks per (channel, reason) relative to time 0.

    One `draw` call per block keeps a single source of truth for what a contact brings while
    costing microseconds per contact; what depends on the arrival time is applied when the
    contact is created: automation (from its date) and the handle-time and patience multipliers of
    the interval the contact arrives in (a redial at 14:00 gets 14:00's multiplier, not that of time 0).
    """

    BLOCK = 512

    def __init__(self, factory: ContactFactory, streams: list[Streams], uniform: list):
        self.factory, self.streams, self.uniform = factory, streams, uniform
        self.buffers: dict[tuple[int, int], list] = {}
        self.profiles = [None if ch.handle_time_profile is None else factory.handle_profiles[c].tolist()
                         for c, ch in enumerate(factory.channels)]
        self.patience_profiles = [None if ch.patience_profile is None else factory.patience_profiles[c].tolist()
                                  for c, ch in enumerate(factory.channels)]

    def contact(self, c: int, r: int, t: float) -> tuple[float, float, float, int, float]:
        """(queued, deadline, work, flags, bot_end) for a contact on channel c, reason r, arriving at t."""
        buffer = self.buffers.get((c, r))
        if not buffer:
            cols = self.factory.draw(c, np.zeros(self.BLOCK), self.streams[c], np.full(self.BLOCK, r),
                                     at_arrival=False)
            buffer = list(zip(cols["queued"].tolist(), cols["deadline"].tolist(), cols["work"].tolist(),
                              cols["flags"].tolist(), cols["bot_end"].tolist()))
            buffer.reverse()
            self.buffers[(c, r)] = buffer
        queued, deadline, work, flags, bot_end = buffer.pop()
        profile = self.profiles[c]
        if profile is not None:
            work *= profile[min(int(t // self.factory.interval), len(profile) - 1)]
        patience = self.patience_profiles[c]
        if patience is not None and math.isfinite(deadline):
            deadline = queued + (deadline - queued) * patience[min(int(t // self.factory.interval), len(patience) - 1)]
        applies = self.factory.automation(c, r)
        if applies is not None and int(t // self.factory.interval) >= applies[0]:
            auto = applies[1]
            if self.uniform[c]() < auto.auto_resolve:
                return math.nan, math.inf, work, AUTO, math.nan
            work *= 1.0 - auto.handle_time_reduction
        return t + queued, t + deadline, work, flags, t + bot_end
