"""The SimPy contact-centre model: queues per channel, skill-based routing, agents on shifts.

Design for speed (see README, bench/): the environment holds only a chain of arrival
timeouts, one timeout per service, and a few schedule events, all driven by callbacks rather
than one process per customer. Abandonment is lazy: a contact's deadline (queue entry +
patience) is fixed on arrival, and expired contacts are dropped when an agent next looks at
the queue; its abandonment time is the deadline, so the records are exact while the event
list never holds a timer per waiting customer.

Routing rules
- A contact that arrives goes to the longest-idle available agent with the skill, else waits
  in its channel's FIFO queue.
- An agent who frees up looks at its skills by priority level (lower number first) and, within
  a level, takes the contact that has waited longest.
- Chat-like channels allow `concurrency` contacts per agent; an agent holding contacts of one
  channel takes no other channel until empty. Work is scaled by the agent's proficiency and by
  the channel's factor for the number of contacts held at the moment it is answered.

Peak levers (sim/levers.py wires them; each costs nothing when the scenario does not use it)
- Priority by reason: such a channel's queue is a `RankedQueue` (sim/queues.py) instead of a deque.
- `admit(i)`, when set, is asked before a contact starts waiting (balking, callbacks on joining).
- Overflow: a helper group's agents also look at channels they lack as a skill, but take only a
  contact that has waited `after` or longer; an overflow timer per waiting contact wakes an idle helper.

Call, ChannelSpec, GroupSpec and Agent live in sim/model_parts.py and are re-exported here; the
centre's later entries (escalations, contacts made during the run, overflow timers) and its scheduled
changes are mixins in sim/model_entries.py and sim/model_staffing.py.
"""

from __future__ import annotations

from collections import deque
from heapq import heappop, heappush, heapreplace

import numpy as np
import simpy
from simpy.events import NORMAL

from .model_entries import LaterEntries
from .model_parts import Agent, Call, ChannelSpec, GroupSpec
from .model_staffing import ScheduledChanges
from .queues import eligible_head, pop_head
from .records import ContactLog, SpellLog

__all__ = ["Agent", "COLUMN_BINDINGS", "Call", "ChannelSpec", "ContactCentre", "GroupSpec", "INF"]

INF = float("inf")


COLUMN_BINDINGS = ("_arrival", "_channel", "_work", "_answered", "_end", "_agent", "_flags", "_queued", "_deadline")


