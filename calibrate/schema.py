"""The generic contact schema that every ticket source is read into, and the one error for bad input.

Why one schema: fits, profiles and behaviour rates are written once, against these columns, and
each source (a CSV export with a mapping file, the Technion call log, the UCI ServiceNow log) only
has to translate itself. One row is one contact:

=============== ============================================================================
column          meaning
=============== ============================================================================
contact_id      the source's id; duplicates are dropped (first kept) and counted
customer_id     who contacted (for redials); missing when unknown
channel         lower-case channel name (``voice``, ``email``, ``self_service`` ...) — required
reason          contact reason / type / category
created_at      when the contact arrived (IVR entry, ticket creation) — required
queued_at       when it reached the agent queue; missing = never offered to agents
answered_at     when an agent started on it
abandoned_at    when the customer left the queue unanswered
handle_time_s   agent handling time, seconds
agent_id        the agent who handled it
bot_handled     whether a bot / IVR handled it first
bot_resolved    whether the bot resolved it without an agent
resolved_at     when it was resolved (async channels)
reopened        whether it was reopened after resolution
csat            the customer's satisfaction answer: a score 1-5, or yes/no (read as 1/0; a
                column holding only 0 and 1 is yes/no); see :mod:`calibrate.csat`
=============== ============================================================================

Times are tz-aware ``Timestamp`` s. Waits are ``answered_at`` (or ``abandoned_at``) minus
``queued_at``.

Every message about bad input is one line, ``FILE[:ROW]: field: what is wrong (got VALUE); how to
fix``, so a planner can act on it without reading a traceback. ROW is the spreadsheet row number
(the header is row 1). Rows that cannot be used are dropped and counted by reason, never silently.
"""
from __future__ import annotations

import hashlib
import re
import warnings
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

TIME_COLUMNS = ("created_at", "queued_at", "answered_at", "abandoned_at", "resolved_at")
TEXT_COLUMNS = ("contact_id", "customer_id", "channel", "reason", "agent_id")
BOOL_COLUMNS = ("bot_handled", "bot_resolved", "reopened")
NUMBER_COLUMNS = ("handle_time_s",)
CSAT_COLUMNS = ("csat",)
COLUMNS = ("contact_id", "customer_id", "channel", "reason", "created_at", "queued_at",
           "answered_at", "abandoned_at", "handle_time_s", "agent_id", "bot_handled",
           "bot_resolved", "resolved_at", "reopened", "csat")
REQUIRED = ("channel", "created_at")
# a handle time over a year is a unit or typing error (1e12 s is 30,000 years), never agent work
IMPLAUSIBLE_HANDLE_S = 366 * 86400.0
_MISSING = object()
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}
# a clock time followed by an offset or zone name: "10:00Z", "10:00:00.5+01:00", "10:00 UTC"
_NUMERIC_DATE = re.compile(r"\d{1,2}[/.]\d{1,2}[/.]\d{2,4}(?:[ T].*)?")  # 03/04/2024: March 4 or 3 April?
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
_OFFSET = re.compile(r"\d:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?|UTC|GMT)$")


class TicketError(ValueError):
    """Bad ticket input, with a one-line message naming the file, row, field and a fix.

    Values taken from the file are quoted in the message (``got 'yesterday'``); descriptions of the
    input are passed as :class:`Described` and shown bare (``got 0 bytes``).
    """

    def __init__(self, file, field, problem, got=_MISSING, fix=None, row=None):
        self.file, self.row, self.field, self.problem, self.fix = str(file), row, field, problem, fix
        self.got = None if got is _MISSING else got
        where = f"{file}:{row}" if row is not None else f"{file}"
        msg = f"{where}: {field}: {problem}"
        if got is not _MISSING:
            msg += f" (got {_show(got)})"
        if fix:
            msg += f"; {fix}"
        super().__init__(msg)

    @classmethod
    def located(cls, message: str, file, field: str = "file") -> "TicketError":
        """A TicketError whose message is already in the ``FILE[:LINE]: field: problem; fix`` form
        (e.g. from the YAML reader shared with scenarios)."""
        err = cls(file, field, "")
        err.problem = message
        ValueError.__init__(err, message)
        return err


class Described(str):
    """A ``got`` that describes the input (``"0 bytes"``) rather than quoting a value from it."""


