"""Per-interval staffing: the ISA against Erlang C (stationary) and against SIPP under a time-varying peak."""

import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from helpers_staff import stationary, sync_and_async, two_channels
from sim.cli import app
from sim.erlang import erlang_a, erlang_c_agents
from sim.errors import PeaksimError
from sim.scenario import load_scenario, parse_scenario
from sim.backlog import deadline_slots, in_reach
from sim.staffing import (
    ChannelQueue, Targets, iterative_staffing, on_shift_for, primary_groups, run_staff, scenario_yaml, slots_needed,
    within_probability, write_staff,
)

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def birth_death(c, lam, mu, theta, n_max=400):
    """Stationary distribution of M/M/c+M (what an arrival sees, by PASTA)."""
    logp = [0.0]
    for n in range(1, n_max):
        logp.append(logp[-1] + math.log(lam / (min(n, c) * mu + max(n - c, 0) * theta)))
    p = np.exp(np.array(logp) - max(logp))
    return p / p.sum()


@pytest.mark.parametrize("c", [12, 14, 17])
def test_per_state_rule_averages_to_erlang_a(c):
    lam, aht, patience, threshold = 100 / 1800, 180.0, 300.0, 20.0
    q = ChannelQueue("voice", 1, aht, 1 / patience, threshold, 0.8)
    p = birth_death(c, lam, 1 / aht, 1 / patience)
    n = np.arange(p.size)
    exact = erlang_a(c, lam, aht, patience, threshold).service_level
    assert float(np.dot(p, within_probability(n, c, q))) == pytest.approx(exact, abs=1e-9)


def test_zero_threshold_is_the_papers_delay_probability_rule():
    q = ChannelQueue("voice", 1, 180.0, 0.0, 0.0, 0.9)
    hist = np.array([0, 10, 30, 30, 20, 10], dtype=float)  # P(L >= s): s=4 → 0.3, s=5 → 0.1
    assert slots_needed(hist, q, Targets()) == 5  # min{s : P(L >= s) <= 0.1}


def test_headcount_on_shift_covers_shrinkage():
    assert on_shift_for(9, 0.0) == 9
    assert on_shift_for(9, 0.1) == 10  # round(10 × 0.9) = 9
    assert all(math.floor(on_shift_for(a, 0.3) * 0.7 + 0.5) >= a for a in range(50))


def test_stationary_erlang_c_scenario_agrees_with_erlang_c():
    sc = stationary(patience=None, duration="10h", replications=30)
    isa = iterative_staffing(sc, 30)
    expected = erlang_c_agents(200 * 180 / 3600, 180, 20, 0.8)
    assert expected == 14
    after_warmup = isa.headcount[0, 1:]
    assert np.all(np.abs(after_warmup - expected) <= 1), after_warmup
    assert isa.converged


def test_time_varying_peak_simulation_holds_target_while_erlang_lags():
    sc = load_scenario(SCENARIOS / "time_varying_check.yaml")
    result = run_staff(sc, replications=60, check_replications=60)
    sl = result.service
    miss = sl["service_level_hi"] < sl["target"]  # significantly below target (95% CI)
    by_method = {m: g.reset_index(drop=True) for m, g in sl.assign(miss=miss).groupby("method")}
    assert 1 - by_method["sim"]["miss"].mean() >= 0.9
    starts = by_method["erlang_c"]["interval_start"]
    after_peak = (starts >= "2026-11-27T10:30") & (starts < "2026-11-27T12:30")
    before_peak = starts < "2026-11-27T10:00"
    assert by_method["erlang_c"]["miss"][after_peak].sum() >= 3
    assert by_method["erlang_c"]["miss"][before_peak].sum() == 0
    assert by_method["sim"]["miss"][after_peak].sum() == 0
    # the simulation staffs the peak's aftermath above the per-interval formula
    staff = result.staffing.set_index("interval_start")
    late = staff.index[(staff.index >= "2026-11-27T10:30") & (staff.index < "2026-11-27T12:00")]
    assert (staff.loc[late, "agents_sim"] > staff.loc[late, "agents_erlang_c"]).all()


