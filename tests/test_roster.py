"""Sweeps scale the roster, not a round-the-clock headcount, and cost the scheduled hours (hand counts);
each command writes into its own folder and will not mix its files into another command's."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from sim.cli import app
from sim.roster import at_peak, paid_hours, peak
from sim.scenario import Scenario
from sim.sweep import Axis, apply_point, run_sweep, scenario_data


def shop(schedule: dict, open_hours: dict | None = None, days: int = 2) -> Scenario:
    voice = {"service_level": {"threshold": "20s", "target": 0.8},
             "handle_time": {"dist": "exponential", "mean": "3min"},
             "patience": {"dist": "exponential", "mean": "5min"}, "arrivals": {"rate_per_hour": 40}}
    if open_hours:
        voice["open"] = open_hours
    return Scenario.model_validate({
        "name": "shop", "start": "2026-11-23T00:00:00+01:00", "duration": f"{days}d", "interval": "60min",
        "seed": 3, "replications": 2, "channels": {"voice": voice},
        "agents": [{"name": "team", "skills": ["voice"], "shrinkage": 0.2, **schedule}]})


SHIFTS = {"shifts": [{"start": "08:00", "end": "16:00", "agents": 4}, {"start": "12:00", "end": "20:00", "agents": 4}]}


def test_a_shift_roster_is_scaled_to_its_peak_and_paid_for_its_hours():
    sc = shop(SHIFTS, {"start": "08:00", "end": "20:00"})
    assert peak(sc.agents[0], sc) == 8  # 12:00–16:00, both shifts
    # ×1.5: 6 agents 08–12, 12 agents 12–16, 6 agents 16–20 → 24 + 48 + 24 = 96 paid hours a day (before shrinkage)
    point = apply_point(sc, {"agents_team": 12}, [Axis("agents_team", (12,), "team")])
    assert peak(point.agents[0], point) == 12
    assert paid_hours(point) == pytest.approx(2 * 96)
    assert paid_hours(sc) == pytest.approx(2 * 64)  # the roster as written: 2 shifts × 8 h × 4 agents


def test_a_constant_headcount_is_on_shift_only_while_its_channels_open():
    sc = shop({"headcount": 5}, {"start": "08:00", "end": "20:00"})
    point = apply_point(sc, {"agents_team": 10}, [Axis("agents_team", (10,), "team")])
    assert paid_hours(point) == pytest.approx(10 * 12 * 2)  # 12 open hours a day, not 24
    always = shop({"headcount": 5})
    point = apply_point(always, {"agents_team": 10}, [Axis("agents_team", (10,), "team")])
    assert point.agents[0].headcount == 10 and paid_hours(point) == pytest.approx(10 * 24 * 2)


def test_the_current_peak_leaves_the_roster_exactly_as_written():
    sc = shop(SHIFTS, {"start": "08:00", "end": "20:00"})
    group = scenario_data(sc)["agents"][0]
    assert at_peak(group, sc.agents[0], sc, 8) == group


def test_sweep_marginal_value_is_per_agent_at_the_peak_with_the_paid_hours_it_adds(tmp_path):
    sc = shop({"headcount": 5}, {"start": "08:00", "end": "20:00"}, days=1)
    axes = [Axis("agents_team", (5, 6), "team")]  # 5 on shift (4 available) hold 80/20 at 2 Erlangs
    result = run_sweep(sc, axes, tmp_path, replications=2)
    assert list(result.table.drop_duplicates("point")["agent_hours"]) == [60.0, 72.0]  # 12 open hours × 5, × 6
    marginal = json.loads((tmp_path / "sweep.json").read_text())["marginal_value_of_one_more_agent"][0]
    assert marginal["extra_agents_at_peak"] == 1 and marginal["extra_agent_hours"] == 12


def write(tmp_path, data) -> str:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_each_command_has_its_own_default_folder_and_refuses_anothers(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = json.loads(shop({"headcount": 3}, days=1).model_dump_json())
    data.update(duration="2h", start="2026-11-23T08:00:00+01:00")
    path = write(tmp_path, data)
    runner = CliRunner()
    res = runner.invoke(app, ["run", path, "-r", "2"])
    assert res.exit_code == 0, res.output
    run_dir = tmp_path / "results" / "shop" / "run"
    assert (run_dir / "run.json").is_file() and (run_dir / "report.html").is_file()
    res = runner.invoke(app, ["sweep", path, "--agents", "team=3:4:1", "-r", "2"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "results" / "shop" / "sweep" / "sweep.csv").is_file()
    before = (run_dir / "report.html").read_bytes()
    res = runner.invoke(app, ["staff", path, "-r", "2", "--out", str(run_dir)])
    assert res.exit_code == 2 and "Traceback" not in res.output
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "already holds the results of `peaksim run`" in lines[0] and "--out" in lines[0]
    assert (run_dir / "report.html").read_bytes() == before and not (run_dir / "staffing.csv").exists()
