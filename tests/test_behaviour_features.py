"""Scenario features for heterogeneous and load-adaptive behaviour (issue 16): patience by reason
and by time of day, a replay of known counts by reason, and handle time by queue length. Each is
checked against a hand count or a reference simulation written here, independently of the model."""
import copy
import math

import numpy as np
import pytest

from sim.errors import ScenarioError
from sim.replication import simulate
from sim.scenario import parse_scenario

from conftest import TINY_SCENARIO


def build(**changes):
    data = copy.deepcopy(TINY_SCENARIO)
    for path, value in changes.items():
        node = data
        keys = path.split("__")
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = value
    return parse_scenario(data, "<test>")


def test_each_reason_waits_its_own_patience_and_the_hourly_profile_scales_it():
    """No agents: every customer abandons exactly at queue entry + patience, so the deadlines are
    the patience draws themselves (fixed values: a hand computation)."""
    profile = [1.0] * 8
    profile[2] = 2.0  # 01:00–01:30 (30-min intervals): patience doubled
    sc = build(channels__voice__reasons={"prospect": 1, "regular": 1},
               channels__voice__patience={"dist": "deterministic", "value": "100s"},
               channels__voice__patience_profile=profile,
               reasons={"prospect": {"patience": {"dist": "deterministic", "value": "30s"}}, "regular": {}},
               agents=[{"name": "team", "skills": ["voice"], "headcount": 0}])
    c = simulate(sc, 0).contacts
    names = ["general", "prospect", "regular"]
    reason = np.array(names)[c["reason"]]
    factor = np.where((c["arrival"] // 1800).astype(int) == 2, 2.0, 1.0)
    expected = np.where(reason == "prospect", 30.0, 100.0) * factor
    assert set(reason) == {"prospect", "regular"} and (factor == 2).sum() > 10
    np.testing.assert_allclose(c["deadline"] - c["queued"], expected)


def test_reason_patience_leaves_the_channel_streams_of_other_scenarios_alone():
    """A scenario whose reasons have no patience of their own draws exactly what it drew before
    (common random numbers: an unused feature does not shift streams)."""
    plain = simulate(build(), 0).contacts
    with_reasons = simulate(build(reasons={"regular": {"handle_factor": 1.0}}), 0).contacts
    np.testing.assert_array_equal(plain["deadline"], with_reasons["deadline"])


def test_reason_counts_replay_each_reasons_count_in_each_interval():
    counts = {"a": [3, 0, 5, 1, 0, 2, 7, 4], "b": [1, 2, 0, 0, 6, 1, 0, 3]}
    total = [x + y for x, y in zip(counts["a"], counts["b"])]
    sc = build(channels__voice__arrivals={"counts": total, "reason_counts": counts},
               channels__voice__reasons={"a": 1, "b": 1}, reasons={"a": {}, "b": {}})
    c = simulate(sc, 1).contacts
    k = (c["arrival"] // 1800).astype(int)
    for r, name in ((1, "a"), (2, "b")):
        assert np.bincount(k[c["reason"] == r], minlength=8).tolist() == counts[name]
    assert np.all(np.diff(c["arrival"]) >= 0)  # merged in time order


@pytest.mark.parametrize("arrivals, match", [
    ({"counts": [1] * 8, "reason_counts": {"a": [1] * 7}}, r"reason_counts\.a: needs one count per interval"),
    ({"counts": [2] * 8, "reason_counts": {"a": [1] * 8}}, r"reason_counts: the reasons' counts must add up to `counts`.*interval 0"),
    ({"rate_per_hour": 10, "reason_counts": {"a": [1] * 8}}, r"give `counts` too"),
    ({"counts": [1] * 8, "reason_counts": {"zz": [1] * 8}}, r"reason_counts\.zz"),
])
def test_bad_reason_counts_are_refused_with_the_field(arrivals, match):
    with pytest.raises(ScenarioError, match=match):
        build(channels__voice__arrivals=arrivals, reasons={"a": {}})


@pytest.mark.parametrize("steps, match", [
    ({"waiting": [0, 2], "multiplier": [1.0]}, r"handle_time_by_queue\.multiplier: needs one value per step"),
    ({"waiting": [3, 2], "multiplier": [1.0, 0.9]}, r"handle_time_by_queue\.waiting: the steps must increase"),
    ({"waiting": [0], "multiplier": [0]}, r"handle_time_by_queue\.multiplier"),
])
def test_bad_handle_time_steps_are_refused_with_the_field(steps, match):
    with pytest.raises(ScenarioError, match=match):
        build(channels__voice__handle_time_by_queue=steps)


def test_patience_profile_is_refused_on_async_channels_and_needs_a_day_of_values():
    with pytest.raises(ScenarioError, match=r"patience_profile: needs one multiplier per interval of the day"):
        build(channels__voice__patience_profile=[1.0, 2.0])
    with pytest.raises(ScenarioError, match=r"patience_profile: async channels do not abandon"):
        build(channels__voice__kind="async", channels__voice__patience=None, channels__voice__patience_profile=[1.0] * 48)


def reference_single_server(arrival, work, waiting, multiplier):
    """A single agent serving in FIFO order, written independently of the model: contact i is
    answered at max(arrival, agent free); the others still waiting then are the later contacts
    that have already arrived; its work is scaled by the step reached."""
    answered, end, free = np.empty_like(arrival), np.empty_like(arrival), 0.0
    for i in range(arrival.size):
        answered[i] = max(arrival[i], free)
        others = int(np.sum(arrival[i + 1:] < answered[i]))
        k = np.searchsorted(waiting, others, side="right") - 1
        end[i] = answered[i] + work[i] * (multiplier[k] if k >= 0 else 1.0)
        free = end[i]
    return answered, end


def test_handle_time_by_queue_matches_a_reference_single_server():
    steps = {"waiting": [1, 3, 6], "multiplier": [0.8, 0.6, 0.5]}
    sc = build(channels__voice__patience=None, channels__voice__handle_time_by_queue=steps,
               channels__voice__arrivals={"rate_per_hour": 25},
               agents=[{"name": "team", "skills": ["voice"], "headcount": 1}])
    c = simulate(sc, 2).contacts
    order = np.argsort(c["arrival"], kind="stable")
    base_work = simulate(build(channels__voice__patience=None, channels__voice__arrivals={"rate_per_hour": 25},
                               agents=[{"name": "team", "skills": ["voice"], "headcount": 1}]), 2).contacts["work"]
    served = np.isfinite(c["answered"][order])
    answered, end = reference_single_server(c["arrival"][order], base_work[order], np.array(steps["waiting"]),
                                            np.array(steps["multiplier"]))
    assert served.sum() > 50 and (c["work"][order][served] < base_work[order][served]).sum() > 10
    np.testing.assert_allclose(c["answered"][order][served], answered[served], rtol=0, atol=1e-6)
    np.testing.assert_allclose(c["end"][order][served & np.isfinite(c["end"][order])],
                               end[served & np.isfinite(c["end"][order])], rtol=0, atol=1e-6)


def test_multipliers_of_one_reproduce_the_base_model_exactly():
    """The load-adaptive centre takes every service start through the base class's non-inlined
    path: with all multipliers 1 it must make the very same decisions (multi-skill, chat)."""
    data = copy.deepcopy(TINY_SCENARIO)
    data["channels"]["chat"] = {"service_level": {"threshold": "1min", "target": 0.8}, "concurrency": 2,
                                "concurrency_factor": [1.0, 1.3], "handle_time": {"dist": "exponential", "mean": "6min"},
                                "patience": {"dist": "exponential", "mean": "4min"}, "arrivals": {"rate_per_hour": 60}}
    data["agents"] = [{"name": "team", "skills": ["voice"], "headcount": 4},
                      {"name": "flex", "skills": {"chat": 1, "voice": 2}, "headcount": 3}]
    base = simulate(parse_scenario(copy.deepcopy(data), "<test>"), 0).contacts
    data["channels"]["voice"]["handle_time_by_queue"] = {"waiting": [0, 2], "multiplier": [1.0, 1.0]}
    adaptive = simulate(parse_scenario(data, "<test>"), 0).contacts
    for column in ("answered", "end", "agent", "work"):
        np.testing.assert_array_equal(base[column], adaptive[column])
    assert math.isfinite(np.nanmax(base["answered"]))


def test_redials_take_the_patience_multiplier_of_the_interval_they_arrive_in():
    """Contacts created during the run are drawn in blocks at time 0; their patience must still
    follow the profile at their own arrival time (no agents: deadline − queue entry = patience)."""
    profile = [1.0 + 0.25 * (k % 4) for k in range(48)]
    sc = build(channels__voice__patience={"dist": "deterministic", "value": "100s"},
               channels__voice__patience_profile=profile,
               channels__voice__behaviour={"redial": {"probability": 1.0,
                                                      "delay": {"dist": "deterministic", "value": "7min"}}},
               agents=[{"name": "team", "skills": ["voice"], "headcount": 0}])
    c = simulate(sc, 0).contacts
    k = (c["arrival"] // 1800).astype(int)
    redials = c["origin"] != 0
    assert redials.sum() > 100 and len(set(k[redials] % 4)) == 4
    np.testing.assert_allclose(c["deadline"] - c["queued"], 100.0 * np.array(profile)[k])


def test_reason_counts_are_prorated_by_open_share_as_counts_are():
    """Open from 00:15: the first 30-min interval is half open, so each reason replays half its
    count there (4 → 2, 2 → 1), inside the open part; whole intervals keep their counts."""
    counts = {"a": [4, 2, 0, 0, 0, 0, 0, 0], "b": [2, 0, 2, 0, 0, 0, 0, 0]}
    total = [x + y for x, y in zip(counts["a"], counts["b"])]
    sc = build(channels__voice__arrivals={"counts": total, "reason_counts": counts},
               channels__voice__open={"start": "00:15", "end": "24:00"},
               channels__voice__reasons={"a": 1, "b": 1}, reasons={"a": {}, "b": {}})
    c = simulate(sc, 0).contacts
    k = (c["arrival"] // 1800).astype(int)
    assert np.bincount(k[c["reason"] == 1], minlength=8)[:3].tolist() == [2, 2, 0]
    assert np.bincount(k[c["reason"] == 2], minlength=8)[:3].tolist() == [1, 0, 2]
    assert (c["arrival"] >= 900).all()


def test_waiting_customers_are_counted_across_priority_ranks_and_expired_ones_left_out():
    from types import SimpleNamespace

    from sim.model_load import LoadAdaptiveCentre
    from sim.queues import RankedQueue

    deadline = [50.0, 200.0, 300.0, 80.0, 400.0]  # at t = 100, contacts 0 and 3 have given up
    queue = RankedQueue(2, lambda i: 0 if i in (3, 4) else 1)
    for i in range(5):
        queue.append(i)
    centre = SimpleNamespace(queues=[queue], _deadline=deadline)
    assert LoadAdaptiveCentre.waiting(centre, 0, 100.0, cap=10) == 3
    assert LoadAdaptiveCentre.waiting(centre, 0, 100.0, cap=2) == 2


def test_multipliers_of_one_reproduce_the_base_model_with_priority_by_reason():
    data = copy.deepcopy(TINY_SCENARIO)
    data["channels"]["voice"]["arrivals"] = {"rate_per_hour": 130}
    data["channels"]["voice"]["reasons"] = {"vip": 0.2, "regular": 0.8}
    data["reasons"] = {"vip": {"priority": 0}, "regular": {"priority": 1}}
    base = simulate(parse_scenario(copy.deepcopy(data), "<test>"), 0).contacts
    data["channels"]["voice"]["handle_time_by_queue"] = {"waiting": [0, 2], "multiplier": [1.0, 1.0]}
    adaptive = simulate(parse_scenario(data, "<test>"), 0).contacts
    for column in ("answered", "end", "agent", "work"):
        np.testing.assert_array_equal(base[column], adaptive[column])
    vip = base["reason"] == 1
    waits = base["answered"] - base["queued"]
    assert np.nanmean(waits[vip]) < np.nanmean(waits[~vip])  # the priority really acted