def test_multichannel_staffing_writes_a_scenario_run_accepts(tmp_path):
    sc = two_channels(replications=4)
    result = run_staff(sc, replications=4, check_replications=3, targets=Targets(max_abandon=0.1))
    assert list(result.staffing.columns) == ["interval_start", "group", "agents_sim", "agents_erlang_c", "agents_erlang_a",
                                             "agents_current"]
    assert len(result.staffing) == 8 * 3
    # the current plan is the scenario's own headcounts (8 voice, 6 chat, 2 blended), before shrinkage
    current = result.staffing.groupby("group")["agents_current"].agg(["min", "max"])
    assert current.to_dict("index") == {"voice_team": {"min": 8, "max": 8}, "chat_team": {"min": 6, "max": 6},
                                        "blended": {"min": 2, "max": 2}}
    assert list(result.service.columns) == ["interval_start", "channel", "method", "target", "service_level",
                                           "service_level_lo", "service_level_hi"]
    assert set(result.service["method"]) == {"sim", "erlang_c", "erlang_a"}
    written = write_staff(result, tmp_path)
    assert [p.name for p in written] == ["staffing.csv", "staffing_sl.csv", "staffed_scenario.yaml", "staffing.json",
                                       "staffing_outcomes.csv"]
    back = load_scenario(tmp_path / "staffed_scenario.yaml")
    assert [g.headcount_by_interval for g in back.agents] == [list(map(int, row)) for row in result.plans["sim"]]
    assert back.channels == sc.channels
    res = CliRunner().invoke(app, ["run", str(tmp_path / "staffed_scenario.yaml"), "-r", "2", "--no-report",
                                   "-o", str(tmp_path / "run")])
    assert res.exit_code == 0, res.output


def test_scenario_yaml_round_trips_shifts_and_opening_hours():
    sc = parse_scenario(yaml.safe_load("""
name: rt
start: 2026-11-27T00:00:00-05:00
duration: 1d
channels:
  voice:
    service_level: {threshold: 20s, target: 0.8}
    handle_time: {dist: exponential, mean: 3min}
    arrivals: {rate_per_hour: 10}
    open: {start: "08:00", end: "20:00"}
agents:
  - name: team
    skills: [voice]
    shifts: [{start: "07:30", end: "16:00", agents: 3}, {start: "22:00", end: "06:00", agents: 1}]
"""))
    assert parse_scenario(yaml.safe_load(scenario_yaml(sc))) == sc


def test_unreachable_target_names_the_option():
    sc = stationary(rate=2000, patience=None, duration="3h", replications=3)
    with pytest.raises(PeaksimError, match="above --max-agents 20"):
        iterative_staffing(sc, 3, max_agents=20)


def test_bad_caps_are_one_line_errors():
    with pytest.raises(PeaksimError, match="--max-abandon"):
        Targets(max_abandon=5)
    with pytest.raises(PeaksimError, match="--max-occupancy"):
        Targets(max_occupancy=0)


def test_async_channel_meets_its_target_when_blended_with_calls_and_nobody_works_while_closed():
    sc = sync_and_async()
    result = run_staff(sc, replications=6, check_replications=6)
    sl = result.service.dropna(subset=["service_level"])
    messages = sl[(sl["method"] == "sim") & (sl["channel"] == "messages")]
    hour = messages["interval_start"].str[11:13].astype(int)
    opened = messages[(hour >= 8) & (hour < 20)]
    assert len(opened) == 48
    assert (opened["service_level"] >= opened["target"]).mean() >= 0.9
    assert result.meta["share_of_intervals_in_reach_meeting_target_by_channel"]["sim"]["messages"] >= 0.9
    # both channels are closed 20:00–08:00: no method staffs anybody then (nobody could answer; the
    # messages arriving at night queue for the morning), and every method staffs the open hours
    staff = result.staffing[result.staffing["group"] == "blended"]
    night = ~staff["interval_start"].str[11:13].astype(int).between(8, 19)
    for method in ("agents_sim", "agents_erlang_c", "agents_erlang_a"):
        assert (staff.loc[night, method] == 0).all() and (staff.loc[~night, method] > 0).all(), method


