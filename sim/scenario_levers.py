"""Scenario parts for the levers a planner pulls in peak (issue 17): service-level targets, priority
by reason, callbacks (virtual hold), balking, overflow between agent groups and proactive notifications.

Kept apart from `scenario.py` and `scenario_peak.py` so each schema module stays short; the
models are wired into channels and reasons there, and `check_levers` runs the cross-field checks
(every group and channel a lever names must exist, callbacks and balking only on sync channels).
See docs/levers.md for the semantics.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
from typing import Annotated, Literal

import numpy as np
from pydantic import BeforeValidator, ConfigDict, Field, model_validator

from .distributions import NonNegativeSeconds, PositiveSeconds, StrictModel
from .errors import at
from .units import format_duration

Probability = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
PRIORITY_LIMIT = 1000


class _Model(StrictModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServiceLevel(_Model):
    """Share of contacts answered within `threshold` (sync) or first-responded within it (async)."""

    threshold: NonNegativeSeconds = Field(description="answer (or first response) within this time")
    target: float = Field(gt=0, le=1, allow_inf_nan=False, description="share that must meet the threshold: 0.8 means 80%")

    @model_validator(mode="after")
    def _possible(self):
        if self.target >= 1 and self.threshold == 0:
            raise at(".target", "a 100% target with a 0 s threshold means no contact may ever wait, which no finite "
                     "staffing guarantees with random arrivals (got target 1 and threshold 0s); "
                     "lower the target (e.g. 0.95) or give a threshold such as 20s")
        return self


class BalkPoint(_Model):
    """One point of a balking curve: told `wait`, a customer leaves at once with `probability`."""

    wait: NonNegativeSeconds = Field(description="the expected wait the customer is told")
    probability: Probability = Field(description="share who leave at once when told that wait")


class Balking(_Model):
    """Customers told the expected wait on arrival leave at once with a probability that rises with it.

    Either `points` (linear between them, flat beyond the first and last) or the curve
    `max` × (1 − e^(−wait / `scale`)). Only customers who would wait are told (an idle agent answers at once)."""

    points: list[BalkPoint] | None = Field(default=None, min_length=1,
                                           description="the curve as points, waits increasing")
    scale: PositiveSeconds | None = Field(default=None, description="curve max × (1 − exp(−wait/scale))")
    max: Probability = Field(default=1.0, description="with `scale`: the probability for a very long wait")

    @model_validator(mode="after")
    def _one_curve(self):
        if (self.points is None) == (self.scale is None):
            raise at(".points" if self.points is not None else ".scale",
                     f"give exactly one of `points` or `scale` (got {'both' if self.points else 'neither'}); "
                     "e.g. points: [{wait: 0s, probability: 0}, {wait: 10min, probability: 0.4}]")
        if self.points is not None:
            if self.max != 1.0:  # (not `model_fields_set`: a dumped and reloaded scenario sets every key)
                raise at(".max", "`max` shapes the `scale` curve; with `points` the last point is the maximum "
                         f"(got max {self.max:g}); remove `max`")
            waits = [p.wait for p in self.points]
            for k in range(1, len(waits)):
                if waits[k] <= waits[k - 1]:
                    raise at(f".points[{k}].wait", f"waits must increase from point to point (got "
                             f"{format_duration(waits[k])} after {format_duration(waits[k - 1])}); sort the points")
        return self

    def probability(self, wait: float | np.ndarray) -> float | np.ndarray:
        """P(balk | told `wait` seconds); an infinite wait (no agent on shift) gives the curve's maximum."""
        if self.points is not None:
            return np.interp(wait, [p.wait for p in self.points], [p.probability for p in self.points])
        with np.errstate(over="ignore"):
            return self.max * -np.expm1(-np.asarray(wait, dtype=float) / self.scale)


