"""Contacts that reach the queues other than as fresh arrivals: after the bot or automation, created
during the run by customer behaviour (sim/behaviour.py), or offered to overflow helpers (sim/levers.py).

A mixin of :class:`sim.model.ContactCentre` (it uses the centre's state, `enter_queue` and `_serve`),
apart so that `sim/model.py` holds the common paths and the run. Moving these whole methods costs
nothing: an instance's method lookup is cached per class, wherever in the bases the method is.
"""

from __future__ import annotations

from .contacts import AUTO, ESCALATED, FALSE
from .queues import eligible_head, pop_head


class LaterEntries:
    """The centre's entry points for contacts created or escalated during the run, and overflow timers."""

    def add_contact(self, i: int) -> None:
        """Schedule a contact created during the run (log row i) to arrive at its arrival time."""
        self.at(self._arrival[i], self._on_new_contact, i)

    def _on_new_contact(self, event) -> None:
        i = event._value
        if self._flags[i]:
            self._arrive_special(i)
        else:
            self.enter_queue(i)

    def _arrive_special(self, i: int) -> None:
        """Automation and the bot: resolved now, bounced back later, or queued after the session."""
        flags = self._flags[i]
        if flags & AUTO:
            return
        if flags & ESCALATED:
            self.at(self._queued[i], self._on_escalation, i)
        elif flags & FALSE and self.on_bot_bounce is not None:
            self.on_bot_bounce(i)

    def _on_escalation(self, event) -> None:
        self.enter_queue(event._value)

    def overflow_due(self, event) -> None:
        """Contact `event._value[0]` has waited as long as overflow stage `event._value[1]` asks: an idle
        helper of that stage, if any, answers the longest-waiting eligible contact of the channel."""
        i, stage = event._value
        ch = self._channel[i]
        now = self.env._now
        if not self.is_open[ch] or self._answered[i] == self._answered[i] or self._deadline[i] <= now:
            return  # answered, abandoned or gone for a callback; a closed channel is served on opening
        pool = self.overflow_pools[ch][stage]
        concurrency = self.concurrency[ch]
        while pool:
            token, agent = pool.popleft()
            if agent.token == token and (agent.held == 0 or (agent.channel == ch and agent.held < concurrency)):
                found = eligible_head(self.queues[ch], now, now - agent.overflow[ch][0], self._deadline, self.log.queued)
                if found is None:
                    pool.appendleft((token, agent))
                    return
                self._serve(agent, pop_head(self.queues[ch], found[1]))
                self._make_available(agent)
                return