def test_reach_and_primary_groups_follow_opening_hours_and_priorities():
    sc = sync_and_async()
    reach = in_reach(sc)
    hours = np.arange(sc.n_intervals) % 48 / 2
    assert np.array_equal(reach["voice"], (hours >= 8) & (hours < 20))
    # 4-hour messages: sent from 05:00 they still have a half hour of opening time before their deadline
    assert np.array_equal(reach["messages"], (hours >= 4.5) & (hours < 20))
    assert primary_groups(sc).tolist() == [[True, False], [True, True]]


def test_backlog_rule_clears_each_contact_by_its_deadline():
    arrivals = np.array([0, 0, 10, 0, 0, 0], dtype=float)  # ten contacts, 10 min each, 1-hour deadline
    seconds = np.array([0, 0, 1800, 1800, 1800, 1800, 1800, 1800], dtype=float)
    slots = deadline_slots(arrivals, 600.0, seconds, 1800.0, 3600.0, 1.0, z=0.0)
    assert slots[:2].tolist() == [0, 0]
    assert slots[2] == pytest.approx(10 * 600 / (1800 + 3600))  # constant rate until the last one's deadline
    assert slots[2:5].sum() * 1800 / 600 == pytest.approx(10)


def test_handle_time_profile_reaches_the_erlang_baselines_and_the_isa():
    """Twice the handle time from the fourth hour: the Erlang C baseline there is Erlang C for
    360 s (hand check: 200/h × 360 s = 20 Erlangs), and the simulated ISA staffs those hours
    like that baseline, within one agent."""
    from sim.staffing import channel_queues, erlang_agents

    base = stationary(patience=None, duration="6h", replications=20)
    data = base.model_dump(mode="json", exclude_none=True)
    data["channels"]["voice"]["handle_time_profile"] = [1.0] * 3 + [2.0] * 21
    sc = parse_scenario(data, "<test>")
    queues = channel_queues(sc, np.ones((1, 1)))
    agents = erlang_agents(sc, queues, Targets(), 500)["erlang_c"][0]
    assert agents[:3].tolist() == [erlang_c_agents(10.0, 180, 20, 0.8)] * 3 == [14] * 3
    assert agents[3:].tolist() == [erlang_c_agents(20.0, 360, 20, 0.8)] * 3
    isa = iterative_staffing(sc, 20)
    assert np.all(np.abs(isa.headcount[0, 4:] - agents[4:]) <= 1), (isa.headcount, agents)


def test_staff_warns_about_its_own_plan_like_a_run_would():
    """`staff` checks the plan it recommends as `run` would check it: its meta carries the
    warnings of the staffed scenario (none for a sound plan; a plan below the load would get
    the unstable-interval warning, shown here on a 9-agent team for 10 Erlangs)."""
    from sim.checks import scenario_warnings

    sc = stationary(patience=None, duration="4h", replications=3)
    result = run_staff(sc, 3, check_replications=2, repair_rounds=0)
    assert result.meta["warnings"] == scenario_warnings(result.staffed_scenario)
    assert not any("offered load" in w["message"] for w in result.meta["warnings"])  # 14 agents for 10 Erlangs
    capped = with_team(sc, 9)
    assert any("offered load ≥ staffing capacity" in w["message"] for w in scenario_warnings(capped))


def with_team(sc, agents):
    data = sc.model_dump(mode="json", exclude_none=True)
    data["agents"][0]["headcount"] = agents
    return parse_scenario(data, "<test>")