class ContactCentre(LaterEntries, ScheduledChanges):
    """Routes contacts to agents inside a SimPy environment and records what happens."""

    def __init__(self, env: simpy.Environment, channels: list[ChannelSpec], groups: list[GroupSpec],
                 log: ContactLog, horizon_s: float, interval_s: float | None = None):
        self.env = env
        self.channels = channels
        self.groups = groups
        self.log = log
        self.horizon_s = horizon_s
        self.interval_s = interval_s or horizon_s
        n_intervals = max(1, int(np.ceil(horizon_s / self.interval_s - 1e-9)))
        # busy time (≥ 1 contact held) per group per interval, accumulated as spells end:
        # a million spells would cost more memory than the whole contact log
        self.busy_seconds = [[0.0] * n_intervals for _ in groups]
        self._last_interval = n_intervals - 1
        self.staffed = SpellLog()
        self.queues: list[deque] = [deque() for _ in channels]
        self.pools: list[deque] = [deque() for _ in channels]
        self.is_open = [True] * len(channels)  # opening-hour events at t=0 set the real state
        self._open_change_times = [[t for t, _ in c.open_times] for c in channels]
        self.concurrency = [c.concurrency for c in channels]
        self.factors = [c.factors for c in channels]
        self.on_shift: list[list[Agent]] = [[] for _ in groups]
        self.off_shift: list[list[Agent]] = [[] for _ in groups]
        self.target = [0] * len(groups)
        # the log's columns, bound once: the hot paths index them per contact (see COLUMN_BINDINGS)
        self._arrival, self._channel, self._work = log.arrival, log.channel, log.work
        self._answered, self._end, self._agent = log.answered, log.end, log.agent
        self._next_agent_id = 0
        self._flags, self._queued = log.flags, log.queued
        self._deadline = log.deadline
        # processed hot-path events are rescheduled with these shared one-callback lists (SimPy
        # only iterates an event's list, never changes it) and kept for reuse: no allocation per event
        self._end_callbacks = [self._on_service_end]
        self._spare: list[Call] = []
        # hooks for customer behaviour (sim/behaviour.py); None costs nothing on the hot path
        self.on_queue_entry = None  # contact starts waiting: abandonment and chaser timers
        self.on_served = None  # service ended: reopens
        self.on_bot_bounce = None  # falsely contained by the bot: comes back later
        # hooks for the peak levers (sim/levers.py)
        self.admit = None  # admit(i) -> bool: contact i would wait now; False = it does not join the queue
        # pending fresh arrivals, one per block: (time, priority, event id, block), merged with the event
        # queue in `run` in exactly the order SimPy would process them as events
        self._arrivals: list[tuple[float, int, int, int]] = []
        self._next_row: list[int] = []
        self._last_row: list[int] = []
        self.overflow_pools: list[list[deque]] | None = None  # per channel, per stage: idle helper agents

    # --- set-up ---------------------------------------------------------------------
    def start(self, blocks: list[tuple[int, int]]) -> None:
        """Schedule the schedules, then one arrival chain per block of log rows (first, count).

        Each block holds one channel's fresh contacts in time order, so each channel keeps a
        single pending arrival and nothing needs a global sort. Pending arrivals wait in a small heap
        of their own, merged with the environment's by `run`: an arrival costs no event object and no
        push and pop on the (larger) event queue.
        """
        self._schedule_changes()
        now = self.env.now
        for b, (first, count) in enumerate(blocks):
            if count:  # the first arrival of the chain, keyed as SimPy would key its event (time, priority, id)
                self._next_row.append(first)
                self._last_row.append(first + count)
                heappush(self._arrivals, (now + max(self.log.arrival[first] - now, 0.0), NORMAL,
                                          next(self.env._eid), len(self._next_row) - 1))

    def at(self, t: float, callback, value=None) -> None:
        """Run `callback(event)` at absolute time t (or now, if t has passed)."""
        Call(self.env, max(t - self.env.now, 0.0), callback, value)

    # --- arrivals and queues --------------------------------------------------------
    def _arrive(self, i: int) -> None:
        """Fresh contact i arrives now (called by `run`, which then schedules its block's next one).

        Runs once per contact, so `enter_queue` and `_pop_available` are inlined here.
        """
        env = self.env
        if self._flags[i]:
            self._arrive_special(i)
        else:
            ch = self._channel[i]
            if self.is_open[ch]:
                pool = self.pools[ch]
                concurrency = self.concurrency[ch]
                while pool:
                    token, agent = pool.popleft()
                    held = agent.held
                    if agent.token == token and (held == 0 or (agent.channel == ch and held < concurrency)):
                        now = env._now  # `_serve` inlined
                        if held == 0:
                            agent.busy_since = now
                        agent.held = held + 1
                        agent.channel = ch
                        self._answered[i] = now
                        self._agent[i] = agent.id
                        spare = self._spare
                        end = spare.pop() if spare else self._new_event()
                        end.callbacks = self._end_callbacks
                        end._value = i
                        end.agent = agent
                        heappush(env._queue, (now + self._work[i] * agent.proficiency * self.factors[ch][held], NORMAL,
                                              next(env._eid), end))
                        if held + 1 < concurrency:
                            agent.token += 1
                            self._make_available(agent)
                        else:  # full: what _make_available would do
                            agent.token += 2
                        break
                else:  # no agent: wait (= `_wait`, inlined)
                    if self.admit is None or self.admit(i):
                        self.queues[ch].append(i)
                        if self.on_queue_entry is not None:
                            self.on_queue_entry(i)
            else:
                self._wait(ch, i)

    def _wait(self, ch: int, i: int) -> None:
        self.queues[ch].append(i)
        if self.on_queue_entry is not None:
            self.on_queue_entry(i)

    def enter_queue(self, i: int) -> None:
        """Contact i wants an agent now: the longest-idle agent with the skill, else the queue."""
        ch = self._channel[i]
        if self.is_open[ch]:
            agent = self._pop_available(ch)
            if agent is not None:
                self._serve(agent, i)
                self._make_available(agent)
                return
            if self.admit is not None and not self.admit(i):
                return
        self.queues[ch].append(i)
        if self.on_queue_entry is not None:
            self.on_queue_entry(i)

    def _pop_available(self, ch: int):
        pool = self.pools[ch]
        concurrency = self.concurrency[ch]
        while pool:
            token, agent = pool.popleft()
            if agent.token == token and (agent.held == 0 or (agent.channel == ch and agent.held < concurrency)):
                return agent
        return None

    def _head(self, ch: int, now: float):
        """The first contact still waiting on channel ch (expired ones are dropped: they abandoned)."""
        queue = self.queues[ch]
        deadline = self._deadline
        while queue and deadline[queue[0]] <= now:
            queue.popleft()
        return queue[0] if queue else None

    # --- agents ---------------------------------------------------------------------
    def _serve(self, agent: Agent, i: int, event: Call | None = None) -> None:
        """Agent answers contact i now; `event`, if given, is a processed Call to reuse for the service end."""
        env = self.env
        now = env._now
        ch = self._channel[i]
        held = agent.held
        if held == 0:
            agent.busy_since = now
        agent.held = held + 1
        agent.channel = ch
        agent.token += 1
        self._answered[i] = now
        self._agent[i] = agent.id
        if event is None:
            event = self._spare.pop() if self._spare else self._new_event()
        event.callbacks = self._end_callbacks
        event._value = i
        event.agent = agent
        heappush(env._queue, (now + self._work[i] * agent.proficiency * self.factors[ch][held], NORMAL,
                              next(env._eid), event))

    def _new_event(self) -> Call:
        """A bare processed Call for a service end (callbacks, value and agent are set by the caller)."""
        event = Call.__new__(Call)
        event.env = self.env
        event._ok = True
        return event

    def _on_service_end(self, event) -> None:
        """Contact `event._value` is done; the agent goes on with the next (the event is reused) or idles.

        The common case, a one-skill agent without chat concurrency, is inlined (= `_take_work`'s fast
        path and `_add_busy` for a spell within one interval); processed events go to the spare list.
        """
        agent = event.agent
        i = event._value
        env = self.env
        now = env._now
        self._end[i] = now
        held = agent.held - 1
        agent.held = held
        agent.token += 1
        if held == 0:
            agent.channel = -1
        if self.on_served is not None:
            self.on_served(i)
        if agent.leaving:
            if held == 0:
                self._add_busy(agent.group, agent.busy_since, now)
                self._leave(agent)
            self._spare.append(event)
            return
        if held:
            self._take_work(agent, event)
            if event.callbacks is None:
                self._spare.append(event)
            return
        spell_start = agent.busy_since
        ch = agent.solo
        if ch is not None:
            if self.is_open[ch]:
                queue = self.queues[ch]
                deadline = self._deadline
                while queue and deadline[queue[0]] <= now:  # expired: abandoned
                    queue.popleft()
                if queue:  # next contact: `_serve` inlined (same agent, held 0 → 1), one continuous busy spell
                    i = queue.popleft()
                    agent.held = 1
                    agent.channel = ch
                    agent.token += 2  # _serve's and _make_available's
                    self._answered[i] = now
                    self._agent[i] = agent.id
                    event.callbacks = self._end_callbacks
                    event._value = i
                    heappush(env._queue, (now + self._work[i] * agent.proficiency * self.factors[ch][0], NORMAL,
                                          next(env._eid), event))
                    return
            agent.token += 1  # idle: _make_available
            self.pools[ch].append((agent.token, agent))
        else:
            self._take_work(agent, event)
            if agent.held:  # went straight on to the next contact: one continuous busy spell
                agent.busy_since = spell_start
                return
        if event.callbacks is None:
            self._spare.append(event)
        width = self.interval_s
        k = int(spell_start // width)
        last = self._last_interval
        if k >= last:
            self.busy_seconds[agent.group][last] += now - spell_start
        elif now <= (k + 1) * width:  # within one interval: `_add_busy` without the loop
            self.busy_seconds[agent.group][k] += now - spell_start
        else:
            self._add_busy(agent.group, spell_start, now)

    def _add_busy(self, group: int, start: float, end: float) -> None:
        """Spread a busy spell over the reporting intervals it covers."""
        width = self.interval_s
        row = self.busy_seconds[group]
        last = len(row) - 1
        k = int(start // width)
        while k < last and end > (k + 1) * width:
            row[k] += (k + 1) * width - start
            start = (k + 1) * width
            k += 1
        row[min(k, last)] += end - start

    def _take_work(self, agent: Agent, event: Call | None = None) -> None:
        """Fill the agent's free capacity from the queues by skill priority, then mark it available."""
        now = self.env._now
        if agent.single is not None and agent.held == 0:  # fast path: one skill, nothing held
            ch = agent.single
            if self.is_open[ch] and self._head(ch, now) is not None:
                self._serve(agent, self.queues[ch].popleft(), event)
                event = None
                if self.concurrency[ch] == 1:
                    agent.token += 1
                    return
        queued = self.log.queued
        overflow = agent.overflow
        while True:
            chosen = None
            rank = -1
            for level in agent.levels:
                best_time = None
                for ch in level:
                    if not self.is_open[ch]:
                        continue
                    if agent.held and (agent.channel != ch or agent.held >= self.concurrency[ch]):
                        continue
                    if overflow is not None and ch in overflow:  # a helper: only contacts that waited long enough
                        found = eligible_head(self.queues[ch], now, now - overflow[ch][0], self._deadline, queued)
                        if found is not None and (best_time is None or queued[found[0]] < best_time):
                            best_time, chosen, rank = queued[found[0]], ch, found[1]
                        continue
                    head = self._head(ch, now)
                    if head is not None and (best_time is None or queued[head] < best_time):
                        best_time, chosen, rank = queued[head], ch, -1
                if chosen is not None:
                    break
            if chosen is None:
                break
            self._serve(agent, pop_head(self.queues[chosen], rank), event)
            event = None  # reused once at most
        self._make_available(agent)

    def _make_available(self, agent: Agent) -> None:
        agent.token += 1
        entry = (agent.token, agent)
        overflow = agent.overflow
        if agent.held == 0:
            for ch in agent.skills:
                self.pools[ch].append(entry)
            if overflow is not None:
                for ch, (_, stage) in overflow.items():
                    self.overflow_pools[ch][stage].append(entry)
        elif agent.held < self.concurrency[agent.channel]:
            if overflow is not None and agent.channel in overflow:
                self.overflow_pools[agent.channel][overflow[agent.channel][1]].append(entry)
            else:
                self.pools[agent.channel].append(entry)

    # --- running ----------------------------------------------------------------------
    def run(self, until: float) -> None:
        """Process every event before `until`, then stop the clock there: what SimPy's
        `env.run(until=...)` does, without its per-event `step()` call and `until` event.

        Fresh arrivals come from their own small heap (see `start`), keyed like events (time,
        priority, id from the environment's counter, drawn when SimPy would have scheduled them), so
        the merged order is exactly the order in which SimPy would have processed them as events.
        Safe because every event the model schedules is a `Call` that succeeds (no processes, no
        failed events to re-raise); events at exactly `until` stay unprocessed, as in SimPy.
        """
        env = self.env
        queue = env._queue
        arrivals = self._arrivals
        next_row, last_row, arrival = self._next_row, self._last_row, self._arrival
        eid = env._eid
        pop = heappop
        t_arrival, _, e_arrival, block = arrivals[0] if arrivals else (INF, NORMAL, 0, -1)
        while True:
            if queue:
                top = queue[0]
                t = top[0]
                if t < t_arrival or (t == t_arrival and (top[1], top[2]) < (NORMAL, e_arrival)):
                    if t >= until:
                        break
                    env._now, _, _, event = pop(queue)
                    callbacks, event.callbacks = event.callbacks, None
                    for callback in callbacks:
                        callback(event)
                    continue
            if t_arrival >= until:
                break
            env._now = t_arrival
            i = next_row[block]
            self._arrive(i)
            i += 1
            if i < last_row[block]:
                next_row[block] = i
                heapreplace(arrivals, (t_arrival + (arrival[i] - t_arrival), NORMAL, next(eid), block))
            else:
                heappop(arrivals)
            t_arrival, _, e_arrival, block = arrivals[0] if arrivals else (INF, NORMAL, 0, -1)
        env._now = until

    # --- end of run -------------------------------------------------------------------
    def close(self) -> None:
        """Close the open busy and shift spells at the horizon so time-based KPIs are complete.

        The run is over: the centre also lets go of its references to the log's columns, so that a
        caller can free them (`ContactLog.take`) while the environment still references the centre.
        """
        now = self.env.now
        for agents in self.on_shift:
            for agent in agents:
                if agent.held:
                    self._add_busy(agent.group, agent.busy_since, now)
                self.staffed.add(agent.group, agent.shift_since, now, agent.id)
        for name in COLUMN_BINDINGS:
            setattr(self, name, None)
