"""Targets on customer outcomes: parsing, the sweep's choice under an FCR target, and how `staff`
translates the targets into the queue targets it staffs to (checked by hand)."""

import math

import pandas as pd
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.errors import PeaksimError
from sim.outcome_targets import OutcomeTargets, fcr_ceiling, parse_outcome_targets, staffing_queue_targets
from sim.scenario import parse_scenario
from sim.sweep import agents_axis, run_sweep


def scenario(**voice):
    return parse_scenario({
        "name": "targets", "start": "2026-11-23T08:00:00+00:00", "duration": "6h", "interval": "60min",
        "warmup": "1h", "seed": 4, "replications": 4,
        "channels": {
            "voice": {"service_level": {"threshold": "60s", "target": 0.3},
                      "handle_time": {"dist": "exponential", "mean": "4min"},
                      "patience": {"dist": "exponential", "mean": "3min"}, "arrivals": {"rate_per_hour": 150},
                      "reasons": {"orders": 0.5, "returns": 0.5}, **voice},
            "email": {"kind": "async", "service_level": {"threshold": "8h", "target": 0.8},
                      "handle_time": {"dist": "exponential", "mean": "6min"}, "arrivals": {"rate_per_hour": 10}},
        },
        "reasons": {"orders": {"fcr": 0.9, "reopen_delay": {"dist": "exponential", "mean": "1d"}},
                    "returns": {"fcr": 0.7, "reopen_delay": {"dist": "exponential", "mean": "1d"},
                                "automation": {"auto_resolve": 0.2}}},
        "agents": [{"name": "voice_team", "skills": ["voice"], "headcount": 10},
                   {"name": "back", "skills": ["email"], "headcount": 2}],
    })


def test_targets_parse_per_channel_or_for_all():
    sc = scenario()
    t = parse_outcome_targets(["0.6", "voice=0.75"], ["email=24h"], sc)
    assert t.min_fcr == {"voice": 0.75, "email": 0.6} and t.promise_s == {"email": 86400.0}
    with pytest.raises(PeaksimError, match=r"--min-fcr 70: must be a share in \(0, 1\] \(0.7 means 70%\)"):
        parse_outcome_targets(["70"], None, sc)
    with pytest.raises(PeaksimError, match=r"no channel 'emial' in the scenario; did you mean 'email'\?"):
        parse_outcome_targets(None, ["emial=24h"], sc)
    with pytest.raises(PeaksimError, match=r"--resolution-promise email=soon: not a duration"):
        parse_outcome_targets(None, ["email=soon"], sc)


def test_a_target_is_met_by_the_row_of_its_channel_only():
    t = OutcomeTargets({"voice": 0.7}, {"email": 3600.0})
    assert t.met("voice", {"issues": 10, "fcr": 0.7}) and not t.met("voice", {"issues": 10, "fcr": 0.69})
    assert t.met("email", {"issues": 10, "resolution_time_p90_s": 3600}) and not t.met(
        "email", {"issues": 10, "resolution_time_p90_s": math.nan})
    assert t.met("chat", {"issues": 10, "fcr": 0.1}) and t.met("voice", {"issues": 0, "fcr": math.nan})


def test_fcr_ceiling_and_the_staffing_translation_by_hand():
    sc = scenario()
    # orders: 0.9; returns: 20% automated, the rest 0.7 -> 0.2 + 0.8 * 0.7 = 0.76; half each
    assert fcr_ceiling(sc, "voice") == pytest.approx(0.5 * 0.9 + 0.5 * 0.76)
    staffed, caps, notes = staffing_queue_targets(sc, OutcomeTargets({"voice": 0.75}, {"email": 4 * 3600.0}))
    assert caps["voice"] == pytest.approx(1 - 0.75 / 0.83)
    email = staffed.channels["email"].service_level
    assert email.threshold == pytest.approx(4 * 3600 - 360) and email.target == 0.9
    assert staffed.channels["voice"].service_level == sc.channels["voice"].service_level
    with pytest.raises(PeaksimError, match=r"--min-fcr voice=0.9: the channel reaches at most 0.830"):
        staffing_queue_targets(sc, OutcomeTargets({"voice": 0.9}, {}))


def test_sweep_picks_more_agents_for_a_minimum_fcr(tmp_path):
    sc = scenario()
    axes = [agents_axis("voice_team=6:14:4", sc)]
    plain = run_sweep(sc, axes, tmp_path / "a", replications=3)
    strict = run_sweep(sc, axes, tmp_path / "b", replications=3, outcomes=OutcomeTargets({"voice": 0.7}, {}))
    table = strict.table
    voice = table[table["channel"] == "voice"]
    assert (voice["meets_outcome_targets"] == (voice["fcr"] >= 0.7)).all()
    assert (table["meets_target"] <= table["meets_outcome_targets"]).all()
    assert plain.meta["best_point"]["point"] < strict.meta["best_point"]["point"]  # SL 30% is cheap, FCR is not
    assert strict.meta["outcome_targets"]["min_fcr"] == {"voice": 0.7}
    assert {"fcr", "csat", "resolution_time_p90_s", "revenue_at_risk"} <= set(table.columns)


def test_cli_refuses_a_percentage_as_a_share(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("name: x\nstart: 2026-11-23T08:00:00+00:00\nduration: 2h\nchannels:\n  voice:\n"
                    "    service_level: {threshold: 20s, target: 0.8}\n    handle_time: {dist: exponential, mean: 3min}\n"
                    "    arrivals: {rate_per_hour: 10}\nagents:\n  - {name: t, skills: [voice], headcount: 2}\n")
    done = CliRunner().invoke(app, ["sweep", str(path), "--agents", "t=1:2:1", "--min-fcr", "80", "--out",
                                    str(tmp_path / "o")])
    assert done.exit_code == 2 and "0.7 means 70%" in done.output


def test_staff_to_a_minimum_fcr_and_a_promise_reaches_them_when_re_simulated():
    """The translated targets staff more agents, and the fresh-seed re-simulation shows the outcomes reached."""
    from sim.staffing import run_staff

    sc = scenario()
    plain = run_staff(sc, 3, 3, max_iterations=4, repair_rounds=1)
    targets = OutcomeTargets({"voice": 0.75}, {"email": 4 * 3600.0})
    strict = run_staff(sc, 3, 3, max_iterations=4, repair_rounds=1, outcome_targets=targets)
    assert strict.meta["agent_hours"]["sim"] > plain.meta["agent_hours"]["sim"]
    reached = strict.meta["outcomes_by_method"]["sim"]
    assert reached["voice"]["fcr"] >= 0.75 > plain.meta["outcomes_by_method"]["sim"]["voice"]["fcr"]
    assert reached["email"]["resolution_time_p90_s"] <= 4 * 3600
    assert strict.meta["outcome_targets"]["staffed_as"]["voice"]["max_abandon"] == pytest.approx(1 - 0.75 / 0.83,
                                                                                                 abs=1e-6)
    rows = strict.outcomes
    assert set(rows["method"]) == {"sim", "erlang_c", "erlang_a"} and rows["fcr_lo"].notna().any()
