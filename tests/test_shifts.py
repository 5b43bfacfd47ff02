"""Shift plans: exact small MILPs, breaks, caps, reported shortfalls, the scenario and its re-simulation."""

import numpy as np
import pandas as pd
import pytest
import yaml

from helpers_staff import stationary
from sim.errors import PeaksimError
from sim.scenario import Scenario
from sim.shifts import Templates, load_templates, plan_shifts, run_shift_plan, shifts_scenario, write_shift_plan


def day_scenario(duration="24h", interval="60min"):
    return Scenario.model_validate({
        "name": "day", "start": "2026-11-23T00:00:00-05:00", "duration": duration, "interval": interval,
        "seed": 1, "replications": 3,
        "channels": {"voice": {"service_level": {"threshold": "20s", "target": 0.8},
                               "handle_time": {"dist": "exponential", "mean": "180s"},
                               "arrivals": {"rate_per_hour": 0}}},
        "agents": [{"name": "team", "skills": ["voice"], "headcount": 0}],
    })


def templates(*items, cost=25.0):
    return Templates.model_validate({"cost_per_hour": cost, "templates": list(items)})


def test_cheapest_cover_is_exact():
    sc = day_scenario()
    need = np.zeros((1, 24), dtype=int)
    need[0, 8:16] = 2  # two agents 08:00–16:00
    tpl = templates({"name": "four", "length": "4h", "starts": {"from": "00:00", "to": "23:00", "every": "1h"}})
    plan = plan_shifts(sc, need, tpl)
    assert plan.status == "optimal"
    assert (plan.planned >= need).all() and plan.shortfall.sum() == 0
    assert plan.shifts["paid_hours"].sum() == 16 and plan.shifts["cost"].sum() == 400
    assert list(plan.shifts.columns) == ["template", "group", "start", "end", "agents", "paid_hours", "cost"]
    assert set(plan.shifts["start"]) == {"2026-11-23T08:00:00-05:00", "2026-11-23T12:00:00-05:00"}


def test_unpaid_break_is_a_gap_in_cover_and_not_paid():
    sc = day_scenario()
    need = np.zeros((1, 24), dtype=int)
    need[0, 8:12] = 1
    need[0, 13:17] = 1
    tpl = templates({"name": "day", "length": "9h", "starts": ["08:00"],
                     "breaks": [{"after": "4h", "length": "1h"}]})
    plan = plan_shifts(sc, need, tpl)
    assert plan.shifts["agents"].sum() == 1 and plan.shifts["paid_hours"].sum() == 8
    assert plan.planned[0, 12] == 0 and (plan.planned[0, 8:12] == 1).all()


def test_cheaper_part_time_and_caps():
    sc = day_scenario()
    need = np.zeros((1, 24), dtype=int)
    need[0, 9:17] = 3
    tpl = templates({"name": "full", "length": "8h", "starts": ["09:00"], "cost_per_hour": 20},
                    {"name": "part", "length": "4h", "starts": ["09:00", "13:00"], "cost_per_hour": 30},
                    )
    plan = plan_shifts(sc, need, tpl)
    assert set(plan.shifts["template"]) == {"full"}
    capped = templates({"name": "full", "length": "8h", "starts": ["09:00"], "cost_per_hour": 20, "max_agents": 1},
                       {"name": "part", "length": "4h", "starts": ["09:00", "13:00"], "cost_per_hour": 30})
    plan = plan_shifts(sc, need, capped)
    by = plan.shifts.groupby("template")["agents"].sum()
    assert by["full"] == 1 and by["part"] == 4 and (plan.planned >= need).all()


def test_uncoverable_intervals_are_reported_not_hidden():
    sc = day_scenario()
    need = np.zeros((1, 24), dtype=int)
    need[0, 10:14] = 2
    need[0, 22] = 1  # no template works at 22:00
    tpl = templates({"name": "day", "length": "4h", "starts": ["10:00"], "max_agents": 1})
    plan = plan_shifts(sc, need, tpl)
    short = {k: v for k, v in enumerate(plan.shortfall[0]) if v > 0}
    assert short == {10: 1, 11: 1, 12: 1, 13: 1, 22: 1}
    assert (plan.planned[0, 10:14] == 1).all()


def test_plan_becomes_shifts_and_is_resimulated(tmp_path):
    sc = stationary(duration="8h", interval="30min", warmup="0s", replications=3)
    need = np.full((1, sc.n_intervals), 12)
    tpl = templates({"name": "four", "length": "4h", "starts": {"from": "00:00", "to": "04:00", "every": "1h"}})
    result = run_shift_plan(sc, need, tpl, replications=3, seed=99)
    assert result.schedule_form == "shifts"
    assert (result.plan.planned >= need).all()
    assert result.meta["paid_hours"] == 96 and result.meta["uncovered_intervals"] == []
    cov = result.coverage
    assert list(cov.columns) == ["interval_start", "group", "required", "planned", "service_level",
                                 "service_level_lo", "service_level_hi", "meets_target"]
    assert cov["service_level"].notna().all() and cov["meets_target"].dtype == bool
    paths = write_shift_plan(result, tmp_path)
    back = yaml.safe_load((tmp_path / "shifts_scenario.yaml").read_text())
    assert Scenario.model_validate(back).agents[0].shifts == result.scenario.agents[0].shifts
    assert pd.read_csv(paths[0])["agents"].sum() == 24


def test_multi_week_plan_falls_back_to_per_interval_headcount():
    sc = day_scenario(duration="8d")
    need = np.zeros((1, sc.n_intervals), dtype=int)
    need[0, 9:13] = 1  # only on the first Monday: a weekly `shifts` entry would repeat it
    tpl = templates({"name": "four", "length": "4h", "starts": ["09:00"]})
    plan = plan_shifts(sc, need, tpl)
    planned, form = shifts_scenario(sc, plan, tpl)
    assert form == "headcount_by_interval"
    assert planned.agents[0].headcount_by_interval == list(plan.planned[0])


def test_template_errors_point_at_the_file(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("templates:\n  - name: x\n    length: 4h\n    starts: ['25:00']\n")
    with pytest.raises(PeaksimError, match=r"t.yaml:4: templates\[0\]\.starts"):
        load_templates(path, day_scenario())
    path.write_text("templates:\n  - name: x\n    length: 4h\n    starts: ['08:00']\n    groups: [nobody]\n")
    with pytest.raises(PeaksimError, match="no agent group 'nobody'"):
        load_templates(path, day_scenario())
