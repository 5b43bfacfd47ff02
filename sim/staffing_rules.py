"""The per-state staffing rules: a channel's queue in slots, and the fewest slots meeting its targets (and caps)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.special import betainc, gammainc

from .calendar import interval_grid, multipliers
from .errors import PeaksimError
from .scenario import Scenario


@dataclass(frozen=True)
class Targets:
    """Optional caps on top of each channel's service-level target (`channel_max_abandon`: per channel,
    from a minimum FCR, see sim/outcome_targets.py)."""

    max_abandon: float | None = None
    max_occupancy: float | None = None
    channel_max_abandon: dict = field(default_factory=dict)

    def abandon_cap(self, channel: str) -> float | None:
        caps = [c for c in (self.max_abandon, self.channel_max_abandon.get(channel)) if c is not None]
        return min(caps) if caps else None

    def __post_init__(self):
        if self.max_abandon is not None and not 0 < self.max_abandon < 1:
            raise PeaksimError(f"--max-abandon must be a share between 0 and 1, e.g. 0.05 (got {self.max_abandon})")
        if self.max_occupancy is not None and not 0 < self.max_occupancy <= 1:
            raise PeaksimError(f"--max-occupancy must be a share in (0, 1], e.g. 0.85 (got {self.max_occupancy})")


@dataclass(frozen=True)
class ChannelQueue:
    """What the staffing rules need to know about one channel's queue, in slots."""

    name: str
    concurrency: int
    slot_hold_s: float
    theta: float  # abandonment rate per waiting contact (1 / mean patience), 0 without patience
    threshold_s: float
    target: float
    hold_profile: np.ndarray | None = None  # per interval: handle-time multiplier (None: 1 everywhere)

    def at(self, k: int) -> "ChannelQueue":
        """The queue as it is in interval k (its handle-time multiplier applied)."""
        if self.hold_profile is None:
            return self
        return replace(self, slot_hold_s=self.slot_hold_s * float(self.hold_profile[k]), hold_profile=None)

    def hold(self) -> np.ndarray | float:
        """Slot holding time per interval (a scalar when it does not vary)."""
        return self.slot_hold_s if self.hold_profile is None else self.slot_hold_s * self.hold_profile


def channel_queues(scenario: Scenario, shares: np.ndarray) -> list[ChannelQueue]:
    """Per channel: slot holding time (weighted by the serving groups' proficiency, and by interval
    when the channel has a handle-time profile), patience rate, target."""
    out = []
    grid = None
    for c, (name, ch) in enumerate(scenario.channels.items()):
        proficiency = float(sum(shares[g, c] * grp.proficiency for g, grp in enumerate(scenario.agents)))
        hold = ch.handle_time.mean_s * (proficiency or 1.0) * ch.handle_factors()[-1]
        theta = 0.0 if ch.patience is None else 1.0 / ch.patience.mean_s
        profile = None
        if ch.handle_time_profile is not None:
            grid = interval_grid(scenario) if grid is None else grid
            profile = multipliers(ch.handle_time_profile, grid)
        out.append(ChannelQueue(name, ch.concurrency, hold, theta, ch.service_level.threshold,
                                ch.service_level.target, profile))
    return out


def within_probability(n: np.ndarray, s: int, q: ChannelQueue) -> np.ndarray:
    """P(answered within the threshold | the arrival finds n in the system, s slots)."""
    n = np.asarray(n, dtype=float)
    out = np.ones_like(n)
    waits = n >= s
    if not waits.any():
        return out
    k = n[waits] - s
    rate = s / q.slot_hold_s
    if s == 0:
        out[waits] = 0.0
    elif q.theta == 0.0:
        out[waits] = gammainc(k + 1, rate * q.threshold_s) if q.threshold_s > 0 else 0.0
    else:
        served = rate / (rate + (k + 1) * q.theta)
        x = -math.expm1(-q.theta * q.threshold_s)
        out[waits] = served * (betainc(k + 1, rate / q.theta + 1, x) if q.threshold_s > 0 else 0.0)
    return out


def abandon_probability(n: np.ndarray, s: int, q: ChannelQueue) -> np.ndarray:
    n = np.asarray(n, dtype=float)
    k = np.maximum(n - s, -1.0)
    if q.theta == 0.0:
        return np.zeros_like(n)
    rate = s / q.slot_hold_s
    return np.where(n >= s, (k + 1) * q.theta / (rate + (k + 1) * q.theta), 0.0)


def slots_needed(hist_row: np.ndarray, q: ChannelQueue, targets: Targets) -> int:
    """Smallest s meeting the SL target (and caps) under the number-in-system distribution `hist_row`."""
    total = hist_row.sum()
    if total == 0:
        return 0
    n = np.nonzero(hist_row)[0]
    w = hist_row[n] / total

    def meets(s: int) -> bool:
        if float(np.dot(w, within_probability(n, s, q))) < q.target - 1e-12:
            return False
        cap = targets.abandon_cap(q.name)
        if cap is not None and float(np.dot(w, abandon_probability(n, s, q))) > cap:
            return False
        if targets.max_occupancy is not None and s > 0 and float(np.dot(w, np.minimum(n, s))) / s > targets.max_occupancy:
            return False
        return s > 0

    lo, hi = 0, int(n.max()) + 1  # with n.max()+1 slots nobody waited
    while not meets(hi):
        hi *= 2  # only the occupancy cap can need more slots than were ever in the system
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if meets(mid) else (mid, hi)
    return hi
