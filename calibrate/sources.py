"""Readers for the two public data sets in ``shared/data``, translated into the generic schema.

Both are real logs with known quirks (see their ``SOURCE.md``). The readers encode that knowledge
once, so calibrations and backtests do not each re-learn it, and every quirk that removes a row is
counted under its own reason.

Technion "Anonymous Bank" (1999, tab-separated, one row per call, local Israel time):

* ``created_at`` = date + ``vru_entry`` (every call enters the IVR first);
* ``queued_at`` = date + ``q_start`` when ``q_time > 0``; a call served with ``q_time = 0`` went
  straight to an agent, so it was offered and waited zero: ``queued_at = answered_at``;
* ``answered_at`` = ``ser_start`` and ``handle_time_s`` = ``ser_time`` for outcome AGENT;
* ``abandoned_at`` = ``q_exit`` for HANG with ``q_time > 0``; a HANG with ``q_time = 0`` hung up
  in the IVR: kept as an arrival but never offered (no ``queued_at``);
* ``reason`` from ``type`` (PS regular, NW prospect, ...); ``customer_id`` 0 means unknown.

Drop reasons, in order: ``phantom`` (virtual calls), ``unknown_outcome``, ``malformed_date``
(``date`` not ``99MMDD`` — shifted-column rows), ``malformed_time``, ``malformed_number``,
``negative_time`` (negative vru/q/ser time), ``agent_without_server``
(AGENT rows with ``NO_SERVER``), ``agent_without_service`` (AGENT rows whose ``ser_start`` is
0:00:00 with zero ``ser_time``: no service was recorded), ``spans_midnight`` (the log keeps one
date per call, so a call running past 24:00 has clock times that go backwards); then the generic
checks of :func:`calibrate.schema.finalise` (e.g. ``answered_before_queued``).

UCI ServiceNow incident log (zip with one CSV; one row per event; ``?`` = missing; day-first,
minute-resolution times without zone): the last event per ``number`` (by ``sys_mod_count`` then
``sys_updated_at``) is the incident's final state. ``rows_read`` counts incidents; the number of
events is in ``notes["events_read"]``.
"""
from __future__ import annotations

import io

import numpy as np
import pandas as pd

from calibrate.schema import Described, TicketError, drop_rows, localise, normalise_channel, parse_times

TECHNION_COLUMNS = ("vru+line", "call_id", "customer_id", "priority", "type", "date", "vru_entry",
                    "vru_exit", "vru_time", "q_start", "q_exit", "q_time", "outcome", "ser_start",
                    "ser_exit", "ser_time", "server")
TECHNION_REASONS = {"PS": "regular", "PE": "regular_english", "IN": "internet",
                    "NE": "stock_exchange", "NW": "prospect", "TT": "callback", "AA": "unknown"}
UCI_COLUMNS = ("number", "sys_mod_count", "sys_updated_at", "opened_at", "resolved_at",
               "contact_type", "category", "assigned_to", "caller_id", "reopen_count")
UCI_TIME_FORMAT = "%d/%m/%Y %H:%M"
_CLOCKS = ("vru_entry", "vru_exit", "q_start", "q_exit", "ser_start", "ser_exit")
_DURATIONS = ("vru_time", "q_time", "ser_time")


def _require(path, frame, columns, fmt):
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise TicketError(path, "columns", f"missing {fmt} column(s) {', '.join(missing)}",
                          got=Described(", ".join(map(str, frame.columns[:6]))),
                          fix=f"is this really a {fmt} file? otherwise use fmt='generic' with a mapping")


