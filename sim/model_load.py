"""Load-adaptive service: handle time that depends on how many customers are still waiting.

Agents under load shorten wrap-up and skip breaks (Delasay, Ingolfsson, Kolfal & Schultz 2019,
"Load effect on service times", European Journal of Operational Research 279(3):673–686, review
the evidence from call centres and hospitals). A channel's `handle_time_by_queue` steps give the
multiplier of a contact's work by the number of other customers still waiting on its channel at
the moment it is answered.

The base :class:`~sim.model.ContactCentre` inlines service starts on its hot paths. Rather than
add a test there that every run would pay for, a scenario that uses the feature gets this
subclass, which routes every service start through :meth:`_serve` (the base class's own
non-inlined path, same decisions) and scales the contact's work there. Scenarios without it
run the base class untouched.
"""

from __future__ import annotations

from bisect import bisect_right
from heapq import heappush

from simpy.events import NORMAL

from .model import Agent, ContactCentre


class LoadAdaptiveCentre(ContactCentre):
    """A contact centre whose channels may have queue-dependent handle-time steps.

    ``steps[c]`` is ``None`` or ``(waiting, multiplier)`` for channel c (from
    :class:`sim.scenario_peak.HandleTimeByQueue`). Waiting customers are counted among those whose
    patience has not run out (the queue drops abandoned customers lazily), up to the last step.
    """

    def __init__(self, *args, steps: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.steps = steps

    def waiting(self, ch: int, now: float, cap: int) -> int:
        """Customers still waiting on channel ch at `now`, counted up to `cap`."""
        deadline = self._deadline
        queue = self.queues[ch]
        n = 0
        for part in getattr(queue, "ranks", (queue,)):  # a RankedQueue (priority by reason) keeps one deque per rank
            for j in part:
                if deadline[j] > now:
                    n += 1
                    if n >= cap:
                        return n
        return n

    def _serve(self, agent: Agent, i: int, event=None) -> None:
        steps = self.steps[self._channel[i]]
        if steps is not None:
            waiting, multiplier = steps
            k = bisect_right(waiting, self.waiting(self._channel[i], self.env._now, waiting[-1])) - 1
            if k >= 0 and multiplier[k] != 1.0:
                self._work[i] *= multiplier[k]  # the log keeps the work actually done
        super()._serve(agent, i, event)

    def _on_arrival(self, event) -> None:
        """As the base class, without its inlined service start (so that `_serve` scales the work)."""
        i = event._value
        if self._flags[i]:
            self._arrive_special(i)
        else:
            self.enter_queue(i)
        i += 1
        if i < event.stop:
            env = self.env
            event.callbacks = self._arrival_callbacks
            event._value = i
            heappush(env._queue, (env._now + (self._arrival[i] - env._now), NORMAL, next(env._eid), event))

    def _set_staff(self, event) -> None:
        """As the base class; agents lose the inlined one-skill path of service ends (`solo`)."""
        super()._set_staff(event)
        for agent in self.on_shift[event._value[0]]:
            agent.solo = None
