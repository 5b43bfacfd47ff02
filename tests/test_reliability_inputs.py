"""Issue 12, class 1: bad input that used to end in "internal error … this is a bug" (exit 1) must give
one located line and exit 2. Each test names the independent truth it checks: the file and line
the bad value sits on, the field, and that nothing was written or simulated."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from typer.testing import CliRunner

import sim.runner
from sim.cli import app

from conftest import TINY_SCENARIO, write_yaml

LOCATED = re.compile(r"^(?P<file>[^:]+?)(?::(?P<line>\d+))?: (?P<rest>.+)$")


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def one_line(res) -> str:
    """The single stderr line of a refused command (exit 2, no traceback, no 'internal error')."""
    assert res.exit_code == 2, (res.exit_code, res.output)
    assert "Traceback" not in res.output and "internal error" not in res.output, res.output
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, res.stderr
    return lines[0]


def line_of(text: str, needle: str) -> int:
    """The 1-based line of `needle` in `text` (the independent truth for FILE:LINE)."""
    return next(i for i, row in enumerate(text.splitlines(), 1) if needle in row)


SCENARIO_YAML = """name: dates
start: 2026-11-23T00:00:00+01:00
duration: 4h
interval: 30min
replications: 2
channels:
  voice:
    service_level: {threshold: 20s, target: 0.8}
    handle_time: {dist: exponential, mean: 3min}
    arrivals: {rate_per_hour: 60}
agents:
  - name: team
    skills: [voice]
    headcount: 4
