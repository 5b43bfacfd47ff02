"""Analytic queueing baselines: Erlang B, Erlang C and Erlang A.

These closed forms are the classical way to staff a contact centre, and
peaksim uses them twice: as the staffing baseline the simulator is compared
with, and as the oracle its statistical tests check against.

All three describe ``c`` identical agents, Poisson arrivals at rate ``λ`` and
exponential handling times with mean ``AHT`` (rate ``μ = 1/AHT``). The offered
load is ``a = λ·AHT`` in Erlangs; times are in seconds.

* **Erlang B** (M/M/c/c): no queue, a caller who finds all agents busy is lost.
* **Erlang C** (M/M/c): an infinite FCFS queue and infinitely patient callers;
  only stable while ``a < c``.
* **Erlang A** (M/M/c+M, Garnett, Mandelbaum & Reiman 2002): like Erlang C but
  each waiting caller abandons after an exponential patience with mean
  ``patience_s`` (rate ``θ``). Abandonment keeps the queue stable at any load,
  which is why it is the model to compare a peak-season simulation with.

Erlang A is solved from its birth–death stationary distribution (birth ``λ``,
death ``min(n, c)·μ + max(n − c, 0)·θ``), computed in log space over the window
of states that carries all but ~1e-17 of the mass. By PASTA an arrival sees that
distribution. A caller with ``k`` callers ahead reaches an agent after the
offered wait ``V``, a sum of exponentials with rates ``cμ + jθ``, j = 0..k
(service or abandonment of someone ahead moves it up). Because those rates form
an arithmetic progression, ``exp(−θV)`` is exactly Beta(cμ/θ, k + 1), which
gives every per-state quantity in closed form:

* P(served | k) = E[exp(−θV)] = cμ / (cμ + (k + 1)θ);
* P(served, V ≤ T | k) = P(served | k) · P(V' ≤ T), where ``V'`` has rates
  ``cμ + jθ``, j = 1..k + 1 (the density ``exp(−θv)·f_V(v)`` is proportional to
  that of ``V'``), and P(V' ≤ T) is a regularized incomplete beta function;
* E[V · 1{served} | k] = P(served | k) · E[V'], E[V'] = Σ 1/(cμ + jθ).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from scipy.special import betainc, digamma, gammaln

_LOG_NEGLIGIBLE = 40.0  # states below exp(-40) ≈ 4e-18 of the mode are dropped
_MAX_STATES = 20_000_000


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(f'"{name}" must be an integer (got {value!r})')
    if value < minimum:
        raise ValueError(f'"{name}" must be >= {minimum} (got {value!r})')
    return int(value)


def _check_real(name: str, value, minimum: float, *, strict: bool = False,
                maximum: float | None = None, max_strict: bool = False,
                allow_inf: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or math.isnan(value):
        raise ValueError(f'"{name}" must be a number (got {value!r})')
    value = float(value)
    if math.isinf(value) and not (allow_inf and value > 0):
        raise ValueError(f'"{name}" must be finite (got {value!r})')
    if value < minimum or (strict and value == minimum):
        raise ValueError(f'"{name}" must be {">" if strict else ">="} {minimum} (got {value!r})')
    if maximum is not None and (value > maximum or (max_strict and value == maximum)):
        raise ValueError(f'"{name}" must be {"<" if max_strict else "<="} {maximum} (got {value!r})')
    return value


def _b_step(k: int, a: float, b: float) -> float:
    """One step of the stable recursion B(k) = a·B(k−1) / (k + a·B(k−1))."""
    return a * b / (k + a * b)


def _c_from_b(c: int, a: float, b: float) -> float:
    return 1.0 if a >= c else b / (1.0 - (a / c) * (1.0 - b))


def erlang_b(c: int, a: float) -> float:
    """Probability that an arrival finds all ``c`` agents busy and is lost."""
    c = _check_int("c", c, 0)
    a = _check_real("a", a, 0.0)
    b = 1.0
    for k in range(1, c + 1):
        b = _b_step(k, a, b)
    return b


def erlang_c(c: int, a: float) -> float:
    """P(wait > 0) in M/M/c; 1.0 when the queue is unstable (``a >= c``)."""
    c = _check_int("c", c, 1)
    a = _check_real("a", a, 0.0)
    return _c_from_b(c, a, erlang_b(c, a))


def erlang_c_service_level(c: int, a: float, aht_s: float, threshold_s: float) -> float:
    """Fraction of arrivals answered within ``threshold_s``; 0.0 if unstable."""
    c = _check_int("c", c, 1)
    a = _check_real("a", a, 0.0)
    aht_s = _check_real("aht_s", aht_s, 0.0, strict=True)
    threshold_s = _check_real("threshold_s", threshold_s, 0.0)
    if a >= c:
        return 0.0
    return 1.0 - erlang_c(c, a) * math.exp(-(c - a) * threshold_s / aht_s)


def erlang_c_asa(c: int, a: float, aht_s: float) -> float:
    """Mean wait of all arrivals (all are served) in seconds; inf if unstable."""
    c = _check_int("c", c, 1)
    a = _check_real("a", a, 0.0)
    aht_s = _check_real("aht_s", aht_s, 0.0, strict=True)
    if a >= c:
        return math.inf
    return erlang_c(c, a) * aht_s / (c - a)


def erlang_c_agents(a: float, aht_s: float, threshold_s: float, target_sl: float,
                    max_agents: int = 100_000) -> int:
    """Fewest agents ``c > a`` whose Erlang C service level reaches ``target_sl``.

    Zero load needs zero agents. B is advanced one agent at a time, so the
    whole search costs O(c) rather than O(c²).
    """
    a = _check_real("a", a, 0.0)
    aht_s = _check_real("aht_s", aht_s, 0.0, strict=True)
    threshold_s = _check_real("threshold_s", threshold_s, 0.0)
    target_sl = _check_real("target_sl", target_sl, 0.0, maximum=1.0, max_strict=True)
    max_agents = _check_int("max_agents", max_agents, 1)
    if a == 0.0:
        return 0
    b = 1.0
    for c in range(1, max_agents + 1):
        b = _b_step(c, a, b)
        if c > a:
            sl = 1.0 - _c_from_b(c, a, b) * math.exp(-(c - a) * threshold_s / aht_s)
            if sl >= target_sl:
                return c
    raise ValueError(f'no staffing up to "max_agents"={max_agents} meets '
                     f'"target_sl"={target_sl} (load a={a})')


@dataclass(frozen=True)
class ErlangAResult:
    """Steady-state KPIs of M/M/c+M.

    ``service_level`` is the fraction of *all* arrivals answered within the
    threshold, i.e. handled-within-threshold ÷ (handled + abandoned): callers
    who abandon, even quickly, count against it. ``asa_s`` is the mean wait of
    callers who are answered; ``mean_wait_all_s`` also counts the time
    abandoners waited (E[queue length] / λ by Little's law).
    """

    p_wait: float
    abandon_prob: float
    asa_s: float
    mean_wait_all_s: float
    service_level: float
    occupancy: float


def erlang_a(c: int, arrival_rate_per_s: float, aht_s: float, patience_s: float | None,
             threshold_s: float = 0.0) -> ErlangAResult:
    """Erlang A KPIs; ``patience_s`` None or inf gives Erlang C (no abandonment)."""
    c = _check_int("c", c, 0)
    lam = _check_real("arrival_rate_per_s", arrival_rate_per_s, 0.0)
    aht_s = _check_real("aht_s", aht_s, 0.0, strict=True)
    if patience_s is not None:
        patience_s = _check_real("patience_s", patience_s, 0.0, strict=True, allow_inf=True)
    threshold_s = _check_real("threshold_s", threshold_s, 0.0)
    if lam == 0.0:
        return ErlangAResult(0.0, 0.0, 0.0, 0.0, 1.0, 0.0)
    a = lam * aht_s
    if patience_s is None or math.isinf(patience_s):
        if a >= c:
            return ErlangAResult(1.0, 0.0, math.inf, math.inf, 0.0, 1.0 if c else 0.0)
        asa = erlang_c_asa(c, a, aht_s)
        return ErlangAResult(erlang_c(c, a), 0.0, asa, asa,
                             erlang_c_service_level(c, a, aht_s, threshold_s), a / c)
    if c == 0:
        return ErlangAResult(1.0, 1.0, math.inf, patience_s, 0.0, 0.0)
    return _erlang_a_birth_death(c, lam, 1.0 / aht_s, 1.0 / patience_s, threshold_s)


def _erlang_a_birth_death(c: int, lam: float, mu: float, theta: float, t: float) -> ErlangAResult:
    """Average the per-state closed forms (module docstring) over the states an
    arrival sees, keeping only the window around the mode that carries mass."""
    a, cmu = lam / mu, c * mu
    b = cmu / theta

    def log_weight(n):
        """Unnormalized log π_n; the sequence is log-concave in n (unimodal)."""
        n = np.asarray(n, dtype=float)
        j = np.maximum(n - c, 0.0)
        low = np.minimum(n, c) * math.log(a) - gammaln(np.minimum(n, c) + 1)
        return low + j * math.log(lam / theta) - gammaln(b + j + 1) + gammaln(b + 1)

    mode = math.floor(a) if a < c else c + math.floor((lam - cmu) / theta)
    peak = float(log_weight(mode))

    def edge(direction: int) -> int:
        step = 1
        while True:
            n = mode + direction * step
            if n <= 0:
                return 0
            if log_weight(n) < peak - _LOG_NEGLIGIBLE:
                return n
            step *= 2

    lo, hi = edge(-1), edge(+1)
    if hi - lo > _MAX_STATES:
        raise ValueError(f'"patience_s" is too long for this load to solve Erlang A '
                         f'({hi - lo} states); use patience_s=None for Erlang C')
    n = np.arange(lo, hi + 1)
    w = np.exp(log_weight(n) - peak)
    p = w / w.sum()

    waits = n >= c
    pq, k = p[waits], (n[waits] - c).astype(float)
    p_served = cmu / (cmu + (k + 1) * theta)
    p_abandon = (k + 1) * theta / (cmu + (k + 1) * theta)  # not 1 − p_served: keeps precision
    within = betainc(k + 1, b + 1, -math.expm1(-theta * t)) if t > 0 else 0.0
    mean_v_shifted = (digamma(b + k + 2) - digamma(b + 1)) / theta

    p_wait = float(pq.sum())
    abandon = float(np.sum(pq * p_abandon))
    served_wait = float(np.sum(pq * p_served * mean_v_shifted))
    return ErlangAResult(
        p_wait=p_wait,
        abandon_prob=abandon,
        asa_s=served_wait / (1.0 - abandon),
        mean_wait_all_s=float(np.sum(pq * k)) / lam,
        service_level=float(p[~waits].sum() + np.sum(pq * p_served * within)),
        occupancy=float(np.sum(p[~waits] * n[~waits]) / c + p_wait),
    )


def erlang_a_agents(arrival_rate_per_s: float, aht_s: float, patience_s: float | None,
                    threshold_s: float, target_sl: float, max_abandon: float | None = None,
                    max_agents: int = 100_000) -> int:
    """Fewest agents whose Erlang A service level (over all arrivals) reaches
    ``target_sl`` and, if given, whose abandonment is at most ``max_abandon``.

    Both KPIs improve monotonically with staffing, so a doubling search
    followed by bisection finds the answer in O(log c) model solves.
    """
    lam = _check_real("arrival_rate_per_s", arrival_rate_per_s, 0.0)
    aht_s = _check_real("aht_s", aht_s, 0.0, strict=True)
    threshold_s = _check_real("threshold_s", threshold_s, 0.0)
    target_sl = _check_real("target_sl", target_sl, 0.0, maximum=1.0, max_strict=True)
    if max_abandon is not None:
        max_abandon = _check_real("max_abandon", max_abandon, 0.0, maximum=1.0)
    max_agents = _check_int("max_agents", max_agents, 1)
    if patience_s is not None:
        patience_s = _check_real("patience_s", patience_s, 0.0, strict=True, allow_inf=True)

    def meets(c: int) -> bool:
        r = erlang_a(c, lam, aht_s, patience_s, threshold_s)
        return r.service_level >= target_sl and (max_abandon is None or r.abandon_prob <= max_abandon)

    if meets(0):
        return 0
    lo, hi = 0, min(max(1, math.ceil(lam * aht_s)), max_agents)
    while not meets(hi):
        if hi == max_agents:
            raise ValueError(f'no staffing up to "max_agents"={max_agents} meets '
                             f'"target_sl"={target_sl}, "max_abandon"={max_abandon}')
        lo, hi = hi, min(2 * hi, max_agents)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if meets(mid) else (mid, hi)
    return hi