def _show(value) -> str:
    text = repr(str(value)) if isinstance(value, str) and not isinstance(value, Described) else str(value)
    text = " ".join(text.split())
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass(frozen=True, eq=False)
class TicketData:
    """Contacts in the generic schema plus what it took to get them.

    ``rows_read == len(contacts) + sum(dropped.values())`` always holds; ``drop_examples`` gives
    the first ``file:row`` for each drop reason so a planner can look at one. ``notes`` holds counts
    of changes that did not drop rows (e.g. nonexistent DST times shifted forward).
    """

    contacts: pd.DataFrame
    dropped: dict
    rows_read: int
    files: list
    notes: dict = field(default_factory=dict)
    drop_examples: dict = field(default_factory=dict)

    @property
    def rows_used(self) -> int:
        return len(self.contacts)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def normalise_channel(values: pd.Series) -> pd.Series:
    """``"Self service"`` → ``"self_service"``: one spelling per channel across sources."""
    text = values.astype("string").str.strip().str.lower()
    text = text.str.replace(r"[\s\-/]+", "_", regex=True)
    return text.mask(text == "")


def localise(naive: pd.Series, tz: str) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Attach ``tz`` to wall-clock times.

    Choice for DST: a nonexistent local time (inside the spring-forward gap) can only be a clock
    typo of at most one hour, so it is shifted forward to the first valid instant and counted;
    an ambiguous time (the repeated autumn hour) could be either of two instants an hour apart,
    which would corrupt waits, so its row is dropped and counted. ``ambiguous="infer"`` is not used
    because it needs rows sorted by time, which exports do not promise.

    Returns (aware times, nonexistent mask, ambiguous mask).
    """
    present = naive.notna().to_numpy()
    strict_dst = naive.dt.tz_localize(tz, ambiguous=np.ones(len(naive), bool), nonexistent="NaT")
    aware = naive.dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
    nonexistent = pd.Series(present & strict_dst.isna().to_numpy(), index=naive.index)
    ambiguous = pd.Series(present & aware.isna().to_numpy(), index=naive.index)
    return aware, nonexistent, ambiguous


_OFFSET_PART = re.compile(r"\d:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?|UTC|GMT)$")


def utc_offsets(raw: pd.Series, fmt=None) -> set:
    """The UTC offsets a time column is written with (``"+01:00"``), the zone of a zone-aware column
    (``"zone:Europe/Berlin"``) and ``"naive"`` if any value has neither: what a file says about its
    own zone when none was given (see :func:`calibrate.tickets.load_tickets`)."""
    if isinstance(raw.dtype, pd.DatetimeTZDtype):
        return {f"zone:{raw.dt.tz}"} if raw.notna().any() else set()
    if pd.api.types.is_datetime64_dtype(raw.dtype):
        return {"naive"} if raw.notna().any() else set()
    if fmt in ("unix", "unix_ms"):
        return set()  # instants: they say nothing about the local zone
    text = raw.astype("string").str.strip()
    text = text[text.notna() & (text != "")]
    found = text.str.extract(_OFFSET_PART, expand=False)
    out = {"naive"} if found.isna().any() else set()
    for value in found.dropna().unique():
        if value in ("Z", "UTC", "GMT"):
            out.add("+00:00")
        else:
            digits = value[1:].replace(":", "")
            out.add(f"{value[0]}{digits[:2]}:{(digits[2:] or '00')}")
    return out


def parse_times(raw: pd.Series, fmt, tz, file, column, rows):
    """Parse one time column; unreadable non-empty values raise, empty ones become NaT.

    Values with a UTC offset are converted to ``tz``; values without one are taken as wall-clock
    time in ``tz``. A column mixing both is refused: half of it would be silently shifted.
    """
    none = pd.Series(False, index=raw.index)
    if isinstance(raw.dtype, pd.DatetimeTZDtype):
        _check_range(raw, None, file, column, rows)
        return raw.dt.tz_convert(tz), none, none
    if pd.api.types.is_datetime64_dtype(raw.dtype):
        _check_range(raw, None, file, column, rows)
        return localise(raw, tz)
    text = raw.astype("string").str.strip()
    missing = text.isna() | (text == "")
    text = text.mask(missing)
    if fmt in ("unix", "unix_ms"):
        numbers = pd.to_numeric(text, errors="coerce")
        _raise_first(numbers.isna() & ~missing, text, file, column, rows,
                     "not a Unix timestamp", "use plain seconds since 1970 or change time_format")
        per_second = 1.0 if fmt == "unix" else 1000.0
        _raise_first((numbers < _FIRST.timestamp() * per_second) | (numbers > _LAST.timestamp() * per_second),
                     text, file, column, rows, _RANGE_PROBLEM, _RANGE_FIX)
        return pd.to_datetime(numbers, unit="s" if fmt == "unix" else "ms", utc=True).dt.tz_convert(tz), none, none
    if not fmt:  # forms that would parse, but could silently give the wrong instant
        _raise_first(text.str.fullmatch(_NUMERIC_DATE, na=False), text, file, column, rows,
                     "day and month order is ambiguous without a time_format",
                     "set time_format (e.g. '%d/%m/%Y %H:%M' or '%m/%d/%Y %H:%M') in the mapping file, "
                     "or export ISO 8601 times")
        _raise_first(text.str.fullmatch(_DATE_ONLY, na=False), text, file, column, rows,
                     "a date without a time of day (contacts would all land at midnight)",
                     "export date-times such as 2024-11-29 14:05:00, or leave the cell empty")
    offset = text.str.contains(_OFFSET, na=False)
    if offset.any() and not offset[~missing].all():
        _raise_first(~offset & ~missing, text, file, column, rows,
                     "mixes times with and without a UTC offset",
                     "export all times in one form, with or without offsets")
    parsed = _to_datetime(text, fmt, utc=bool(offset.any()))
    hint = (f"expected time_format {fmt!r}" if fmt else
            "use ISO 8601 like 2024-11-29 14:05:00, or set time_format in the mapping file")
    unread = text[parsed.isna() & ~missing]
    if not fmt and len(unread) and re.fullmatch(r"\d{9,13}(?:\.\d+)?", unread.iloc[0]):
        hint = "these look like Unix timestamps: set time_format: unix (seconds) or unix_ms in the mapping file"
    _raise_first(parsed.isna() & ~missing, text, file, column, rows,
                 "cannot read this as a date-time", hint)
    _check_range(parsed, text, file, column, rows)
    if parsed.dt.tz is not None:
        return parsed.dt.tz_convert(tz), none, none
    return localise(parsed, tz)


def _to_datetime(text, fmt, utc):
    if fmt:
        return pd.to_datetime(text, format=fmt, errors="coerce", utc=utc)
    parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=utc)
    if parsed.isna().sum() > text.isna().sum():
        with warnings.catch_warnings():  # "could not infer format": unreadable values get their own error
            warnings.simplefilter("ignore", UserWarning)
            inferred = pd.to_datetime(text, errors="coerce", utc=utc)
        if inferred.isna().sum() < parsed.isna().sum():
            parsed = inferred
    return parsed


# Times are held in nanoseconds (pandas' default), which span 1677-09-22 … 2262-04-11; exports
# write "never" as 9999-12-31 or 1900-01-01 placeholders, which must not crash the reader.
_FIRST = pd.Timestamp("1677-09-22", tz="UTC")
_LAST = pd.Timestamp("2262-04-10", tz="UTC")
_RANGE_PROBLEM = "outside the dates peaksim can hold (1677-09-22 to 2262-04-10)"
_RANGE_FIX = "leave the cell empty if it is a placeholder such as 9999-12-31, or correct the date"


def _check_range(parsed, text, file, column, rows):
    """``text`` (the values as written) may be None: it is then made only when a value is out of range
    (turning a million times into strings costs more than reading them)."""
    utc = parsed.dt.tz_convert("UTC") if parsed.dt.tz is not None else parsed.dt.tz_localize("UTC")
    bad = ((utc < _FIRST) | (utc > _LAST)).fillna(False)
    if bad.any():
        _raise_first(bad, parsed.astype("string") if text is None else text, file, column, rows,
                     _RANGE_PROBLEM, _RANGE_FIX)


def _raise_first(bad, text, file, column, rows, problem, fix):
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise TicketError(file, column, problem, got=text.iloc[i], fix=fix, row=int(rows[i]))


def parse_numbers(raw: pd.Series, file, column, rows) -> pd.Series:
    """Seconds as float; ``H:MM:SS`` is accepted too (helpdesks export tracked time that way), and
    so is a Parquet duration column."""
    if pd.api.types.is_timedelta64_dtype(raw.dtype):
        return raw.dt.total_seconds().astype(float)
    if pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
        numbers = raw.astype(float)
        _raise_first(pd.Series(np.isinf(numbers.to_numpy()), index=raw.index), numbers.astype("string"), file,
                     column, rows, "not a finite number", "give seconds as plain numbers, or leave the cell empty")
        return numbers
    text = raw.astype("string").str.strip()
    missing = text.isna() | (text == "")
    numbers = pd.to_numeric(text.mask(missing), errors="coerce").astype(float)
    clock = text.str.fullmatch(r"-?\d+:\d{2}:\d{2}", na=False) & numbers.isna()
    if clock.any():
        numbers[clock] = pd.to_timedelta(text[clock]).dt.total_seconds()
    _raise_first(numbers.isna() & ~missing, text, file, column, rows,
                 "text in a numeric column",
                 "give seconds as plain numbers (184 or 184.5) or H:MM:SS, or leave the cell empty")
    _raise_first(pd.Series(np.isinf(numbers.to_numpy()), index=raw.index), text, file, column, rows,
                 "not a finite number", "give seconds as plain numbers, or leave the cell empty")
    return numbers


def parse_bools(raw: pd.Series, file, column, rows) -> pd.Series:
    """true/false, yes/no, 1/0; counts (e.g. Zendesk's ``Reopens``) are True when > 0."""
    if pd.api.types.is_bool_dtype(raw.dtype):
        return raw.astype("boolean")
    text = raw.astype("string").str.strip().str.lower()
    missing = text.isna() | (text == "")
    out = pd.Series(pd.NA, index=raw.index, dtype="boolean")
    out[text.isin(_TRUE)] = True
    out[text.isin(_FALSE)] = False
    numbers = pd.to_numeric(text.mask(missing | out.notna()), errors="coerce")
    out[numbers.notna()] = numbers[numbers.notna()] > 0
    _raise_first(out.isna() & ~missing, text, file, column, rows, "not a yes/no value",
                 "use true/false, yes/no or 1/0, or leave the cell empty")
    return out


def parse_csat(raw: pd.Series, file, column, rows) -> pd.Series:
    """Satisfaction answers as float: scores 1-5 as they are, yes/no (true/false, 1/0) as 1/0.

    A file holds one kind: text answers with scores, a 0 next to scores above 1, or a value
    outside both (6, 4.5, "meh") is an error naming the row."""
    text = raw.astype("string").str.strip().str.lower()
    missing = text.isna() | (text == "")
    numbers = pd.to_numeric(text.mask(missing), errors="coerce").astype(float)
    words = text.isin(_TRUE | _FALSE) & numbers.isna()
    bad = ~missing & ~words & ~numbers.isin([0, 1, 2, 3, 4, 5])
    _raise_first(bad, text, file, column, rows, "not a satisfaction answer",
                 "give a score 1-5 or yes/no (true/false, 1/0), or leave the cell empty")
    score_like = numbers.isin([2, 3, 4, 5])
    if score_like.any() and (words.any() or (numbers == 0).any()):
        _raise_first((words | (numbers == 0)) & ~missing, text, file, column, rows,
                     "mixes yes/no answers with 1-5 scores",
                     "export one kind of answer per file (scores 1-5, or yes/no)")
    out = numbers.copy()
    out[words] = text[words].isin(_TRUE).astype(float)
    return out


def empty_column(name: str, index, tz) -> pd.Series:
    if name in CSAT_COLUMNS:
        return pd.Series(np.nan, index=index, dtype=float)
    if name in TIME_COLUMNS:
        return pd.Series(pd.NaT, index=index, dtype=f"datetime64[ns, {tz}]")
    if name in NUMBER_COLUMNS:
        return pd.Series(np.nan, index=index, dtype=float)
    if name in BOOL_COLUMNS:
        return pd.Series(pd.NA, index=index, dtype="boolean")
    return pd.Series(pd.NA, index=index, dtype="string")


def finalise(frame: pd.DataFrame, dropped: Counter, examples: dict, tz) -> pd.DataFrame:
    """Complete the schema, drop unusable rows (counted by reason), drop duplicate contact ids.

    Each row is counted once, under the first reason that applies, in the order below. Expects
    the helper columns ``_file`` and ``_row`` for drop examples; removes them.
    """
    for name in COLUMNS:
        if name not in frame:
            frame[name] = empty_column(name, frame.index, tz)
    for name in TIME_COLUMNS:  # one resolution for all: sources differ (us from text, ns from Parquet)
        frame[name] = frame[name].astype(f"datetime64[ns, {tz}]")
    check_time_span(frame)
    frame["channel"] = normalise_channel(frame["channel"])
    for name in ("contact_id", "customer_id", "reason", "agent_id"):
        frame[name] = frame[name].astype("string").str.strip().replace("", pd.NA)
    created = frame["created_at"]
    checks = [
        ("missing_created_at", created.isna()),
        ("missing_channel", frame["channel"].isna()),
        ("negative_handle_time", frame["handle_time_s"] < 0),
        ("implausible_handle_time", frame["handle_time_s"] > IMPLAUSIBLE_HANDLE_S),
        ("answered_before_created", frame["answered_at"] < created),
        ("abandoned_before_created", frame["abandoned_at"] < created),
        ("queued_before_created", frame["queued_at"] < created),
        ("resolved_before_created", frame["resolved_at"] < created),
        ("answered_before_queued", frame["answered_at"] < frame["queued_at"]),
        ("abandoned_before_queued", frame["abandoned_at"] < frame["queued_at"]),
        ("answered_and_abandoned", frame["answered_at"].notna() & frame["abandoned_at"].notna()),
    ]
    keep = pd.Series(True, index=frame.index)
    for reason, mask in checks:
        keep = _drop(frame, keep, mask.fillna(False).astype(bool), reason, dropped, examples)
    ids = frame["contact_id"]
    dup = ids.notna() & keep & ids.where(keep).duplicated(keep="first")
    keep = _drop(frame, keep, dup, "duplicate_contact_id", dropped, examples)
    out = frame.loc[keep, list(COLUMNS)].reset_index(drop=True)
    return out


MAX_SPAN_YEARS = 50
_NS_PER_YEAR = 365.25 * 86400 * 1e9


def check_time_span(frame: pd.DataFrame) -> None:
    """All times of the tickets lie within MAX_SPAN_YEARS of each other, or a one-line error names the
    row and column of the time farthest from the median arrival.

    Times are held in nanoseconds, whose differences overflow beyond 292 years, and a calibration
    over decades is a mistyped date (1900 for 2019, a 2200 placeholder), never a planning horizon.
    Checked in float arithmetic on the raw nanoseconds, which cannot overflow.
    """
    stacked = []
    for name in TIME_COLUMNS:
        if name in frame:
            values = frame[name]
            ns = values.to_numpy(dtype="datetime64[ns]").astype(np.int64).astype(float)
            ns[values.isna().to_numpy()] = np.nan
            stacked.append((name, ns))
    if not stacked:
        return
    all_ns = np.concatenate([ns for _, ns in stacked])
    if np.all(np.isnan(all_ns)):
        return
    low, high = np.nanmin(all_ns), np.nanmax(all_ns)
    if (high - low) / _NS_PER_YEAR <= MAX_SPAN_YEARS:
        return
    created = dict(stacked).get("created_at")
    centre = np.nanmedian(created) if created is not None and not np.all(np.isnan(created)) else np.nanmedian(all_ns)
    name, ns = max(stacked, key=lambda item: np.nanmax(np.abs(item[1] - centre)) if not np.all(np.isnan(item[1])) else -1)
    i = int(np.nanargmax(np.abs(ns - centre)))
    first = pd.Timestamp(int(low)).date()
    last = pd.Timestamp(int(high)).date()
    file = frame["_file"].iloc[i] if "_file" in frame else "tickets"
    row = int(frame["_row"].iloc[i]) if "_row" in frame else None
    raise TicketError(file, name, f"the tickets' times span {(high - low) / _NS_PER_YEAR:,.0f} years "
                      f"({first} to {last}), more than the {MAX_SPAN_YEARS} a calibration can use",
                      got=str(frame[name].iloc[i]), row=row,
                      fix="correct this mistyped date, or leave the cell empty if it is a placeholder")


def _drop(frame, keep, mask, reason, dropped, examples):
    hit = keep & mask
    n = int(hit.sum())
    if n:
        dropped[reason] += n
        first = frame.loc[hit].iloc[0]
        examples.setdefault(reason, f"{first['_file']}:{first['_row']}")
    return keep & ~hit


def drop_rows(frame, mask, reason, dropped, examples):
    """Drop ``mask`` rows from a source frame before mapping, counting them (source-specific checks)."""
    keep = _drop(frame, pd.Series(True, index=frame.index), mask, reason, dropped, examples)
    return frame.loc[keep]
