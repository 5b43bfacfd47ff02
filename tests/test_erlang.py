"""Tests for sim.erlang: published values, textbook formulas, independent
matrix solves of M/M/c+M, a seeded queue simulation and property tests."""

import heapq
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy.linalg import expm
from scipy.stats import poisson

from sim.erlang import (
    ErlangAResult,
    erlang_a,
    erlang_a_agents,
    erlang_b,
    erlang_c,
    erlang_c_agents,
    erlang_c_asa,
    erlang_c_service_level,
)

# Published check: 100 calls per 30 min, AHT 3 min, 20 s answer target.
PUB_RATE = 100 / 1800
PUB_AHT = 180.0
PUB_LOAD = PUB_RATE * PUB_AHT  # 10 Erlangs


def test_published_erlang_c_example():
    assert erlang_c_agents(PUB_LOAD, PUB_AHT, 20, 0.8) == 14
    assert erlang_c(14, PUB_LOAD) == pytest.approx(0.174, abs=0.002)
    assert erlang_c_service_level(14, PUB_LOAD, PUB_AHT, 20) == pytest.approx(0.888, abs=0.002)
    assert erlang_c_service_level(13, PUB_LOAD, PUB_AHT, 20) < 0.8


# ---------------------------------------------------------------- Erlang B / C

def _direct_b(c, a):
    terms = [Fraction(a) ** k / math.factorial(k) for k in range(c + 1)]
    return terms[-1] / sum(terms)


def _direct_c(c, a):
    tail = Fraction(a) ** c / math.factorial(c) * Fraction(c) / (c - Fraction(a))
    return tail / (sum(Fraction(a) ** k / math.factorial(k) for k in range(c)) + tail)


@pytest.mark.parametrize("c", [0, 1, 2, 5, 12])
@pytest.mark.parametrize("a", [0.0, 0.5, 3.25, 11.0])
def test_erlang_b_recursion_matches_direct_formula(c, a):
    assert erlang_b(c, a) == pytest.approx(float(_direct_b(c, a)), rel=1e-12)


@pytest.mark.parametrize("c, a", [(1, 0.5), (3, 2.0), (8, 7.5), (14, 10.0), (20, 3.0)])
def test_erlang_c_matches_textbook_formulas(c, a):
    b = float(_direct_b(c, a))
    rho = a / c
    assert erlang_c(c, a) == pytest.approx(b / (1 - rho * (1 - b)), rel=1e-12)
    assert erlang_c(c, a) == pytest.approx(float(_direct_c(c, a)), rel=1e-12)
    assert erlang_c_asa(c, a, 60.0) == pytest.approx(erlang_c(c, a) * 60.0 / (c - a))


def test_large_systems_are_stable():
    b = erlang_b(1000, 980.0)
    assert b == pytest.approx(poisson.pmf(1000, 980.0) / poisson.cdf(1000, 980.0), rel=1e-9)
    c = erlang_c(1000, 980.0)
    assert math.isfinite(c) and 0.0 < c < 1.0
    assert 0.0 < erlang_c_service_level(1000, 980.0, 300, 20) < 1.0
    assert erlang_c_agents(980.0, 300, 20, 0.8) > 980


def test_unstable_erlang_c():
    assert erlang_c(10, 10.0) == 1.0
    assert erlang_c(10, 12.0) == 1.0
    assert erlang_c_service_level(10, 12.0, 180, 20) == 0.0
    assert erlang_c_asa(10, 10.0, 180) == math.inf


def test_zero_load_needs_no_agents():
    assert erlang_c_agents(0.0, 180, 20, 0.8) == 0
    assert erlang_a_agents(0.0, 180, 60, 20, 0.8) == 0