def read_technion(path, text, tz, dropped, notes, examples):
    """One monthly Anonymous Bank file → (generic frame, rows read)."""
    raw = pd.read_csv(io.StringIO(text), sep="\t", dtype=str, keep_default_na=False)
    raw.columns = [c.strip() for c in raw.columns]
    _require(path, raw, TECHNION_COLUMNS, "technion")
    raw = raw.apply(lambda col: col.str.strip())
    raw["_file"], raw["_row"] = str(path), np.arange(2, len(raw) + 2)
    rows_read = len(raw)

    raw = drop_rows(raw, raw["outcome"] == "PHANTOM", "phantom", dropped, examples)
    raw = drop_rows(raw, ~raw["outcome"].isin(["AGENT", "HANG"]), "unknown_outcome", dropped, examples)
    day = pd.to_datetime(raw["date"], format="%y%m%d", errors="coerce")
    bad_date = ~raw["date"].str.fullmatch(r"99(0[1-9]|1[0-2])\d\d") | day.isna()
    raw = drop_rows(raw, bad_date, "malformed_date", dropped, examples)
    clock_ok = pd.concat([raw[c].str.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d:[0-5]\d") for c in _CLOCKS], axis=1)
    raw = drop_rows(raw, ~clock_ok.all(axis=1), "malformed_time", dropped, examples)
    number_ok = pd.concat([raw[c].str.fullmatch(r"-?\d+") for c in _DURATIONS], axis=1)
    raw = drop_rows(raw, ~number_ok.all(axis=1), "malformed_number", dropped, examples)

    secs = {c: pd.to_timedelta(raw[c]).dt.total_seconds() for c in _CLOCKS}
    dur = {c: raw[c].astype(int) for c in _DURATIONS}
    served, queued = raw["outcome"] == "AGENT", dur["q_time"] > 0
    negative = (dur["vru_time"] < 0) | (dur["q_time"] < 0) | (dur["ser_time"] < 0)
    raw = drop_rows(raw, negative, "negative_time", dropped, examples)
    raw = drop_rows(raw, served.reindex(raw.index) & (raw["server"] == "NO_SERVER"),
                    "agent_without_server", dropped, examples)
    no_service = served & (raw["ser_start"] == "0:00:00") & (dur["ser_time"] == 0)
    raw = drop_rows(raw, no_service.reindex(raw.index, fill_value=False), "agent_without_service",
                    dropped, examples)
    end = secs["vru_entry"] + dur["vru_time"] + dur["q_time"] + dur["ser_time"].where(served, 0)
    half_day = 12 * 3600
    backwards = (secs["vru_exit"] < secs["vru_entry"] - half_day) \
        | (queued & (secs["q_start"] < secs["vru_entry"] - half_day)) \
        | (queued & (secs["q_exit"] < secs["q_start"] - half_day)) \
        | (served & (secs["ser_start"] < secs["vru_entry"] - half_day)) \
        | (served & (secs["ser_exit"] < secs["ser_start"] - half_day))
    spans = (end >= 24 * 3600) | backwards
    raw = drop_rows(raw, spans.reindex(raw.index, fill_value=False), "spans_midnight", dropped, examples)

    idx = raw.index
    day, served, queued = day[idx], served[idx], queued[idx]
    at = {c: day + pd.to_timedelta(secs[c][idx], unit="s") for c in _CLOCKS}
    answered = at["ser_start"].where(served)
    naive = {
        "created_at": at["vru_entry"],
        "queued_at": at["q_start"].where(queued, answered),
        "answered_at": answered,
        "abandoned_at": at["q_exit"].where(~served & queued),
    }
    frame = raw[["_file", "_row"]].copy()
    ambiguous = pd.Series(False, index=idx)
    for name, values in naive.items():
        frame[name], shifted, amb = localise(values, tz)
        ambiguous |= amb
        if shifted.any():
            notes["dst_nonexistent_shifted"] += int(shifted.sum())
    frame["channel"] = "voice"
    frame["contact_id"] = (raw["vru+line"] + "-" + raw["call_id"]).where(raw["call_id"] != "")
    frame["customer_id"] = raw["customer_id"].where(raw["customer_id"] != "0")
    frame["reason"] = raw["type"].map(TECHNION_REASONS).fillna(raw["type"].str.lower())
    frame["handle_time_s"] = dur["ser_time"][idx].astype(float).where(served)
    frame["agent_id"] = raw["server"].where(served)
    frame = drop_rows(frame, ambiguous, "dst_ambiguous_time", dropped, examples)
    return frame, rows_read


def read_uci(path, data, tz, dropped, notes, examples):
    """The zipped ServiceNow event log → one row per incident (its last event)."""
    try:
        raw = pd.read_csv(io.BytesIO(data), compression="zip", dtype=str, keep_default_na=False,
                          na_values=["?"])
    except Exception as exc:  # zipfile.BadZipFile, a zip with several members, ...
        raise TicketError(path, "file", "cannot read it as the zipped UCI event log", got=Described(str(exc)),
                          fix="pass the original incident_event_log.zip") from None
    _require(path, raw, UCI_COLUMNS, "uci")
    raw["_file"], raw["_row"] = f"{path}!incident_event_log.csv", np.arange(2, len(raw) + 2)
    notes["events_read"] = len(raw)
    order = pd.DataFrame({
        "number": raw["number"],
        "mod": pd.to_numeric(raw["sys_mod_count"], errors="coerce"),
        "upd": pd.to_datetime(raw["sys_updated_at"], format=UCI_TIME_FORMAT, errors="coerce"),
    })
    last = order.sort_values(["number", "mod", "upd"], kind="stable").groupby("number").tail(1).index
    raw = raw.loc[last].sort_index()
    rows = raw["_row"].to_numpy()
    frame = raw[["_file", "_row"]].copy()
    ambiguous = pd.Series(False, index=raw.index)
    for name, source in (("created_at", "opened_at"), ("resolved_at", "resolved_at")):
        frame[name], shifted, amb = parse_times(raw[source], UCI_TIME_FORMAT, tz, path, source, rows)
        ambiguous |= amb
        if shifted.any():
            notes["dst_nonexistent_shifted"] += int(shifted.sum())
    frame["contact_id"] = raw["number"]
    frame["channel"] = normalise_channel(raw["contact_type"])
    frame["reason"] = raw["category"]
    frame["agent_id"] = raw["assigned_to"]
    frame["customer_id"] = raw["caller_id"]
    reopen = pd.to_numeric(raw["reopen_count"], errors="coerce")
    frame["reopened"] = (reopen > 0).astype("boolean").mask(reopen.isna())
    frame = drop_rows(frame, ambiguous, "dst_ambiguous_time", dropped, examples)
    return frame, len(raw)
