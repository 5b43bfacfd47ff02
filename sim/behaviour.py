"""Customers under strain: redials after abandoning, chasers on unanswered async contacts,
reopens of unresolved contacts, and customers the bot only seemed to help coming back.

Each creates a new contact (same customer id, tagged with its origin) through the same
`ContactFactory.draw` as fresh contacts, so it meets the bot, automation and the queues like
any other. Decisions use per-channel streams of their own, so adding behaviour does not
shift the fresh customers' draws. This is what makes overload nonlinear: every abandonment
or slow answer can add load exactly when there is least capacity.

`spawn` is the one door for contacts created during a run: it bounds every customer to
`MAX_CONTACTS_PER_CUSTOMER` contacts whatever their origin (reopens and bot bounces too), and
the contact log it appends to counts each against the replication's limit (see `sim.loops`).
New kinds of in-run contacts (callbacks, …) should be created through it.
"""

from __future__ import annotations

import math

import numpy as np

from .contacts import CB_ACCEPTED, REOPENED, RETURN_LATE, ContactFactory, Streams, Templates
from .distributions import BlockSampler
from .loops import MAX_CONTACTS_PER_CUSTOMER
from .model import ContactCentre
from .records import ORIGINS
from .scenario import Scenario

REDIAL, CHASER, REOPEN, BOT_BOUNCE = (ORIGINS.index(o) for o in ("redial", "chaser", "reopen", "bot_bounce"))
AFTER_HORIZON, CLOSED, CAPPED = -1, -2, -3  # `spawn` results when no contact is created


class Choice:
    """Pick a channel index from a mix {channel: probability}; the remainder stays on `default`."""

    def __init__(self, mix: dict[str, float] | None, names: list[str], default: int):
        self.options = [names.index(n) for n in (mix or {})]
        weights = [float(w) for w in (mix or {}).values()]
        total = sum(weights)
        if total > 1:  # a full mix: shares are relative
            weights = [w / total for w in weights]
        self.cumulative = np.cumsum(weights).tolist()
        self.default = default

    def __call__(self, u: float) -> int:
        for option, edge in zip(self.options, self.cumulative):
            if u < edge:
                return option
        return self.default


