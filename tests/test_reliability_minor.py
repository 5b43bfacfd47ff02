"""Issue 12, the minor list: each a small surprise that is now a warning or a one-line refusal.

Independent truths: the tz database (02:30 does not exist in Europe/Berlin on 2026-03-29), the
calendar (a Saturday-only channel in a Monday horizon), inode identity of two paths, the bytes of
a Parquet list column, the process's CPU affinity, and the results of -j 1 (same as capped -j).
"""

from __future__ import annotations

import copy
import json
import warnings

import pandas as pd
import pytest
from typer.testing import CliRunner

import sim.cli_data
import sim.executors
from sim.cli import app
from sim.runner import run_scenario
from sim.scenario import parse_scenario
from sim.sweep import agents_axis

from conftest import TINY_SCENARIO, write_yaml


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def one_line(res) -> str:
    assert res.exit_code == 2, (res.exit_code, res.output)
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in res.output and "internal error" not in res.output, res.output
    return lines[0]


def small(**top) -> dict:
    return {**copy.deepcopy(TINY_SCENARIO), "duration": "2h", "replications": 2, **top}


# --- calendar warnings ---------------------------------------------------------------------------------
def test_a_start_inside_the_dst_gap_is_warned_with_the_time_used(tmp_path):
    data = small(start="2026-03-29T02:30:00", timezone="Europe/Berlin")
    path = write_yaml(tmp_path, data)
    res = invoke("validate", path)
    assert res.exit_code == 0
    assert ("warning: start 2026-03-29 02:30 does not exist in Europe/Berlin (the clocks jump forward that night), "
            "so the horizon starts at 03:30 (2026-03-29T03:30:00+02:00)") in res.stderr
    res = invoke("run", path, "-o", tmp_path / "o", "--no-report")
    meta = json.loads((tmp_path / "o" / "run.json").read_text())
    assert [w["used"] for w in meta["warnings"] if w["kind"] == "start_in_dst_gap"] == ["2026-03-29T03:30:00+02:00"]
    assert not [w for w in run_scenario(parse_scenario(small(start="2026-03-29T03:30:00", timezone="Europe/Berlin")))
                .meta["warnings"] if w["kind"] == "start_in_dst_gap"]


def test_a_channel_never_open_in_the_horizon_is_warned(tmp_path):
    data = small()  # Monday 2026-11-23, 00:00–02:00
    data["channels"] = {"voice": {**TINY_SCENARIO["channels"]["voice"],
                                  "open": {"start": "09:00", "end": "17:00", "days": ["sat", "sun"]}}}
    res = invoke("validate", write_yaml(tmp_path, data))
    assert res.exit_code == 0 and "warning: voice: never open during the horizon" in res.stderr
    result = run_scenario(parse_scenario(data))
    assert result.summary["arrived"].iloc[0] == 0
    assert [w["channel"] for w in result.meta["warnings"] if w["kind"] == "never_open"] == ["voice"]
    data["channels"]["voice"]["open"]["days"] = ["mon"]
    data["duration"] = "10h"  # open 09:00–10:00 on that Monday: no warning
    assert not [w for w in run_scenario(parse_scenario(data)).meta["warnings"] if w["kind"] == "never_open"]


# --- backtest: the same file twice ---------------------------------------------------------------------------
def test_the_same_file_as_train_and_test_is_refused(tmp_path):
    path = write_yaml(tmp_path, {**TINY_SCENARIO, "duration": "8h", "replications": 1})
    assert invoke("synth", path, "-o", tmp_path / "t.csv").exit_code == 0
    line = one_line(invoke("backtest", "--train", tmp_path / "t.csv", "--test", tmp_path / "t.csv", "-r", "1",
                           "-o", tmp_path / "bt", "--no-report"))
    assert line.startswith(f"--test {tmp_path / 't.csv'}: is also a training file"), line
    (tmp_path / "same.csv").symlink_to(tmp_path / "t.csv")  # another name for the same file
    line = one_line(invoke("backtest", "--train", tmp_path / "t.csv", "--test", tmp_path / "same.csv", "-r", "1",
                           "-o", tmp_path / "bt", "--no-report"))
    assert "is also a training file" in line and not (tmp_path / "bt").exists()


# --- Parquet list cells, synth extensions --------------------------------------------------------------------
def test_a_list_valued_parquet_channel_is_refused_naming_row_and_column(tmp_path):
    pytest.importorskip("pyarrow", reason="Parquet needs the [parquet] extra (installed with [test])")
    frame = pd.DataFrame({"channel": [["voice"], ["voice"], ["chat", "voice"]],
                          "created_at": pd.to_datetime(["2025-11-03 10:00", "2025-11-03 10:05", "2025-11-03 10:09"])})
    frame.to_parquet(tmp_path / "t.parquet")
    line = one_line(invoke("calibrate", tmp_path / "t.parquet", "-o", tmp_path / "o"))
    assert line == (f"{tmp_path / 't.parquet'}:1: channel: holds a list or mapping, not one value (got ['voice']); "
                    "store one value per cell (e.g. the channel as text)")


