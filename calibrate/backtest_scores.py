"""How good a backtest's predictions are: the replay's tallies, the per-interval Erlang-A baseline, and
the errors with their two yardsticks (see :mod:`calibrate.backtest` for what each means).

* :func:`simulate_tallies`: pooled predictions per reporting interval over the replications, and
  one further replication as a stand-in observation (the exact-model line);
* :func:`erlang_a_baseline`: Erlang A per interval with fractional agents;
* :func:`summary_rows`: offered-weighted MAE and bias of peaksim and Erlang A, the binomial
  sampling floor and the exact-model line, per metric;
* :func:`daily_errors`: the same error over whole days, where sampling noise is small.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["simulate_tallies", "erlang_a_baseline", "summary_rows", "daily_errors", "METRICS"]

METRICS = {"abandon_rate": "abandonment rate per interval", "asa_s": "ASA (s) per interval"}


def summary_rows(inc: pd.DataFrame, own: pd.DataFrame, min_offered: int) -> list:
    """One row per metric over the included intervals ``inc`` (``own``: the further replication's
    rates, same index)."""
    weights = inc["offered"].astype(float)
    rows = []
    for metric, label in METRICS.items():
        observed = f"observed_{metric}"
        rows.append({
            "metric": metric,
            "peaksim_mae": _wmae(inc, f"predicted_{metric}", observed, weights),
            "erlang_a_mae": _wmae(inc, f"erlang_a_{metric}", observed, weights),
            "peaksim_bias": _bias(inc, f"predicted_{metric}", observed, weights),
            "erlang_a_bias": _bias(inc, f"erlang_a_{metric}", observed, weights),
            "noise_floor_mae": (_binomial_floor(inc["offered"].to_numpy(), inc["predicted_abandon_rate"].to_numpy(),
                                                weights.to_numpy()) if metric == "abandon_rate" else math.nan),
            "replication_noise_mae": _wmae(inc.assign(own=own[metric]), f"predicted_{metric}", "own", weights),
            "intervals": int(len(inc)), "offered": int(weights.sum()),
            "description": f"offered-weighted mean absolute error of the {label} over intervals with "
                           f"≥ {min_offered} offered calls",
        })
    return rows


def simulate_tallies(scenario, replications, n, width):
    """Per reporting interval (by queue entry): pooled predictions over ``replications`` and, from
    one further replication, a stand-in "observation" that the model itself generated."""
    from sim.metrics import Outcomes
    from sim.replication import simulate

    def tally(o):
        k = np.minimum((o.queued[o.offered] // width).astype(np.int64), n - 1)
        ab, ha, w = o.abandoned[o.offered], o.handled[o.offered], o.wait[o.offered]
        return np.stack([np.bincount(k, minlength=n)[:n], np.bincount(k[ab], minlength=n)[:n],
                         np.bincount(k[ha], minlength=n)[:n], np.bincount(k[ha], weights=w[ha], minlength=n)[:n]])

    pooled = sum(tally(Outcomes(simulate(scenario, r))) for r in range(replications))
    own = tally(Outcomes(simulate(scenario, replications)))
    return _rates(pooled), _rates(own)
def _rates(t):
    offered, abandoned, served, wait = t
    with np.errstate(invalid="ignore", divide="ignore"):
        return (np.where(offered > 0, abandoned / offered, np.nan), np.where(served > 0, wait / served, np.nan))
def erlang_a_baseline(offered, agents, interval_s, aht_s, patience_s, fractional):
    """Per interval (``aht_s`` one value, or one per interval); fractional agents
    (``fractional=True``) mix the results for ⌊c⌋ and ⌈c⌉ agents by the fractional part, as if
    the extra agent were there for that share of the time."""
    from sim.erlang import erlang_a

    rate, asa = np.full(len(offered), np.nan), np.full(len(offered), np.nan)
    aht_of = np.broadcast_to(np.asarray(aht_s, dtype=float), (len(offered),))
    patience_of = np.broadcast_to(np.asarray(patience_s, dtype=float), (len(offered),))
    for k, (n, c) in enumerate(zip(offered, agents)):
        if n <= 0:
            continue
        lo, frac = (int(np.floor(c + 1e-9)), c - np.floor(c + 1e-9)) if fractional else (int(c), 0.0)
        parts = [(1.0 - frac, lo)] + ([(frac, lo + 1)] if frac > 1e-9 else [])
        ab = served = wait = 0.0
        for weight, agents_k in parts:
            res = erlang_a(agents_k, n / interval_s, float(aht_of[k]), float(patience_of[k]))
            ab += weight * res.abandon_prob
            if res.abandon_prob < 1.0:
                served += weight * (1.0 - res.abandon_prob)
                wait += weight * (1.0 - res.abandon_prob) * res.asa_s
        rate[k], asa[k] = ab, (wait / served if served > 0 else np.nan)
    return rate, asa
def _wmae(frame, predicted, observed, weights):
    err = (frame[predicted] - frame[observed]).abs()
    ok = np.isfinite(err.to_numpy(dtype=float))
    w = weights[ok]
    return float((err[ok] * w).sum() / w.sum()) if w.sum() > 0 else math.nan
def _bias(frame, predicted, observed, weights):
    err = frame[predicted] - frame[observed]
    ok = np.isfinite(err.to_numpy(dtype=float))
    return float((err[ok] * weights[ok]).sum() / weights[ok].sum()) if weights[ok].sum() > 0 else math.nan
def _binomial_floor(offered, rate, weights) -> float:
    """Offered-weighted min over q of E|X/n − q| for X ~ Binomial(n, p): the error that *any*
    predictor of an interval's abandonment rate still makes from sampling noise alone, if each
    offered call abandons independently with the probability p the model predicts. The best
    constant q for an absolute error is the median of X/n (slightly below the E|X/n − p| of a
    predictor that states p itself)."""
    from scipy.stats import binom

    total = wsum = 0.0
    for n, p, w in zip(offered.astype(int), rate, weights):
        if n <= 0 or not np.isfinite(p):
            continue
        k = np.arange(n + 1)
        pmf = binom.pmf(k, n, p)
        median = k[min(np.searchsorted(np.cumsum(pmf), 0.5), n)] / n
        total += w * float(np.sum(pmf * np.abs(k / n - median)))
        wsum += w
    return total / wsum if wsum else math.nan
def daily_errors(result) -> dict:
    """Offered-weighted MAE of *daily* abandonment (the included intervals summed per local
    date): ``{"peaksim", "erlang_a", "days"}``. Sampling noise is small over a whole day, so
    this measures what the hourly error cannot separate from noise: systematic misses."""
    f = result.intervals[result.intervals["included"]]
    day = pd.DatetimeIndex(f["interval_start"]).date
    offered = f["offered"].astype(float)
    sums = pd.DataFrame({"offered": offered, "observed": f["observed_abandon_rate"] * offered,
                         "peaksim": f["predicted_abandon_rate"] * offered,
                         "erlang_a": f["erlang_a_abandon_rate"] * offered}).groupby(day).sum()
    out = {m: float((sums[m] - sums["observed"]).abs().sum() / sums["offered"].sum()) if len(sums) else math.nan
           for m in ("peaksim", "erlang_a")}
    return {**out, "days": int(len(sums))}