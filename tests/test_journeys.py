"""Customer journeys: issues, resolution, FCR, contacts per issue, modelled CSAT, revenue at risk.

Exact cases are counted by hand on hand-built records (every rule of docs/outcomes.md once);
the statistical cases compare simulated outcomes with what their parameters imply (FCR = p,
contacts per issue = 1/p, unresolved share = abandonment), within 99% CIs over replications.
"""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.contacts import AUTO, BOT, CONTAINED, FALSE, REOPENED, RETURN_LATE
from sim.errors import ScenarioError
from sim.journey_tables import issue_tables
from sim.journeys import ISSUE_KPIS, Issues
from sim.metrics import Outcomes
from sim.replication import ReplicationRecords
from sim.runner import run_scenario
from sim.scenario import parse_scenario

NAN, INF = math.nan, math.inf
HORIZON = 36000.0


def logistic(x):
    return 1.0 / (1.0 + math.exp(-x))


def p_satisfied(resolved, contacts, late, wait_s):
    """The documented default model, written out independently of sim/satisfaction.py."""
    eta = 2.6 * resolved - 0.8 * (contacts - 1) - 0.9 * late - 0.2 * math.log(1 + wait_s / 60)
    return logistic(eta - 0.85)


def hand_scenario(**extra):
    return parse_scenario({
        "name": "journeys by hand", "start": "2026-11-23T00:00:00+00:00", "duration": "10h", "interval": "30min",
        "channels": {
            "voice": {"service_level": {"threshold": "20s", "target": 0.8},
                      "handle_time": {"dist": "deterministic", "value": 60}, "arrivals": {"rate_per_hour": 1}},
            "email": {"kind": "async", "service_level": {"threshold": "1h", "target": 0.8},
                      "handle_time": {"dist": "deterministic", "value": 60}, "arrivals": {"rate_per_hour": 1}},
        },
        "agents": [{"name": "team", "skills": ["voice", "email"], "headcount": 1}],
        **extra,
    })


# row: (channel, origin, customer, arrival, queued, answered, end, deadline, flags, bot_end)
V, E = 0, 1
FRESH, REOPEN, CHASER, BOUNCE = 0, 3, 2, 4
ROWS = [
    (V, FRESH, 0, 0, 0, 10, 70, INF, 0, NAN),                   # I0 answered in 10 s, resolved at 70
    (V, FRESH, 1, 100, 100, 150, 200, INF, REOPENED, NAN),      # I1 answered late, reopened ...
    (V, FRESH, 2, 150, NAN, NAN, NAN, NAN, BOT | CONTAINED | FALSE, 180),  # I2 falsely contained ...
    (V, FRESH, 3, 200, NAN, NAN, NAN, NAN, BOT | CONTAINED, 260),  # I3 truly contained at 260
    (V, FRESH, 4, 300, 300, NAN, NAN, 400, 0, NAN),             # I4 abandons at 400, never back: gave up
    (V, FRESH, 5, 500, 500, NAN, NAN, 560, RETURN_LATE, NAN),   # I5 abandons, redials after the horizon: open
    (V, FRESH, 6, 35900, 35900, 35900, NAN, INF, 0, NAN),       # I6 in service at the horizon: open
    (V, FRESH, 7, 35990, 35990, NAN, NAN, INF, 0, NAN),         # I7 waiting at the horizon: open
    (E, FRESH, 8, 0, NAN, NAN, NAN, NAN, AUTO, NAN),            # I8 automated at once
    (E, FRESH, 9, 10, 10, 7210, 7300, INF, 0, NAN),             # I9 answered after 2 h (promise 1 h) ...
    (E, REOPEN, 1, 1000, 1000, 1200, 1300, INF, 0, NAN),        # ... I1's reopen, on email: resolved at 1300
    (V, BOUNCE, 2, 2000, 2000, 2000, 2100, INF, 0, NAN),        # ... I2 is back, resolved at 2100
    (E, CHASER, 9, 3610, 3610, 7400, 7500, INF, 0, NAN),        # ... I9's chaser (its wait is not counted)
]


