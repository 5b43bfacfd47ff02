"""Modelled CSAT and revenue at risk of issues: the formulas, shared by the KPIs and the CSAT fit.

Both the simulation (sim/journeys.py) and `peaksim calibrate` (calibrate/csat.py) describe an
issue by the same four features, computed by `features`, so a fitted coefficient means in the
model exactly what it meant in the export:

    resolved              1 if the issue was resolved, else 0
    extra_contacts        contacts the issue needed beyond the first
    late_first_response   1 if the first response (agent answer, bot or automation) came later than
                          the promise (the first channel's service-level threshold), or never came
    log_wait              ln(1 + total queue wait of the issue's contacts in minutes)

The score 1-5 follows an ordered logit (proportional odds): with x·β the features times the
coefficients, P(score <= k) = logistic(c_k − x·β) for the four cutpoints c_1 < … < c_4. A
customer is satisfied with a score of 4 or 5: P(satisfied) = logistic(x·β − c_3).
"""

from __future__ import annotations

import numpy as np

from .scenario_outcomes import FEATURES, RevenueRule, Satisfaction

DEFAULT = Satisfaction()
SATISFIED_FROM = 4  # scores 4 and 5 count as satisfied (the usual CSAT "top two boxes")


def expit(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """The logistic function 1 / (1 + e^−x), in place with `out` (numpy only: importing scipy.special
    would add 0.2 s and 8 MB to every run, the engine benchmark's margin)."""
    out = np.negative(x, out=out)
    with np.errstate(over="ignore"):  # e^x overflowing to inf gives the right limit, 0
        np.exp(out, out=out)
    out += 1.0
    return np.reciprocal(out, out=out)


def log_wait(wait_s: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """ln(1 + wait in minutes), in place when `out` is the wait array itself."""
    out = np.divide(wait_s, 60.0, out=out)
    return np.log1p(out, out=out)


def features(resolved, contacts, late, wait_s) -> dict[str, np.ndarray]:
    """The four CSAT features of issues as float arrays (see the module docstring)."""
    return {"resolved": np.asarray(resolved, dtype=float), "extra_contacts": np.asarray(contacts, dtype=float) - 1.0,
            "late_first_response": np.asarray(late, dtype=float),
            "log_wait": log_wait(np.asarray(wait_s, dtype=float).copy())}


def linear_predictor(model: Satisfaction, x: dict[str, np.ndarray]) -> np.ndarray:
    beta = model.coefficients
    return sum(getattr(beta, name) * np.asarray(x[name], dtype=float) for name in FEATURES)


def satisfied_probability(model: Satisfaction, eta: np.ndarray) -> np.ndarray:
    """P(score >= 4) from the linear predictor (in place when `eta` is a float array we own)."""
    owned = isinstance(eta, np.ndarray) and np.issubdtype(eta.dtype, np.floating)  # float32 stays float32
    eta = np.subtract(eta, model.cutpoints[2], out=eta if owned else None)
    return expit(eta, out=eta)


def score_probabilities(model: Satisfaction, eta: np.ndarray) -> np.ndarray:
    """P(score = 1..5) per issue, shape (n, 5), from the ordered logit."""
    eta = np.asarray(eta, dtype=float)[:, None]
    below = expit(np.asarray(model.cutpoints)[None, :] - eta)  # P(score <= k), k = 1..4
    cumulative = np.hstack([np.zeros((eta.shape[0], 1)), below, np.ones((eta.shape[0], 1))])
    return np.diff(cumulative, axis=1)


def expected_score(model: Satisfaction, eta: np.ndarray) -> np.ndarray:
    return score_probabilities(model, eta) @ np.arange(1, 6)


def lost_probability(rule: RevenueRule, given_up: np.ndarray, wait_s: np.ndarray) -> np.ndarray:
    """P(the customer buys elsewhere): `lost_if_given_up` for given-up issues, else
    `lost_after_wait` × (1 − 2^(−wait / half_wait))."""
    waited = rule.lost_after_wait * -np.expm1(-np.log(2.0) * np.asarray(wait_s, dtype=float) / rule.half_wait)
    return np.where(given_up, rule.lost_if_given_up, waited)
