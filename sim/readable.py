"""Durations and dates as a planner reads them: `42 s`, `12.5 min`, `5:08 h`, `2.1 d`, `Fri 27 Nov`.

CSV columns stay in seconds (`asa_s`); what a person reads (report cards, axes, hover text,
terminal tables, verdict sentences) is shown in the unit of the channel's service-level
threshold: seconds for a 30-second phone target, minutes for a 15-minute chat target, hours
for a 4-hour messaging target, days for a 3-day email target. A value far larger than its
threshold moves up a unit, so nothing is ever printed as thousands of seconds.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True)
class TimeUnit:
    """A display unit for durations: its symbol, size in seconds and axis word."""

    symbol: str
    seconds: float
    word: str
    # move up a unit once a value reaches this many of this unit
    ceiling: float


SECONDS = TimeUnit("s", 1.0, "seconds", 600.0)
MINUTES = TimeUnit("min", 60.0, "minutes", 180.0)
HOURS = TimeUnit("h", 3600.0, "hours", 72.0)
DAYS = TimeUnit("d", 86400.0, "days", math.inf)
UNITS = (SECONDS, MINUTES, HOURS, DAYS)


def _finite(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def unit_of_threshold(threshold_s: float | None) -> TimeUnit:
    """The unit a threshold is naturally stated in: 30 s → s, 15 min → min, 4 h → h, 3 d → d."""
    value = _finite(threshold_s)
    if value is None or value < 120:
        return SECONDS
    if value < 2 * 3600:
        return MINUTES
    if value < 2 * 86400:
        return HOURS
    return DAYS


def unit_for(threshold_s: float | None = None, values_s: Iterable[float] | float | None = None) -> TimeUnit:
    """The threshold's unit, moved up while the largest value would read as too many of it."""
    unit = unit_of_threshold(threshold_s)
    if values_s is None:
        return unit
    values = [values_s] if isinstance(values_s, (int, float)) else list(values_s)
    finite = [abs(v) for v in (_finite(x) for x in values) if v is not None]
    largest = max(finite, default=0.0)
    index = UNITS.index(unit)
    while index < len(UNITS) - 1 and largest / UNITS[index].seconds >= UNITS[index].ceiling:
        index += 1
    return UNITS[index]


def duration(seconds: float | None, unit: TimeUnit | None = None, signed: bool = False) -> str:
    """`seconds` in `unit` (or the unit its size suggests), never thousands of seconds; `–` if undefined."""
    value = _finite(seconds)
    if value is None:
        return "–"
    smallest = unit_for(None, value)  # the unit the size alone needs
    if unit is None or UNITS.index(smallest) > UNITS.index(unit):
        unit = smallest
    sign = "+" if signed and value > 0 else "−" if value < 0 else ""
    size = abs(value)
    if unit is SECONDS:
        text = f"{size:,.0f} s" if size >= 100 else f"{size:.1f} s"
    elif unit is MINUTES:
        text = f"{size / 60:,.1f} min"
    elif unit is HOURS:
        minutes = int(math.floor(size / 60 + 0.5))  # half up: 30 s reads 0:01 h
        text = f"{minutes // 60}:{minutes % 60:02d} h"
    else:
        text = f"{size / 86400:,.1f} d"
    if not any(ch in "123456789" for ch in text):
        sign = ""  # rounds to zero: no "−0.0 s"
    return sign + text


def threshold_text(threshold_s: float | None) -> str:
    """A threshold as a planner writes it: `30 s`, `1 min`, `4 h`, `1 d`."""
    value = _finite(threshold_s)
    if value is None:
        return "–"
    for unit in reversed(UNITS):
        amount = value / unit.seconds
        if amount >= 1 and abs(amount - round(amount)) < 1e-9:
            return f"{round(amount):g} {unit.symbol}"
    return duration(value, unit_of_threshold(value))


def scaled(values, unit: TimeUnit):
    """Values in seconds divided into `unit` (for an axis in that unit); works on arrays and Series."""
    return values / unit.seconds


# --- dates and times ---------------------------------------------------------------------------
def day_text(day: dt.date) -> str:
    """`Fri 27 Nov`."""
    return f"{day:%a} {day.day} {day:%b}"


def days_text(days: Iterable[dt.date]) -> str:
    """Days as runs of consecutive dates: `Wed 25 – Sat 28 Nov, Mon 30 Nov`."""
    ordered = sorted(set(days))
    if not ordered:
        return ""
    runs: list[list[dt.date]] = [[ordered[0]]]
    for day in ordered[1:]:
        if (day - runs[-1][-1]).days == 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = []
    for run in runs:
        first, last = run[0], run[-1]
        if first == last:
            parts.append(day_text(first))
        elif first.month == last.month:
            parts.append(f"{first:%a} {first.day} – {day_text(last)}")
        else:
            parts.append(f"{day_text(first)} – {day_text(last)}")
    return ", ".join(parts)


def clock(moment: dt.datetime | dt.time) -> str:
    return f"{moment:%H:%M}"


def share(value: float | None, digits: int = 0) -> str:
    number = _finite(value)
    return "–" if number is None else f"{100 * number:.{digits}f}%"


def points(value: float | None, digits: int = 0, signed: bool = True) -> str:
    """A difference of shares in percentage points: `−12 pp`."""
    number = _finite(value)
    if number is None:
        return "–"
    text = f"{abs(100 * number):.{digits}f} pp"
    if not signed or round(100 * number, digits) == 0:
        return text
    return ("+" if number > 0 else "−") + text


def listing(names: Iterable[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    names = [str(n) for n in names]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]