@pytest.mark.parametrize("call, match", [
    (lambda: erlang_c(0, 1.0), r'"c" must be >= 1 \(got 0\)'),
    (lambda: erlang_b(-1, 1.0), r'"c" must be >= 0 \(got -1\)'),
    (lambda: erlang_b(2.5, 1.0), r'"c" must be an integer \(got 2.5\)'),
    (lambda: erlang_c(3, -1.0), r'"a" must be >= 0.0 \(got -1.0\)'),
    (lambda: erlang_c(3, float("nan")), r'"a" must be a number'),
    (lambda: erlang_c_asa(3, 1.0, 0), r'"aht_s" must be > 0.0 \(got 0.0\)'),
    (lambda: erlang_c_service_level(3, 1.0, 60, -5), r'"threshold_s" must be >= 0.0'),
    (lambda: erlang_c_agents(5.0, 60, 20, 1.0), r'"target_sl" must be < 1.0 \(got 1.0\)'),
    (lambda: erlang_c_agents(5.0, 60, 20, 0.8, max_agents=5), r'"max_agents"=5'),
    (lambda: erlang_a(2, -0.1, 60, 30), r'"arrival_rate_per_s" must be >= 0.0'),
    (lambda: erlang_a(2, 0.1, 60, 0), r'"patience_s" must be > 0.0 \(got 0.0\)'),
    (lambda: erlang_a_agents(0.1, 60, 30, 20, 0.8, max_abandon=1.5), r'"max_abandon" must be <= 1.0'),
])
def test_bad_input_names_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ---------------------------------------------------------------- Erlang A

def _reference_erlang_a(c, lam, aht, patience, t, n_max=400):
    """Independent M/M/c+M solve: truncated generator for the stationary law,
    and an absorbing CTMC for a tagged caller (k ahead → served / abandoned)."""
    mu, theta = 1 / aht, 1 / patience
    death = np.array([min(n, c) * mu + max(n - c, 0) * theta for n in range(n_max + 1)])
    q = np.diag(np.full(n_max, lam), 1) + np.diag(death[1:], -1)
    q -= np.diag(q.sum(axis=1))
    lhs = np.vstack([q.T, np.ones(n_max + 1)])
    pi = np.linalg.lstsq(lhs, np.r_[np.zeros(n_max + 1), 1.0], rcond=None)[0]

    k_max = n_max - c
    ahead = np.arange(k_max + 1)
    s = np.diag(-(c * mu + ahead * theta + theta)) + np.diag(c * mu + ahead[1:] * theta, -1)
    to_served = np.zeros(k_max + 1)
    to_served[0] = c * mu
    augmented = np.zeros((k_max + 2, k_max + 2))
    augmented[:-1, :-1], augmented[:-1, -1] = s, to_served
    served_by_t = expm(augmented * t)[:-1, -1]
    s_inv = np.linalg.inv(s)
    p_served = -s_inv @ to_served
    served_wait = s_inv @ s_inv @ to_served

    pq = pi[c:]
    idle = pi[:c]
    abandon = pq @ (1 - p_served)
    return ErlangAResult(
        p_wait=pq.sum(),
        abandon_prob=abandon,
        asa_s=(pq @ served_wait) / (1 - abandon),
        mean_wait_all_s=(pq @ ahead) / lam,
        service_level=idle.sum() + pq @ served_by_t,
        occupancy=(idle @ np.arange(c)) / c + pq.sum(),
    )


@pytest.mark.parametrize("c, lam, aht, patience, t", [
    (1, 1 / 60, 90.0, 120.0, 30.0),   # M/M/1+M, overloaded without abandonment
    (1, 1 / 200, 90.0, 45.0, 10.0),   # M/M/1+M, light load
    (3, 3 / 100, 100.0, 60.0, 20.0),  # critically loaded
    (5, 1 / 30, 120.0, 300.0, 60.0),
])
def test_erlang_a_matches_independent_matrix_solve(c, lam, aht, patience, t):
    got = erlang_a(c, lam, aht, patience, t)
    ref = _reference_erlang_a(c, lam, aht, patience, t)
    for field in ErlangAResult.__dataclass_fields__:
        assert getattr(got, field) == pytest.approx(getattr(ref, field), rel=1e-7), field