def hand_records():
    cols = list(zip(*ROWS))
    names = ["channel", "origin", "customer", "arrival", "queued", "answered", "end", "deadline", "flags", "bot_end"]
    types = [np.int16, np.int8, np.int32] + [float] * 5 + [np.int16, float]  # a log with 16-bit flags (journey marks)
    contacts = {n: np.array(v, dtype=t) for n, v, t in zip(names, cols, types)}
    contacts["reason"] = np.zeros(len(ROWS), dtype=np.int16)
    return ReplicationRecords(0, contacts, np.zeros((1, 20)), {}, HORIZON)


def hand_tables(scenario):
    rec = hand_records()
    outcomes = Outcomes(rec)
    return issue_tables(Issues(rec.contacts, outcomes, scenario), scenario, 1)


def test_issue_rules_counted_by_hand():
    rule = {"order_value": 100, "lost_if_given_up": 0.5, "lost_after_wait": 0.2, "half_wait": "100s"}
    sc = hand_scenario(revenue_at_risk={"general": rule})
    summary = hand_tables(sc)["summary"]
    voice, email = summary.iloc[0], summary.iloc[1]
    assert list(summary.columns) == ISSUE_KPIS
    # voice: I0-I7; resolved I0 (70 s), I1 (1200 s), I2 (1950 s), I3 (60 s); I4 gave up; I5-I7 open
    assert voice["issues"] == 8 and voice["issues_resolved"] == 4
    assert voice["fcr"] == 2 / 8  # I0 and I3
    assert voice["contacts_per_issue"] == 10 / 8 and voice["channels_per_issue"] == 9 / 8
    assert voice["resolution_time_mean_s"] == pytest.approx((70 + 1200 + 1950 + 60) / 4)
    assert voice["resolution_time_p50_s"] == pytest.approx((70 + 1200) / 2)
    assert voice["resolution_time_p90_s"] == pytest.approx(1200 + 0.7 * 750)  # numpy's linear rule on 4 values
    assert voice["unresolved_share"] == 1 / 8
    closed = [p_satisfied(1, 1, 0, 10), p_satisfied(1, 2, 1, 250), p_satisfied(1, 2, 0, 0), p_satisfied(1, 1, 0, 0),
              p_satisfied(0, 1, 1, 100)]
    assert voice["csat"] == pytest.approx(sum(closed) / 5)
    lost = 50 + 20 * (1 - 2 ** -0.1) + 20 * (1 - 2 ** -2.5)  # I4 gave up; I0 waited 10 s, I1 250 s
    assert voice["revenue_at_risk"] == pytest.approx(lost)
    # email: I8 automated (0 s), I9 resolved when its own answer ended (7290 s), before its chaser's
    assert email["issues"] == 2 and email["issues_resolved"] == 2 and email["fcr"] == 0.5
    assert email["contacts_per_issue"] == 1.5 and email["channels_per_issue"] == 1
    assert email["resolution_time_p50_s"] == pytest.approx(3645) and email["resolution_time_p90_s"] == pytest.approx(6561)
    assert email["csat"] == pytest.approx((p_satisfied(1, 1, 0, 0) + p_satisfied(1, 2, 1, 7200)) / 2)


def test_open_issues_are_counted_apart_per_interval_of_creation():
    intervals = hand_tables(hand_scenario())["intervals"]
    per = intervals.assign(interval=np.repeat(np.arange(20), 2), channel=np.tile([0, 1], 20))
    voice = per[per["channel"] == 0].set_index("interval")
    assert voice.loc[0, "issues"] == 6 and voice.loc[0, "issues_open_end"] == 1  # I5
    assert voice.loc[19, "issues"] == 2 and voice.loc[19, "issues_open_end"] == 2  # I6, I7
    assert intervals["issues"].sum() == 10 and intervals["revenue_at_risk"].sum() == 0  # no rules: nothing at risk
    assert np.isnan(voice.loc[19, "csat"])  # nothing closed yet: no verdict