@pytest.mark.parametrize("name", ["x.xlsx", "x.xls", "x.json", "x"])
def test_synth_refuses_a_file_type_it_does_not_write(tmp_path, name):
    line = one_line(invoke("synth", write_yaml(tmp_path, small()), "-o", tmp_path / name))
    assert line.startswith(f"--out {tmp_path / name}: unknown ticket file type") and ".csv or .parquet" in line
    assert not (tmp_path / name).exists()


# --- warnings and option errors are one line each --------------------------------------------------------------
def test_a_library_warning_is_one_line_without_the_site_packages_path(tmp_path, monkeypatch):
    real = sim.cli_data._load  # looked up there by `calibrate`

    def noisy(*args, **kwargs):
        warnings.warn_explicit("Could not infer format, so each element will be parsed individually",
                               UserWarning, "/usr/lib/python3/site-packages/pandas/core/tools/datetimes.py", 1234)
        return real(*args, **kwargs)
    monkeypatch.setattr(sim.cli_data, "_load", noisy)
    export = tmp_path / "export.csv"
    export.write_text("channel,created_at\nvoice,2025-11-03 10:00:00\n")
    res = invoke("calibrate", export, "-o", tmp_path / "o", "--no-report")
    lines = [line for line in res.stderr.splitlines() if "infer format" in line]
    assert lines == ["warning: Could not infer format, so each element will be parsed individually "
                     "(UserWarning from pandas)"]
    assert "site-packages" not in res.stderr


@pytest.mark.parametrize("args,fragment", [
    (["run", "{s}", "-r", "abc"], "peaksim run: Invalid value for '--replications' / '-r'"),
    (["run", "{s}", "--bogus"], "peaksim run: No such option: --bogus"),
    (["run"], "peaksim run: Missing argument 'scenario'"),
    (["sweep", "{s}", "-j", "0"], "peaksim sweep: Invalid value for '--jobs' / '-j'"),
    (["nosuchcommand"], "peaksim: No such command 'nosuchcommand'"),
])
def test_option_errors_are_one_line_exit_2(tmp_path, args, fragment):
    path = write_yaml(tmp_path, small())
    line = one_line(invoke(*[a.replace("{s}", str(path)) for a in args]))
    assert line.startswith(fragment) and line.endswith("--help`"), line
    assert "╭" not in line and "Usage:" not in line


# --- -j above the CPU count --------------------------------------------------------------------------------------------
def test_jobs_above_the_cpu_count_are_capped_with_a_note_and_the_same_results(tmp_path, monkeypatch):
    monkeypatch.setattr(sim.executors, "usable_cpus", lambda: 1)
    path = write_yaml(tmp_path, small())
    res = invoke("run", path, "-j", "64", "-o", tmp_path / "capped", "--no-report")
    assert res.exit_code == 0, res.output
    assert "note: --jobs 64 is more than the 1 CPU available; using 1 worker process (results are the same)" in res.stderr
    assert invoke("run", path, "-o", tmp_path / "serial", "--no-report").exit_code == 0
    for name in ("summary.csv", "intervals.csv"):
        assert (tmp_path / "capped" / name).read_bytes() == (tmp_path / "serial" / name).read_bytes()
    import os
    expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    monkeypatch.undo()
    assert sim.executors.usable_cpus() == expected and sim.executors.cap_jobs(expected) == (expected, None)


# --- group names holding `=` ---------------------------------------------------------------------------------------------
def test_a_group_whose_name_holds_equals_signs_can_be_swept(tmp_path):
    data = small()
    data["agents"] = [{"name": "tier=1", "skills": ["voice"], "headcount": 4},
                      {"name": "a=b=c", "skills": ["voice"], "headcount": 1}]
    sc = parse_scenario(data)
    assert agents_axis("tier=1=3:5:1", sc).values == (3, 4, 5) and agents_axis("a=b=c=0:1:1", sc).group == "a=b=c"
    res = invoke("sweep", write_yaml(tmp_path, data), "--agents", "tier=1=3:4:1", "-o", tmp_path / "sw", "-r", "2")
    assert res.exit_code == 0, res.output
    table = pd.read_csv(tmp_path / "sw" / "sweep.csv")
    assert table["param_agents_tier=1"].tolist() == [3, 4]
