"""Opening hours: the one calendar that says when a channel is open.

A channel's `open` block states a weekly rule (`start`–`end` on `days`) and `exceptions` for given
local dates (07:00–24:00 on Black Friday, closed on 25 December). `OpeningHours.on(date)` turns
them into the wall-clock hours of one date; `open_calendar` lays those dates onto the horizon as
spells of seconds from its start (DST-aware: 08:00 is 08:00 wall-clock on both sides of a change).
Everything else asks the calendar, never the rule: the arrivals (sync contacts arrive only while
open, so a partly open interval gets its open share), the model (the channel opens and closes at
the exact times), the backlog and staffing rules (open seconds per interval) and the capacity
checks. So off-grid hours such as 08:30–17:30 on a 60-minute grid mean the same thing everywhere.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import BeforeValidator, ConfigDict, Field, PrivateAttr, WithJsonSchema, model_validator

from .distributions import StrictModel
from .errors import at
from .units import format_clock, parse_clock

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _weekday(value: object) -> object:
    return value.lower()[:3] if isinstance(value, str) else value


Weekday = Annotated[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], BeforeValidator(_weekday)]
ClockTime = Annotated[int, BeforeValidator(parse_clock), WithJsonSchema(
    {"type": "string", "pattern": r"^\d{1,2}:\d{2}(:\d{2})?$", "description": "local clock time HH:MM"})]


class _Model(StrictModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_order(start: int, end: int) -> None:
    if end <= start:
        raise at(".end", f"must be after `start`, opening hours lie within one day (got {format_clock(start)}"
                 f"–{format_clock(end)}); write 24:00 for midnight")


class OpeningException(_Model):
    """Other hours on given local dates, whatever their weekday: `start`–`end`, or `closed: true`."""

    dates: list[dt.date] = Field(min_length=1, description="local dates (YYYY-MM-DD) these hours replace the weekly "
                                                           "rule on")
    start: ClockTime | None = Field(default=None, description="opens at (local HH:MM) on those dates")
    end: ClockTime | None = Field(default=None, description="closes at (local HH:MM, 24:00 = midnight) on those dates")
    closed: bool = Field(default=False, strict=True, description="true: closed all day on those dates")

    @model_validator(mode="after")
    def _hours_or_closed(self):
        given = [k for k in ("start", "end") if getattr(self, k) is not None]
        if self.closed and given:
            raise at(f".{given[0]}", "a closed date has no hours (got `closed: true` with `start`/`end`); "
                     "remove the hours or `closed`")
        if not self.closed:
            if len(given) < 2:
                missing = "end" if "start" in given else "start"
                raise at(f".{missing}", "an exception needs both `start` and `end` (or `closed: true`) "
                         f"(got no `{missing}`); e.g. {{dates: [2026-11-27], start: \"07:00\", end: \"24:00\"}}")
            _check_order(self.start, self.end)
        return self


class OpeningHours(_Model):
    """When agents work a channel (local time). Sync channels take contacts only while open."""

    start: ClockTime = Field(default=0, description="opens at (local HH:MM)", json_schema_extra={"default": "00:00"})
    end: ClockTime = Field(default=86400, description="closes at (local HH:MM, 24:00 = midnight)",
                           json_schema_extra={"default": "24:00"})
    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS), min_length=1, description="open days",
                               json_schema_extra={"default": list(WEEKDAYS)})
    exceptions: list[OpeningException] | None = Field(
        default=None, description="special dates: other hours (`start`, `end`) or `closed: true`; they replace the "
                                  "weekly rule on those dates (e.g. 07:00–24:00 on Black Friday, closed on 25 December)")
    _by_date: dict = PrivateAttr(default_factory=dict)  # date → its exception (built once, looked up per date)

    @model_validator(mode="after")
    def _ordered(self):
        _check_order(self.start, self.end)
        seen: dict[dt.date, int] = {}
        for i, exception in enumerate(self.exceptions or []):
            for date in exception.dates:
                if date in seen:
                    raise at(f".exceptions[{i}].dates", f"{date.isoformat()} is already in exceptions[{seen[date]}] "
                             "(got the same date twice); give each date one set of hours")
                seen[date] = i
        self._by_date = {date: self.exceptions[i] for date, i in seen.items()}
        return self

    def on(self, date: dt.date) -> tuple[int, int] | None:
        """Wall-clock (start_s, end_s) on a local date, or None if closed: the date's exception, else the weekly rule."""
        exception = self._by_date.get(date)
        if exception is not None:
            return None if exception.closed else (exception.start, exception.end)
        return (self.start, self.end) if WEEKDAYS[date.weekday()] in self.days else None

    def closed_by_exception(self, date: dt.date) -> bool:
        exception = self._by_date.get(date)
        return exception is not None and exception.closed


