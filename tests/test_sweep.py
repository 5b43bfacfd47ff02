"""Sweeps: ranges and axes, common random numbers (monotone curves), resumable sweep.csv, CLI errors."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from helpers_staff import stationary, two_channels
from sim.cli import app
from sim.errors import PeaksimError
from sim.sweep import (
    Axis, agent_hours, agents_axis, apply_point, parse_range, run_sweep, scale_axis, sweep_columns,
)


def test_range_includes_stop_and_lists():
    assert parse_range("10:16:2", "--agents", True) == (10, 12, 14, 16)
    assert parse_range("0.7:0.9:0.1", "--scale", False) == (0.7, 0.8, 0.9)
    assert parse_range("3,5,9", "--agents", True) == (3, 5, 9)


@pytest.mark.parametrize("text, match", [
    ("40:10:2", "range is empty"),
    ("10:40:0", "step must be positive"),
    ("10:40", "not a range"),
    ("abc", "not a range"),
    ("1.5:3:1", "whole numbers"),
])
def test_bad_ranges_name_the_option(text, match):
    with pytest.raises(PeaksimError, match=match):
        parse_range(text, "--agents team=", True)


def test_unknown_group_suggests_a_name():
    with pytest.raises(PeaksimError, match="did you mean 'team'"):
        agents_axis("teem=1:3:1", stationary())
    with pytest.raises(PeaksimError, match="write GROUP=start:stop:step"):
        agents_axis("1:3:1", stationary())
    with pytest.raises(PeaksimError, match="multiplier of 0"):
        scale_axis("0:1:0.5")


def test_apply_point_sets_and_scales_schedules():
    sc = two_channels()
    axes = [Axis("agents_chat_team", (4,), "chat_team"), Axis("scale", (1.5,))]
    new = apply_point(sc, {"agents_chat_team": 4, "scale": 1.5}, axes)
    heads = {g.name: g.headcount for g in new.agents}
    assert heads == {"voice_team": 12, "chat_team": 4, "blended": 3}
    assert new.seed == sc.seed and new.channels == sc.channels
    # paid agent-hours: 4 h × (12 + 4 + 3) agents, shrinkage not deducted
    assert agent_hours(new) == pytest.approx(4 * 19)


def test_more_agents_never_lower_service_level_with_common_random_numbers(tmp_path):
    sc = stationary(duration="8h", replications=4)
    result = run_sweep(sc, [agents_axis("team=8:15:1", sc)], tmp_path)
    sl = result.table.sort_values("param_agents_team")["service_level"].to_numpy()
    assert np.all(np.diff(sl) >= 0), sl
    assert sl[-1] - sl[0] > 0.5  # the curve spans the interesting region
    meta = json.loads((tmp_path / "sweep.json").read_text())
    assert meta["best_point"]["agents_team"] == result.table.loc[result.table["meets_target"], "param_agents_team"].min()
    marginal = meta["marginal_value_of_one_more_agent"][0]
    assert marginal["extra_agents_on_shift"] == 1 and marginal["per_agent"]["voice"]["service_level_pp"] > 0
    # each point carries the warnings a run of it would give: a load of 200/h × 180 s = 10 agents
    # is unstable with 8, 9 or 10 agents on the team (points 0–2), not with 11 or more
    unstable = {int(k) for k, warnings in meta["point_warnings"].items()
                if any(w["kind"] == "unstable_intervals" for w in warnings)}
    assert unstable == {0, 1, 2}


def test_sweep_csv_contract(tmp_path):
    sc = two_channels()
    axes = [agents_axis("chat_team=4:6:2", sc), scale_axis("1:1.2:0.2")]
    result = run_sweep(sc, axes, tmp_path, replications=2, cost_per_hour=30.0)
    header = (tmp_path / "sweep.csv").read_text().splitlines()[0].split(",")
    assert header == sweep_columns(axes)
    assert header[:4] == ["point", "param_agents_chat_team", "param_scale", "channel"]
    assert {"service_level_lo", "service_level_hi", "asa_s_lo", "wait_p90_s_hi", "meets_target", "cost"} <= set(header)
    table = result.table
    assert len(table) == 4 * 2 and list(table["point"]) == sorted(table["point"])
    assert np.allclose(table["cost"], table["agent_hours"] * 30.0)


class Interrupt(KeyboardInterrupt):
    pass


def test_interrupted_then_resumed_sweep_is_byte_identical(tmp_path):
    sc = stationary(duration="4h", replications=3)
    axes = [agents_axis("team=9:13:1", sc)]
    run_sweep(sc, axes, tmp_path / "whole")
    expected = (tmp_path / "whole" / "sweep.csv").read_bytes()

    def stop_after(n):
        def progress(done, total):
            if done >= n:
                raise Interrupt
        return progress

    part = tmp_path / "part"
    with pytest.raises(Interrupt):
        run_sweep(sc, axes, part, progress=stop_after(7))  # 2 points finished, a third half done
    text = (part / "sweep.csv").read_text()
    assert text.count("\n") == 3  # header + 2 finished points
    with open(part / "sweep.csv", "a") as fh:  # a kill in the middle of writing a row
        fh.write("2,11,voice,0.8,7")
    run_sweep(sc, axes, part, resume=True)
    assert (part / "sweep.csv").read_bytes() == expected


def test_resume_refuses_a_different_sweep(tmp_path):
    sc = stationary(duration="3h", replications=2)
    run_sweep(sc, [agents_axis("team=9:10:1", sc)], tmp_path)
    with pytest.raises(PeaksimError, match="differs in replications"):
        run_sweep(sc, [agents_axis("team=9:10:1", sc)], tmp_path, replications=3, resume=True)


def test_cli_sweep_prints_best_point_and_marginal_value(tmp_path):
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "name: s\nstart: 2026-01-05T00:00:00+01:00\nduration: 4h\ninterval: 60min\nwarmup: 1h\nseed: 3\n"
        "replications: 3\nchannels:\n  voice:\n    service_level: {threshold: 20s, target: 0.8}\n"
        "    handle_time: {dist: exponential, mean: 180s}\n    arrivals: {rate_per_hour: 200}\n"
        "agents:\n  - name: team\n    skills: [voice]\n    headcount: 11\n")
    runner = CliRunner()
    res = runner.invoke(app, ["sweep", str(scenario), "--agents", "team=11:16:1", "-o", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert "Smallest staffing meeting every target" in res.output and "One more agent" in res.output
    assert "25 per agent-hour" in res.output
    res = runner.invoke(app, ["sweep", str(scenario), "--agents", "team=16:11:1", "-o", str(tmp_path / "o")])
    assert res.exit_code == 2 and "range is empty" in res.output
    res = runner.invoke(app, ["sweep", str(scenario), "-o", str(tmp_path / "o")])
    assert res.exit_code == 2 and "nothing to sweep" in res.output
