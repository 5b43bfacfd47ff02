"""The peak levers case by case: exact tiny runs, invariants on the records, conservation of
contacts with callbacks, per-reason targets by hand count, located errors, and levers left unset
changing nothing (docs/levers.md)."""

from __future__ import annotations

import copy
import math
from collections import deque

import numpy as np
import pytest
from typer.testing import CliRunner

from sim.cli import app
from sim.contacts import BALKED, CB_ACCEPTED, CB_OFFERED
from sim.levers import CALLBACK
from sim.metrics import contact_outcomes
from sim.model import GroupSpec
from sim.replication import simulate
from sim.runner import run_scenario
from sim.scenario import parse_scenario

from conftest import TINY_SCENARIO, channel, group, tiny_centre, write_yaml

VOICE = TINY_SCENARIO["channels"]["voice"]


def test_overflow_helper_answers_exactly_when_the_wait_reaches_t():
    """One regular agent busy 0–100 s; contact 1 arrives at 10 s; a helper may answer after 30 s of
    waiting: it answers contact 1 at 40 s (not before), and contact 2 (arriving at 50 s while the
    helper is busy) goes to the regular agent when it frees at 100 s."""
    helper = GroupSpec("help", ((0,),), 1.0, np.array([0.0]), np.array([1]), overflow=((0, 30.0, 0),))
    contacts = [(0.0, 0, 100.0), (10.0, 0, 200.0), (50.0, 0, 20.0)]

    def wire(centre):
        centre.overflow_pools = [[deque()]]
        centre.on_queue_entry = lambda i: centre.at(centre.log.queued[i] + 30.0, centre.overflow_due, (i, 0))

    centre, c = tiny_centre(contacts, [channel()], [group("regular", [[0]], 1), helper], horizon=1000.0,
                            setup=wire)
    assert c["answered"].tolist() == [0.0, 40.0, 100.0]
    assert c["group"].tolist() == [0, 1, 0]


def priority_run(**voice):
    data = copy.deepcopy(TINY_SCENARIO)
    data.update(duration="12h", replications=1, seed=4, reasons={"vip": {"priority": 1}, "rest": {}})
    data["channels"]["voice"].update(arrivals={"rate_per_hour": 150}, reasons={"vip": 0.3, "rest": 0.7}, **voice)
    return parse_scenario(data)


def test_priority_is_never_skipped_and_fifo_within_a_reason():
    """Whenever an agent answers a `rest` contact, no live `vip` contact is waiting (non-preemptive
    priority, checked on every answer), and within each reason contacts are answered in arrival order."""
    c = simulate(priority_run(), 0).contacts
    vip, rest = c["reason"] == 1, c["reason"] == 2
    answered = ~np.isnan(c["answered"])
    waited = answered & (c["answered"] > c["queued"])
    t = c["answered"][rest & answered]
    for reason in (vip, rest):
        order = np.argsort(c["queued"][reason & waited], kind="stable")
        assert (np.diff(c["answered"][reason & waited][order]) >= 0).all()
    q, a, d = c["queued"][vip], np.where(answered[vip], c["answered"][vip], np.inf), c["deadline"][vip]
    waiting_vip = [(q < x) & (a > x) & (d > x) for x in t]
    assert not np.any(waiting_vip)
    assert (rest & waited).sum() > 200  # plenty of waiting `rest` answers for the check to bite


def test_reason_service_level_counts_against_its_own_threshold():
    """reasons.csv: a reason with `service_level` is measured against its own threshold (hand count
    of the records: handled within 5 s ÷ (handled + abandoned)), and its row carries that target."""
    data = copy.deepcopy(TINY_SCENARIO)
    data.update(replications=1, reasons={"complaint": {"service_level": {"threshold": "5s", "target": 0.95}},
                                         "other": {}})
    data["channels"]["voice"]["reasons"] = {"complaint": 0.5, "other": 0.5}
    sc = parse_scenario(data)
    result = run_scenario(sc)
    row = result.reasons.set_index("reason").loc["complaint"]
    o = contact_outcomes(simulate(sc, 0))
    mine = o[o["reason"] == 1]
    within = (mine["handled"] & (mine["wait"] <= 5.0)).sum()
    assert row["service_level"] == pytest.approx(within / (mine["handled"].sum() + mine["abandoned"].sum()))
    assert (row["sl_threshold_s"], row["sl_target"]) == (5.0, 0.95)
    other = result.reasons.set_index("reason").loc["other"]
    assert (other["sl_threshold_s"], other["sl_target"]) == (20.0, 0.8)


