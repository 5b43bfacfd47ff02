"""A small reference simulation of one sync channel, written from the documented rules, not from
peaksim's code (it imports nothing from `sim`), to test the model against.

M/M/c+M with opening hours and a handle-time multiplier by time of day:
* customers arrive as a Poisson process at `rate_per_h` while the channel is open, never while closed;
* `agents` identical agents are present all the time but answer only while the channel is open;
* the queue is first come, first served; a customer abandons when patience runs out first;
* a customer still waiting at closing time stays in the queue (and abandons, unless it reopens first);
* a customer who abandons redials with probability `redial` after `redial_delay` seconds, if the
  channel is open then (a closed line just rings out);
* handle time = exponential(mean `aht_s`) × the multiplier of the hour in which the customer arrived.
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass

import numpy as np


@dataclass
class Customer:
    arrival: float
    deadline: float
    work: float
    answered: float | None = None


def open_arrivals(rate_per_h: float, spells: list[tuple[float, float]], rng: np.random.Generator) -> list[float]:
    """Poisson arrival times at `rate_per_h` inside the open spells (and nowhere else)."""
    times = []
    for a, b in spells:
        t = a
        while True:
            t += rng.exponential(3600.0 / rate_per_h)
            if t >= b:
                break
            times.append(t)
    return times


def run(rate_per_h: float, spells: list[tuple[float, float]], agents: int, aht_s: float, patience_s: float,
        horizon_s: float, rng: np.random.Generator, multiplier=lambda hour: 1.0, redial: float = 0.0,
        redial_delay: float = 0.0) -> list[Customer]:
    """Every customer of one run (first contacts and redials), with when they were answered (None: never)."""
    def is_open(t):
        return any(a <= t < b for a, b in spells)

    events: list = []  # (time, order, kind, payload)
    order = 0

    def push(t, kind, payload=None):
        nonlocal order
        heapq.heappush(events, (t, order, kind, payload))
        order += 1

    for a, b in spells:
        push(a, "open")
        push(b, "close")
    for t in open_arrivals(rate_per_h, spells, rng):
        push(t, "arrive")
    customers: list[Customer] = []
    queue: deque = deque()
    free, opened = agents, False

    def answer(now):
        nonlocal free
        while free and opened and queue:
            c = queue.popleft()
            if c.deadline <= now:  # gone already
                continue
            c.answered = now
            free -= 1
            push(now + c.work, "done")

    while events:
        now, _, kind, who = heapq.heappop(events)
        if now >= horizon_s:
            break
        if kind == "open":
            opened = True
            answer(now)
        elif kind == "close":
            opened = False
        elif kind == "arrive":
            hour = int(now // 3600) % 24
            c = Customer(now, now + rng.exponential(patience_s), rng.exponential(aht_s) * multiplier(hour))
            customers.append(c)
            queue.append(c)
            push(c.deadline, "patience", c)
            answer(now)
        elif kind == "patience":
            if who.answered is None and rng.random() < redial and is_open(now + redial_delay):
                push(now + redial_delay, "arrive")
        elif kind == "done":
            free += 1
            answer(now)
    return customers
