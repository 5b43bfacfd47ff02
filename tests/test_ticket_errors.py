"""A catalogue of bad ticket files (beyond tests/test_calibrate_tickets.py): a clear TicketError, or a
documented drop with counts; never a silent wrong fit.

Every error is one line `FILE[:ROW]: field: what is wrong (got VALUE); how to fix`. Rows that can be
read but not used are dropped under a named reason and counted (`TicketData.dropped`, with a first
`file:row` example), so `rows_read == rows_used + sum(dropped)`.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from calibrate.tickets import TicketError, load_tickets

MESSAGE = re.compile(r"^.+?(:\d+)?: [^:]+: .+ \(got .+\); .+$")


def write(tmp_path, content, name="tickets.csv"):
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


# (id, file content, load_tickets keyword arguments, file name, message pattern)
ERRORS = [
    ("tab separated", "channel\tcreated_at\nvoice\t2024-11-29 10:00\n", {}, None,
     r":1: header: only one column found; the file looks tab-separated"),
    ("pipe separated", "channel|created_at\nvoice|2024-11-29 10:00\n", {}, None, r"looks pipe-separated .*sep: '\|'"),
    ("UTF-16 encoded", "channel,created_at\nvoice,2024-11-29 10:00\n".encode("utf-16"), {}, None,
     r":1: encoding: not valid utf-8 \(got byte 0xff\)"),
    ("a binary file", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", {}, None, r"encoding: not valid utf-8 \(got byte 0x89\)"),
    ("day/month ambiguous", "channel,created_at\nvoice,03/04/2024 10:00\nvoice,05/06/2024 10:05\n", {}, None,
     r":2: created_at: day and month order is ambiguous .*\(got '03/04/2024 10:00'\); set time_format"),
    ("US dates mixed with ambiguous ones", "channel,created_at\nvoice,11/29/2024 10:00\nvoice,03/04/2024 10:05\n",
     {}, None, r":2: created_at: day and month order is ambiguous"),
    ("ISO mixed with day-first", "channel,created_at\nvoice,2024-11-29 10:00\nvoice,29/11/2024 10:05\n", {}, None,
     r":3: created_at: day and month order is ambiguous .*\(got '29/11/2024 10:05'\)"),
    ("date without a time", "channel,created_at\nvoice,2024-11-29 10:00\nvoice,2024-11-29\n", {}, None,
     r":3: created_at: a date without a time of day .*\(got '2024-11-29'\)"),
    ("Excel serial dates", "channel,created_at\nvoice,45625.42\n", {}, None,
     r":2: created_at: cannot read this as a date-time \(got '45625.42'\)"),
    ("Unix seconds mixed with ISO", "channel,created_at\nvoice,1732874400\nvoice,2024-11-29 10:00\n", {}, None,
     r":2: created_at: cannot read this as a date-time \(got '1732874400'\)"),
    ("time_format that does not match", "channel,created_at\nvoice,2024-11-29 10:00\n",
     {"mapping": {"time_format": "%d.%m.%Y %H:%M"}}, None, r":2: created_at: cannot read .*expected time_format"),
    ("infinite handle time", "channel,created_at,handle_time_s\nvoice,2024-11-29 10:00,inf\n", {}, None,
     r":2: handle_time_s: not a finite number \(got 'inf'\)"),
    ("decimal comma", "channel;created_at;handle_time_s\nvoice;2024-11-29 10:00;184,5\n", {"mapping": {"sep": ";"}},
     None, r":2: handle_time_s: text in a numeric column \(got '184,5'\)"),
    ("minutes with a unit", "channel,created_at,handle_time_s\nvoice,2024-11-29 10:00,3 min\n", {}, None,
     r":2: handle_time_s: text in a numeric column \(got '3 min'\)"),
    ("duplicated column", "channel,created_at,created_at\nvoice,2024-11-29 10:00,2024-11-29 11:00\n", {}, None,
     r":1: header: a column name appears more than once \(got 'created_at'\)"),
    ("not a Parquet file", b"PAR1 this is not parquet", {}, "x.parquet", r"x\.parquet: file: not a readable Parquet file"),
    ("unknown time zone", "channel,created_at\nvoice,2024-11-29 10:00\n", {"tz": "Mars/Base"}, None,
     r"tz: unknown time zone \(got 'Mars/Base'\); use an IANA name"),
    ("unknown time zone in the mapping", "channel,created_at\nvoice,2024-11-29 10:00\n", {"mapping": {"tz": "CET+1"}},
     None, r"tz: unknown time zone \(got 'CET\+1'\)"),
    ("blank lines only", "  \n\n\n", {}, None, r"file: is empty \(got 5 bytes\)"),
    ("unclosed quote", 'channel,created_at,reason\nvoice,2024-11-29 10:00,"oops\nvoice,2024-11-29 10:05,x\n', {}, None,
     r"file: rows have different numbers of fields \(got .*EOF inside string"),
    ("yes/no column with other text", "channel,created_at,bot_handled\nvoice,2024-11-29 10:00,maybe\n", {}, None,
     r":2: bot_handled: not a yes/no value \(got 'maybe'\)"),
    ("mapping names an unknown generic column", "channel,created_at\nvoice,2024-11-29 10:00\n",
     {"mapping": {"columns": {"created": "Created"}}}, None, r"mapping: columns\.created: not a generic column"),
    ("mapping is a list", "channel,created_at\nvoice,2024-11-29 10:00\n", {"mapping": ["columns"]}, None,
     r"mapping: mapping: must be a mapping of keys \(got list\)"),
    ("header only after blank data", "channel,created_at\n,\n", {}, None, r"file: has a header but no data rows \(got 1 rows, all blank\)"),
]


@pytest.mark.parametrize("name,content,kwargs,filename,pattern", ERRORS, ids=[e[0] for e in ERRORS])
def test_bad_ticket_files_raise_one_clear_line(tmp_path, name, content, kwargs, filename, pattern):
    path = write(tmp_path, content, filename or "tickets.csv")
    with pytest.raises(TicketError) as info:
        load_tickets(path, **kwargs)
    text = str(info.value)
    assert "\n" not in text and MESSAGE.match(text), text
    assert re.search(pattern, text), text


def test_the_catalogues_together_have_at_least_20_distinct_bad_files():
    assert len(ERRORS) + len(DROPS) >= 20 and len({e[0] for e in ERRORS}) == len(ERRORS)


HEADER = "contact_id,channel,created_at,queued_at,answered_at,abandoned_at,handle_time_s\n"
OK = "1,voice,2024-11-29 10:00:00,2024-11-29 10:00:10,2024-11-29 10:01:00,,180\n"

# (id, extra rows after one good row, expected drop counts)
DROPS = [
    ("answered and abandoned", "2,voice,2024-11-29 10:00,2024-11-29 10:00,2024-11-29 10:01,2024-11-29 10:02,\n",
     {"answered_and_abandoned": 1}),
    ("queued before created", "2,voice,2024-11-29 10:00,2024-11-29 09:59,,,\n", {"queued_before_created": 1}),
    ("abandoned before queued", "2,voice,2024-11-29 10:00,2024-11-29 10:05,,2024-11-29 10:02,\n",
     {"abandoned_before_queued": 1}),
    ("several reasons, each row counted once",
     "2,voice,2024-11-29 10:00,2024-11-29 10:00,2024-11-29 09:00,,-5\n1,voice,2024-11-29 11:00,,,,\n,,,,,,\n",
     {"negative_handle_time": 1, "duplicate_contact_id": 1, "blank_row": 1}),
]


@pytest.mark.parametrize("name,rows,expected", DROPS, ids=[d[0] for d in DROPS])
def test_unusable_rows_are_dropped_and_counted(tmp_path, name, rows, expected):
    td = load_tickets(write(tmp_path, HEADER + OK + rows))
    assert td.dropped == expected
    assert td.rows_read == td.rows_used + sum(td.dropped.values())
    assert set(td.drop_examples) == set(expected)
    assert td.contacts["contact_id"].tolist() == ["1"]


def test_dst_spring_gap_in_new_york_is_shifted_and_counted_and_the_autumn_repeat_dropped(tmp_path):
    # New York: 2024-03-10 02:00 → 03:00 (02:30 never happened); 2024-11-03 01:30 happened twice
    text = ("channel,created_at\nvoice,2024-03-10 01:30\nvoice,2024-03-10 02:30\nvoice,2024-11-03 01:30\n"
            "voice,2024-11-03 02:30\n")
    td = load_tickets(write(tmp_path, text), tz="America/New_York")
    assert td.notes == {"dst_nonexistent_shifted": 1} and td.dropped == {"dst_ambiguous_time": 1}
    assert td.contacts["created_at"].dt.strftime("%m-%d %H:%M").tolist() == ["03-10 01:30", "03-10 03:00", "11-03 02:30"]


def test_times_with_offsets_across_the_autumn_repeat_are_kept(tmp_path):
    # with offsets the repeated hour is unambiguous: nothing is dropped
    text = "channel,created_at\nvoice,2024-10-27T01:30:00+01:00\nvoice,2024-10-27T01:30:00+00:00\n"
    td = load_tickets(write(tmp_path, text), tz="Europe/London")
    assert td.dropped == {} and td.rows_used == 2
    gap = td.contacts["created_at"].iloc[1] - td.contacts["created_at"].iloc[0]
    assert gap == pd.Timedelta(hours=1)


def test_times_without_a_zone_keep_their_wall_clock_hours(tmp_path):
    """Documented: naive times are wall-clock in `tz` (default UTC, i.e. hours as written)."""
    text = "channel,created_at\nvoice,2024-11-29 10:00\n"
    utc = load_tickets(write(tmp_path, text)).contacts["created_at"].iloc[0]
    berlin = load_tickets(write(tmp_path, text), tz="Europe/Berlin").contacts["created_at"].iloc[0]
    assert utc.hour == berlin.hour == 10 and str(berlin.tz) == "Europe/Berlin"


def test_bom_and_text_nan_are_read_not_refused(tmp_path):
    td = load_tickets(write(tmp_path, "\ufeffchannel,created_at,handle_time_s\nvoice,2024-11-29 10:00,NaN\n"))
    assert td.rows_used == 1 and pd.isna(td.contacts["handle_time_s"].iloc[0])


def test_day_first_dates_read_with_an_explicit_format(tmp_path):
    text = "channel,created_at\nvoice,03/04/2024 10:00\n"
    c = load_tickets(write(tmp_path, text), mapping={"time_format": "%d/%m/%Y %H:%M"}).contacts
    assert c["created_at"].iloc[0].month == 4  # 3 April, as the planner said
