"""The peak levers inside a run: priority by reason, callbacks (virtual hold), balking and overflow.

`PeakLevers` wires the scenario's levers into a `ContactCentre`'s hooks, as `CustomerBehaviour`
does for customers under strain, and installs nothing a scenario does not use, so the hot paths
of a plain queue are untouched. Proactive notifications act earlier, when fresh contacts are
drawn (`ContactFactory`), because a prevented contact never reaches the model.

**Expected wait** (what balking customers and callback offers are told): the queue-length
estimator E[W] = (q + 1) × AHT ÷ (s × concurrency), with q the contacts waiting ahead of the
newcomer (its rank and better), AHT the channel's mean handle time and s the agents on shift who
have the channel as a skill. It is exact for a FIFO M/M/s queue without abandonment whose
servers are all busy; with abandonment it overstates the wait a little (callers ahead may hang up).
A customer who finds an agent free is answered at once and is told nothing.

**Callbacks** become a new contact row (origin `callback`, same customer, reason, work and
arrival time; `queued` = when the callback was requested; no patience) that waits in the channel's
queue at the callback rank (default: after every live caller; `callback.priority` puts it on the
reasons' scale). The caller's own row is flagged CB_ACCEPTED and leaves the queue at `deadline`.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import deque

import numpy as np

from .contacts import BALKED, CB_ACCEPTED, CB_OFFERED, ContactFactory
from .distributions import BlockSampler
from .model import ContactCentre
from .queues import RankedQueue, waiting_ahead
from .records import ORIGINS
from .scenario import Scenario
from .scenario_levers import Balking, priority_key

CALLBACK = ORIGINS.index("callback")
NAN = float("nan")


def queue_ranks(scenario: Scenario, reasons: list[str], models) -> list[tuple[int, list[int], int] | None]:
    """Per channel: (number of ranks, rank of each reason, rank of callbacks), or None when every
    contact of the channel has the same rank (a plain FIFO deque serves it)."""
    out = []
    reason_keys = [priority_key(m.priority, 1) for m in models]
    for channel in scenario.channels.values():
        keys = list(reason_keys)
        callback_key = None
        if channel.callback is not None:
            callback_key = priority_key(channel.callback.priority, 2)
            keys.append(callback_key)
        distinct = sorted(set(keys))
        if len(distinct) == 1:
            out.append(None)
            continue
        rank = {key: k for k, key in enumerate(distinct)}
        out.append((len(distinct), [rank[key] for key in reason_keys],
                    rank[callback_key] if callback_key is not None else -1))
    return out


def balk_curve(balking: Balking):
    """P(balk | told `wait`) as a plain-Python function (called once per waiting contact)."""
    if balking.points is None:
        top, scale = balking.max, balking.scale
        return lambda wait: top * -math.expm1(-wait / scale)
    waits = [p.wait for p in balking.points]
    probs = [p.probability for p in balking.points]

    def curve(wait: float) -> float:
        k = bisect_right(waits, wait)
        if k == 0:
            return probs[0]
        if k == len(waits) or wait == math.inf:
            return probs[-1]
        share = (wait - waits[k - 1]) / (waits[k] - waits[k - 1])
        return probs[k - 1] + share * (probs[k] - probs[k - 1])
    return curve


class PeakLevers:
    """Installs the levers a scenario uses into the centre's hooks; decisions use their own streams."""

    def __init__(self, scenario: Scenario, factory: ContactFactory, centre: ContactCentre,
                 balk_rngs: list[np.random.Generator], callback_rngs: list[np.random.Generator]):
        self.centre, self.log = centre, centre.log
        channels = list(scenario.channels.values())
        names = list(scenario.channels)
        self.balk = [balk_curve(ch.balking) if ch.balking is not None else None for ch in channels]
        self.callback = [ch.callback for ch in channels]
        self.aht = [ch.handle_time.mean_s for ch in channels]
        self.serving = [[g for g, group in enumerate(scenario.agents) if name in group.skills] for name in names]
        self.uniform_balk = [BlockSampler(_Uniform(), rng) for rng in balk_rngs]
        self.uniform_callback = [BlockSampler(_Uniform(), rng) for rng in callback_rngs]
        self.ranks = queue_ranks(scenario, factory.reasons, factory.reason_models)
        for c, ranks in enumerate(self.ranks):
            if ranks is not None:
                centre.queues[c] = RankedQueue(ranks[0], self._rank_function(*ranks))
        self.overflow = [[(stage.after, k) for k, stage in enumerate(ch.overflow or [])] for ch in channels]
        if any(self.overflow):
            centre.overflow_pools = [[deque() for _ in stages] for stages in self.overflow]
        self.on_join = [cb is not None and cb.when == "expected_wait" for cb in self.callback]
        self.on_wait = [cb is not None and cb.when == "waited" for cb in self.callback]
        if any(self.balk) or any(self.on_join):
            centre.admit = self.admit
        self.previous_entry = centre.on_queue_entry
        if any(self.on_wait) or any(self.overflow):
            centre.on_queue_entry = self.on_queue_entry

    def _rank_function(self, n_ranks: int, reason_rank: list[int], callback_rank: int):
        reason, origin = self.log.reason, self.log.origin
        if callback_rank < 0:
            return lambda i: reason_rank[reason[i]]
        return lambda i: callback_rank if origin[i] == CALLBACK else reason_rank[reason[i]]

    # --- expected wait --------------------------------------------------------------
    def expected_wait(self, i: int, c: int) -> float:
        """(q + 1) × AHT ÷ servers for contact i about to wait on channel c (see the module docstring)."""
        centre = self.centre
        centre._head(c, centre.env._now)  # drop expired contacts at the head first
        ranks = self.ranks[c]
        queue = centre.queues[c]
        ahead = waiting_ahead(queue, queue.rank_of(i) if ranks is not None else 0)
        servers = sum(len(centre.on_shift[g]) for g in self.serving[c]) * centre.concurrency[c]
        return math.inf if servers == 0 else (ahead + 1) * self.aht[c] / servers

    # --- hooks ----------------------------------------------------------------------
    def admit(self, i: int) -> bool:
        """Contact i would wait now: it may balk, or accept a callback offered on joining."""
        log = self.log
        if log.origin[i] == CALLBACK:
            return True
        c = log.channel[i]
        balk, callback = self.balk[c], self.callback[c] if self.on_join[c] else None
        if balk is None and callback is None:
            return True
        wait = self.expected_wait(i, c)
        if balk is not None and self.uniform_balk[c]() < balk(wait):
            log.flags[i] |= BALKED
            log.queued[i] = NAN  # never offered: not in the queue KPIs
            return False
        if callback is not None and wait > callback.threshold:
            return not self.offer(i, c)
        return True

    def on_queue_entry(self, i: int) -> None:
        if self.previous_entry is not None:
            self.previous_entry(i)
        log, centre = self.log, self.centre
        c = log.channel[i]
        queued = log.queued[i]
        for after, stage in self.overflow[c]:
            centre.at(queued + after, centre.overflow_due, (i, stage))
        if self.on_wait[c] and log.origin[i] != CALLBACK:
            centre.at(queued + self.callback[c].threshold, self._callback_due, i)

    def _callback_due(self, event) -> None:
        """Contact i has waited the threshold: offered a callback if still in the queue."""
        i = event._value
        log = self.log
        if log.answered[i] == log.answered[i] or log.deadline[i] <= self.centre.env._now:
            return
        self.offer(i, log.channel[i])

    def offer(self, i: int, c: int) -> bool:
        """Offer contact i a callback; if accepted, it leaves the queue now and a callback row waits instead."""
        log = self.log
        log.flags[i] |= CB_OFFERED
        if self.uniform_callback[c]() >= self.callback[c].accept:
            return False
        now = self.centre.env._now
        log.flags[i] |= CB_ACCEPTED
        log.deadline[i] = now  # left the queue (dropped lazily from it)
        j = log.append(log.arrival[i], c, log.work[i], math.inf, CALLBACK, log.customer[i], log.reason[i], queued=now)
        self.centre.enter_queue(j)
        return True


class _Uniform:
    """U(0, 1) in the BlockSampler interface."""

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.random(n)