# --- statistical cases --------------------------------------------------------------------------
def ci99(values):
    values = np.asarray(values, dtype=float)
    half = stats.t.ppf(0.995, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    return values.mean() - half, values.mean() + half


def reps(result, channel="voice"):
    return result.replications[result.replications["channel"] == channel]


def ample_with_reopens(p: float, **reopen_delay):
    return parse_scenario({
        "name": "fcr p", "start": "2026-11-23T00:00:00+00:00", "duration": "48h", "interval": "60min",
        "seed": 11, "replications": 6,
        "channels": {"voice": {"service_level": {"threshold": "20s", "target": 0.8},
                               "handle_time": {"dist": "deterministic", "value": 60},
                               "arrivals": {"rate_per_hour": 240}, "reasons": {"question": 1}}},
        "reasons": {"question": {"fcr": p, "reopen_delay": reopen_delay or {"dist": "deterministic", "value": "10min"}}},
        "agents": [{"name": "team", "skills": ["voice"], "headcount": 40}],
    })


@pytest.fixture(scope="module")
def fcr_run():
    return run_scenario(ample_with_reopens(0.7))


def test_ample_agents_fcr_is_the_reasons_fcr(fcr_run):
    """Nobody waits: a contact is resolved unless reopened (prob. 1 − p), reopens may reopen again."""
    lo, hi = ci99(reps(fcr_run)["fcr"])
    assert lo <= 0.7 <= hi
    lo, hi = ci99(reps(fcr_run)["contacts_per_issue"])  # geometric: 1/p contacts
    assert lo <= 1 / 0.7 <= hi


def test_ample_agents_resolution_time_is_one_handle_time_then_the_reopen_delay(fcr_run):
    summary = fcr_run.summary.iloc[0]
    assert summary["resolution_time_p50_s"] == pytest.approx(60.0)  # most are resolved by their only contact
    assert summary["resolution_time_p90_s"] >= 600 + 2 * 60  # the reopened 30%: handle, delay, handle again
    assert summary["unresolved_share"] == 0
    # nobody waits, all resolved, never late: P(satisfied | 1 contact) or P(| k contacts) by hand
    shares = {k: 0.7 * 0.3 ** (k - 1) for k in range(1, 40)}
    expected = sum(w * p_satisfied(1, k, 0, 0) for k, w in shares.items())
    lo, hi = ci99(reps(fcr_run)["csat"])
    assert lo <= expected <= hi


def overloaded(agents: int, redial: bool = False, seed: int = 5):
    voice = {"service_level": {"threshold": "20s", "target": 0.8},
             "handle_time": {"dist": "exponential", "mean": "3min"},
             "patience": {"dist": "exponential", "mean": "2min"}, "arrivals": {"rate_per_hour": 300}}
    if redial:
        voice["behaviour"] = {"redial": {"probability": 0.5, "delay": {"dist": "exponential", "mean": "5min"}}}
    return parse_scenario({
        "name": f"{agents} agents", "start": "2026-11-23T00:00:00+00:00", "duration": "8h", "interval": "60min",
        "warmup": "1h", "seed": seed, "replications": 5, "channels": {"voice": voice},
        "agents": [{"name": "team", "skills": ["voice"], "headcount": agents}],
        "revenue_at_risk": {"general": {"order_value": 80, "lost_if_given_up": 0.4, "lost_after_wait": 0}},
    })


@pytest.fixture(scope="module")
def strained():
    return run_scenario(overloaded(12))


def test_without_redials_the_unresolved_share_is_the_abandonment_rate(strained):
    r = reps(strained)
    np.testing.assert_allclose(r["unresolved_share"], r["abandon_rate"], rtol=1e-12)
    assert (r["abandon_rate"] > 0.1).all()  # it is overloaded
    # and it is the Erlang A abandonment of M/M/12+M at λ = 300/h
    from sim.erlang import erlang_a

    truth = erlang_a(12, 300 / 3600, 180, 120).abandon_prob
    lo, hi = ci99(r["unresolved_share"])
    assert lo <= truth <= hi


def test_revenue_at_risk_is_order_value_times_lost_share_of_given_up_issues(strained):
    r = reps(strained)
    np.testing.assert_allclose(r["revenue_at_risk"], 80 * 0.4 * r["unresolved_share"] * r["issues"], rtol=1e-9)


def test_csat_falls_under_strain(strained):
    ample = run_scenario(overloaded(40))
    a, b = reps(ample)["csat"].to_numpy(), reps(strained)["csat"].to_numpy()
    lo, hi = ci99(a - b)  # same seed: replication r served the same customers (paired)
    assert lo > 0.05
    assert reps(ample)["fcr"].mean() > reps(strained)["fcr"].mean()


def test_redials_keep_the_issue_but_add_contacts():
    result = run_scenario(overloaded(12, redial=True))
    r, summary = reps(result), result.summary.iloc[0]
    assert (r["contacts_per_issue"] > 1.05).all()
    assert summary["issues"] < summary["arrived"]
    # an issue is resolved, given up or still open: never more resolved than issues
    assert (r["issues_resolved"] + r["unresolved_share"] * r["issues"] <= r["issues"] + 1e-9).all()
    assert (r["unresolved_share"] < r["abandon_rate"]).all()  # some who abandon come back and are served


def test_issues_are_the_fresh_contacts_of_each_interval(strained):
    iv = strained.intervals
    fresh = strained.origins[strained.origins["origin"] == "fresh"]
    merged = iv.merge(fresh[["interval_start", "channel", "arrived"]], on=["interval_start", "channel"],
                      suffixes=("", "_fresh"))
    np.testing.assert_allclose(merged["issues"], merged["arrived_fresh"])
    assert {f"{k}_{s}" for k in ISSUE_KPIS for s in ("lo", "hi")} <= set(strained.summary.columns)


# --- scenario blocks ------------------------------------------------------------------------------
def test_satisfaction_block_errors_name_the_field(scenario_dict):
    scenario_dict["satisfaction"] = {"cutpoints": [0, 1, 0.5, 2]}
    with pytest.raises(ScenarioError, match=r"satisfaction\.cutpoints: must increase"):
        parse_scenario(scenario_dict)
    scenario_dict["satisfaction"] = {"coefficients": {"resolvd": 1}}
    with pytest.raises(ScenarioError, match=r"resolvd"):
        parse_scenario(scenario_dict)


def test_revenue_rules_must_name_a_reason(scenario_dict):
    scenario_dict["revenue_at_risk"] = {"presale": {"order_value": 100}}
    with pytest.raises(ScenarioError, match=r"revenue_at_risk\.presale: no reason of that name"):
        parse_scenario(scenario_dict)
    scenario_dict["revenue_at_risk"] = {"general": {"order_value": -5}}
    with pytest.raises(ScenarioError, match=r"order_value"):
        parse_scenario(scenario_dict)


def test_a_fitted_model_changes_csat_as_its_coefficients_say(scenario_dict):
    """All resolved at once by ample agents: CSAT is logistic(resolved − cutpoint 3) exactly."""
    scenario_dict["channels"]["voice"].pop("patience")
    scenario_dict["agents"][0]["headcount"] = 30
    scenario_dict["satisfaction"] = {"coefficients": {"resolved": 1.0}, "cutpoints": [-2, -1, 0.5, 1.5]}
    result = run_scenario(parse_scenario(scenario_dict))
    assert result.summary.iloc[0]["csat"] == pytest.approx(logistic(1.0 - 0.5))
    r = reps(result)  # no reopens: every resolved issue is resolved by its first contact
    np.testing.assert_allclose(r["fcr"], r["issues_resolved"] / r["issues"])


def test_levers_map_into_journeys(scenario_dict):
    """Prevented contacts are no issue; a balking caller gives up; a callback continues its caller's
    contact (not a contact of its own, and first-contact resolution when it resolves)."""
    d = scenario_dict
    d["duration"] = "8h"
    voice = d["channels"]["voice"]
    voice["callback"] = {"threshold": "1min", "accept": 0.5, "promise": "2h"}
    voice["balking"] = {"points": [{"wait": "1min", "probability": 0.0}, {"wait": "10min", "probability": 0.35}]}
    voice["reasons"] = {"wismo": 0.5, "other": 0.5}
    d["reasons"] = {"wismo": {"proactive": {"start": "2026-11-23", "deflect": 0.4}}, "other": {}}
    d["agents"][0]["headcount"] = 5
    r = reps(run_scenario(parse_scenario(d)))
    assert (r["prevented"] > 0).all() and (r["callbacks_accepted"] > 0).all() and (r["balked"] > 0).any()
    np.testing.assert_allclose(r["issues"], r["arrived"])  # arrived leaves the prevented out, as do issues
    np.testing.assert_allclose(r["unresolved_share"] * r["issues"], r["abandoned"] + r["balked"], atol=1e-9)
    np.testing.assert_allclose(r["contacts_per_issue"], 1.0)
    np.testing.assert_allclose(r["fcr"] * r["issues"], r["issues_resolved"], atol=1e-9)
    assert (r["issues_resolved"] > r["handled"]).all()  # issues resolved by their callback add to those answered live
