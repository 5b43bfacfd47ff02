"""What the clock changes during a run: available agents per group, their proficiency, opening hours.

A mixin of :class:`sim.model.ContactCentre` (it uses the centre's state and `_take_work`), apart so
that `sim/model.py` holds only the per-contact paths. None of these runs per contact except `_leave`,
at the end of a departing agent's last contact.

When a group's available count drops, idle agents leave at once and busy ones finish their current
contacts first, then leave.
"""

from __future__ import annotations

from bisect import bisect_right

from .model_parts import Agent, GroupSpec


class ScheduledChanges:
    """The schedule events of a `ContactCentre`: staffing, proficiency ramps, channel openings."""

    def _schedule_changes(self) -> None:
        """One event per change of the groups' staffing, the channels' opening and the groups' proficiency."""
        for g, spec in enumerate(self.groups):
            for t, n in zip(spec.times.tolist(), spec.counts.tolist()):
                self.at(t, self._set_staff, (g, int(n)))
        for c, spec in enumerate(self.channels):
            for t, is_open in spec.open_times:
                self.at(t, self._set_open, (c, is_open))
        for g, spec in enumerate(self.groups):
            for t, value in spec.proficiency_changes:
                self.at(t, self._set_proficiency, (g, value))

    def open_at(self, ch: int, t: float) -> bool:
        """Whether channel ch is open at time t (now or later), from its opening-hour changes."""
        changes = self.channels[ch].open_times
        if not changes:
            return True
        k = bisect_right(self._open_change_times[ch], t) - 1
        return changes[max(k, 0)][1]

    def _set_staff(self, event) -> None:
        g, n = event._value
        self.target[g] = n
        on = self.on_shift[g]
        working = [a for a in on if not a.leaving]
        if len(working) < n:
            need = n - len(working)
            for agent in on:  # first cancel pending departures
                if need and agent.leaving:
                    agent.leaving = False
                    need -= 1
                    self._take_work(agent)
            for _ in range(need):
                if self.off_shift[g]:
                    agent = self.off_shift[g].pop()
                else:
                    agent = Agent(self._next_agent_id, g, self.groups[g])
                    if agent.single is not None and self.concurrency[agent.single] == 1:
                        agent.solo = agent.single
                    self._next_agent_id += 1
                    self.log.agent_group.append(g)  # the log derives each contact's group from its agent
                agent.on_shift, agent.leaving, agent.shift_since = True, False, self.env.now
                on.append(agent)
                self._take_work(agent)
        elif len(working) > n:
            excess = len(working) - n
            for agent in [a for a in working if a.held == 0][:excess]:
                self._leave(agent)
                excess -= 1
            for agent in reversed([a for a in on if not a.leaving and a.held > 0]):
                if not excess:
                    break
                agent.leaving = True
                agent.token += 1
                excess -= 1

    def _set_proficiency(self, event) -> None:
        g, value = event._value
        for agent in self.on_shift[g] + self.off_shift[g]:
            agent.proficiency = value
        self.groups[g] = GroupSpec(**{**self.groups[g].__dict__, "proficiency": value})

    def _leave(self, agent: Agent) -> None:
        agent.token += 1
        agent.on_shift = agent.leaving = False
        self.on_shift[agent.group].remove(agent)
        self.off_shift[agent.group].append(agent)
        self.staffed.add(agent.group, agent.shift_since, self.env.now, agent.id)

    def _set_open(self, event) -> None:
        ch, is_open = event._value
        self.is_open[ch] = is_open
        if is_open:
            for g, agents in enumerate(self.on_shift):
                for agent in list(agents):
                    if not agent.leaving and agent.held == 0 and (
                            ch in agent.skills or (agent.overflow is not None and ch in agent.overflow)):
                        self._take_work(agent)
