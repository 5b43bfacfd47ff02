"""Scenario files: units, profiles, cross-checks, and located one-line errors."""

import copy

import pytest
import yaml

from sim.errors import ScenarioError
from sim.scenario import load_scenario, parse_scenario
from sim.units import parse_clock, parse_duration

from conftest import SCENARIOS


@pytest.mark.parametrize("text,seconds", [("20s", 20), ("3min", 180), ("1.5h", 5400), ("24h", 86400),
                                          (90, 90), ("2d", 172800), ("45", 45)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["3 parsecs", "h", "", True, None, "1.2.3s"])
def test_bad_durations_are_rejected(bad):
    with pytest.raises(ValueError, match="duration"):
        parse_duration(bad)


def test_clock_times():
    assert parse_clock("08:30") == 30600 and parse_clock("24:00") == 86400
    with pytest.raises(ValueError, match="HH:MM"):
        parse_clock("25:00")


def test_the_issue_file_loads_with_expected_values():
    sc = load_scenario(SCENARIOS / "stationary_check.yaml")
    assert sc.horizon_s == 200 * 3600 and sc.interval == 3600 and sc.warmup == 7200
    voice = sc.channels["voice"]
    assert voice.handle_time.mean_s == 180 and voice.patience.mean_s == 300
    assert sc.agents[0].skills == {"voice": 1}


def test_profiles_need_one_value_per_interval_of_day(scenario_dict):
    scenario_dict["channels"]["voice"]["arrivals"]["rate_per_hour"] = [10.0] * 48
    scenario_dict["agents"][0]["headcount"] = [3] * 48
    sc = parse_scenario(scenario_dict)
    assert sc.intervals_per_day == 48
    scenario_dict["agents"][0]["headcount"] = [3] * 24
    with pytest.raises(ScenarioError, match=r"agents\[0\]\.headcount: a profile needs one value per interval.*48"):
        parse_scenario(scenario_dict)


def write(tmp_path, data):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False) if not isinstance(data, str) else data)
    return path


@pytest.mark.parametrize("mutate,pattern", [
    (lambda d: d["channels"]["voice"].update(handel_time=1), r"channels\.voice\.handel_time: unknown key.*did you mean `handle_time`"),
    (lambda d: d["channels"]["voice"]["arrivals"].update(rate_per_hour=-5), r"rate_per_hour: must be ≥ 0 \(got -5\)"),
    (lambda d: d["agents"][0].update(skills=["chat"]), r"agents\[0\]\.skills\.chat: no channel of that name"),
    (lambda d: d.update(interval="20min"), r"interval: .*15min, 30min or 60min"),
    (lambda d: d.update(timezone="Mars/Olympus"), r"timezone: unknown time zone"),
    (lambda d: d["channels"]["voice"]["handle_time"].update(dist="pareto"), r"handle_time.*dist.*pareto"),
    (lambda d: d["channels"]["voice"].update(service_level={"threshold": "20s", "target": 1.5}), r"service_level\.target: must be ≤ 1 \(got 1.5\)"),
    (lambda d: d.pop("agents"), r"agents: required key is missing"),
    (lambda d: d.update(warmup="10h"), r"warmup: must be shorter than the horizon"),
    (lambda d: d.update(start="2026-11-23T00:00:00"), r"start: needs a time zone"),
])
def test_bad_scenarios_give_located_messages(tmp_path, scenario_dict, mutate, pattern):
    data = copy.deepcopy(scenario_dict)
    mutate(data)
    path = write(tmp_path, data)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    text = str(info.value)
    assert text.startswith(f"{path}:"), text
    assert __import__("re").search(pattern, text), text


def test_yaml_syntax_error_names_the_line(tmp_path):
    path = write(tmp_path, "name: x\nchannels:\n  voice: [unclosed\n")
    with pytest.raises(ScenarioError, match=r"s\.yaml:\d+: YAML syntax error"):
        load_scenario(path)


def test_error_line_points_at_the_offending_key(tmp_path, scenario_dict):
    scenario_dict["channels"]["voice"]["concurrency"] = 0
    path = write(tmp_path, scenario_dict)
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "concurrency" in text)
    with pytest.raises(ScenarioError, match=rf"s\.yaml:{line}: channels\.voice\.concurrency"):
        load_scenario(path)


def test_file_that_is_not_a_mapping(tmp_path):
    with pytest.raises(ScenarioError, match="must be a YAML mapping"):
        load_scenario(write(tmp_path, "- just\n- a list\n"))


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_scenario_validates(path):
    sc = load_scenario(path)
    assert sc.channels and sc.agents
