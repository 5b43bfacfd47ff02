"""Ticket files the other tests never tried: `calibrate`, `synth` and `backtest` must give a
correct result or one clear line with exit status 2, never a traceback, a warning dump on stderr,
a silently shifted column or a calibration the scenario then refuses."""
from __future__ import annotations

import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from calibrate import calibrate, load_tickets
from calibrate.fit import FitError, fit_duration, fit_patience
from calibrate.tickets import TicketError
from sim.cli import app
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
MESSAGE = re.compile(r"^.+?(:\d+)?: [^:]+: .+; .+$")  # FILE[:ROW]: field: problem (got ...); fix


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def one_line_error(res) -> str:
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output and "internal error" not in res.output, res.output
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, res.stderr
    return lines[0]


def write(tmp_path, text, name="tickets.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def tickets(n=240, start="2025-11-03 08:00", handle=None, seed=0):
    """A voice export with queue times, abandonments, handle times and agents (naive times)."""
    rng = np.random.default_rng(seed)
    created = pd.Timestamp(start) + pd.to_timedelta(np.sort(rng.uniform(0, 3 * 86400, n)), unit="s")
    wait, patience = rng.exponential(60, n), rng.exponential(90, n)
    gone = patience < wait
    fmt = lambda t: t.strftime("%Y-%m-%d %H:%M:%S")  # noqa: E731
    rows = []
    for i in range(n):
        end = created[i] + pd.Timedelta(seconds=float(min(wait[i], patience[i])))
        rows.append({"contact_id": f"c{i}", "channel": "voice", "created_at": fmt(created[i]),
                     "queued_at": fmt(created[i]), "answered_at": "" if gone[i] else fmt(end),
                     "abandoned_at": fmt(end) if gone[i] else "",
                     "handle_time_s": "" if gone[i] else (handle if handle is not None else round(rng.gamma(2, 90), 1)),
                     "agent_id": "" if gone[i] else f"a{i % 4}"})
    return pd.DataFrame(rows)


# --- stderr carries the one line, not library warnings ---------------------------------------------

def test_unix_seconds_without_time_format_is_one_line_without_a_pandas_warning(tmp_path):
    # a real process: pytest would capture the warning that a planner sees on stderr
    path = write(tmp_path, "channel,created_at\nvoice,1762289464\nvoice,1762289500\n")
    proc = subprocess.run([sys.executable, "-m", "sim.cli", "calibrate", str(path), "--out", str(tmp_path / "o"),
                           "--no-report"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"{path}:2: created_at: cannot read this as a date-time (got '1762289464'); these look like Unix "
        "timestamps: set time_format: unix (seconds) or unix_ms in the mapping file"], proc.stderr


def test_times_read_by_the_fallback_parser_emit_no_warning(tmp_path):
    path = write(tmp_path, "channel,created_at\nvoice,2025-11-03 10:00 PM\nvoice,2025-11-03 11:00 AM\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c = load_tickets(path).contacts
    assert c["created_at"].dt.hour.tolist() == [22, 11]


# --- degenerate fits ------------------------------------------------------------------------------

def test_identical_values_are_not_fitted_with_zero_spread():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(FitError, match=r"all 100 values are 180 s"):
            fit_duration(np.full(100, 180.0))
        with pytest.raises(FitError, match=r"all waits are 60 s"):
            fit_patience(np.full(200, 60.0), np.r_[np.ones(100, bool), np.zeros(100, bool)])


def test_equal_handle_times_are_skipped_and_the_calibration_stays_usable(tmp_path):
    path = tmp_path / "tickets.csv"
    tickets(handle=180).to_csv(path, index=False)
    res = invoke("calibrate", path, "--out", tmp_path / "cal", "--no-report")
    assert res.exit_code == 0, res.output
    assert "RuntimeWarning" not in res.stderr and "Warning" not in res.stderr, res.stderr
    assert "skipped: voice: handle_time: no spread: all" in res.stderr
    cal = yaml.safe_load((tmp_path / "cal" / "calibration.yaml").read_text())
    assert "handle_time" not in cal["channels"]["voice"]
    scenario = tmp_path / "plan.yaml"
    scenario.write_text(
        "name: plan\nstart: 2026-11-23T00:00:00+01:00\nduration: 4h\ninterval: 60min\n"
        "calibration: cal/calibration.yaml\nreplications: 1\nchannels:\n  voice:\n"
        "    service_level: {threshold: 20s, target: 0.8}\n    handle_time: {dist: deterministic, value: 180s}\n"
        "agents:\n  - name: team\n    skills: [voice]\n    headcount: 3\n")
    assert load_scenario(scenario).channels["voice"].patience is not None


# --- mapping files with wrong value types -----------------------------------------------------------

BAD_MAPPINGS = [
    ("columns as a list", "columns: [channel]\n", r"columns: must be a mapping"),
    ("column source as a list", "columns:\n  channel: [Via]\n", r"columns\.channel: must be a column name"),
    ("values as a list", "values:\n  channel: [a]\n", r"values\.channel: must be a mapping"),
    ("recoded to nothing", "values:\n  channel: {Chat: }\n", r"values\.channel\.Chat: must be a value"),
    ("time_format a number", "time_format: 5\n", r"time_format: must be text"),
    ("empty separator", "sep: ''\n", r"sep: must be"),
    ("unknown encoding", "encoding: utf-9\n", r"encoding: unknown encoding \(got 'utf-9'\)"),
    ("unknown zone", "tz: Europe/Berln\n", r"tz: unknown time zone \(got 'Europe/Berln'\)"),
    ("na_values a mapping", "na_values: {a: b}\n", r"na_values: must be"),
]


@pytest.mark.parametrize("name,text,pattern", BAD_MAPPINGS, ids=[b[0] for b in BAD_MAPPINGS])
def test_mapping_values_of_the_wrong_kind_are_one_line_errors(tmp_path, name, text, pattern):
    mapping = write(tmp_path, text, "mapping.yaml")
    data = write(tmp_path, "channel,created_at\nvoice,2025-11-03 10:00\n")
    line = one_line_error(invoke("calibrate", data, "--mapping", mapping, "--out", tmp_path / "o", "--no-report"))
    assert line.startswith(f"{mapping}: "), line
    assert MESSAGE.match(line) and re.search(pattern, line), line


def test_a_misspelt_shipped_mapping_lists_the_shipped_ones(tmp_path):
    data = write(tmp_path, "channel,created_at\nvoice,2025-11-03 10:00\n")
    line = one_line_error(invoke("calibrate", data, "--mapping", "zendsk", "--out", tmp_path / "o"))
    assert "zendesk" in line and "freshdesk" in line


# --- dates and numbers pandas cannot hold ---------------------------------------------------------

def test_placeholder_dates_far_in_the_future_are_refused_with_the_row(tmp_path):
    path = write(tmp_path, "channel,created_at,resolved_at\nemail,2025-11-03 10:00,2025-11-03 12:00\n"
                           "email,2025-11-03 11:00,9999-12-31 23:59:59\n")
    with pytest.raises(TicketError, match=r"tickets.csv:3: resolved_at: outside the dates .*\(got '9999-12-31 23:59:59'\); "
                                          r"leave the cell empty"):
        load_tickets(path)
    line = one_line_error(invoke("calibrate", path, "--out", tmp_path / "o"))
    assert ":3: resolved_at:" in line


def test_placeholder_dates_in_parquet_are_refused_with_the_row(tmp_path):
    frame = pd.DataFrame({"channel": ["email", "email"],
                          "created_at": pd.to_datetime(["2025-11-03 10:00", "2025-11-03 11:00"]),
                          "resolved_at": pd.Series([pd.Timestamp("2025-11-03 12:00"), pd.Timestamp("1500-01-01")],
                                                   dtype="datetime64[us]")})
    frame.to_parquet(tmp_path / "t.parquet")
    with pytest.raises(TicketError, match=r"t.parquet:2: resolved_at: outside the dates"):
        load_tickets(tmp_path / "t.parquet")


def test_an_absurd_handle_time_is_dropped_and_counted_not_a_crash(tmp_path):
    frame = tickets()
    served = frame.index[frame["handle_time_s"] != ""]
    frame.loc[served[0], "handle_time_s"] = "1e12"
    path = tmp_path / "tickets.csv"
    frame.to_csv(path, index=False)
    td = load_tickets(path)
    assert td.dropped == {"implausible_handle_time": 1}
    assert td.rows_read == td.rows_used + 1
    res = invoke("calibrate", path, "--out", tmp_path / "o", "--no-report")
    assert res.exit_code == 0, res.output
    assert "implausible_handle_time 1" in res.output


def test_an_infinite_handle_time_in_parquet_is_refused_like_in_csv(tmp_path):
    frame = pd.DataFrame({"channel": ["voice", "voice"],
                          "created_at": pd.to_datetime(["2025-11-03 10:00", "2025-11-03 11:00"]),
                          "handle_time_s": [120.0, np.inf]})
    frame.to_parquet(tmp_path / "t.parquet")
    with pytest.raises(TicketError, match=r"t.parquet:2: handle_time_s: not a finite number \(got 'inf'\)"):
        load_tickets(tmp_path / "t.parquet")


def test_parquet_duration_handle_times_are_seconds(tmp_path):
    frame = pd.DataFrame({"channel": ["voice", "voice"],
                          "created_at": pd.to_datetime(["2025-11-03 10:00", "2025-11-03 11:00"]),
                          "handle_time_s": pd.to_timedelta([184.5, 60], unit="s")})
    frame.to_parquet(tmp_path / "t.parquet")
    assert load_tickets(tmp_path / "t.parquet").contacts["handle_time_s"].tolist() == [184.5, 60.0]


# --- CSV layout quirks ----------------------------------------------------------------------------

def test_a_trailing_separator_on_every_data_row_does_not_shift_the_columns(tmp_path):
    path = write(tmp_path, "channel,created_at\r\nvoice,2025-11-03 10:00,\r\nchat,2025-11-03 11:00,\r\n")
    c = load_tickets(path).contacts
    assert c["channel"].tolist() == ["voice", "chat"]
    assert c["created_at"].dt.hour.tolist() == [10, 11]


def test_a_row_with_an_extra_value_is_an_error_naming_that_row(tmp_path):
    path = write(tmp_path, "channel,created_at\nvoice,2025-11-03 10:00\nvoice,2025-11-03 10:05,17\n")
    with pytest.raises(TicketError, match=r"tickets.csv:3: file: rows have different numbers of fields "
                                          r"\(got Expected 2 fields in line 3, saw 3"):
        load_tickets(path)
    # pandas itself would read this one, taking `channel` as the row index and shifting every column
    path = write(tmp_path, "channel,created_at\nvoice,2025-11-03 10:00,17\nvoice,2025-11-03 10:05,\n")
    with pytest.raises(TicketError, match=r"tickets.csv:2: file: rows have different numbers of fields "
                                          r"\(got Expected 2 fields in line 2, saw 3: '17' has no column\)"):
        load_tickets(path)


def test_empty_trailing_header_columns_from_a_spreadsheet_are_ignored(tmp_path):
    path = write(tmp_path, "\ufeffchannel;created_at;;\r\nvoice;2025-11-03 10:00;;\r\n", "semi.csv")
    td = load_tickets(path, mapping={"sep": ";"})
    assert td.rows_used == 1 and td.contacts["channel"].tolist() == ["voice"]


def test_a_zipped_export_or_excel_workbook_is_named_as_such_not_as_an_encoding_problem(tmp_path):
    import zipfile

    with zipfile.ZipFile(tmp_path / "export.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("export.csv", "channel,created_at\n" + "voice,2025-11-03 10:00\n" * 50)
    (tmp_path / "export.xlsx").write_bytes((tmp_path / "export.zip").read_bytes())
    for name in ("export.zip", "export.xlsx"):
        line = one_line_error(invoke("calibrate", tmp_path / name, "--out", tmp_path / "o"))
        assert line.startswith(f"{tmp_path / name}: file: a zip archive (a zipped export or an Excel workbook)"), line
        assert "encoding" not in line and "save the sheet as CSV" in line


def test_the_same_file_given_twice_is_refused(tmp_path):
    path = write(tmp_path, "channel,created_at\nvoice,2025-11-03 10:00\n")
    with pytest.raises(TicketError, match=r"tickets.csv: file: given more than once"):
        load_tickets([path, tmp_path / "." / "tickets.csv"])


# --- times with UTC offsets and no --tz -------------------------------------------------------------

SYNTH = """\
name: last year
start: 2025-11-03T00:00:00+01:00
timezone: Europe/Berlin
duration: 4d
interval: 60min
seed: 11
channels:
  voice:
    service_level: {threshold: 20s, target: 0.8}
    handle_time: {dist: gamma, mean: 200s, sd: 150s}
    patience: {dist: exponential, mean: 240s}
    arrivals: {rate_per_hour: [2, 2, 2, 2, 2, 2, 2, 2, 60, 60, 60, 60, 60, 60, 60, 60, 60, 60, 10, 10, 10, 10, 10, 10]}
agents:
  - name: team
    skills: [voice]
    headcount: [1, 1, 1, 1, 1, 1, 1, 1, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 2, 2, 2, 2, 2, 2]
"""


def test_synth_then_calibrate_without_tz_keeps_the_written_wall_clock(tmp_path):
    (tmp_path / "ly.yaml").write_text(SYNTH)
    assert invoke("synth", tmp_path / "ly.yaml", "--out", tmp_path / "ly.csv").exit_code == 0
    res = invoke("calibrate", tmp_path / "ly.csv", "--out", tmp_path / "cal", "--no-report")
    assert res.exit_code == 0, res.output
    cal = yaml.safe_load((tmp_path / "cal" / "calibration.yaml").read_text())
    rates = np.array(cal["channels"]["voice"]["arrivals"]["rate_per_hour"])
    assert rates[8] > 30 and rates[7] < 10  # 08:00 local is the first busy hour, as written (+01:00)
    assert rates.sum() == pytest.approx(2 * 8 + 60 * 10 + 10 * 6, rel=0.08)  # four whole days, not five
    assert cal["provenance"]["date_range"][0].endswith("+01:00")


def test_synth_across_the_autumn_clock_change_writes_both_offsets(tmp_path):
    # 2025-10-26 02:00–03:00 happens twice in Berlin: rounding to the millisecond must not ask which
    (tmp_path / "dst.yaml").write_text(SYNTH.replace("2025-11-03T00:00:00+01:00", "2025-10-25T00:00:00+02:00")
                                       .replace("duration: 4d", "duration: 2d"))
    res = invoke("synth", tmp_path / "dst.yaml", "--out", tmp_path / "dst.csv")
    assert res.exit_code == 0, res.output
    created = pd.read_csv(tmp_path / "dst.csv")["created_at"]
    assert created.str.contains(r"T02:\d\d:.*\+02:00").any() and created.str.contains(r"T02:\d\d:.*\+01:00").any()
    td = load_tickets(tmp_path / "dst.csv", tz="Europe/Berlin")
    assert td.dropped == {} and td.contacts["created_at"].is_monotonic_increasing
    res = invoke("calibrate", tmp_path / "dst.csv", "--out", tmp_path / "cal", "--no-report")
    assert res.exit_code == 0 and "note: " in res.stderr and "+01:00, +02:00" in res.stderr, res.output


def test_several_utc_offsets_without_tz_are_reported(tmp_path):
    path = write(tmp_path, "channel,created_at\nvoice,2025-10-25T10:00:00+02:00\nvoice,2025-10-27T10:00:00+01:00\n")
    td = load_tickets(path)
    assert str(td.contacts["created_at"].dt.tz) == "UTC"
    assert td.notes == {"utc_offsets_read_as_utc: +01:00, +02:00": 1}
    res = invoke("calibrate", path, "--out", tmp_path / "o", "--no-report", "--min-n", "10")
    assert res.exit_code == 0, res.output
    assert "--tz" in res.stderr and "+02:00" in res.stderr


def test_zone_aware_parquet_times_keep_their_own_zone(tmp_path):
    created = pd.Series(pd.to_datetime(["2025-10-25 10:00", "2025-10-27 10:00"])).dt.tz_localize("Europe/Berlin")
    pd.DataFrame({"channel": ["voice", "voice"], "created_at": created}).to_parquet(tmp_path / "t.parquet")
    c = load_tickets(tmp_path / "t.parquet").contacts
    assert str(c["created_at"].dt.tz) == "Europe/Berlin" and c["created_at"].dt.hour.tolist() == [10, 10]


def test_an_explicit_tz_still_wins_over_the_offsets(tmp_path):
    path = write(tmp_path, "channel,created_at\nvoice,2025-11-03T10:00:00+01:00\n")
    assert load_tickets(path, tz="Europe/London").contacts["created_at"].iloc[0].hour == 9
    assert load_tickets(path).contacts["created_at"].iloc[0].hour == 10


# --- patience that cannot be fitted says why ------------------------------------------------------

def test_abandonments_without_queue_times_explain_the_missing_patience(tmp_path):
    frame = tickets().drop(columns=["queued_at"])
    path = tmp_path / "tickets.csv"
    frame.to_csv(path, index=False)
    cal = calibrate(load_tickets(path))
    assert any(s.startswith("voice: patience: no queued_at") for s in cal.skipped), cal.skipped


def test_zero_handle_times_left_out_of_the_fit_are_counted_and_shown(tmp_path):
    frame = tickets()
    served = frame.index[frame["handle_time_s"] != ""]
    frame.loc[served[:7], "handle_time_s"] = "0"  # e.g. an ACD logging 0 s for a dropped transfer
    path = tmp_path / "tickets.csv"
    frame.to_csv(path, index=False)
    cal = calibrate(load_tickets(path))
    assert cal.provenance["notes"] == {"handle_time_zero_left_out: voice": 7}
    assert cal.results["voice"]["handle_time"].n == len(served) - 7
    res = invoke("calibrate", path, "--out", tmp_path / "o", "--no-report")
    assert res.exit_code == 0 and "notes: handle_time_zero_left_out: voice 7" in res.stderr, res.output


# --- backtest -------------------------------------------------------------------------------------

def test_backtest_errors_name_the_files_and_a_fix(tmp_path):
    train = tmp_path / "train.csv"
    tickets(n=400).to_csv(train, index=False)
    line = one_line_error(invoke("backtest", "--train", train, "--test", train, "--channel", "chat",
                                 "--out", tmp_path / "o", "--no-report"))
    assert line.startswith(f"{train}: channel: no contacts on channel 'chat'") and "--channel voice" in line, line
    only_arrivals = write(tmp_path, "channel,created_at\nvoice,2025-11-10 10:00\n", "test.csv")
    line = one_line_error(invoke("backtest", "--train", train, "--test", only_arrivals, "--out", tmp_path / "o",
                                 "--no-report"))
    assert line.startswith(f"{only_arrivals}: queued_at: no offered calls on channel 'voice'"), line


def test_backtest_on_a_test_file_with_a_mistyped_year_names_the_file_and_the_dates(tmp_path):
    train = tmp_path / "train.csv"
    tickets(n=400).to_csv(train, index=False)
    test = tickets(n=100, seed=1)
    test.loc[0, ["created_at", "queued_at", "answered_at", "abandoned_at"]] = (
        test.loc[0, ["created_at", "queued_at", "answered_at", "abandoned_at"]].str.replace("2025-", "2023-"))
    test.to_csv(tmp_path / "test.csv", index=False)
    line = one_line_error(invoke("backtest", "--train", train, "--test", tmp_path / "test.csv", "--out",
                                 tmp_path / "o", "--no-report"))
    assert line.startswith(f"{tmp_path / 'test.csv'}: queued_at: the test period spans 7") and "2023-11-03" in line, line
    assert "mistyped" in line


def test_backtest_without_any_interval_above_min_offered_says_so(tmp_path):
    train = tmp_path / "train.csv"
    tickets(n=400).to_csv(train, index=False)
    test = tmp_path / "test.csv"  # a copy: the same file as --train and --test is refused
    test.write_bytes(train.read_bytes())
    res = invoke("backtest", "--train", train, "--test", test, "--min-offered", "1000", "-r", "1",
                 "--out", tmp_path / "o", "--no-report")
    assert res.exit_code == 0, res.output
    assert "nan" not in res.output
    assert "no interval has ≥ 1000 offered calls" in res.stderr and "--min-offered" in res.stderr
