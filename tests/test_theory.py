"""The simulator against queueing theory: Erlang C, Erlang A, Little's law, M/G/c direction.

Each check runs ≥ 20 independent replications with fixed seeds and asserts the closed form
lies inside the 99% Student-t confidence interval of the replication means (the tolerance
comes from the simulation's own variability, not from a hand-picked epsilon).
"""

import numpy as np
import pytest
from scipy import stats

from sim import erlang
from sim.metrics import contact_outcomes, queue_at
from sim.replication import simulate
from sim.scenario import parse_scenario

REPS = 20


def mmc_scenario(c, rho, aht=180.0, patience=None, hours=None, warmup_h=1.0, handle=None, seed=2026):
    lam_h = rho * c / aht * 3600
    hours = hours or max(4.0, min(200.0, 60000 / lam_h))  # ≤ ~60k contacts, ≥ ~4000 service times
    channel = {
        "service_level": {"threshold": 20, "target": 0.8},
        "handle_time": handle or {"dist": "exponential", "mean": aht},
        "arrivals": {"rate_per_hour": lam_h},
    }
    if patience:
        channel["patience"] = {"dist": "exponential", "mean": patience}
    return parse_scenario({
        "name": f"M/M/{c}", "start": "2026-01-05T00:00:00+00:00", "duration": (hours + warmup_h) * 3600,
        "interval": "60min", "warmup": warmup_h * 3600, "seed": seed, "replications": REPS,
        "channels": {"voice": channel}, "agents": [{"name": "team", "skills": ["voice"], "headcount": c}],
    })


def replication_stats(scenario):
    """Per-replication P(wait>0), SL(20 s), ASA, abandonment, Little's law pieces (post warm-up)."""
    rows = []
    for r in range(scenario.replications):
        rec = simulate(scenario, r)
        out = contact_outcomes(rec)
        post = out[(out["arrival"] >= scenario.warmup) & (out["handled"] | out["abandoned"])]
        handled = post[post["handled"]]
        # time-average number waiting over [warmup, horizon], from queue length sampled each second
        grid = np.arange(scenario.warmup, scenario.horizon_s, 1.0)
        offered = out[out["offered"]]
        mean_queue = queue_at(grid, offered["queued"].to_numpy(), offered["left_queue"].to_numpy()).mean()
        rows.append({
            "p_wait": (handled["wait"] > 0).mean(),
            "sl": (handled["wait"] <= 20).sum() / len(post),
            "asa": handled["wait"].mean(),
            "abandon": post["abandoned"].mean(),
            "mean_queue": mean_queue,
            "mean_wait": post["wait"].mean(),
        })
    return {k: np.array([row[k] for row in rows]) for k in rows[0]}


def ci99(values):
    mean = values.mean()
    half = stats.t.ppf(0.995, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    return mean - half, mean + half


def assert_inside(values, truth, label):
    lo, hi = ci99(values)
    assert lo <= truth <= hi, f"{label}: closed form {truth:.5f} outside 99% CI [{lo:.5f}, {hi:.5f}]"


@pytest.mark.parametrize("c,rho", [(1, 0.7), (10, 0.85), (50, 0.95), (200, 0.98)])
def test_mmc_matches_erlang_c(c, rho):
    scenario = mmc_scenario(c, rho, warmup_h=2.0 if c < 200 else 1.0)
    a = rho * c
    got = replication_stats(scenario)
    assert_inside(got["p_wait"], erlang.erlang_c(c, a), "P(wait>0)")
    assert_inside(got["sl"], erlang.erlang_c_service_level(c, a, 180.0, 20.0), "SL(20 s)")
    assert_inside(got["asa"], erlang.erlang_c_asa(c, a, 180.0), "ASA")


@pytest.mark.parametrize("c,rho,patience", [(1, 0.9, 300.0), (11, 0.91, 300.0), (60, 1.1, 180.0), (150, 0.98, 600.0)])
def test_mmc_with_exponential_patience_matches_erlang_a(c, rho, patience):
    scenario = mmc_scenario(c, rho, patience=patience)
    truth = erlang.erlang_a(c, rho * c / 180.0, 180.0, patience, threshold_s=20.0)
    got = replication_stats(scenario)
    assert_inside(got["abandon"], truth.abandon_prob, "abandonment")
    assert_inside(got["sl"], truth.service_level, "SL(20 s)")
    assert_inside(got["asa"], truth.asa_s, "ASA of served")


def test_littles_law_mean_queue_equals_arrival_rate_times_mean_wait():
    """Queue length sampled every second vs the scenario's λ × the measured mean wait."""
    scenario = mmc_scenario(11, 0.95, patience=300.0, hours=12)
    got = replication_stats(scenario)
    lam = 0.95 * 11 / 180.0
    diff = got["mean_queue"] - lam * got["mean_wait"]
    assert_inside(diff, 0.0, "L_q − λW")


def test_lognormal_handle_times_move_waits_in_the_mg_c_direction():
    """Same mean, higher variability → longer waits; lower variability → shorter (M/G/c)."""
    asa = {}
    for label, sd in (("low", 60.0), ("high", 400.0)):
        handle = {"dist": "lognormal", "mean": 180.0, "sd": sd}
        asa[label] = replication_stats(mmc_scenario(10, 0.85, handle=handle, hours=80))["asa"]
    exponential = erlang.erlang_c_asa(10, 8.5, 180.0)
    assert ci99(asa["low"])[1] < exponential < ci99(asa["high"])[0]