def _simulate_fcfs_abandonment(c, lam, aht, patience, t, n, seed):
    """M/M/c+M by the FCFS recursion: a caller's offered wait depends only on
    the earlier callers who were served; it is served if patience outlasts it."""
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(1 / lam, n))
    services = rng.exponential(aht, n)
    patiences = rng.exponential(patience, n)
    free = [0.0] * c
    served = np.zeros(n, bool)
    waits = np.zeros(n)
    for i in range(n):
        offered = max(free[0] - arrivals[i], 0.0)
        if offered <= patiences[i]:
            served[i], waits[i] = True, offered
            heapq.heapreplace(free, arrivals[i] + offered + services[i])
    return served, waits


def test_erlang_a_matches_seeded_queue_simulation():
    c, lam, aht, patience, t = 2, 1 / 40, 90.0, 60.0, 20.0
    served, waits = _simulate_fcfs_abandonment(c, lam, aht, patience, t, 200_000, seed=7)
    served, waits = served[2000:], waits[2000:]
    batches = 40
    kpis = {
        "abandon_prob": ~served,
        "service_level": served & (waits <= t),
    }
    exact = erlang_a(c, lam, aht, patience, t)
    for field, indicator in kpis.items():
        means = np.array([b.mean() for b in np.array_split(indicator.astype(float), batches)])
        se = means.std(ddof=1) / math.sqrt(batches)
        assert abs(means.mean() - getattr(exact, field)) < 4 * se, field
    asa = np.array([w[s].mean() for w, s in zip(np.array_split(waits, batches),
                                                  np.array_split(served, batches))])
    assert abs(asa.mean() - exact.asa_s) < 4 * asa.std(ddof=1) / math.sqrt(batches)


def test_erlang_a_without_abandonment_is_erlang_c():
    a = PUB_LOAD
    for patience in (None, math.inf):
        r = erlang_a(14, PUB_RATE, PUB_AHT, patience, 20)
        assert r.p_wait == erlang_c(14, a)
        assert r.service_level == erlang_c_service_level(14, a, PUB_AHT, 20)
        assert r.asa_s == r.mean_wait_all_s == erlang_c_asa(14, a, PUB_AHT)
        assert r.abandon_prob == 0.0 and r.occupancy == pytest.approx(a / 14)
    assert erlang_a(9, PUB_RATE, PUB_AHT, None, 20).service_level == 0.0
    assert erlang_a_agents(PUB_RATE, PUB_AHT, None, 20, 0.8) == 14


def test_erlang_a_with_huge_patience_approaches_erlang_c():
    r = erlang_a(14, PUB_RATE, PUB_AHT, 1e7, 20)
    assert r.p_wait == pytest.approx(erlang_c(14, PUB_LOAD), rel=1e-5)
    assert r.service_level == pytest.approx(erlang_c_service_level(14, PUB_LOAD, PUB_AHT, 20), rel=1e-5)
    assert r.asa_s == pytest.approx(erlang_c_asa(14, PUB_LOAD, PUB_AHT), rel=1e-4)
    assert r.abandon_prob < 1e-5
    big = erlang_a(1000, 980 / 300, 300, 1e9, 20)
    assert big.p_wait == pytest.approx(erlang_c(1000, 980.0), rel=1e-5)


def test_erlang_a_degenerate_staffing():
    r = erlang_a(0, 0.1, 60, 30, 20)
    assert (r.p_wait, r.abandon_prob, r.service_level, r.occupancy) == (1.0, 1.0, 0.0, 0.0)
    assert r.mean_wait_all_s == 30 and r.asa_s == math.inf
    assert erlang_a(3, 0.0, 60, 30, 20) == ErlangAResult(0.0, 0.0, 0.0, 0.0, 1.0, 0.0)


def test_erlang_a_is_stable_for_large_overloaded_centres():
    r = erlang_a(2000, 1.3 * 2000 / 300, 300, 90, 20)
    values = [getattr(r, f) for f in ErlangAResult.__dataclass_fields__]
    assert all(math.isfinite(v) for v in values)
    assert 0.2 < r.abandon_prob < 0.3 and 0.99 < r.occupancy <= 1.0


