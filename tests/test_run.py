"""Whole runs: conservation, reproducibility, executors, outputs and the CLI."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd

from sim.metrics import contact_outcomes
from sim.replication import simulate
from sim.runner import run_scenario
from sim.scenario import parse_scenario

from conftest import SCENARIOS


def test_conservation_every_contact_is_handled_abandoned_or_still_waiting(scenario_dict):
    sc = parse_scenario(scenario_dict)
    for r in range(3):
        out = contact_outcomes(simulate(sc, r))
        states = out[["handled", "abandoned", "waiting_end"]].sum(axis=1)
        assert (states[out["offered"]] == 1).all()
        assert len(out) == out["handled"].sum() + out["abandoned"].sum() + out["waiting_end"].sum()


def test_conservation_holds_in_the_kpi_tables(scenario_dict):
    result = run_scenario(parse_scenario(scenario_dict))
    reps = result.replications
    assert np.allclose(reps["arrived"], reps["handled"] + reps["abandoned"] + reps["waiting_end"])


def test_same_seed_same_frames_different_seed_different(scenario_dict):
    sc = parse_scenario(scenario_dict)
    a, b = run_scenario(sc), run_scenario(sc)
    pd.testing.assert_frame_equal(a.intervals, b.intervals)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    c = run_scenario(sc.model_copy(update={"seed": sc.seed + 1}))
    assert not a.summary["arrived"].equals(c.summary["arrived"])


def test_process_pool_gives_identical_results(scenario_dict):
    sc = parse_scenario(scenario_dict)
    serial, pooled = run_scenario(sc), run_scenario(sc, jobs=2)
    pd.testing.assert_frame_equal(serial.intervals, pooled.intervals)
    pd.testing.assert_frame_equal(serial.groups, pooled.groups)


def test_headcount_profile_and_rate_profile_drive_the_model(scenario_dict):
    scenario_dict["duration"] = "24h"
    scenario_dict["channels"]["voice"]["arrivals"]["rate_per_hour"] = [0.0] * 24 + [120.0] * 24
    scenario_dict["agents"][0]["headcount"] = [0] * 24 + [8] * 24
    result = run_scenario(parse_scenario(scenario_dict))
    iv = result.intervals
    morning = iv[iv["interval_start"] < "2026-11-23T12:00"]
    assert (morning["arrived"] == 0).all()
    groups = result.groups
    assert np.allclose(groups["agents"].to_numpy(), [0] * 24 + [8] * 24)


def test_shifts_and_shrinkage_give_available_agents(scenario_dict):
    scenario_dict["duration"] = "24h"
    scenario_dict["agents"][0] = {"name": "team", "skills": ["voice"], "shrinkage": 0.25,
                                  "shifts": [{"start": "08:00", "end": "16:00", "agents": 8},
                                             {"start": "12:00", "end": "20:00", "agents": 4}]}
    groups = run_scenario(parse_scenario(scenario_dict)).groups
    agents = dict(zip(groups["interval_start"].str[11:16], groups["agents"]))
    assert agents["07:30"] == 0 and agents["08:00"] == 6 and agents["12:00"] == 9 and agents["16:30"] == 3
    assert 3 <= agents["16:00"] < 4  # leavers finish their last call after 16:00
    assert agents["20:30"] == 0


def test_cli_run_writes_outputs(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "sim.cli", "run", str(SCENARIOS / "stationary_check.yaml"),
                           "--replications", "2", "--out", str(out), "--no-report"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    summary = pd.read_csv(out / "summary.csv")
    for column in ["channel", "arrived", "offered", "handled", "abandoned", "abandon_rate", "service_level",
                   "asa_s", "wait_p90_s", "service_level_lo", "service_level_hi", "asa_s_lo", "asa_s_hi"]:
        assert column in summary.columns
    intervals = pd.read_csv(out / "intervals.csv")
    assert intervals["interval_start"].iloc[0] == "2026-01-05T02:00:00+03:00"  # after the 2 h warm-up
    assert set(pd.read_csv(out / "groups.csv").columns) >= {"interval_start", "group", "agents", "occupancy"}
    meta = json.loads((out / "run.json").read_text())
    assert meta["seed"] == 7 and meta["replications"] == 2 and len(meta["scenario_sha256"]) == 64
    assert meta["contacts_simulated"] > 70000


def test_cli_bad_scenario_exits_2_with_one_line_and_no_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text((SCENARIOS / "stationary_check.yaml").read_text().replace("headcount: 11", "headcount: -3"))
    for command in ("run", "validate"):
        proc = subprocess.run([sys.executable, "-m", "sim.cli", command, str(bad)], capture_output=True, text=True)
        assert proc.returncode == 2
        assert "Traceback" not in proc.stderr
        assert proc.stderr.strip().startswith(f"{bad}:") and "agents[0].headcount" in proc.stderr


def test_full_horizon_series_for_rates_and_headcount(scenario_dict):
    # 4 h at 30 min = 8 intervals: a list of 8 covers the horizon instead of repeating daily
    scenario_dict["channels"]["voice"]["arrivals"]["rate_per_hour"] = [0, 0, 50, 50, 200, 200, 0, 0]
    scenario_dict["agents"][0]["headcount"] = [0, 0, 4, 4, 12, 12, 0, 0]
    result = run_scenario(parse_scenario(scenario_dict))
    agents = result.groups["agents"].to_numpy()
    assert np.allclose(agents[:6], [0, 0, 4, 4, 12, 12]) and agents[7] == 0
    assert 0 <= agents[6] < 2  # leavers finish their last contacts after the drop to 0
    arrived = result.intervals["arrived"].to_numpy()
    assert arrived[0] == arrived[1] == arrived[6] == arrived[7] == 0 and arrived[4] > arrived[2] > 0