class Callback(_Model):
    """Virtual hold: a caller whose expected wait (or wait so far) passes `threshold` is offered a
    callback; `accept` of them leave the queue and an agent calls them back, promised within `promise`."""

    when: Literal["expected_wait", "waited"] = Field(
        default="expected_wait", description="expected_wait: offered on joining the queue when the expected wait "
                                             "passes the threshold; waited: offered once the wait so far reaches it")
    threshold: NonNegativeSeconds = Field(description="offer a callback beyond this (expected) wait")
    accept: Probability = Field(description="share of callers offered a callback who accept it")
    promise: PositiveSeconds = Field(default=7200.0, description="callbacks are promised within this time")
    priority: Annotated[int, Field(ge=-PRIORITY_LIMIT, le=PRIORITY_LIMIT)] | None = Field(
        default=None, description="rank of callbacks in the channel's queue, on the scale of the reasons' "
                                  "`priority` (lower first); default: after every live caller")


class OverflowStage(_Model):
    """After `after` in the queue, contacts of the channel may also be answered by `groups`."""

    after: NonNegativeSeconds = Field(description="wait after which a contact becomes eligible for the groups")
    groups: list[str] = Field(min_length=1, description="agent groups that help (they lack the channel as a skill)")
    priority: int = Field(default=1, ge=1, le=100, description="where the overflowed channel ranks among the "
                                                                "helpers' skills (as in `skills`, 1 = first)")


def _stages(value: object) -> object:
    """One stage may be given as a mapping instead of a list of one."""
    return [value] if isinstance(value, dict) else value


Overflow = Annotated[list[OverflowStage], BeforeValidator(_stages), Field(min_length=1)]


class Proactive(_Model):
    """Proactive notifications: from `start`, `deflect` of this reason's fresh contacts never arrive."""

    start: dt.date = Field(description="first local date the notifications prevent contacts")
    deflect: Probability = Field(description="share of the reason's fresh contacts prevented")
    channels: list[str] | None = Field(default=None, description="channels where contacts are prevented (default: all)")


def _unknown(name: str, known: list[str], what: str) -> str:
    guess = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {guess[0]!r}?" if guess else f"defined {what}: {', '.join(known) or 'none'}"
    return f"no {what[:-1]} of that name is defined (got {name!r}); {hint}"


def check_levers(scenario) -> None:
    """Cross-field checks of the levers: names exist, callbacks and balking on sync channels only,
    a helper group does not already serve the channel."""
    channels, groups = list(scenario.channels), [g.name for g in scenario.agents]
    for name, channel in scenario.channels.items():
        base = f"channels.{name}"
        for key in ("callback", "balking"):
            if getattr(channel, key) is not None and channel.kind != "sync":
                raise at(f"{base}.{key}", f"applies to sync channels, where customers wait on the line (got an "
                         f"async channel); remove `{key}` or set kind: sync")
        seen: set[str] = set()
        for k, stage in enumerate(channel.overflow or []):
            for group in stage.groups:
                path = f"{base}.overflow[{k}].groups"
                if group not in groups:
                    raise at(path, _unknown(group, groups, "groups"))
                if name in scenario.agents[groups.index(group)].skills:
                    raise at(path, f"names a group that already serves {name!r} without waiting (got {group!r}, "
                             f"which has {name!r} as a skill); overflow names groups that help only after the "
                             "wait, remove it here")
                if group in seen:
                    raise at(path, f"group {group!r} is named in two overflow stages of this channel (got it "
                             "twice); keep it in one stage")
                seen.add(group)
    for name, reason in (scenario.reasons or {}).items():
        proactive = reason.proactive
        for channel in (proactive.channels or []) if proactive else []:
            if channel not in scenario.channels:
                raise at(f"reasons.{name}.proactive.channels", _unknown(channel, channels, "channels"))


def priority_key(priority: int | None, unset: int) -> tuple[int, float]:
    """Sort key of a queue rank: given priorities by number, then unset reasons (`unset`=1), then
    unset callbacks (`unset`=2)."""
    return (0, priority) if priority is not None else (unset, math.inf)