"""


# --- impossible dates written unquoted in YAML -------------------------------------------------
@pytest.mark.parametrize("addition,needle,field", [
    ("events: [{name: bf, date: 2026-02-30, multiplier: 2}]\n", "2026-02-30", "events[0].date"),
    ("events: [{name: bf, date: 2026-13-01, multiplier: 2}]\n", "2026-13-01", "events[0].date"),
    ("reasons: {general: {automation: {start: 2026-04-31, auto_resolve: 0.1}}}\n", "2026-04-31",
     "reasons.general.automation.start"),
])
def test_an_impossible_unquoted_date_in_a_scenario_is_located(tmp_path, addition, needle, field):
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO_YAML + addition)
    for command in (["validate", path], ["run", path, "-o", tmp_path / "o", "--no-report"]):
        line = one_line(invoke(*command))
        assert line.startswith(f"{path}:{line_of(path.read_text(), needle)}: {field}: "), line
        assert needle in line
    assert not (tmp_path / "o").exists()


def test_an_impossible_date_in_an_agent_shift_and_a_datetime_start_are_located(tmp_path):
    text = SCENARIO_YAML.replace("    headcount: 4\n", "    shifts: [{start: '08:00', end: '12:00', agents: 4, "
                                 "dates: [2026-11-31]}]\n")
    path = tmp_path / "s.yaml"
    path.write_text(text)
    assert one_line(invoke("validate", path)).startswith(f"{path}:{line_of(text, '2026-11-31')}: agents[0].shifts[0].dates")
    text = SCENARIO_YAML.replace("start: 2026-11-23T00:00:00+01:00", "start: 2026-02-29T00:00:00+01:00")
    path.write_text(text)  # 2026 is not a leap year
    assert one_line(invoke("validate", path)).startswith(f"{path}:2: start: ")


def test_an_impossible_date_in_a_calibration_file_names_that_file(tmp_path):
    cal = tmp_path / "cal.yaml"
    cal.write_text("provenance: {date_range: [2025-11-31, 2025-12-01]}\nchannels:\n  voice:\n"
                   "    handle_time: {dist: exponential, mean: 200}\n")
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO_YAML.replace("replications: 2\n", "replications: 2\ncalibration: cal.yaml\n"))
    res = invoke("validate", path)
    assert res.exit_code == 0, res.output  # the date is not a field the scenario reads: kept as text, harmless
    cal.write_text("channels:\n  voice:\n    handle_time: 2025-11-31\n")
    line = one_line(invoke("validate", path))
    assert line.startswith(f"{cal}: channels.voice.handle_time: "), line


def test_an_impossible_date_in_a_mapping_file_is_located(tmp_path):
    export = tmp_path / "export.csv"
    export.write_text("channel,created_at\nvoice,2025-11-03 10:00\n")
    mapping = tmp_path / "map.yaml"
    mapping.write_text("tz: 2026-02-30\n")
    line = one_line(invoke("calibrate", export, "--mapping", mapping, "--out", tmp_path / "o"))
    assert line.startswith(f"{mapping}: tz: unknown time zone (got '2026-02-30')"), line


# --- mapping files -------------------------------------------------------------------------------
EXPORT = "channel,created_at\nvoice,2025-11-03 10:00:00\nvoice,2025-11-03 10:05:00\n"


@pytest.mark.parametrize("mapping,key,fragment", [
    ("encoding: rot13\n", "encoding", "not a text encoding"),
    ("encoding: hex\n", "encoding", "not a text encoding"),
    ("encoding: base64\n", "encoding", "not a text encoding"),
    ("encoding: klingon\n", "encoding", "unknown encoding"),
    ('sep: "\\n"\n', "sep", "one character"),
    ('sep: "\\r"\n', "sep", "one character"),
    ("sep: ';;'\n", "sep", "one character"),
    ("time_format: '%'\n", "time_format", "strptime"),
    ("time_format: '%Q'\n", "time_format", "strptime"),
    ("time_format: '%s'\n", "time_format", "strptime"),
    ("time_format: 'created'\n", "time_format", "no date or time directive"),
])
def test_a_bad_mapping_value_is_one_line_naming_the_key(tmp_path, mapping, key, fragment):
    export = tmp_path / "export.csv"
    export.write_text(EXPORT)
    path = tmp_path / "map.yaml"
    path.write_text(mapping)
    line = one_line(invoke("calibrate", export, "--mapping", path, "--out", tmp_path / "o"))
    assert line.startswith(f"{path}: {key}: ") and fragment in line, line


def test_a_directory_or_a_non_utf8_file_as_the_mapping_is_one_line(tmp_path):
    export = tmp_path / "export.csv"
    export.write_text(EXPORT)
    folder = tmp_path / "mapdir"
    folder.mkdir()
    line = one_line(invoke("calibrate", export, "--mapping", folder, "--out", tmp_path / "o"))
    assert line.startswith(f"{folder}: ") and "directory" in line, line
    latin = tmp_path / "map.yaml"
    latin.write_bytes("columns: {channel: Kanal}\nna_values: ['n/a']\n# Größe\n".encode("latin-1"))
    line = one_line(invoke("calibrate", export, "--mapping", latin, "--out", tmp_path / "o"))
    assert line.startswith(f"{latin}:3: ") and "UTF-8" in line, line  # the ö is on line 3


# --- ticket times spanning centuries ----------------------------------------------------------------
def _export(rows: list[tuple[str, str]]) -> str:
    head = "contact_id,channel,created_at,queued_at,answered_at,handle_time_s,agent_id\n"
    return head + "".join(f"c{i},voice,{c},{c},{a},120,a{i % 3}\n" for i, (c, a) in enumerate(rows))


@pytest.mark.parametrize("command", ["calibrate", "backtest"])
def test_ticket_times_spanning_centuries_are_refused_naming_the_row(tmp_path, command):
    rows = [(f"2025-11-03 {8 + i // 12:02d}:{(5 * i) % 60:02d}:00", f"2025-11-03 {8 + i // 12:02d}:{(5 * i) % 60:02d}:30")
            for i in range(60)]
    rows[7] = ("1680-01-01 10:00:00", "1680-01-01 10:00:30")  # spreadsheet row 9
    rows[20] = ("2260-01-01 10:00:00", "2260-01-01 10:00:30")
    path = tmp_path / "export.csv"
    path.write_text(_export(rows))
    other = tmp_path / "other.csv"
    other.write_text(_export(rows[30:]))
    args = (["calibrate", path] if command == "calibrate" else ["backtest", "--train", path, "--test", other])
    line = one_line(invoke(*args, "--out", tmp_path / "o", "--no-report"))
    # the median arrival is 2025; 1680 (345 years away) is farther than 2260 (235): row 7 + header + 1
    assert line.startswith(f"{path}:9: created_at: the tickets' times span 580 years"), line


def test_a_single_row_whose_answer_is_centuries_after_its_arrival_is_refused(tmp_path):
    rows = [(f"2025-11-03 10:{i:02d}:00", f"2025-11-03 10:{i:02d}:30") for i in range(50)]
    rows[3] = ("2025-11-03 10:03:00", "2262-01-01 10:00:00")
    path = tmp_path / "export.csv"
    path.write_text(_export(rows))
    line = one_line(invoke("calibrate", path, "--out", tmp_path / "o", "--no-report"))
    assert line.startswith(f"{path}:5: answered_at: the tickets' times span 236 years"), line


# --- a near-zero horizon -------------------------------------------------------------------------------
@pytest.mark.parametrize("duration", ["0.000001", "1e-9", "0.5s", "59s"])
def test_a_horizon_shorter_than_a_minute_is_refused_not_run_with_zero_intervals(tmp_path, duration):
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO_YAML.replace("duration: 4h", f"duration: {duration}"))
    for command in (["validate", path], ["run", path, "-o", tmp_path / "o", "--no-report"]):
        line = one_line(invoke(*command))
        assert line.startswith(f"{path}:3: duration: the horizon must be at least 1min"), line


# --- malformed Dask addresses ------------------------------------------------------------------------------
@pytest.mark.parametrize("address,fragment", [
    ("foo", "needs a host and a port"),
    ("tcp://host", "needs a host and a port"),
    ("tcp://:8786", "needs a host and a port"),
    ("http://localhost:8787", "dashboard"),
    ("https://localhost:8787/status", "dashboard"),
    ("inproc://10.0.0.1/123/1", "in-process"),
    ("gopher://host:70", "unknown scheme"),
    ("tcp://host:99999", "not a network address"),
    ("tcp://host:86x", "not a network address"),
])
def test_a_malformed_dask_address_is_refused_before_connecting(tmp_path, address, fragment, monkeypatch):
    ran = []
    monkeypatch.setattr(sim.runner, "run_replication", lambda *a: ran.append(a))
    path = write_yaml(tmp_path, TINY_SCENARIO)
    line = one_line(invoke("run", path, "--scheduler", address, "-o", tmp_path / "o", "--no-report"))
    assert line.startswith("--scheduler: ") and fragment in line and repr(address) in line, line
    assert ran == [] and not (tmp_path / "o").exists()


# --- edited result files -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("edited") / "run"
    path = write_yaml(out.parent, {**TINY_SCENARIO, "duration": "1h", "replications": 2})
    assert invoke("run", path, "-o", out, "--no-report").exit_code == 0
    return out


EDITS = [  # (field path in run.json, a value of the wrong JSON type, the field named in the message)
    (("replications",), "three", "replications"),
    (("seed",), [1, 2], "seed"),
    (("wall_seconds",), "fast", "wall_seconds"),
    (("warnings",), 5, "warnings"),
    (("warnings",), [17], "warnings[0]"),
    (("scenario_definition",), "voice", "scenario_definition"),
    (("scenario_definition", "channels"), ["voice"], "scenario_definition.channels"),
    (("scenario_definition", "channels", "voice"), "sync", "scenario_definition.channels.voice"),
    (("scenario_definition", "channels", "voice", "service_level", "target"), "80%",
     "scenario_definition.channels.voice.service_level.target"),
    (("contacts_simulated",), {"n": 1}, "contacts_simulated"),
]


@pytest.mark.parametrize("path,value,field", EDITS, ids=[".".join(map(str, e[0])) + f"={e[1]!r}" for e in EDITS])
def test_report_and_compare_on_an_edited_run_json_name_the_field(tmp_path, finished_run, path, value, field):
    copy = tmp_path / "run"
    shutil.copytree(finished_run, copy)
    meta = json.loads((copy / "run.json").read_text())
    node = meta
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    (copy / "run.json").write_text(json.dumps(meta))
    commands = [["report", copy]]
    if path[0] in ("seed", "warnings", "scenario_definition"):  # fields compare reads too
        commands.append(["compare", finished_run, copy, "-o", tmp_path / "cmp"])
    for command in commands:
        line = one_line(invoke(*command))
        assert line.startswith(f"{copy / 'run.json'}: {field}: must be "), line


def test_a_garbled_run_json_is_one_line(tmp_path, finished_run):
    copy = tmp_path / "run"
    shutil.copytree(finished_run, copy)
    for garbage in (b"{\"seed\": 1,", b"\xff\xfe\x00", b"[1, 2, 3]", b"[" * 100_000):
        (copy / "run.json").write_bytes(garbage)
        line = one_line(invoke("report", copy))
        assert line.startswith(f"{copy / 'run.json'}: "), line
