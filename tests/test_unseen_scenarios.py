"""Valid and invalid scenario shapes the other test files do not try, each once found to misbehave.

Every case is small (hours, not days; one to three replications) so the file runs in seconds.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.errors import ScenarioError
from sim.runner import run_scenario
from sim.scenario import parse_scenario

from conftest import TINY_SCENARIO, write_yaml
from test_scenario_errors import LINE


def tiny(**top) -> dict:
    data = copy.deepcopy(TINY_SCENARIO)
    data.update(top)
    return data


write = write_yaml  # conftest


# --- time zones: an `end` across a DST change ------------------------------------------------------
@pytest.mark.parametrize("zone,start,end,hours", [
    ("America/New_York", "2026-10-31T12:00:00", "2026-11-02T03:15:00", 40.25),  # fall back: a 25-hour day
    ("Europe/Berlin", "2026-10-24T00:00:00", "2026-10-26T00:00:00", 49.0),
    ("Europe/Berlin", "2026-03-28T00:00:00", "2026-03-30T00:00:00", 47.0),  # spring forward: a 23-hour day
])
def test_an_end_across_a_dst_change_counts_elapsed_hours_not_wall_clock_hours(zone, start, end, hours):
    data = tiny(timezone=zone, start=start, end=end, interval="60min")
    del data["duration"]
    sc = parse_scenario(data)
    assert sc.horizon_s == pytest.approx(hours * 3600)
    assert sc.n_intervals == int(np.ceil(hours))


def test_the_last_interval_of_an_end_across_dst_is_the_local_end():
    data = tiny(timezone="America/New_York", start="2026-10-31T20:00:00", end="2026-11-01T04:00:00",
                interval="60min", replications=1)
    del data["duration"]
    result = run_scenario(parse_scenario(data))
    starts = result.intervals["interval_start"].tolist()
    assert starts[0] == "2026-10-31T20:00:00-04:00" and starts[-1] == "2026-11-01T03:00:00-05:00"
    assert len(starts) == 9  # 20:00 … 01:00 EDT, 01:00 … 03:00 EST


# --- wrong types: true/false is not a number ---------------------------------------------------------
BOOLEANS = [
    ("replications", lambda d: d.update(replications=True)),
    ("seed", lambda d: d.update(seed=False)),
    ("agents[0].headcount", lambda d: d["agents"][0].update(headcount=True)),
    ("agents[0].shrinkage", lambda d: d["agents"][0].update(shrinkage=False)),
    ("agents[0].skills.voice", lambda d: d["agents"][0].update(skills={"voice": True})),
    ("channels.voice.arrivals.rate_per_hour", lambda d: d["channels"]["voice"]["arrivals"].update(rate_per_hour=True)),
    ("channels.voice.arrivals.rate_per_hour[1]",
     lambda d: d["channels"]["voice"]["arrivals"].update(rate_per_hour=[5, True] + [5] * 46)),
    ("channels.voice.service_level.target", lambda d: d["channels"]["voice"]["service_level"].update(target=True)),
    ("channels.voice.concurrency", lambda d: d["channels"]["voice"].update(concurrency=True)),
    ("channels.voice.handle_time.shape",
     lambda d: d["channels"]["voice"].update(handle_time={"dist": "weibull", "shape": True, "mean": 180})),
    ("events[0].multiplier", lambda d: d.update(events=[{"name": "bf", "date": "2026-11-23", "multiplier": True}])),
]


@pytest.mark.parametrize("field,mutate", BOOLEANS, ids=[b[0] for b in BOOLEANS])
def test_true_or_false_where_a_number_belongs_is_an_error_not_1_or_0(tmp_path, field, mutate):
    data = tiny()
    mutate(data)
    path = write(tmp_path, data)
    res = CliRunner().invoke(app, ["validate", str(path)])
    assert res.exit_code == 2, res.output
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and LINE.match(lines[0]), res.stderr
    assert f": {field}: " in lines[0] and "true/false" in lines[0], lines[0]


def test_booleans_still_work_where_a_boolean_belongs():
    data = tiny()
    data["agents"][0]["shrinkage_random"] = True
    data["agents"][0]["shrinkage"] = 0.1
    assert parse_scenario(data).agents[0].shrinkage_random is True


# --- distributions whose parameters cannot be drawn from -----------------------------------------------
@pytest.mark.parametrize("where", ["handle_time", "patience"])
@pytest.mark.parametrize("dist,field", [
    ({"dist": "gamma", "mean": 180, "sd": 1e200}, "sd"),  # shape (mean/sd)² underflows to 0
    ({"dist": "gamma", "mean": 1e200, "sd": 180}, "sd"),  # shape overflows
    ({"dist": "lognormal", "mean": 180, "sd": 1e200}, "sd"),  # σ² = log(1 + (sd/mean)²) overflows
    ({"dist": "weibull", "shape": 0.001, "mean": 180}, "shape"),  # Γ(1 + 1/shape) overflows
    ({"dist": "weibull", "shape": 0.001, "scale": 180}, "shape"),
])
def test_a_distribution_that_cannot_be_drawn_is_a_located_error_not_a_crash(tmp_path, where, dist, field):
    data = tiny()
    data["channels"]["voice"][where] = dist
    path = write(tmp_path, data)
    for command in (["validate"], ["run", "--no-report", "-r", "1", "-o", str(tmp_path / "out")]):
        res = CliRunner().invoke(app, [command[0], str(path), *command[1:]])
        assert res.exit_code == 2, res.output
        lines = res.stderr.splitlines()
        assert len(lines) == 1 and LINE.match(lines[0]), res.stderr
        assert f": channels.voice.{where}.{field}: " in lines[0], lines[0]


def test_a_wide_but_drawable_spread_still_runs():
    data = tiny(replications=1)
    data["channels"]["voice"]["handle_time"] = {"dist": "gamma", "mean": 180, "sd": 1800}
    data["channels"]["voice"]["patience"] = {"dist": "weibull", "shape": 0.05, "mean": 300}
    result = run_scenario(parse_scenario(data))
    assert result.summary["arrived"].iloc[0] > 0


# --- messages stay one line whatever the keys hold -----------------------------------------------------
@pytest.mark.parametrize("mutate", [
    lambda d: d.update(name={"\n": None}),
    lambda d: d["channels"].update({"a\u2028b": None}),
    lambda d: d["channels"].update({" ": None}),
    lambda d: d["agents"][0].update(skills=["voice", " "]),
    lambda d: d["agents"][0].update(skills=["voice", "tab\there"]),
], ids=["newline key", "line separator key", "blank channel", "blank skill", "tab in skill"])
def test_odd_keys_give_one_line_with_a_path_without_raw_whitespace(tmp_path, mutate):
    data = tiny()
    mutate(data)
    path = write(tmp_path, data)
    res = CliRunner().invoke(app, ["validate", str(path)])
    assert res.exit_code == 2
    lines = res.stderr.splitlines()
    assert lines and all(LINE.match(line) for line in lines), res.stderr


# --- a warm-up that is not a whole number of intervals --------------------------------------------------
def test_a_warmup_between_interval_boundaries_leaves_out_the_same_contacts_in_every_table():
    data = tiny(warmup="10min", interval="30min", duration="2h", replications=2)
    data["channels"]["chat"] = {"kind": "async", "service_level": {"threshold": "1h", "target": 0.8},
                                "handle_time": {"dist": "exponential", "mean": "4min"},
                                "arrivals": {"rate_per_hour": 30}}
    data["agents"][0]["skills"] = ["voice", "chat"]
    result = run_scenario(parse_scenario(data))
    assert result.intervals["interval_start"].iloc[0] == "2026-11-23T00:30:00+01:00"
    by_interval = result.intervals.groupby("channel")[["arrived", "handled", "abandoned"]].sum()
    summary = result.summary.set_index("channel")
    for kpi in ("arrived", "handled", "abandoned"):
        assert np.allclose(by_interval.loc[summary.index, kpi], summary[kpi]), kpi
    reasons = result.reasons.set_index("channel")
    assert np.allclose(reasons.loc[summary.index, "arrived"], summary["arrived"])


def test_a_warmup_that_leaves_no_whole_interval_to_report_is_an_error(tmp_path):
    data = tiny(duration="90min", interval="60min", warmup="70min")
    path = write(tmp_path, data)
    for command in (["validate"], ["run", "--no-report", "-o", str(tmp_path / "out")],
                    ["staff", "-r", "2", "-o", str(tmp_path / "out")]):
        res = CliRunner().invoke(app, [command[0], str(path), *command[1:]])
        assert res.exit_code == 2, res.output
        lines = res.stderr.splitlines()
        assert len(lines) == 1 and LINE.match(lines[0]) and ": warmup: " in lines[0], res.stderr


# --- staff on shapes the staffing tests do not use ------------------------------------------------------
def test_staff_follows_a_shrinkage_profile_per_interval_of_the_day():
    from sim.staffing import run_staff

    data = tiny(duration="4h", replications=2, seed=3)
    data["agents"][0]["shrinkage"] = [0.5] * 4 + [0.0] * 44  # half the team away 00:00–02:00
    sc = parse_scenario(data)
    result = run_staff(sc, replications=2, check_replications=2, max_iterations=3, repair_rounds=1)
    head = result.plans["sim"][0]
    available = np.floor(head * (1 - np.array([0.5] * 4 + [0.0] * 4)) + 0.5)
    assert head[1:4].min() >= 2 * available[1:4].min() - 1  # on shift: about twice the agents available
    assert abs(available[2:4].mean() - available[4:].mean()) <= 2  # the same load needs the same agents available


def test_staff_when_no_contact_ever_arrives(tmp_path):
    data = tiny(duration="2h", replications=2)
    data["channels"]["voice"]["arrivals"] = {"rate_per_hour": 0}
    path = write(tmp_path, data)
    res = CliRunner().invoke(app, ["staff", str(path), "-r", "2", "-o", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    staffing = __import__("pandas").read_csv(tmp_path / "out" / "staffing.csv")
    assert (staffing[["agents_sim", "agents_erlang_c", "agents_erlang_a"]] == 0).all().all()


def test_staff_on_a_one_replication_scenario_still_has_confidence_intervals(tmp_path):
    import json

    data = tiny(duration="3h", replications=1)
    path = write(tmp_path, data)
    res = CliRunner().invoke(app, ["staff", str(path), "-o", str(tmp_path / "out"), "--max-iterations", "3",
                                   "--repair-rounds", "1"])
    assert res.exit_code == 0, res.output
    meta = json.loads((tmp_path / "out" / "staffing.json").read_text())
    assert meta["replications"] >= 2 and meta["check_replications"] >= 2
    assert meta["share_of_intervals_not_significantly_below_target"]["sim"] > 0.5


# --- calibrate → scenario → every command ---------------------------------------------------------------
@pytest.fixture(scope="module")
def calibrated(tmp_path_factory):
    """A synth → calibrate round trip of a small two-channel scenario (tickets carry agent ids)."""
    base = tmp_path_factory.mktemp("calibrated")
    data = tiny(duration="1d", interval="60min", replications=1, timezone="Europe/Berlin",
                start="2026-10-24T00:00:00")  # the horizon ends after the autumn DST change
    data["channels"]["chat"] = {"service_level": {"threshold": "60s", "target": 0.8},
                                "handle_time": {"dist": "lognormal", "mean": "5min", "sd": "3min"},
                                "patience": {"dist": "exponential", "mean": "2min"},
                                "arrivals": {"rate_per_hour": 40}, "concurrency": 2}
    data["agents"][0]["skills"] = {"voice": 1, "chat": 2}
    data["agents"][0]["headcount"] = 9
    source = write(base, data, "source.yaml")
    runner = CliRunner()
    res = runner.invoke(app, ["synth", str(source), "-o", str(base / "tickets.csv")])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["calibrate", str(base / "tickets.csv"), "--min-n", "10", "-o", str(base / "cal")])
    assert res.exit_code == 0, res.output
    return base


def test_report_rebuilds_a_calibration_folder_that_holds_inferred_staffing(calibrated):
    """calibrate writes staffing.csv (agents inferred from the tickets) beside fits.csv: still a calibration."""
    assert (calibrated / "cal" / "staffing.csv").is_file()
    res = CliRunner().invoke(app, ["report", str(calibrated / "cal")])
    assert res.exit_code == 0, res.output
    assert 'data-report-kind="calibrate"' in (calibrated / "cal" / "report.html").read_text(encoding="utf-8")


def calibrated_scenario(base, **top) -> dict:
    data = tiny(duration="6h", interval="30min", replications=2, start="2026-11-02T06:00:00",
                timezone="Europe/Berlin", calibration="cal/calibration.yaml", **top)
    data["channels"] = {"voice": {"service_level": {"threshold": "20s", "target": 0.8}, "arrivals": {"growth": 1.2}},
                        "chat": {"service_level": {"threshold": "60s", "target": 0.8}, "concurrency": 2}}
    data["agents"] = [{"name": "team", "skills": {"voice": 1, "chat": 2}, "headcount": 10}]
    return data


def test_staff_on_a_calibrated_scenario_writes_a_scenario_that_loads_anywhere(calibrated, tmp_path):
    path = write(calibrated, calibrated_scenario(calibrated), "uses_calibration.yaml")
    out = tmp_path / "staff"
    res = CliRunner().invoke(app, ["staff", str(path), "-r", "2", "--max-iterations", "2", "--repair-rounds", "0",
                                   "-o", str(out)])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(app, ["validate", str(out / "staffed_scenario.yaml")])  # another folder than cal/
    assert res.exit_code == 0, res.output
    from sim.scenario import load_scenario

    back, original = load_scenario(out / "staffed_scenario.yaml"), load_scenario(path)
    assert back.channels == original.channels  # the calibrated values were written out


# --- channels without contacts in sweeps, and JSON outputs -----------------------------------------------
def strict_json(path):
    """JSON as other tools read it: NaN and Infinity are not JSON."""
    import json

    def refuse(name):
        raise ValueError(f"{path.name} holds {name}, which is not JSON")
    return json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)


def test_sweep_with_a_channel_that_gets_no_contacts_still_finds_the_cheapest_point(tmp_path):
    data = tiny(duration="3h", replications=2)
    data["channels"]["fax"] = {"service_level": {"threshold": "20s", "target": 0.8},
                               "handle_time": {"dist": "exponential", "mean": "3min"},
                               "arrivals": {"rate_per_hour": 0}}
    data["agents"][0]["skills"] = ["voice", "fax"]
    path = write(tmp_path, data)
    res = CliRunner().invoke(app, ["sweep", str(path), "--agents", "team=6:10:2", "-o", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert "nan" not in res.output.lower()
    meta = strict_json(tmp_path / "out" / "sweep.json")
    assert meta["best_point"] is not None and meta["best_point"]["agents_team"] in (8, 10)
    assert "fax" not in meta["marginal_value_of_one_more_agent"][0]["per_agent"]  # nothing to compare


def test_a_sweep_where_no_channel_gets_contacts_writes_valid_json(tmp_path):
    data = tiny(duration="2h", replications=2)
    data["channels"]["voice"]["arrivals"] = {"rate_per_hour": 0}
    path = write(tmp_path, data)
    res = CliRunner().invoke(app, ["sweep", str(path), "--agents", "team=1:2:1", "-o", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert "nan" not in res.output.lower()
    strict_json(tmp_path / "out" / "sweep.json")


def test_json_outputs_write_undefined_numbers_as_null(tmp_path):
    from sim.outputs import write_json

    write_json({"sl": float("nan"), "per_agent": [{"asa_s": float("inf")}, 1.5]}, tmp_path / "x.json")
    assert strict_json(tmp_path / "x.json") == {"per_agent": [{"asa_s": None}, 1.5], "sl": None}


def test_the_sweep_report_shows_the_marginal_values_the_sweep_saved(tmp_path):
    path = write(tmp_path, tiny(duration="2h", replications=2))
    res = CliRunner().invoke(app, ["sweep", str(path), "--agents", "team=6:12:2", "-o", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert strict_json(tmp_path / "out" / "sweep.json")["marginal_value_of_one_more_agent"][0]["per_agent"]
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    saved = strict_json(tmp_path / "out" / "sweep.json")["marginal_value_of_one_more_agent"][0]
    value = saved["per_agent"]["voice"]["service_level_pp"]
    shown = f"{'+' if value > 0 else '−'}{abs(value):.2f} pp"  # the saved value, as the table writes it
    assert "Marginal value of one more agent" in html and f"<td class=\"\">{shown}</td>" in html.replace(
        '<td class="text">', '<td class="">')
    assert ">None<" not in html and ">nan<" not in html  # undefined values read "–", never None


def test_synth_writes_contacts_of_the_repeated_autumn_hour(tmp_path):
    import pandas as pd

    data = tiny(start="2026-11-01T00:00:00", timezone="America/New_York", duration="4h", replications=1)
    path = write(tmp_path, data)
    res = CliRunner().invoke(app, ["synth", str(path), "-o", str(tmp_path / "tickets.csv")])
    assert res.exit_code == 0, res.output
    created = pd.read_csv(tmp_path / "tickets.csv")["created_at"]
    assert created.str.startswith("2026-11-01T01:").sum() > 100  # 01:00–02:00 happens twice: EDT, then EST
    assert {"-04:00", "-05:00"} <= set(created[created.str.startswith("2026-11-01T01:")].str[-6:])
    utc = pd.to_datetime(created, utc=True)
    assert utc.is_monotonic_increasing and utc.iloc[-1] < pd.Timestamp("2026-11-01T09:00:00Z")


def test_backtest_of_a_chat_log_explains_an_availability_above_one(tmp_path):
    """Chat agents hold several contacts at once, so busy agents exceed present agents: say so."""
    data = tiny(duration="8h", replications=1)
    data["channels"]["voice"].update(concurrency=3, arrivals={"rate_per_hour": 200},
                                     patience={"dist": "exponential", "mean": "1min"})
    data["agents"][0]["headcount"] = 3
    path = write(tmp_path, data)
    runner = CliRunner()
    assert runner.invoke(app, ["synth", str(path), "-o", str(tmp_path / "t.csv")]).exit_code == 0
    res = runner.invoke(app, ["backtest", "--train", str(tmp_path / "t.csv"), "--test", str(tmp_path / "t.csv"),
                              "-r", "1", "-o", str(tmp_path / "bt")])
    assert res.exit_code == 2, res.output
    assert "no minutes with customers waiting" not in res.stderr
    assert "several contacts at once" in res.stderr and "--channel" in res.stderr


def test_a_calibration_with_an_undrawable_distribution_names_the_field_cleanly(tmp_path):
    (tmp_path / "cal.yaml").write_text("channels:\n  voice:\n    handle_time: {dist: gamma, mean: 100, sd: 1.0e+200}\n")
    data = tiny(calibration="cal.yaml")
    del data["channels"]["voice"]["handle_time"]
    res = CliRunner().invoke(app, ["validate", str(write(tmp_path, data))])
    assert res.exit_code == 2
    line = res.stderr.strip()
    assert "@" not in line and "Value error" not in line, line
    assert line.startswith(f"{tmp_path / 'cal.yaml'}: channels.voice.handle_time.sd: must be between"), line


# --- sweep options beyond the scenario's limits, and messages printed as written ---------------------
@pytest.mark.parametrize("option", [["--agents", "team=1:200001:100000"], ["--scale", "1:100000:99999"]])
def test_a_sweep_point_beyond_the_agent_limit_is_bad_input_not_a_bug(tmp_path, option):
    path = write(tmp_path, tiny(duration="2h", replications=1))
    res = CliRunner().invoke(app, ["sweep", str(path), *option, "-o", str(tmp_path / "out")])
    assert res.exit_code == 2, res.output
    line = res.stderr.strip()
    assert "internal error" not in line and "\n" not in line
    assert "agents[0].headcount" in line and "100000" in line, line


def test_staff_refuses_a_max_agents_above_the_scenario_limit(tmp_path):
    path = write(tmp_path, tiny(duration="2h", replications=2))
    res = CliRunner().invoke(app, ["staff", str(path), "--max-agents", "200000", "-o", str(tmp_path / "out")])
    assert res.exit_code == 2 and "internal error" not in res.output


def test_messages_are_printed_as_written_not_as_emoji(tmp_path):
    """rich turns `:b:` into 🅱 by default; option values and names must reach the planner unchanged."""
    path = write(tmp_path, tiny(duration="2h", replications=1))
    res = CliRunner().invoke(app, ["sweep", str(path), "--agents", "team=a:b:c", "-o", str(tmp_path / "out")])
    assert res.exit_code == 2
    assert res.stderr.startswith("--agents team=a:b:c: not a range"), res.stderr


@pytest.mark.parametrize("values,fragment", [
    ([1] * 6, "day_of_week: needs at least 7 entries (got"),
    ([1] * 8, "day_of_week: needs at most 7 entries (got"),
])
def test_a_day_of_week_list_of_the_wrong_length_says_so_plainly(values, fragment):
    data = tiny()
    data["channels"]["voice"]["arrivals"] = {"per_day": 100, "day_of_week": values}
    with pytest.raises(ScenarioError) as info:
        parse_scenario(data)
    assert fragment in info.value.lines[0], info.value.lines[0]


def test_an_absurd_volume_is_reported_as_a_readable_number():
    data = tiny()
    data["channels"]["voice"]["arrivals"]["growth"] = 1e300
    with pytest.raises(ScenarioError) as info:
        parse_scenario(data)
    line = info.value.lines[0]
    assert "channels: about 4e+302 contacts per replication exceeds the limit" in line and len(line) < 300, line