class CustomerBehaviour:
    """Wires the scenario's behaviour into a ContactCentre's hooks and spawns the extra contacts."""

    def __init__(self, scenario: Scenario, factory: ContactFactory, centre: ContactCentre,
                 streams: list[Streams], decisions: list[np.random.Generator]):
        self.factory, self.centre, self.log = factory, centre, centre.log
        self.horizon = scenario.horizon_s
        self.streams = streams
        names = list(scenario.channels)
        self.is_async = [ch.kind == "async" for ch in scenario.channels.values()]
        self.uniform = [BlockSampler(_Uniform(), rng) for rng in decisions]
        self.templates = Templates(factory, streams, self.uniform)
        self.redial, self.chaser, self.bounce = [], [], []
        for c, channel in enumerate(scenario.channels.values()):
            b = channel.behaviour
            redial = b.redial if b else None
            chaser = b.chaser if b else None
            self.redial.append(None if redial is None else (
                redial, BlockSampler(redial.delay, decisions[c]), Choice(redial.switch, names, c)))
            self.chaser.append(None if chaser is None else (chaser, Choice(chaser.channel, names, c)))
            bot = channel.bot
            self.bounce.append(None if bot is None or not bot.false_containment else (
                BlockSampler(bot.return_delay, decisions[c]), Choice(bot.return_channel, names, c)))
        self.reopen = []
        for model in factory.reason_models:
            if model.fcr < 1:
                self.reopen.append((1 - model.fcr, BlockSampler(model.reopen_delay, decisions[0]),
                                    [Choice(model.reopen_channel, names, c) for c in range(len(names))]))
            else:
                self.reopen.append(None)
        self.contacts_per_customer: dict[int, int] = {}
        self.capped = 0  # contacts not created: their customer had reached MAX_CONTACTS_PER_CUSTOMER
        active = any(self.redial) or any(self.chaser) or any(self.reopen) or any(self.bounce)
        # contacts after the first, per customer (= the fresh contact's row): one byte each, only when needed
        self.per_customer = bytearray(len(self.log)) if active else bytearray()
        if any(self.redial) or any(self.chaser):
            centre.on_queue_entry = self.on_queue_entry
        if any(self.reopen):
            centre.on_served = self.on_served
        if any(self.bounce):
            centre.on_bot_bounce = self.on_bot_bounce

    # --- hooks ----------------------------------------------------------------------
    def on_queue_entry(self, i: int) -> None:
        c = self.log.channel[i]
        if self.redial[c] is not None and self.log.deadline[i] < math.inf:
            self.centre.at(self.log.deadline[i], self._abandon_check, i)
        chaser = self.chaser[c]
        if chaser is not None:
            self.centre.at(self.log.queued[i] + chaser[0].after, self._chase_check, i)

    def _abandon_check(self, event) -> None:
        i = event._value
        if self.log.answered[i] == self.log.answered[i] or self.log.flags[i] & CB_ACCEPTED:  # answered, or
            return  # left for a callback: nothing to do
        c = self.log.channel[i]
        redial, delay, choose = self.redial[c]
        customer = self.log.customer[i]
        if self.uniform[c]() < redial.probability and self._allowed(customer, redial.max_attempts):
            self._follow_up(i, self.spawn(self.centre.env.now + delay(), choose(self.uniform[c]()), self.log.reason[i],
                                          REDIAL, customer))

    def _chase_check(self, event) -> None:
        i = event._value
        if self.log.answered[i] == self.log.answered[i]:
            return
        c = self.log.channel[i]
        chaser, choose = self.chaser[c]
        customer = self.log.customer[i]
        if self.uniform[c]() < chaser.probability and self._allowed(customer, chaser.max_per_customer):
            self.spawn(self.centre.env.now, choose(self.uniform[c]()), self.log.reason[i], CHASER, customer)

    def on_served(self, i: int) -> None:
        reopen = self.reopen[self.log.reason[i]]
        if reopen is None:
            return
        c = self.log.channel[i]
        probability, delay, choosers = reopen
        if self.uniform[c]() < probability:
            self.log.flags[i] |= REOPENED
            self._follow_up(i, self.spawn(self.centre.env.now + delay(), choosers[c](self.uniform[c]()),
                                          self.log.reason[i], REOPEN, self.log.customer[i]))

    def on_bot_bounce(self, i: int) -> None:
        c = self.log.channel[i]
        delay, choose = self.bounce[c]
        self._follow_up(i, self.spawn(self.log.bot_end[i] + delay(), choose(self.uniform[c]()), self.log.reason[i],
                                      BOT_BOUNCE, self.log.customer[i]))

    def _follow_up(self, i: int, spawned: int) -> None:
        """Mark contact i when its follow-up falls after the horizon: the issue is still open then."""
        if spawned == AFTER_HORIZON:
            self.log.flags[i] |= RETURN_LATE

    # --- new contacts ---------------------------------------------------------------
    def _allowed(self, customer: int, limit: int) -> bool:
        count = self.contacts_per_customer.get(customer, 1)
        if count >= limit:
            return False
        self.contacts_per_customer[customer] = count + 1
        return True

    def spawn(self, t: float, channel: int, reason: int, origin: int, customer: int) -> int:
        """Create a contact arriving at t and schedule it; returns its row. Dropped after the horizon
        (returns AFTER_HORIZON), on a sync channel that is closed at t (CLOSED: the customer meets
        the closed message, not a queue, and gives up), and when the customer already had
        MAX_CONTACTS_PER_CUSTOMER contacts (CAPPED, counted in `capped`)."""
        if t >= self.horizon:
            return AFTER_HORIZON
        if not self.is_async[channel] and not self.centre.open_at(channel, t):
            return CLOSED
        before = self.per_customer[customer]
        if before >= MAX_CONTACTS_PER_CUSTOMER - 1:  # the loop ends here, whatever its origin
            self.capped += 1
            return CAPPED
        self.per_customer[customer] = before + 1
        queued, deadline, work, flags, bot_end = self.templates.contact(channel, reason, t)
        i = self.log.append(t, channel, work, deadline, origin, customer, reason, queued, flags, bot_end)
        self.centre.add_contact(i)
        return i


class _Uniform:
    """U(0, 1) in the BlockSampler interface."""

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.random(n)
