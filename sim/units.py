"""Durations and clock times as planners write them (`20s`, `3min`, `1.5h`, `08:30`).

Everything inside the model is in seconds from the scenario start; this module is the
only place that turns human units into seconds, so the rules live in one spot.
"""

from __future__ import annotations

import re

_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-zA-Z]*)\s*$")
_UNIT_SECONDS = {
    "": 1.0, "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0,
    "m": 60.0, "min": 60.0, "mins": 60.0, "minute": 60.0, "minutes": 60.0,
    "h": 3600.0, "hr": 3600.0, "hrs": 3600.0, "hour": 3600.0, "hours": 3600.0,
    "d": 86400.0, "day": 86400.0, "days": 86400.0,
    "w": 604800.0, "week": 604800.0, "weeks": 604800.0,
}
DURATION_HINT = "write a duration like 20s, 3min, 1.5h, 2d or plain seconds"


def parse_duration(value: object) -> float:
    """Seconds from `20s`, `3min`, `1.5h`, `2d`, or a plain number of seconds."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration; {DURATION_HINT}")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        negative = _DURATION.match(value.strip().removeprefix("-")) if value.strip().startswith("-") else None
        if negative and negative.group(2).lower() in _UNIT_SECONDS:
            raise ValueError("a duration cannot be negative; write a positive duration like 3min")
        if match and match.group(2).lower() in _UNIT_SECONDS:
            return float(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]
    raise ValueError(f"not a duration; {DURATION_HINT}")


def parse_clock(value: object) -> int:
    """Seconds after midnight from `HH:MM` (or `HH:MM:SS`); `24:00` means end of day."""
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*", value)
        if match:
            h, m, s = int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
            if (h < 24 and m < 60 and s < 60) or (h == 24 and m == 0 and s == 0):
                return h * 3600 + m * 60 + s
    raise ValueError("not a clock time; write it as HH:MM, e.g. 08:30 or 24:00")


def format_duration(seconds: float) -> str:
    """Shortest readable form, for messages and reports."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def format_clock(seconds: int) -> str:
    """Seconds after midnight as `HH:MM` (or `HH:MM:SS`), for messages."""
    h, rest = divmod(int(seconds), 3600)
    m, sec = divmod(rest, 60)
    return f"{h:02d}:{m:02d}" + (f":{sec:02d}" if sec else "")

