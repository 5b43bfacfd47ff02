"""The peak levers against independent truths (docs/levers.md): Cobham's non-preemptive priority
formula, a separately written SimPy reference for overflow, the balking curve recomputed from the
records, the acceptance share of callbacks and proactive deflection under common random numbers.

Tolerances come from the replications' own spread: a t interval at 99.9% (one-sided failures at a
fixed seed would be flukes of 1 in 1000) or a binomial/Bernoulli-sum z of 3.3.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
from scipy import stats

from sim.contacts import BALKED, CB_ACCEPTED, CB_OFFERED, PREVENTED
from sim.metrics import Outcomes
from sim.replication import simulate
from sim.runner import run_replication, run_scenario
from sim.scenario import parse_scenario

from conftest import TINY_SCENARIO
from levers_reference import cobham_waits, overflow_reference

Z = 3.3


def t_half(values: np.ndarray, level: float = 0.999) -> float:
    values = np.asarray(values, dtype=float)
    return float(stats.t.ppf(0.5 + level / 2, values.size - 1) * values.std(ddof=1) / math.sqrt(values.size))


def scenario(**changes) -> dict:
    data = copy.deepcopy(TINY_SCENARIO)
    data.update(changes)
    return data


def test_priority_by_reason_matches_cobham():
    """Two reasons in one M/M/4 queue (ρ = 0.8, no abandonment), reason `vip` first: the ASA of each
    class lies within the replications' CI of Cobham's formula, and the work-conserving average of
    the two equals Erlang C's ASA (Kleinrock's conservation law, a second truth)."""
    aht, servers, rate_h = 180.0, 4, 64.0
    sc = parse_scenario(scenario(
        duration="150h", warmup="5h", interval="60min", replications=8, seed=11,
        reasons={"vip": {"priority": 1}, "standard": {"priority": 2}},
        channels={"voice": {"service_level": {"threshold": "20s", "target": 0.8},
                            "handle_time": {"dist": "exponential", "mean": f"{aht}s"},
                            "arrivals": {"rate_per_hour": rate_h}, "reasons": {"vip": 0.5, "standard": 0.5}}},
        agents=[{"name": "team", "skills": ["voice"], "headcount": servers}]))
    per_rep = pd.concat([run_replication(sc, r).reasons for r in range(sc.replications)])
    reasons = ["general", "vip", "standard"]
    truth = cobham_waits([rate_h / 2 / 3600] * 2, aht, servers)
    asa = {name: per_rep[per_rep["reason"] == reasons.index(name)]["asa_s"].to_numpy() for name in ("vip", "standard")}
    for name, expected in zip(("vip", "standard"), truth):
        assert abs(asa[name].mean() - expected) <= t_half(asa[name]), (name, asa[name].mean(), expected)
    fifo = truth[0] / 2 + truth[1] / 2
    mixed = (asa["vip"] + asa["standard"]) / 2
    assert abs(mixed.mean() - fifo) <= t_half(mixed)
    assert asa["vip"].max() < asa["standard"].min()  # not a close call: 14 s against 70 s


def test_overflow_after_wait_matches_a_reference_simulation():
    """Three regular agents plus one helper who may answer only contacts that waited 60 s: the
    abandonment rate, ASA and share of answers given by the helper agree with a plain SimPy model
    of the same rule (tests/levers_reference.py), by a Welch interval over replications."""
    rate_h, aht, patience, after = 66.0, 180.0, 300.0, 60.0
    data = scenario(
        duration="100h", warmup="2h", interval="60min", replications=8, seed=6,
        channels={"chat": {"service_level": {"threshold": "20s", "target": 0.8},
                           "handle_time": {"dist": "exponential", "mean": f"{aht}s"},
                           "patience": {"dist": "exponential", "mean": f"{patience}s"},
                           "arrivals": {"rate_per_hour": rate_h},
                           "overflow": {"after": f"{after}s", "groups": ["backoffice"]}},
                  "email": {"kind": "async", "service_level": {"threshold": "24h", "target": 0.8},
                            "handle_time": {"dist": "exponential", "mean": "5min"},
                            "arrivals": {"rate_per_hour": 0}}},
        agents=[{"name": "chatters", "skills": ["chat"], "headcount": 3},
                {"name": "backoffice", "skills": ["email"], "headcount": 1}])
    sc = parse_scenario(data)
    ours = []
    for r in range(sc.replications):
        row = run_replication(sc, r).summary.iloc[0]
        ours.append({"abandon_rate": row["abandon_rate"], "asa_s": row["asa_s"],
                     "helped_share": row["overflowed"] / row["handled"]})
    ours = pd.DataFrame(ours)
    reference = pd.DataFrame([overflow_reference(rate_h / 3600, aht, patience, 3, 1, after, 100 * 3600, seed=100 + r)
                              for r in range(8)])
    for kpi in ("abandon_rate", "asa_s", "helped_share"):
        a, b = ours[kpi].to_numpy(), reference[kpi].to_numpy()
        va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
        dof = (va + vb) ** 2 / (va ** 2 / (a.size - 1) + vb ** 2 / (b.size - 1))  # Welch–Satterthwaite
        assert abs(a.mean() - b.mean()) <= stats.t.ppf(0.9995, dof) * math.sqrt(va + vb), (kpi, a.mean(), b.mean())
    assert 0.15 < ours["helped_share"].mean() < 0.35  # the helper does real work here: the check has teeth


def test_balking_follows_its_curve_given_the_announced_wait():
    """Two agents, no abandonment, a rising curve: the number who balk equals the sum over every
    customer who would have waited of curve((q + 1) × AHT / 2), with q recounted from the records
    (contacts queued at that moment), within 3.3 standard deviations of that Bernoulli sum."""
    aht = 180.0
    curve = [(0.0, 0.0), (300.0, 0.2), (900.0, 0.7)]
    sc = parse_scenario(scenario(
        duration="60h", interval="60min", replications=1, seed=3,
        channels={"voice": {"service_level": {"threshold": "20s", "target": 0.8},
                            "handle_time": {"dist": "exponential", "mean": f"{aht}s"},
                            "arrivals": {"rate_per_hour": 46},
                            "balking": {"points": [{"wait": f"{w}s", "probability": p} for w, p in curve]}}},
        agents=[{"name": "team", "skills": ["voice"], "headcount": 2}]))
    expected = variance = balked = 0.0
    for r in range(3):
        c = simulate(sc, r).contacts
        balk = (c["flags"] & BALKED) != 0
        left = np.where(np.isnan(c["answered"]), np.inf, c["answered"])
        waited = ~balk & (left > c["queued"])  # joined the queue: found both agents busy
        asked = np.flatnonzero(balk | waited)  # everyone told the expected wait
        t = c["arrival"][asked]
        queued_sorted, left_sorted = np.sort(c["queued"][waited]), np.sort(left[waited])
        ahead = np.searchsorted(queued_sorted, t, side="left") - np.searchsorted(left_sorted, t, side="right")
        p = np.interp((ahead + 1) * aht / 2, *zip(*curve))
        expected += p.sum()
        variance += (p * (1 - p)).sum()
        balked += balk.sum()
    assert expected > 300  # enough customers told a wait for the check to bite
    assert abs(balked - expected) <= Z * math.sqrt(variance), (balked, expected)


def test_callbacks_accepted_at_their_share_and_balk_at_a_flat_curve():
    """Overloaded voice with a flat balking curve (0.25) and callbacks offered when the expected wait
    passes 1 min, accepted by 40%: balked ÷ told-a-wait ≈ 0.25 and accepted ÷ offered ≈ 0.4 within
    binomial bounds; every callback offered went to a customer who stayed (did not balk)."""
    sc = parse_scenario(scenario(
        duration="24h", interval="60min", replications=1, seed=8,
        channels={"voice": {"service_level": {"threshold": "20s", "target": 0.8},
                            "handle_time": {"dist": "exponential", "mean": "3min"},
                            "patience": {"dist": "exponential", "mean": "4min"},
                            "arrivals": {"rate_per_hour": 140},
                            "balking": {"points": [{"wait": "0s", "probability": 0.25}]},
                            "callback": {"threshold": "1min", "accept": 0.4, "promise": "1h"}}},
        agents=[{"name": "team", "skills": ["voice"], "headcount": 6}]))
    c = simulate(sc, 0).contacts
    flags = c["flags"].astype(np.int64)
    fresh = c["origin"] == 0
    balk = (flags & BALKED) != 0
    left = np.where(np.isnan(c["answered"]), c["deadline"], c["answered"])
    told = fresh & (balk | (left > c["queued"]) | ((flags & CB_OFFERED) != 0))
    n, k = told.sum(), balk.sum()
    assert abs(k - 0.25 * n) <= Z * math.sqrt(n * 0.25 * 0.75), (k, n)
    offered, accepted = ((flags & CB_OFFERED) != 0).sum(), ((flags & CB_ACCEPTED) != 0).sum()
    assert offered > 300
    assert abs(accepted - 0.4 * offered) <= Z * math.sqrt(offered * 0.24), (accepted, offered)
    assert not (balk & ((flags & CB_OFFERED) != 0)).any()


def test_proactive_deflection_removes_its_share_from_its_start_date():
    """With common random numbers the run without notifications has exactly the contacts of the run
    with them plus the prevented ones, interval by interval; nothing is prevented before the start
    date, and from it the prevented share of `wismo` contacts is 0.4 within binomial bounds."""
    base = scenario(
        duration="3d", interval="60min", replications=2, seed=21,
        reasons={"wismo": {}, "returns": {}},
        channels={"voice": {**TINY_SCENARIO["channels"]["voice"], "reasons": {"wismo": 0.5, "returns": 0.5},
                            "arrivals": {"rate_per_hour": 120}},
                  "email": {"kind": "async", "service_level": {"threshold": "24h", "target": 0.8},
                            "handle_time": {"dist": "exponential", "mean": "5min"},
                            "arrivals": {"rate_per_hour": 60}, "reasons": {"wismo": 1}}},
        agents=[{"name": "team", "skills": ["voice", "email"], "headcount": 9}])
    with_notes = copy.deepcopy(base)
    with_notes["reasons"]["wismo"] = {"proactive": {"start": "2026-11-24", "deflect": 0.4, "channels": ["voice"]}}
    plain, noted = run_scenario(parse_scenario(base)), run_scenario(parse_scenario(with_notes))
    a, b = plain.intervals, noted.intervals
    assert (a["arrived"].to_numpy() == (b["arrived"] + b["prevented"]).to_numpy()).all()
    start = pd.to_datetime(b["interval_start"].str.slice(0, 19)) >= "2026-11-24"
    assert b.loc[~start, "prevented"].sum() == 0
    assert b.loc[b["channel"] == "email", "prevented"].sum() == 0  # channels: [voice] only
    reasons = noted.reasons.set_index(["channel", "reason"])
    # per replication counts after the start date: recount from the records for the binomial check
    organic = prevented = 0
    sc = parse_scenario(with_notes)
    for r in range(2):
        c = simulate(sc, r).contacts
        after = (c["arrival"] >= 86400) & (c["channel"] == 0) & (c["reason"] == 1) & (c["origin"] == 0)
        organic += after.sum()
        prevented += ((c["flags"][after] & PREVENTED) != 0).sum()
    assert abs(prevented - 0.4 * organic) <= Z * math.sqrt(organic * 0.24), (prevented, organic)
    assert reasons.loc[("voice", "wismo"), "prevented"] * 2 == prevented
    o = Outcomes(simulate(sc, 0))
    assert not ((o.flags & PREVENTED) != 0).any()  # prevented rows never reach the contact KPIs
