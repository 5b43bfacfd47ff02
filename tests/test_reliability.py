"""Warnings that matter, reproducibility, nothing lost on Ctrl-C or failure, and safety."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
from typer.testing import CliRunner

import sim.runner
from sim.checks import replication_warnings, unstable_table
from sim.cli import app
from sim.errors import PeaksimError
from sim.outputs import confined, write_run
from sim.runner import run_scenario
from sim.scenario import parse_scenario, scenario_hash

from conftest import ROOT, write_yaml

PACKAGES = [ROOT / "sim", ROOT / "calibrate"]


def scenario(**changes) -> dict:
    data = {
        "name": "rel", "start": "2026-11-23T00:00:00+01:00", "duration": "6h", "interval": "60min",
        "warmup": "1h", "seed": 5, "replications": 4,
        "channels": {
            "voice": {"service_level": {"threshold": "20s", "target": 0.8},
                      "handle_time": {"dist": "exponential", "mean": "3min"},
                      "patience": {"dist": "exponential", "mean": "3min"},
                      "arrivals": {"rate_per_hour": [100, 100, 300, 300, 100, 100]}},
            "chat": {"service_level": {"threshold": "1min", "target": 0.8},
                     "handle_time": {"dist": "exponential", "mean": "4min"},
                     "arrivals": {"rate_per_hour": 30}},
        },
        "agents": [{"name": "phones", "skills": ["voice"], "headcount": 9},
                   {"name": "chatters", "skills": ["chat"], "headcount": 4}],
    }
    data.update(changes)
    return data


write = write_yaml  # conftest


# --- warnings ----------------------------------------------------------------------------------

def test_unstable_intervals_are_flagged_in_table_run_json_and_console(tmp_path):
    sc = parse_scenario(scenario())
    table = unstable_table(sc)
    voice = table[table["channel"] == "voice"]
    # 300/h × 3 min = 15 agents' worth of work against 9 agents in hours 2-3 only
    assert voice["unstable"].tolist() == [False, False, True, True, False, False]
    assert voice["offered_load"].tolist()[2] == pytest.approx(15.0)
    assert not table[table["channel"] == "chat"]["unstable"].any()  # 30/h × 4 min = 2 < 4

    res = CliRunner().invoke(app, ["run", str(write(tmp_path, scenario())), "-o", str(tmp_path / "o"), "--no-report"])
    assert res.exit_code == 0, res.output
    intervals = pd.read_csv(tmp_path / "o" / "intervals.csv")
    flagged = intervals[intervals["unstable"]]
    assert set(flagged["channel"]) == {"voice"} and len(flagged) == 2  # after the 1 h warm-up
    meta = json.loads((tmp_path / "o" / "run.json").read_text())
    unstable = [w for w in meta["warnings"] if w["kind"] == "unstable_intervals"]
    assert len(unstable) == 1 and unstable[0]["channel"] == "voice" and unstable[0]["intervals"] == 2
    assert "warning: voice: offered load ≥ staffing capacity in 2 of 5 intervals" in res.stderr


def test_shared_agents_are_checked_as_a_pool():
    data = scenario()
    data["channels"]["voice"]["arrivals"]["rate_per_hour"] = 100  # 5 agents' worth
    data["channels"]["chat"]["arrivals"]["rate_per_hour"] = 90  # 6 agents' worth
    data["agents"] = [{"name": "all", "skills": ["voice", "chat"], "headcount": 10}]
    table = unstable_table(parse_scenario(data))
    assert table["unstable"].all()  # each alone fits in 10, together 11 > 10
    data["agents"][0]["headcount"] = 12
    assert not unstable_table(parse_scenario(data))["unstable"].any()


def test_a_channel_without_available_agents_says_so(tmp_path):
    data = scenario()
    data["agents"][1]["headcount"] = 0
    res = CliRunner().invoke(app, ["run", str(write(tmp_path, data)), "-o", str(tmp_path / "o"), "--no-report"])
    assert res.exit_code == 0 and "chat: no agent is available to serve it at any time" in res.stderr


def test_busy_stationary_run_without_warmup_is_warned(tmp_path):
    data = scenario(warmup=0, duration="12h")
    data["channels"] = {"voice": {**data["channels"]["voice"], "arrivals": {"rate_per_hour": 170}}}
    data["agents"] = [{"name": "phones", "skills": ["voice"], "headcount": 9}]
    result = run_scenario(parse_scenario(data))
    kinds = [w for w in result.meta["warnings"] if w["kind"] == "warmup_too_short"]
    assert kinds and "set warmup:" in kinds[0]["message"] and kinds[0]["utilisation"] == pytest.approx(170 * 3 / 60 / 9, abs=1e-3)
    data["warmup"] = "2h"
    assert not [w for w in run_scenario(parse_scenario(data)).meta["warnings"] if w["kind"] == "warmup_too_short"]


def test_first_interval_unlike_the_rest_is_warned():
    intervals = pd.DataFrame({"channel": "voice", "service_level": [0.99, 0.7, 0.71, 0.69, 0.7, 0.7, 0.7, 0.7],
                              "service_level_lo": [0.98] + [0.6] * 7, "service_level_hi": [1.0] + [0.8] * 7})
    from sim.checks import warmup_warnings
    sc = parse_scenario(scenario(channels={"voice": scenario()["channels"]["voice"] | {"arrivals": {"rate_per_hour": 10}}},
                                 agents=[{"name": "p", "skills": ["voice"], "headcount": 3}]))
    warned = warmup_warnings(sc, intervals)
    assert any("first reported interval's service level (99.0%)" in w["message"] for w in warned)
    assert not warmup_warnings(sc, intervals.assign(service_level=0.7))


def test_too_few_replications_for_the_ci_width_say_how_many():
    summary = pd.DataFrame({"channel": ["voice", "chat"], "service_level_lo": [0.70, 0.78],
                            "service_level_hi": [0.90, 0.82]})
    warned = replication_warnings(summary, 5, 0.05)
    assert [w["channel"] for w in warned] == ["voice"]
    assert warned[0]["needed"] == 20 and "use about 20 replications" in warned[0]["message"]  # 5 × (0.1/0.05)²
    assert "no confidence intervals" in replication_warnings(summary, 1)[0]["message"]


# --- reproducibility ---------------------------------------------------------------------------

def csv_bytes(directory):
    return {p.name: p.read_bytes() for p in sorted(directory.glob("*.csv"))}


def test_run_json_records_what_reproduces_the_run(tmp_path):
    path = write(tmp_path, scenario())
    res = CliRunner().invoke(app, ["run", str(path), "-o", str(tmp_path / "o"), "--no-report", "--seed", "9", "-r", "3"])
    assert res.exit_code == 0
    meta = json.loads((tmp_path / "o" / "run.json").read_text())
    assert meta["seed"] == 9 and meta["replications"] == 3 and meta["status"] == "complete"
    assert len(meta["scenario_sha256"]) == 64 and meta["command"]  # sys.argv of the real process
    env = meta["environment"]
    assert {"peaksim", "python", "numpy", "simpy", "pandas"} <= set(env) and all(env[k] for k in ("numpy", "simpy"))
    # the recorded definition reproduces the same scenario (hash) and the same tables
    again = parse_scenario(meta["scenario_definition"])
    assert scenario_hash(again) == meta["scenario_sha256"]  # channel order kept: it keys the random streams
    write_run(run_scenario(again), tmp_path / "again")
    assert csv_bytes(tmp_path / "again") == csv_bytes(tmp_path / "o")


def test_serial_pool_dask_and_repeated_runs_write_byte_identical_csvs(tmp_path):
    distributed = pytest.importorskip("distributed")
    sc = parse_scenario(scenario(replications=3))

    def run_to(name, **kw):
        write_run(run_scenario(sc, **kw), tmp_path / name)
        return csv_bytes(tmp_path / name)

    serial = run_to("serial")
    assert set(serial) == {"summary.csv", "intervals.csv", "groups.csv", "replications.csv", "origins.csv", "reasons.csv"}
    assert run_to("again") == serial
    assert run_to("pool", jobs=2) == serial
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            assert run_to("dask", scheduler=client) == serial


# --- nothing lost ------------------------------------------------------------------------------

def no_temp_files(directory):
    return [p.name for p in directory.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".")] == []


def interrupt_after(args, wait_for, cwd, timeout=60, settle=0.3):
    """Start the CLI, wait until `wait_for()` holds, send SIGINT (Ctrl-C), return the finished process."""
    proc = subprocess.Popen([sys.executable, "-m", "sim.cli", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout
    while not wait_for() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(settle)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def test_ctrl_c_during_run_keeps_finished_replications_and_no_partial_files(tmp_path):
    data = scenario(replications=400, duration="48h", warmup=0)
    data["channels"]["voice"]["arrivals"]["rate_per_hour"] = 200
    data["agents"][0]["headcount"] = 12
    path, out = write(tmp_path, data), tmp_path / "o"
    started = tmp_path / "started"
    code, _, err = interrupt_after(["run", str(path), "-o", str(out), "--no-report"],
                                   lambda: out.exists(), ROOT, settle=1.5)
    assert code == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert no_temp_files(out)
    assert (out / "run.json").exists()  # replications had finished: they are on disk, labelled as such
    if True:
        meta = json.loads((out / "run.json").read_text())
        assert meta["status"] == "interrupted" and 1 <= meta["replications"] < 400
        assert meta["replications_requested"] == 400
        summary = pd.read_csv(out / "summary.csv")
        assert list(summary["channel"]) == ["voice", "chat"]
        assert re.search(r"interrupted: wrote the \d+ finished of 400 replications", err)
    assert not started.exists()


def test_ctrl_c_during_sweep_then_resume_completes_it(tmp_path):
    data = scenario(replications=2, duration="12h")
    data["channels"]["voice"]["arrivals"]["rate_per_hour"] = 200
    path, out = write(tmp_path, data), tmp_path / "o"
    args = ["sweep", str(path), "--agents", "phones=8:20:1", "-o", str(out)]

    def two_points_done():
        csv = out / "sweep.csv"
        return csv.exists() and csv.read_text().count("\n") >= 1 + 2 * 2  # header + 2 points × 2 channels
    code, _, err = interrupt_after(args, two_points_done, ROOT)
    assert code == 130 and "--resume" in err and "Traceback" not in err
    assert no_temp_files(out)
    lines = (out / "sweep.csv").read_text().splitlines()
    assert len(lines) >= 5 and all(len(line.split(",")) == len(lines[0].split(",")) for line in lines[1:])
    assert json.loads((out / "sweep.json").read_text())["status"] == "running"
    res = subprocess.run([sys.executable, "-m", "sim.cli", *args, "--resume"], cwd=ROOT, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    table = pd.read_csv(out / "sweep.csv")
    assert sorted(table["point"].unique()) == list(range(13))
    assert json.loads((out / "sweep.json").read_text())["status"] == "complete"


def test_a_run_that_fails_midway_writes_what_it_knows_and_why(tmp_path, monkeypatch):
    original = sim.runner.run_replication

    def flaky(sc, r):
        if r == 2:
            raise MemoryError("simulated: out of memory in replication 2")
        return original(sc, r)
    monkeypatch.setattr(sim.runner, "run_replication", flaky)
    out = tmp_path / "o"
    res = CliRunner().invoke(app, ["run", str(write(tmp_path, scenario())), "-o", str(out), "--no-report"])
    assert res.exit_code == 1
    assert "internal error: MemoryError: simulated" in res.stderr and "PEAKSIM_DEBUG" in res.stderr
    assert "failed: wrote the 2 finished of 4 replications" in res.stderr
    meta = json.loads((out / "run.json").read_text())
    assert meta["status"] == "failed" and meta["replications"] == 2 and "MemoryError" in meta["error"]
    assert len(pd.read_csv(out / "replications.csv")) == 2 * 2
    assert no_temp_files(out)


def test_a_failure_before_any_replication_leaves_an_earlier_run_untouched(tmp_path, monkeypatch):
    out = tmp_path / "o"
    path = write(tmp_path, scenario(replications=2))
    assert CliRunner().invoke(app, ["run", str(path), "-o", str(out), "--no-report"]).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    monkeypatch.setattr(sim.runner, "run_replication", lambda sc, r: 1 / 0)
    res = CliRunner().invoke(app, ["run", str(path), "-o", str(out), "--no-report"])
    assert res.exit_code == 1 and "ZeroDivisionError" in res.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


# --- safety ------------------------------------------------------------------------------------

def python_sources():
    return [p for pkg in PACKAGES for p in pkg.rglob("*.py")]


def test_yaml_is_only_loaded_safely_and_nothing_is_evaluated():
    unsafe = []
    for path in python_sources():
        text = path.read_text(encoding="utf-8")
        for number, line in enumerate(text.splitlines(), 1):
            code = line.split("#", 1)[0]
            if re.search(r"\byaml\.(load|load_all|unsafe_load|full_load)\s*\(", code) and "SafeLoader" not in code:
                unsafe.append(f"{path}:{number}: {line.strip()}")
            if re.search(r"(?<![\w.])(eval|exec)\s*\(", code) or "yaml.Loader" in code or "UnsafeLoader" in code:
                unsafe.append(f"{path}:{number}: {line.strip()}")
            if re.search(r"\bpickle\.loads?\s*\(|\bshell\s*=\s*True", code):
                unsafe.append(f"{path}:{number}: {line.strip()}")
    assert unsafe == []


def test_a_python_object_tag_is_refused_not_run(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text("name: !!python/object/apply:os.system ['touch pwned']\n")
    res = CliRunner().invoke(app, ["validate", str(path)])
    assert res.exit_code == 2 and "YAML syntax error" in res.stderr and not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("name", ["../../etc/passwd", "/abs/path", "../x", "a/../../b", "..\\..\\win", "voice\x00x",
                                  ".hidden", "chat (EN)"])
def test_names_cannot_escape_the_output_directory(tmp_path, name):
    path = confined(tmp_path, name)
    assert path.parent == tmp_path and not path.name.startswith(".")
    assert "/" not in path.name and "\\" not in path.name and ".." not in path.name


def test_unusable_names_are_refused(tmp_path):
    with pytest.raises(PeaksimError, match="cannot make a file name"):
        confined(tmp_path, "...")
    with pytest.raises(PeaksimError, match="cannot make a file name"):
        confined(tmp_path, "..")


def test_default_output_directory_stays_under_results(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = scenario(name="../../escape", replications=2)
    res = CliRunner().invoke(app, ["run", str(write(tmp_path, data)), "--no-report"])
    assert res.exit_code == 0, res.output
    made = [p for p in (tmp_path / "results").iterdir()]
    # results/<scenario>/run/: each command has its own folder under the scenario's
    assert len(made) == 1 and (made[0] / "run" / "run.json").exists() and not (tmp_path.parent / "escape").exists()
    assert os.path.commonpath([made[0].resolve(), (tmp_path / "results").resolve()]) == str((tmp_path / "results").resolve())
