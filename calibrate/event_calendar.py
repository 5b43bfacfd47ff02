"""Named days a season is measured against: the built-in retail calendar and a user's events file.

Why names: a peak learned last year must land on the right day this year. Black Friday moves
(2025-11-28 → 2026-11-27), Singles Day does not, a Ramadan sale moves with the lunar calendar.
So calibrate matches unusual days to names, and forecast re-dates each name onto the target year.

Built-in retail calendar (:data:`RETAIL`): Singles Day (11 Nov), Black Friday (the day after the
fourth Thursday of November), Cyber Monday (the Monday after), Christmas Eve, Christmas Day,
Boxing Day (24–26 Dec), New Year (1 Jan) and the January returns period (the run of unusual days
between 2 and 31 January).

A user events file (``--events events.yaml``) maps a name to its dates, one per year::

    White Friday: [2025-11-21, 2026-11-20]
    Ramadan sale:
      - {date: 2025-03-01, end: 2025-03-29}
      - {date: 2026-02-18, end: 2026-03-19}
    last shipping day: 2025-12-19

A user event's ``end`` makes it a period measured as a whole; a name that is also in the retail
calendar replaces the built-in rule.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from calibrate.schema import Described, TicketError

__all__ = ["EventDates", "RETAIL", "black_friday", "load_events", "occurrences"]


@dataclass(frozen=True)
class EventDates:
    """One occurrence of a named event: its days ``first``…``last``; ``window`` True means the event
    is the run of unusual days found inside them (January returns), not all of them."""

    name: str
    first: dt.date
    last: dt.date
    source: str
    window: bool = False


def black_friday(year: int) -> dt.date:
    """The day after the fourth Thursday of November."""
    first = dt.date(year, 11, 1)
    thursday = first + dt.timedelta(days=(3 - first.weekday()) % 7)
    return thursday + dt.timedelta(days=22)


def _day(month: int, day: int):
    return lambda y: (dt.date(y, month, day), dt.date(y, month, day), False)


RETAIL = {
    "Singles Day": _day(11, 11),
    "Black Friday": lambda y: (black_friday(y), black_friday(y), False),
    "Cyber Monday": lambda y: (black_friday(y) + dt.timedelta(days=3), black_friday(y) + dt.timedelta(days=3), False),
    "Christmas Eve": _day(12, 24),
    "Christmas Day": _day(12, 25),
    "Boxing Day": _day(12, 26),
    "New Year": _day(1, 1),
    "January returns": lambda y: (dt.date(y, 1, 2), dt.date(y, 1, 31), True),
}


def occurrences(first: dt.date, last: dt.date, user: dict | None = None) -> list[EventDates]:
    """Every named event (retail and user) with days between ``first`` and ``last``."""
    user = user or {}
    out = []
    for year in range(first.year - 1, last.year + 2):
        for name, rule in RETAIL.items():
            if name in user:
                continue
            a, b, window = rule(year)
            if b >= first and a <= last:
                out.append(EventDates(name, a, b, "retail", window))
    for name, spans in user.items():
        out += [EventDates(name, a, b, "user") for a, b in spans if b >= first and a <= last]
    return sorted(out, key=lambda e: (e.first, e.name))


def dates_in_year(name: str, year: int, user: dict | None = None) -> tuple[dt.date, dt.date] | None:
    """The days of ``name`` in ``year`` (user calendar first, then retail); None if unknown."""
    user = user or {}
    if name in user:
        spans = [s for s in user[name] if s[0].year == year]
        return spans[0] if spans else None
    if name in RETAIL:
        a, b, _ = RETAIL[name](year)
        return a, b
    return None


def _date(value, path, where):
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:  # 2025-13-40 reaches here as text (the YAML reader keeps impossible dates as text)
        problem = "a date that does not exist" if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", text) else "not a date"
        raise TicketError(path, where, problem, got=text, fix="write dates as YYYY-MM-DD, e.g. 2025-11-21") from None


def load_events(path) -> dict[str, list[tuple[dt.date, dt.date]]]:
    """Read a user events file (module doc) into ``{name: [(first, last), …]}``; bad input raises a
    one-line :class:`~calibrate.schema.TicketError` naming the file and the event."""
    from sim.errors import PeaksimError
    from sim.yamlsource import load_yaml_with_lines

    path = Path(path)
    if not path.exists():
        raise TicketError(path, "events", "file not found", fix="check the path given to --events")
    try:  # bounded, FIFOs and devices refused; an impossible date stays text and is refused below with its event
        data, _ = load_yaml_with_lines(path, "events file")
    except PeaksimError as exc:
        raise TicketError.located(exc.lines[0], path, "events") from None
    if not isinstance(data, dict) or not data:
        raise TicketError(path, "events", "must map event names to dates",
                          got=Described("empty file" if data is None else type(data).__name__),
                          fix="e.g. `White Friday: [2025-11-21, 2026-11-20]`")
    out = {}
    for name, value in data.items():
        where = f"events.{name}"
        if not isinstance(name, str) or not name.strip():
            raise TicketError(path, "events", "an event needs a name", got=str(name), fix="use `name: dates`")
        items = value if isinstance(value, list) else [value]
        if not items:
            raise TicketError(path, where, "has no dates", got=Described("[]"), fix="give at least one date")
        spans = []
        for k, item in enumerate(items):
            if isinstance(item, dict):
                unknown = set(item) - {"date", "end"}
                if "date" not in item or unknown:
                    raise TicketError(path, f"{where}[{k}]", "a period needs `date` (and optionally `end`) only",
                                      got=Described(", ".join(map(str, item))), fix="write {date: 2025-03-01, end: 2025-03-29}")
                a = _date(item["date"], path, f"{where}[{k}].date")
                b = _date(item.get("end", a), path, f"{where}[{k}].end")
                if b < a:
                    raise TicketError(path, f"{where}[{k}].end", "is before `date`", got=str(b),
                                      fix="give an end on or after the start")
            else:
                a = b = _date(item, path, f"{where}[{k}]")
            spans.append((a, b))
        out[name.strip()] = sorted(spans)
    return out