@dataclass(frozen=True)
class OpenCalendar:
    """When one channel is open: sorted, disjoint [open, close) spells in seconds from the horizon start.

    `always`: no opening hours (every query answers "open"). The spells start a day before the
    horizon and run past its end (by `extra_days`), so deadlines beyond the horizon see real hours.
    """

    spells: np.ndarray
    always: bool = False

    def is_open(self, t):
        """Whether the channel is open at time(s) t."""
        t = np.asarray(t, dtype=float)
        if self.always:
            return np.ones(t.shape, dtype=bool)
        i = np.searchsorted(self.spells[:, 0], t, side="right") - 1
        return (i >= 0) & (t < self.spells[np.maximum(i, 0), 1])

    def opened_by(self, t) -> np.ndarray:
        """Open seconds from the calendar's origin up to time(s) t (a non-decreasing function of t)."""
        t = np.asarray(t, dtype=float)
        if self.always:
            return t.copy()
        starts, lengths = self.spells[:, 0], self.spells[:, 1] - self.spells[:, 0]
        before = np.r_[0.0, np.cumsum(lengths)]
        i = np.searchsorted(starts, t, side="right") - 1
        inside = np.clip(t - starts[np.maximum(i, 0)], 0.0, lengths[np.maximum(i, 0)])
        return np.where(i >= 0, before[np.maximum(i, 0)] + inside, 0.0)

    def open_seconds(self, a, b) -> np.ndarray:
        """Open seconds in [a, b) (vectorised)."""
        return self.opened_by(b) - self.opened_by(a)

    def place(self, a, u) -> np.ndarray:
        """The time at which `u` open seconds have passed since time a: spreads arrivals over the open part only."""
        a, u = np.asarray(a, dtype=float), np.asarray(u, dtype=float)
        if self.always:
            return a + u
        starts, lengths = self.spells[:, 0], self.spells[:, 1] - self.spells[:, 0]
        before = np.r_[0.0, np.cumsum(lengths)]
        target = self.opened_by(a) + u
        j = np.clip(np.searchsorted(before, target, side="right") - 1, 0, len(starts) - 1)
        return starts[j] + np.minimum(target - before[j], lengths[j])

    def changes(self, horizon_s: float) -> tuple[tuple[float, bool], ...]:
        """(time_s, is_open) from 0, first entry at 0; empty when always open (what the model schedules)."""
        if self.always:
            return ()
        out = [(0.0, bool(self.is_open(0.0)))]
        for a, b in self.spells.tolist():
            if 0 < a < horizon_s:
                out.append((a, True))
            if 0 < b < horizon_s:
                out.append((b, False))
        return tuple(sorted(out, key=lambda c: (c[0], c[1])))

    def per_interval(self, interval_s: float, horizon_s: float, n: int | None = None) -> np.ndarray:
        """Open seconds of each reporting interval (intervals inside the horizon are cut at its end;
        `n` beyond the horizon's own intervals continues the grid past it)."""
        inside = int(np.ceil(horizon_s / interval_s - 1e-9))
        n = inside if n is None else n
        lo = np.arange(n) * interval_s
        hi = lo + interval_s
        hi[:inside] = np.minimum(hi[:inside], horizon_s)
        out = np.zeros(n)
        if self.always:
            return hi - lo
        for a, b in self.spells.tolist():  # overlaps spell by spell: a wholly open interval gets exactly hi - lo
            k0, k1 = max(int(a // interval_s), 0), min(int(np.ceil(b / interval_s)), n)
            if k1 > k0:
                out[k0:k1] += np.maximum(np.minimum(hi[k0:k1], b) - np.maximum(lo[k0:k1], a), 0.0)
        return out


ALWAYS = OpenCalendar(np.empty((0, 2)), always=True)


def open_calendar(hours: OpeningHours | None, start_local, zone, horizon_s: float, extra_days: int = 0) -> OpenCalendar:
    """The spells of `hours` around a horizon starting at `start_local` (its zone places the wall-clock times)."""
    if hours is None:
        return ALWAYS
    start = pd.Timestamp(start_local)
    first = (start - pd.Timedelta(days=1)).date()
    dates = [first + dt.timedelta(days=d) for d in range(int(horizon_s // 86400) + 3 + extra_days)]
    day_hours = [(date, hours.on(date)) for date in dates]
    day_hours = [(date, h) for date, h in day_hours if h is not None]
    if not day_hours:
        return OpenCalendar(np.empty((0, 2)))
    naive = pd.DatetimeIndex([pd.Timestamp(date) + pd.Timedelta(seconds=s) for date, h in day_hours for s in h])
    local = naive.tz_localize(zone, nonexistent="shift_forward", ambiguous=False)
    seconds = np.asarray((local - start).total_seconds(), dtype=float).reshape(-1, 2)
    spells = []
    for a, b in seconds[seconds[:, 1] > seconds[:, 0]].tolist():
        if spells and a <= spells[-1][1]:  # open until midnight and again from midnight: one spell
            spells[-1][1] = max(spells[-1][1], b)
        else:
            spells.append([a, b])
    return OpenCalendar(np.array(spells, dtype=float).reshape(-1, 2))


def channel_calendar(scenario, channel: str, extra_days: int = 0) -> OpenCalendar:
    """The calendar of a scenario's channel: the single source for "is it open at t" and "open seconds in k"."""
    return open_calendar(scenario.channels[channel].open, scenario.start_local, scenario.zone, scenario.horizon_s,
                         extra_days)


def wall_clock_open_share(hours: OpeningHours | None, date: dt.date, interval_s: float) -> np.ndarray:
    """Per interval of the local day (wall clock): the share of it inside that date's opening hours."""
    if hours is None:
        return np.ones(int(round(86400 / interval_s)))
    return clock_share(hours.on(date), interval_s)


def clock_share(day: tuple[int, int] | None, interval_s: float) -> np.ndarray:
    """Per interval of a day: the share of it inside wall-clock hours `day` = (start_s, end_s) (None: closed)."""
    slots = int(round(86400 / interval_s))
    if day is None:
        return np.zeros(slots)
    lo = np.arange(slots) * interval_s
    return np.clip(np.minimum(lo + interval_s, day[1]) - np.maximum(lo, day[0]), 0.0, interval_s) / interval_s
