"""Columnar per-contact and per-spell records: compact arrays, one column per attribute.

A million contacts as Python objects would cost hundreds of megabytes; `array.array`
columns cost 8 bytes per value, append quickly while the simulation creates contacts, index
to plain Python floats inside the hot loop, and become numpy arrays without copying.
"""

from __future__ import annotations

from array import array

import numpy as np

NAN = float("nan")

ORIGINS = ("fresh", "redial", "chaser", "reopen", "bot_bounce", "callback")
NO_LIMIT = 2**62


class ContactLimitReached(Exception):
    """A replication reached its contact limit (see `sim.loops`; the replication turns it into a PeaksimError)."""

    def __init__(self, limit: int):
        super().__init__(f"contact limit {limit:,} reached")
        self.limit = limit


class ContactLog:
    """One row per contact. Times are seconds from the scenario start; NaN = did not happen.

    `limit` bounds the rows, fresh and created during the run alike: `extend` and `append` (the one
    place every contact created during a run goes through) raise `ContactLimitReached` beyond it.

    Integer columns use the narrowest type that fits (channel and group ids < 32768,
    customer ids < 2^31). `bot_end` is NaN for every contact until one meets a bot, so it is
    stored only from then on (None before): 8 bytes a contact saved in bot-free scenarios.
    `group` (of the answering agent) is not stored but derived from `agent` and `agent_group`
    (each agent id's group, appended by the model as it hires): one array write less per answer.
    """

    FLOAT_COLUMNS = ("arrival", "queued", "answered", "end", "deadline", "work", "bot_end")
    INT_COLUMNS = {"channel": "h", "group": "h", "agent": "i", "origin": "b", "customer": "i", "reason": "h",
                   "flags": "b"}
    DERIVED = ("group",)

    limit = NO_LIMIT

    def __init__(self, wide_flags: bool = False):
        if wide_flags:  # callbacks and journey marks need bits above 127 (sim.contacts): 16-bit flags for this log only
            self.INT_COLUMNS = {**self.INT_COLUMNS, "flags": "h"}
        for name in self.FLOAT_COLUMNS:
            setattr(self, name, array("d"))
        for name, code in self.INT_COLUMNS.items():
            if name not in self.DERIVED:
                setattr(self, name, array(code))
        self.bot_end = None
        self.agent_group = array("h")

    def __len__(self) -> int:
        return len(self.arrival)

    def extend(self, n: int, **columns) -> int:
        """Append n contacts; a column is an array, a scalar for all n, or absent (NaN / -1).

        Returns the first new row index.
        """
        first = len(self)
        if first + n > self.limit:
            raise ContactLimitReached(self.limit)
        for name in self.FLOAT_COLUMNS:
            values = columns.get(name, np.nan)
            if name == "bot_end" and self.bot_end is None:
                if np.all(np.isnan(values)):
                    continue
                self._store_bot_end(first)
            self._append_block(name, values, np.float64, n)
        for name, code in self.INT_COLUMNS.items():
            if name not in self.DERIVED:
                self._append_block(name, columns.get(name, -1), np.dtype(code), n)
        return first

    def _append_block(self, name: str, values, dtype, n: int) -> None:
        block = np.full(n, values, dtype=dtype) if np.isscalar(values) else np.asarray(values, dtype=dtype)
        if block.shape != (n,):
            raise ValueError(f"column {name!r} has {block.size} values for {n} contacts")
        getattr(self, name).frombytes(memoryview(np.ascontiguousarray(block)).cast("B"))

    def append(self, arrival: float, channel: int, work: float, deadline: float, origin: int,
               customer: int, reason: int = 0, queued: float = NAN, flags: int = 0, bot_end: float = NAN) -> int:
        """Add one contact created during the run (a redial, chaser, reopen …); counted against `limit`."""
        index = len(self.arrival)
        if index >= self.limit:
            raise ContactLimitReached(self.limit)
        self.arrival.append(arrival)
        self.queued.append(queued)
        self.answered.append(NAN)
        self.end.append(NAN)
        self.deadline.append(deadline)
        self.work.append(work)
        if self.bot_end is not None or bot_end == bot_end:  # (not NaN)
            if self.bot_end is None:
                self._store_bot_end(index)
            self.bot_end.append(bot_end)
        self.channel.append(channel)
        self.agent.append(-1)
        self.origin.append(origin)
        self.customer.append(customer)
        self.reason.append(reason)
        self.flags.append(flags)
        return index

    def _store_bot_end(self, n: int) -> None:
        """Start storing `bot_end`: NaN for the first n contacts."""
        self.bot_end = array("d", np.full(n, np.nan).tobytes())

    def columns(self, names: tuple[str, ...] | None = None) -> dict[str, np.ndarray]:
        """Numpy views of the named columns (default: all), no copy (but a NaN array for an unstored `bot_end`)."""
        out = {}
        for name in names or (*self.FLOAT_COLUMNS, *self.INT_COLUMNS):
            if name == "group":
                agent = np.frombuffer(self.agent, dtype=np.int32)
                groups = np.frombuffer(self.agent_group, dtype=np.int16)
                out[name] = np.where(agent >= 0, groups[np.maximum(agent, 0)] if groups.size else -1, -1).astype(np.int16)
                continue
            column = getattr(self, name)
            if column is None:
                out[name] = np.full(len(self), np.nan)
            else:
                out[name] = np.frombuffer(column, dtype=np.float64 if name in self.FLOAT_COLUMNS
                                          else np.dtype(self.INT_COLUMNS[name]))
        return out

    def take(self, names: tuple[str, ...]) -> dict[str, np.ndarray]:
        """`columns(names)`, and the log lets go of all its columns: the others are freed now, not when
        the model's reference cycles are collected."""
        out = self.columns(names)
        self.__init__(self.INT_COLUMNS["flags"] == "h")  # empty columns
        return out


class SpellLog:
    """Time spells of agents (on shift), with their group and agent id."""

    def __init__(self):
        self.group = array("h")
        self.agent = array("i")
        self.start = array("d")
        self.end = array("d")

    def add(self, group: int, start: float, end: float, agent: int = -1) -> None:
        if end >= start:
            self.group.append(group)
            self.agent.append(agent)
            self.start.append(start)
            self.end.append(end)

    def columns(self) -> dict[str, np.ndarray]:
        return {
            "group": np.frombuffer(self.group, dtype=np.int16),
            "agent": np.frombuffer(self.agent, dtype=np.int32),
            "start": np.frombuffer(self.start, dtype=np.float64),
            "end": np.frombuffer(self.end, dtype=np.float64),
        }
