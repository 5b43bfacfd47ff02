"""Reading ticket files: good files in the generic schema, bad files with one-line errors or counted drops."""
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calibrate.schema import COLUMNS
from calibrate.tickets import TicketData, TicketError, load_mapping, load_tickets

MAPPINGS = Path(__file__).resolve().parents[1] / "calibrate" / "mappings"
HEADER = "contact_id,channel,created_at,queued_at,answered_at,abandoned_at,handle_time_s,agent_id\n"
GOOD = ("1,voice,2024-11-29 10:00:00,2024-11-29 10:00:05,2024-11-29 10:01:00,,180,ann\n"
        "2,voice,2024-11-29 10:02:00,2024-11-29 10:02:05,,2024-11-29 10:03:00,,\n"
        "3,email,2024-11-29 10:05:00,,,,,\n")


def write(tmp_path, text, name="tickets.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding)) if isinstance(text, str) else path.write_bytes(text)
    return path


def assert_accounted(td: TicketData):
    assert td.rows_read == td.rows_used + sum(td.dropped.values())


def test_good_generic_file_reads_into_the_schema(tmp_path):
    td = load_tickets(write(tmp_path, HEADER + GOOD), tz="Europe/Berlin")
    c = td.contacts
    assert list(c.columns) == list(COLUMNS)
    assert (td.rows_read, td.rows_used, td.dropped) == (3, 3, {})
    assert str(c["created_at"].dt.tz) == "Europe/Berlin"
    assert c.loc[0, "created_at"] == pd.Timestamp("2024-11-29 10:00:00", tz="Europe/Berlin")
    assert c["handle_time_s"].tolist()[:1] == [180.0]
    assert c["abandoned_at"].notna().tolist() == [False, True, False]
    assert c["bot_handled"].isna().all()  # absent columns are present but empty
    assert len(td.files) == 1 and len(td.files[0][1]) == 64


def test_times_with_offsets_are_converted_to_tz(tmp_path):
    text = "channel,created_at\nchat,2024-11-29T09:00:00Z\nchat,2024-11-29T11:00:00+01:00\n"
    c = load_tickets(write(tmp_path, text), tz="Europe/London").contacts
    assert c["created_at"].tolist() == [pd.Timestamp("2024-11-29 09:00", tz="Europe/London"),
                                        pd.Timestamp("2024-11-29 10:00", tz="Europe/London")]


def test_parquet_and_csv_read_the_same(tmp_path):
    csv = load_tickets(write(tmp_path, HEADER + GOOD), tz="UTC").contacts
    raw = pd.read_csv(tmp_path / "tickets.csv", dtype=str)
    raw["created_at"] = pd.to_datetime(raw["created_at"]).dt.tz_localize("UTC")
    raw.to_parquet(tmp_path / "tickets.parquet")
    pq = load_tickets(tmp_path / "tickets.parquet").contacts
    pd.testing.assert_frame_equal(csv, pq)


def test_zendesk_mapping_file_maps_columns_and_channel_values(tmp_path):
    text = ("Id,Requester id,Via,Ticket type,Created at,Solved at,Assignee id,Reopens\n"
            "11,100,Mail,question,2024-11-29 10:00:00,2024-11-29 12:00:00,5,0\n"
            "12,101,Chat,,2024-11-29 10:05:00,,6,2\n")
    td = load_tickets(write(tmp_path, text), mapping=MAPPINGS / "zendesk.yaml")
    c = td.contacts
    assert c["channel"].tolist() == ["email", "chat"]
    assert c["reopened"].tolist() == [False, True]
    assert str(c["created_at"].dt.tz) == "Europe/London"  # the mapping's tz
    assert c["resolved_at"].isna().tolist() == [False, True]


def test_shipped_mappings_are_valid_and_found_by_name():
    names = sorted(path.stem for path in MAPPINGS.glob("*.yaml"))
    assert names == ["freshdesk", "zendesk"]
    for name in names:
        spec = load_mapping(name)
        assert spec == load_mapping(MAPPINGS / f"{name}.yaml")
        assert {"columns", "time_format", "tz"} <= set(spec), name
        assert "created_at" in spec["columns"] and "channel" in spec["columns"]


def test_freshdesk_export_with_tracked_time(tmp_path):
    text = ("Ticket ID,Contact ID,Source,Type,Created time,Initial response time,Resolved time,Agent,Time tracked\n"
            "7,c1,Portal,Refund,2024-11-29 09:00:00,2024-11-29 09:30:00,2024-11-29 11:00:00,Ann,0:12:30\n")
    c = load_tickets(write(tmp_path, text), mapping="freshdesk").contacts
    assert (c.loc[0, "channel"], c.loc[0, "handle_time_s"], c.loc[0, "agent_id"]) == ("web", 750.0, "Ann")


def test_default_channel_fills_a_missing_channel_column(tmp_path):
    td = load_tickets(write(tmp_path, "id,created_at\n1,2024-11-29 10:00\n"), default_channel="Email")
    assert td.contacts["channel"].tolist() == ["email"]


# --- bad files: errors ------------------------------------------------------------------------

def test_missing_required_columns_are_listed_with_a_fix(tmp_path):
    path = write(tmp_path, "id,opened\n1,2024-11-29 10:00\n")
    with pytest.raises(TicketError, match=r"tickets\.csv: columns: missing required column\(s\) channel, "
                                          r"created_at \(got id, opened\); .*mapping file"):
        load_tickets(path)


def test_mapping_to_a_column_that_is_not_there(tmp_path):
    path = write(tmp_path, "channel,opened\nvoice,2024-11-29 10:00\n")
    with pytest.raises(TicketError, match=r"missing required column\(s\) created_at \(mapped to 'Created at'\)"):
        load_tickets(path, mapping={"columns": {"created_at": "Created at"}})


def test_semicolon_separator_is_detected(tmp_path):
    path = write(tmp_path, "channel;created_at\nvoice;2024-11-29 10:00\n")
    with pytest.raises(TicketError, match=r"tickets\.csv:1: header: only one column found; the file looks "
                                          r"semicolon-separated \(got 'channel;created_at'\); set sep: ';'"):
        load_tickets(path)


def test_semicolon_file_reads_with_sep_in_mapping(tmp_path):
    path = write(tmp_path, "channel;created_at\nvoice;2024-11-29 10:00\n")
    assert load_tickets(path, mapping={"sep": ";"}).rows_used == 1


def test_latin1_file_names_the_row_and_suggests_utf8(tmp_path):
    path = write(tmp_path, "channel,created_at,reason\nvoice,2024-11-29 10:00,ok\nvoice,2024-11-29 10:05,Rückgabe\n",
                 encoding="latin-1")
    with pytest.raises(TicketError, match=r"tickets\.csv:3: encoding: not valid utf-8 \(got byte 0xfc\); re-save the file as UTF-8"):
        load_tickets(path)
    assert load_tickets(path, mapping={"encoding": "latin-1"}).contacts["reason"].tolist() == ["ok", "Rückgabe"]


def test_unparseable_time_names_row_column_and_value(tmp_path):
    path = write(tmp_path, "channel,created_at\nvoice,2024-11-29 10:00\nvoice,yesterday\n")
    with pytest.raises(TicketError, match=r"tickets\.csv:3: created_at: cannot read this as a date-time "
                                          r"\(got 'yesterday'\); .*time_format"):
        load_tickets(path)


def test_unparseable_time_with_mapped_name_shows_both_names(tmp_path):
    path = write(tmp_path, "channel,Opened\nvoice,29/11/2024 10:00\nvoice,29/11/2024 25:00\n")
    with pytest.raises(TicketError, match=r":3: Opened \(created_at\): cannot read .*got '29/11/2024 25:00'.*'%d/%m/%Y %H:%M'"):
        load_tickets(path, mapping={"columns": {"created_at": "Opened"}, "time_format": "%d/%m/%Y %H:%M"})


def test_mixed_offsets_and_naive_times_are_refused(tmp_path):
    path = write(tmp_path, "channel,created_at\nvoice,2024-11-29T10:00:00+01:00\nvoice,2024-11-29T10:05:00\n")
    with pytest.raises(TicketError, match=r":3: created_at: mixes times with and without a UTC offset"):
        load_tickets(path)


def test_text_in_numeric_column(tmp_path):
    text = "channel,created_at,handle_time_s\nvoice,2024-11-29 10:00,120\nvoice,2024-11-29 10:01,2:05:00\nvoice,2024-11-29 10:02,abc\n"
    with pytest.raises(TicketError, match=r"tickets\.csv:4: handle_time_s: text in a numeric column \(got 'abc'\)"):
        load_tickets(write(tmp_path, text))


def test_empty_file_and_header_only_file(tmp_path):
    with pytest.raises(TicketError, match=r"empty\.csv: file: is empty \(got 0 bytes\)"):
        load_tickets(write(tmp_path, "", name="empty.csv"))
    with pytest.raises(TicketError, match=r"header\.csv: file: has a header but no data rows"):
        load_tickets(write(tmp_path, "channel,created_at\n", name="header.csv"))


def test_missing_file_and_bad_mapping_key(tmp_path):
    with pytest.raises(TicketError, match=r"nope\.csv: file: does not exist"):
        load_tickets(tmp_path / "nope.csv")
    with pytest.raises(TicketError, match=r"mapping: colums: unknown mapping key \(got 'colums'\); use one of columns"):
        load_tickets(write(tmp_path, HEADER + GOOD), mapping={"colums": {}})


def test_technion_format_on_a_generic_file(tmp_path):
    with pytest.raises(TicketError, match=r"missing technion column\(s\) vru\+line, call_id"):
        load_tickets(write(tmp_path, HEADER + GOOD), fmt="technion")


def test_ragged_rows_name_the_line(tmp_path):
    path = write(tmp_path, "channel,created_at\nvoice,2024-11-29 10:00\nvoice,2024-11-29 10:05,extra,more\n")
    with pytest.raises(TicketError, match=r"tickets\.csv:3: file: rows have different numbers of fields \(got .*Expected 2 fields"):
        load_tickets(path)


def test_errors_are_one_line(tmp_path):
    path = write(tmp_path, "channel,created_at\nvoice,2024-11-29 10:00\nvoice,\"multi\nline\"\n")
    with pytest.raises(TicketError) as info:
        load_tickets(path)
    assert "\n" not in str(info.value) and info.value.row == 3 and info.value.field == "created_at"


# --- bad rows: dropped and counted --------------------------------------------------------------

def test_answered_before_created_is_dropped_and_counted(tmp_path):
    bad = "4,voice,2024-11-29 10:10:00,2024-11-29 10:10:05,2024-11-29 10:09:00,,60,bob\n"
    td = load_tickets(write(tmp_path, HEADER + GOOD + bad))
    assert td.dropped == {"answered_before_created": 1}
    assert td.drop_examples["answered_before_created"].endswith("tickets.csv:5")
    assert td.rows_used == 3
    assert_accounted(td)


def test_negative_duration_is_dropped_and_counted(tmp_path):
    bad = "4,voice,2024-11-29 10:10:00,2024-11-29 10:10:05,2024-11-29 10:11:00,,-30,bob\n"
    td = load_tickets(write(tmp_path, HEADER + GOOD + bad))
    assert td.dropped == {"negative_handle_time": 1}
    assert_accounted(td)


def test_duplicated_ids_keep_the_first_and_are_counted(tmp_path):
    dups = "1,voice,2024-11-29 11:00:00,,,,,\n2,chat,2024-11-29 11:00:00,,,,,\n"
    td = load_tickets(write(tmp_path, HEADER + GOOD + dups))
    assert td.dropped == {"duplicate_contact_id": 2}
    assert td.contacts["contact_id"].tolist() == ["1", "2", "3"]
    assert td.contacts.loc[0, "created_at"].hour == 10


def test_duplicates_across_files_are_counted(tmp_path):
    a, b = write(tmp_path, HEADER + GOOD, "a.csv"), write(tmp_path, HEADER + GOOD, "b.csv")
    td = load_tickets([a, b])
    assert (td.rows_read, td.rows_used, td.dropped) == (6, 3, {"duplicate_contact_id": 3})
    assert [Path(p).name for p, _ in td.files] == ["a.csv", "b.csv"]


def test_blank_rows_and_missing_values_are_counted(tmp_path):
    text = "channel,created_at\nvoice,2024-11-29 10:00\n\n,2024-11-29 10:05\nvoice,\n"
    td = load_tickets(write(tmp_path, text))
    assert td.dropped == {"blank_row": 1, "missing_channel": 1, "missing_created_at": 1}
    assert_accounted(td)


def test_dst_nonexistent_time_is_shifted_forward_and_counted(tmp_path):
    # Europe/London springs forward 2024-03-31 01:00 → 02:00; 01:30 never happened on the wall clock
    text = "channel,created_at\nvoice,2024-03-31 00:30\nvoice,2024-03-31 01:30\n"
    td = load_tickets(write(tmp_path, text), tz="Europe/London")
    assert td.notes == {"dst_nonexistent_shifted": 1} and td.dropped == {}
    assert td.contacts.loc[1, "created_at"] == pd.Timestamp("2024-03-31 02:00", tz="Europe/London")


def test_dst_ambiguous_time_is_dropped_and_counted(tmp_path):
    # 2024-10-27 01:30 happened twice in London (BST, then GMT): which one is unknowable
    text = "channel,created_at\nvoice,2024-10-27 00:30\nvoice,2024-10-27 01:30\nvoice,2024-10-27 02:30\n"
    td = load_tickets(write(tmp_path, text), tz="Europe/London")
    assert td.dropped == {"dst_ambiguous_time": 1}
    assert td.drop_examples["dst_ambiguous_time"].endswith(":3")
    assert_accounted(td)


def test_parameter_errors():
    with pytest.raises(ValueError, match="'fmt' parameter of load_tickets must be one of"):
        load_tickets("x.csv", fmt="excel")
    with pytest.raises(ValueError, match="'paths' parameter of load_tickets"):
        load_tickets([])


# --- property: every row is either kept (and then consistent) or counted ------------------------

row = st.fixed_dictionaries({
    "id": st.integers(0, 8),
    "channel": st.sampled_from(["voice", "chat", ""]),
    "created_min": st.integers(0, 600),
    "answer_offset": st.one_of(st.none(), st.integers(-30, 60)),
    "abandon_offset": st.one_of(st.none(), st.integers(-30, 60)),
    "handle": st.one_of(st.none(), st.integers(-100, 900)),
})


@settings(max_examples=40, deadline=None)
@given(st.lists(row, min_size=1, max_size=25))
def test_rows_are_kept_consistent_or_counted(tmp_path_factory, rows):
    base = pd.Timestamp("2024-11-29 08:00")
    lines = ["contact_id,channel,created_at,queued_at,answered_at,abandoned_at,handle_time_s"]
    for r in rows:
        created = base + pd.Timedelta(minutes=r["created_min"])
        at = lambda off: "" if off is None else str(created + pd.Timedelta(minutes=off))  # noqa: E731
        lines.append(",".join([str(r["id"]), r["channel"], str(created), str(created), at(r["answer_offset"]),
                               at(r["abandon_offset"]), "" if r["handle"] is None else str(r["handle"])]))
    path = tmp_path_factory.mktemp("prop") / "t.csv"
    path.write_text("\n".join(lines) + "\n")
    td = load_tickets(path)
    assert_accounted(td)
    c = td.contacts
    assert c["contact_id"].is_unique and c["channel"].notna().all()
    assert not (c["answered_at"] < c["created_at"]).any() and not (c["abandoned_at"] < c["queued_at"]).any()
    assert not (c["answered_at"].notna() & c["abandoned_at"].notna()).any()
    assert not (c["handle_time_s"] < 0).any()
    assert set(td.dropped) == set(td.drop_examples)
