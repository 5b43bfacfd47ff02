"""The contact centre's building blocks: its one event type, the channel and group specs, the agent.

Apart from `sim/model.py` so that the centre's module holds only routing and the run; the names
are re-exported there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from heapq import heappush

import numpy as np
import simpy
from simpy.events import NORMAL, Event


class Call(Event):
    """A timeout that runs one callback: the model's only event type, lighter than `Timeout`.

    It pushes itself on the environment's event queue exactly as `Environment.schedule`
    does (same tuple, same tie-breaking counter), minus one Python call per event. The hot
    paths (arrivals, service ends) reschedule processed Calls in place rather than make new ones.
    """

    __slots__ = ()

    def __init__(self, env: simpy.Environment, delay: float, callback, value=None):
        self.env = env
        self.callbacks = [callback]
        self._value = value
        self._ok = True
        heappush(env._queue, (env._now + delay, NORMAL, next(env._eid), self))


@dataclass(frozen=True)
class ChannelSpec:
    name: str
    concurrency: int
    factors: tuple[float, ...]
    open_times: tuple[tuple[float, bool], ...] = ()  # (time_s, is_open) changes; empty = always open


@dataclass(frozen=True)
class GroupSpec:
    name: str
    levels: tuple[tuple[int, ...], ...]  # channel indices per priority level
    proficiency: float
    times: np.ndarray = field(repr=False)  # when the available count changes
    counts: np.ndarray = field(repr=False)  # the new available count
    proficiency_changes: tuple[tuple[float, float], ...] = ()  # (time_s, multiplier): seasonal hires' ramp
    overflow: tuple[tuple[int, float, int], ...] = ()  # (channel, wait before eligible, stage): also in `levels`


class Agent:
    """One agent; `token` invalidates stale entries in the availability pools."""

    __slots__ = ("id", "group", "proficiency", "levels", "skills", "single", "solo", "held", "channel", "token",
                 "on_shift", "leaving", "busy_since", "shift_since", "overflow")

    def __init__(self, agent_id: int, group: int, spec: GroupSpec):
        self.id = agent_id
        self.group = group
        self.proficiency = spec.proficiency
        self.levels = spec.levels
        # overflow channels: in `levels` (taken by priority), not in `skills` (never offered fresh contacts)
        self.overflow = {ch: (after, stage) for ch, after, stage in spec.overflow} or None
        self.skills = tuple(c for level in spec.levels for c in level if self.overflow is None or c not in self.overflow)
        self.single = self.skills[0] if len(self.skills) == 1 and self.overflow is None else None
        self.solo = None  # `single`, if its channel has no concurrency (set by the centre): the fast path
        self.held = 0
        self.channel = -1
        self.token = 0
        self.on_shift = False
        self.leaving = False
        self.busy_since = 0.0
        self.shift_since = 0.0
