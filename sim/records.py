"""Columnar per-contact and per-spell records: compact arrays, one column per attribute.

A million contacts as Python objects would cost hundreds of megabytes; `array.array`
columns cost 8 bytes per value, append quickly while the simulation creates contacts, index
to plain Python floats inside the hot loop, and become numpy arrays without copying.
"""

from __future__ import annotations

from array import array

import numpy as np

NAN = float("nan")

ORIGINS = ("fresh", "redial", "chaser", "reopen", "bot_bounce")


class ContactLog:
    """One row per contact. Times are seconds from the scenario start; NaN = did not happen."""

    FLOAT_COLUMNS = ("arrival", "queued", "answered", "end", "deadline", "work", "bot_end")
    INT_COLUMNS = ("channel", "group", "origin", "customer", "reason", "flags")

    def __init__(self):
        for name in self.FLOAT_COLUMNS:
            setattr(self, name, array("d"))
        for name in self.INT_COLUMNS:
            setattr(self, name, array("q"))

    def __len__(self) -> int:
        return len(self.arrival)

    def extend(self, **columns: np.ndarray) -> int:
        """Append a block of contacts; columns not given are NaN / -1. Returns the first new index."""
        first = len(self)
        n = len(next(iter(columns.values())))
        for name in self.FLOAT_COLUMNS:
            values = columns.get(name)
            block = np.full(n, np.nan) if values is None else np.asarray(values, dtype=np.float64)
            getattr(self, name).frombytes(block.tobytes())
        for name in self.INT_COLUMNS:
            values = columns.get(name)
            block = np.full(n, -1, dtype=np.int64) if values is None else np.asarray(values, dtype=np.int64)
            getattr(self, name).frombytes(block.tobytes())
        return first

    def append(self, arrival: float, channel: int, work: float, deadline: float, origin: int,
               customer: int, reason: int = 0, queued: float = NAN, flags: int = 0) -> int:
        """Add one contact created during the run (a redial, chaser, reopen …)."""
        index = len(self.arrival)
        self.arrival.append(arrival)
        self.queued.append(queued)
        self.answered.append(NAN)
        self.end.append(NAN)
        self.deadline.append(deadline)
        self.work.append(work)
        self.bot_end.append(NAN)
        self.channel.append(channel)
        self.group.append(-1)
        self.origin.append(origin)
        self.customer.append(customer)
        self.reason.append(reason)
        self.flags.append(flags)
        return index

    def columns(self) -> dict[str, np.ndarray]:
        """Numpy views of every column (no copy)."""
        out = {}
        for name in self.FLOAT_COLUMNS:
            out[name] = np.frombuffer(getattr(self, name), dtype=np.float64)
        for name in self.INT_COLUMNS:
            out[name] = np.frombuffer(getattr(self, name), dtype=np.int64)
        return out


class SpellLog:
    """Time spells of an agent group: on shift, or busy with at least one contact."""

    def __init__(self):
        self.group = array("q")
        self.start = array("d")
        self.end = array("d")

    def add(self, group: int, start: float, end: float) -> None:
        if end > start:
            self.group.append(group)
            self.start.append(start)
            self.end.append(end)

    def columns(self) -> dict[str, np.ndarray]:
        return {
            "group": np.frombuffer(self.group, dtype=np.int64),
            "start": np.frombuffer(self.start, dtype=np.float64),
            "end": np.frombuffer(self.end, dtype=np.float64),
        }