@pytest.mark.parametrize("when", ["expected_wait", "waited"])
def test_callbacks_conserve_contacts(when):
    """Overloaded voice, callbacks promised within 30 min, the horizon cutting some off: per channel,
    offered = accepted + declined (counted from different flags), accepted = callback rows =
    completed + pending; every accepted caller has exactly one callback (same customer, reason and
    arrival, requested when the caller left); callbacks never abandon; and arrived = handled +
    abandoned + accepted + balked + still waiting."""
    data = copy.deepcopy(TINY_SCENARIO)
    data.update(duration="6h", replications=1, seed=2)
    data["channels"]["voice"].update(arrivals={"rate_per_hour": 160},
                                     callback={"when": when, "threshold": "1min", "accept": 0.5, "promise": "30min"})
    sc = parse_scenario(data)
    c = simulate(sc, 0).contacts
    flags = c["flags"].astype(np.int64)
    offered, accepted = (flags & CB_OFFERED) != 0, (flags & CB_ACCEPTED) != 0
    callbacks = c["origin"] == CALLBACK
    assert not (accepted & ~offered).any() and accepted.sum() > 30
    assert accepted.sum() == callbacks.sum()
    pairs = sorted(zip(c["customer"][accepted], c["arrival"][accepted], c["reason"][accepted], c["deadline"][accepted]))
    backs = sorted(zip(c["customer"][callbacks], c["arrival"][callbacks], c["reason"][callbacks], c["queued"][callbacks]))
    assert pairs == backs
    assert np.isinf(c["deadline"][callbacks]).all()
    done = ~np.isnan(c["answered"][callbacks])
    assert 0 < (~done).sum() and done.sum() > 0  # some still pending at the horizon
    summary = run_scenario(sc).summary.iloc[0]
    assert summary["callbacks_offered"] == summary["callbacks_accepted"] + summary["callbacks_declined"]
    assert summary["callbacks_offered"] == offered.sum() and summary["callbacks_accepted"] == accepted.sum()
    assert summary["callbacks_accepted"] == summary["callbacks_completed"] + summary["callbacks_pending"]
    assert summary["arrived"] == (summary["handled"] + summary["abandoned"] + summary["callbacks_accepted"]
                                  + summary["balked"] + summary["waiting_end"])
    assert summary["callbacks_within_promise"] <= summary["callbacks_completed"]
    if when == "waited":  # offered exactly when the wait so far reached the threshold
        assert np.allclose(c["deadline"][accepted] - c["queued"][accepted], 60.0)


def test_balked_contacts_are_counted_apart_and_never_offered():
    data = copy.deepcopy(TINY_SCENARIO)
    data.update(replications=1)
    data["channels"]["voice"].update(arrivals={"rate_per_hour": 160}, balking={"scale": "2min", "max": 0.5})
    sc = parse_scenario(data)
    c = simulate(sc, 0).contacts
    balked = (c["flags"] & BALKED) != 0
    assert balked.sum() > 10 and np.isnan(c["queued"][balked]).all() and np.isnan(c["answered"][balked]).all()
    s = run_scenario(sc).summary.iloc[0]
    assert s["balked"] == balked.sum()
    assert s["offered"] == s["arrived"] - s["balked"]
    assert s["arrived"] == s["handled"] + s["abandoned"] + s["balked"] + s["waiting_end"]


def test_levers_left_unset_change_nothing():
    """Equal priorities everywhere, deflection 0 and an overflow stage nobody reaches (after 1000 h)
    give the very records of the scenario without them: unused levers neither route differently nor
    shift a random stream."""
    data = copy.deepcopy(TINY_SCENARIO)
    data.update(replications=1, reasons={"a": {}, "b": {}})
    data["channels"]["voice"]["reasons"] = {"a": 0.5, "b": 0.5}
    data["agents"].append({"name": "spare", "skills": ["email"], "headcount": 1})
    data["channels"]["email"] = {"kind": "async", "service_level": {"threshold": "24h", "target": 0.8},
                                 "handle_time": {"dist": "exponential", "mean": "5min"}, "arrivals": {"rate_per_hour": 5}}
    plain = simulate(parse_scenario(data), 0).contacts
    same = copy.deepcopy(data)
    same["reasons"] = {"a": {"priority": 3, "proactive": {"start": "2026-11-23", "deflect": 0.0}}, "b": {"priority": 3}}
    same["channels"]["voice"]["overflow"] = {"after": "1000h", "groups": ["spare"]}
    levered = simulate(parse_scenario(same), 0).contacts
    for name in ("arrival", "answered", "work", "deadline", "reason", "agent", "flags"):
        assert np.array_equal(plain[name], levered[name], equal_nan=True), name