def test_erlang_a_agents_respects_abandonment_cap():
    without_cap = erlang_a_agents(PUB_RATE, PUB_AHT, 60, 20, 0.5)
    with_cap = erlang_a_agents(PUB_RATE, PUB_AHT, 60, 20, 0.5, max_abandon=0.01)
    assert with_cap > without_cap
    assert erlang_a(with_cap, PUB_RATE, PUB_AHT, 60, 20).abandon_prob <= 0.01
    assert erlang_a(with_cap - 1, PUB_RATE, PUB_AHT, 60, 20).abandon_prob > 0.01


def test_staffing_searches_accept_a_target_met_exactly():
    exact_c = erlang_c_service_level(14, PUB_LOAD, PUB_AHT, 20)
    assert erlang_c_agents(PUB_LOAD, PUB_AHT, 20, exact_c) == 14
    exact_a = erlang_a(12, PUB_RATE, PUB_AHT, 60, 20).service_level
    assert erlang_a_agents(PUB_RATE, PUB_AHT, 60, 20, exact_a) == 12


# ---------------------------------------------------------------- properties

loads = st.floats(0.01, 300.0)
agents = st.integers(1, 400)


@given(c=agents, a=loads)
def test_erlang_c_is_a_probability_decreasing_in_agents(c, a):
    now, more = erlang_c(c, a), erlang_c(c + 1, a)
    assert 0.0 <= more <= now <= 1.0
    if c > a and now > 1e-12:
        assert more < now


@settings(deadline=None)
@given(a=loads, aht=st.floats(10, 1000), t=st.floats(0, 120), target=st.floats(0.05, 0.99))
def test_erlang_c_agents_is_the_fewest_meeting_target(a, aht, t, target):
    c = erlang_c_agents(a, aht, t, target)
    assert c > a
    assert erlang_c_service_level(c, a, aht, t) >= target
    if c - 1 >= 1:
        assert erlang_c_service_level(c - 1, a, aht, t) < target


erlang_a_inputs = dict(
    c=st.integers(1, 150),
    lam=st.floats(1e-3, 0.5),
    aht=st.floats(30, 600),
    patience=st.floats(5, 2000),
    t=st.floats(0, 120),
)


@settings(deadline=None, max_examples=60)
@given(**erlang_a_inputs)
def test_erlang_a_conservation_identities(c, lam, aht, patience, t):
    r = erlang_a(c, lam, aht, patience, t)
    # Abandonment with exponential patience: λ·P(abandon) = θ·E[queue] = θ·λ·E[wait].
    assert r.abandon_prob == pytest.approx(r.mean_wait_all_s / patience, rel=1e-9, abs=1e-15)
    # Busy agents = load actually handled.
    assert r.occupancy * c == pytest.approx(lam * aht * (1 - r.abandon_prob), rel=1e-9, abs=1e-12)
    assert 0.0 <= r.service_level <= 1.0 - r.abandon_prob + 1e-12
    assert 1.0 - r.p_wait <= r.service_level + 1e-12


@settings(deadline=None, max_examples=60)
@given(**erlang_a_inputs)
def test_erlang_a_improves_with_staffing(c, lam, aht, patience, t):
    now, more = erlang_a(c, lam, aht, patience, t), erlang_a(c + 1, lam, aht, patience, t)
    assert more.service_level >= now.service_level - 1e-12
    assert more.abandon_prob <= now.abandon_prob + 1e-12


@settings(deadline=None, max_examples=40)
@given(lam=st.floats(1e-3, 0.5), aht=st.floats(30, 600), patience=st.floats(5, 2000),
       t=st.floats(0, 120), target=st.floats(0.05, 0.95))
def test_erlang_a_agents_is_the_fewest_meeting_target(lam, aht, patience, t, target):
    c = erlang_a_agents(lam, aht, patience, t, target)
    assert erlang_a(c, lam, aht, patience, t).service_level >= target
    assert erlang_a(c - 1, lam, aht, patience, t).service_level < target