BAD = [
    ({"callback": {"threshold": "1min", "accept": 0.5}}, "email", "channels.email.callback", "sync channels"),
    ({"balking": {"points": [{"wait": "2min", "probability": 0.2}, {"wait": "1min", "probability": 0.3}]}},
     "voice", "channels.voice.balking.points[1].wait", "must increase"),
    ({"balking": {"scale": "1min", "points": [{"wait": "0s", "probability": 0.1}]}}, "voice",
     "channels.voice.balking.points", "exactly one of"),
    ({"overflow": {"after": "2min", "groups": ["bakoffice"]}}, "voice", "channels.voice.overflow[0].groups",
     "did you mean 'backoffice'"),
    ({"overflow": {"after": "2min", "groups": ["team"]}}, "voice", "channels.voice.overflow[0].groups",
     "(got 'team', which has 'voice' as a skill)"),
    ({"callback": {"threshold": "1min", "accept": 1.5}}, "voice", "channels.voice.callback.accept", "1.5"),
]


@pytest.mark.parametrize("change,where,path,text", BAD)
def test_bad_lever_keys_give_one_located_line(tmp_path, change, where, path, text):
    data = copy.deepcopy(TINY_SCENARIO)
    data["channels"]["email"] = {"kind": "async", "service_level": {"threshold": "24h", "target": 0.8},
                                 "handle_time": {"dist": "exponential", "mean": "5min"}, "arrivals": {"rate_per_hour": 5}}
    data["agents"].append({"name": "backoffice", "skills": ["email"], "headcount": 1})
    data["channels"][where].update(change)
    result = CliRunner().invoke(app, ["validate", str(write_yaml(tmp_path, data))])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and f": {path}:" in lines[0] and text in lines[0], result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("reason,path,text", [
    ({"priority": 1.5}, "reasons.vip.priority", "whole number"),
    ({"proactive": {"start": "2026-11-24", "deflect": 0.3, "channels": ["phone"]}}, "reasons.vip.proactive.channels",
     "no channel of that name"),
    ({"service_level": {"threshold": "0s", "target": 1}}, "reasons.vip.service_level.target", "100% target"),
])
def test_bad_reason_levers_give_one_located_line(tmp_path, reason, path, text):
    data = copy.deepcopy(TINY_SCENARIO)
    data["reasons"] = {"vip": reason}
    result = CliRunner().invoke(app, ["validate", str(write_yaml(tmp_path, data))])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert f": {path}:" in result.output and text in result.output, result.output


def test_a_lever_scenario_survives_dump_and_reload():
    """sweep points and run.json reload the scenario from its dump, which sets every default key: every
    lever (balking as points too, whose `max` is then present) must validate again unchanged."""
    import json

    data = copy.deepcopy(TINY_SCENARIO)
    data["reasons"] = {"vip": {"priority": 1, "service_level": {"threshold": "5s", "target": 0.9},
                               "proactive": {"start": "2026-11-23", "deflect": 0.2}}}
    data["channels"]["voice"].update(callback={"threshold": "1min", "accept": 0.3},
                                     balking={"points": [{"wait": "0s", "probability": 0.1}]},
                                     overflow=[{"after": "1min", "groups": ["help"]}])
    data["channels"]["email"] = {"kind": "async", "service_level": {"threshold": "24h", "target": 0.8},
                                 "handle_time": {"dist": "exponential", "mean": "5min"}, "arrivals": {"rate_per_hour": 5}}
    data["agents"].append({"name": "help", "skills": ["email"], "headcount": 1})
    sc = parse_scenario(data)
    assert parse_scenario(json.loads(sc.model_dump_json())) == sc
