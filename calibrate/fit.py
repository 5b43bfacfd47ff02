"""Fit handle-time and patience distributions with ``scipy.stats``, choosing the family by AIC.

Why these choices:

* **Location fixed at 0.** Durations start at zero; a free location lets the optimiser shift the
  distribution onto the smallest observation, which fits last year's minimum rather than the
  process and breaks the scenario's two-parameter (mean/sd or shape/scale) form.
* **AIC, not the KS p-value, picks the family.** With thousands of contacts every family is
  "rejected" by KS; AIC ranks them by likelihood with a penalty per parameter. KS statistics are
  still reported as a distance (their p-values are optimistic because parameters were estimated
  from the same data, and tied integer seconds inflate the statistic).
* **Patience is censored.** A served customer who waited 40 s tells us only that their patience
  exceeded 40 s. The mean wait of those who abandoned measures the *impatient* customers and is
  biased low; it is reported only for contrast. The likelihood uses abandonments as events and
  served waits as right-censored (``scipy.stats.CensoredData``); Kaplan–Meier (``scipy.stats.ecdf``)
  is the model-free check.
* **Too little data is an error** (:class:`FitError`) rather than a confident nonsense fit.

Values are divided by their median before fitting (all four families are scale families, so this
changes nothing but the optimiser's conditioning) and reported in seconds.
"""
from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["FitError", "DurationFit", "PatienceFit", "fit_duration", "fit_patience", "SCENARIO_NAMES"]

SCENARIO_NAMES = {"lognorm": "lognormal", "gamma": "gamma", "weibull_min": "weibull", "expon": "exponential"}


class FitError(ValueError):
    """A distribution cannot be fitted responsibly (too little data, or every candidate failed)."""


def _check_candidates(candidates, func):
    bad = [c for c in candidates if c not in SCENARIO_NAMES]
    if bad or not candidates:
        raise ValueError(f"The 'candidates' parameter of {func} must be a non-empty subset of "
                         f"{tuple(SCENARIO_NAMES)}. Got {tuple(candidates)!r} instead.")


def _row(name, params, loglik):
    """One candidate's table row: shape/scale (NaN shape for expon), mean/sd, AIC with loc fixed."""
    dist = getattr(stats, name)(*params)
    k = len(params) - 1  # loc is fixed, not estimated
    return {"candidate": name, "dist": SCENARIO_NAMES[name], "k": k, "loglik": loglik,
            "aic": 2 * k - 2 * loglik, "shape": params[0] if len(params) == 3 else np.nan,
            "scale": params[-1], "mean": dist.mean(), "sd": dist.std(), "params": tuple(params)}


def _scenario(name, params) -> dict:
    dist = getattr(stats, name)(*params)
    if name == "weibull_min":
        return {"dist": "weibull", "shape": float(params[0]), "scale": float(params[-1])}
    if name == "expon":
        return {"dist": "exponential", "mean": float(params[-1])}
    return {"dist": SCENARIO_NAMES[name], "mean": float(dist.mean()), "sd": float(dist.std())}


@contextlib.contextmanager
def _quiet():
    """Optimisers on awkward data warn (overflow, precision loss) on stderr; a failed or degenerate
    candidate is reported in the fit table instead, so the planner's terminal keeps one line per problem."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


def _no_spread(values, what):
    """Identical values (a fixed tariff time, a minute-rounded log) leave nothing to fit: the optimisers
    return a zero-width distribution the scenario refuses (sd 0), so say so instead."""
    if len(values) and float(np.min(values)) == float(np.max(values)):
        raise FitError(f"no spread: {what} {float(values[0]):g} s, so no distribution can be fitted; "
                       f"give a deterministic value in the scenario instead")


def _drop_degenerate(rows):
    """A candidate with a zero or non-finite mean or sd counts as failed: the scenario would refuse it."""
    for row in rows:
        mean, sd = row.get("mean", np.nan), row.get("sd", np.nan)
        if np.isfinite(row.get("aic", np.nan)) and not (np.isfinite(mean) and np.isfinite(sd) and mean > 0 and sd > 0):
            row.update(aic=np.nan, error=f"{row['candidate']}: degenerate fit (mean {mean:g}, sd {sd:g})")


def _finish_table(rows):
    _drop_degenerate(rows)
    table = pd.DataFrame(rows)
    if not np.isfinite(table["aic"]).any():
        raise FitError("every candidate distribution failed to fit: " + "; ".join(table.get("error", [])))
    table["delta_aic"] = table["aic"] - table["aic"].min()
    return table.sort_values("aic", na_position="last", ignore_index=True)


@dataclass(frozen=True, eq=False)
class _Fitted:
    family: str
    params: tuple
    table: pd.DataFrame

    @property
    def dist(self):
        """The chosen family as a frozen ``scipy.stats`` distribution, in seconds."""
        return getattr(stats, self.family)(*self.params)

    @property
    def mean(self) -> float:
        return float(self.dist.mean())

    @property
    def sd(self) -> float:
        return float(self.dist.std())

    def to_scenario(self) -> dict:
        """The chosen fit in the scenario's distribution format (seconds, plain floats)."""
        return _scenario(self.family, self.params)


@dataclass(frozen=True, eq=False)
class DurationFit(_Fitted):
    """Result of :func:`fit_duration`. ``values`` are the positive values that were fitted."""

    n: int
    n_excluded: int
    values: np.ndarray

    def diagnostics(self, n_points: int = 200, bins: int = 50) -> dict:
        """``qq``: empirical vs fitted quantiles; ``density``: histogram vs fitted pdf on a grid
        (up to the 99.5th percentile so one long call does not flatten the plot)."""
        probs = (np.arange(min(n_points, self.n)) + 0.5) / min(n_points, self.n)
        qq = pd.DataFrame({"prob": probs, "empirical_s": np.quantile(self.values, probs),
                           "fitted_s": self.dist.ppf(probs)})
        edges = np.linspace(0.0, np.quantile(self.values, 0.995), bins + 1)
        counts, _ = np.histogram(self.values, edges)
        width = np.diff(edges)
        mid = (edges[:-1] + edges[1:]) / 2
        density = pd.DataFrame({"bin_left_s": edges[:-1], "bin_right_s": edges[1:], "x_s": mid,
                                "empirical_density": counts / (self.n * width),
                                "fitted_pdf": self.dist.pdf(mid)})
        return {"qq": qq, "density": density}


def fit_duration(values, candidates=("lognorm", "gamma", "weibull_min", "expon"), min_n=50) -> DurationFit:
    """Fit positive durations (seconds) by maximum likelihood, location 0, best family by AIC.

    Non-finite and non-positive values are left out and counted in ``n_excluded`` (a zero handle
    time is a logging artefact, and it has zero density under lognormal and Weibull fits).
    """
    _check_candidates(candidates, "fit_duration")
    x = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce"), dtype=float)
    keep = np.isfinite(x) & (x > 0)
    x = np.sort(x[keep])
    if len(x) < min_n:
        raise FitError(f"too little data: {len(x)} values, need ≥ {min_n}")
    _no_spread(x, f"all {len(x)} values are")
    unit = float(np.median(x))
    rows = []
    with _quiet():
        for name in candidates:
            dist = getattr(stats, name)
            try:
                scaled = dist.fit(x / unit, floc=0)
                params = (*scaled[:-1], scaled[-1] * unit)
                row = _row(name, params, float(dist.logpdf(x, *params).sum()))
                ks = stats.kstest(x, dist(*params).cdf)
                row.update(ks_stat=float(ks.statistic), ks_pvalue=float(ks.pvalue))
            except Exception as exc:  # one failing family must not sink the others
                row = {"candidate": name, "dist": SCENARIO_NAMES[name], "aic": np.nan, "error": f"{name}: {exc}"}
            rows.append(row)
    table = _finish_table(rows)
    best = table.iloc[0]
    return DurationFit(family=best["candidate"], params=tuple(float(p) for p in best["params"]),
                       table=table, n=len(x), n_excluded=int((~keep).sum()), values=x)


@dataclass(frozen=True, eq=False)
class PatienceFit(_Fitted):
    """Result of :func:`fit_patience`.

    ``km_time``/``km_survival`` are the Kaplan–Meier step function; ``km_max_abs_diff`` is the
    largest gap between it and the fitted survival over the observed range (both sides of each
    step). The observed range ends at ``observed_range_s``, the last abandonment with at least
    ``min_at_risk`` customers still waiting: beyond it KM rests on a handful of people and its
    steps are noise. ``naive_mean_abandoned_s`` is the biased mean of abandoners' waits, for contrast.
    """

    n: int
    n_abandoned: int
    n_served: int
    n_served_zero_wait: int
    naive_mean_abandoned_s: float
    km_max_abs_diff: float
    observed_range_s: float
    km_time: np.ndarray
    km_survival: np.ndarray
    km: object  # scipy ECDFResult, for confidence intervals

    def diagnostics(self, n_points: int = 200) -> dict:
        """``survival``: KM (with 95% CI) vs fitted survival on a grid over the observed waits."""
        grid = np.linspace(0.0, self.observed_range_s, n_points)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)  # CI undefined where KM is 0 or 1
            ci = self.km.sf.confidence_interval(0.95, method="log-log")
            frame = pd.DataFrame({"time_s": grid, "km_survival": self.km.sf.evaluate(grid),
                                  "km_lo": ci.low.evaluate(grid), "km_hi": ci.high.evaluate(grid),
                                  "fitted_survival": self.dist.sf(grid)})
        return {"survival": frame}


def _km_gap(km_t, km_s, dist, upto) -> float:
    inside = km_t <= upto
    t, s = km_t[inside], km_s[inside]
    before = np.concatenate([[1.0], s[:-1]])  # the left limit at each step
    fitted = dist.sf(t)
    return float(max(np.abs(s - fitted).max(), np.abs(before - fitted).max())) if len(t) else np.nan


def fit_patience(wait_s, abandoned, candidates=("expon", "weibull_min", "lognorm", "gamma"),
                 min_n=50, resolution_s=1.0, min_at_risk=100) -> PatienceFit:
    """Fit customer patience from queue waits, treating served waits as right-censored.

    Parameters
    ----------
    wait_s : waits in the queue (seconds) of every offered contact.
    abandoned : True where the contact abandoned at that wait, False where it was served.
    min_n : fewest abandonments to fit (they carry the information about the distribution).
    resolution_s : clock resolution; an abandonment logged at 0 s is placed at half of it
        (a zero event time has zero density under most families). Served customers with zero
        wait are legal; they carry no information (their survival term is 1) and are counted.
    min_at_risk : the KM comparison stops where fewer customers than this are still waiting
        (with 100 at risk a KM step is already ~±0.1·S(t) of noise at 95%).
    """
    _check_candidates(candidates, "fit_patience")
    wait = np.asarray(wait_s, dtype=float)
    gone = np.asarray(abandoned, dtype=bool)
    if wait.shape != gone.shape or wait.ndim != 1:
        raise ValueError(f"The 'abandoned' parameter of fit_patience must match 'wait_s' in length. "
                         f"Got {gone.shape} and {wait.shape} instead.")
    if not np.isfinite(wait).all() or (wait < 0).any():
        bad = int((~np.isfinite(wait) | (wait < 0)).sum())
        raise ValueError("The 'wait_s' parameter of fit_patience must be finite and ≥ 0. "
                         f"Got {bad} bad values instead.")
    events, censored = wait[gone], wait[~gone]
    if len(events) < min_n:
        raise FitError(f"too little data: {len(events)} abandonments, need ≥ {min_n}")
    naive = float(events.mean())
    informative = censored[censored > 0]
    _no_spread(np.concatenate([events, informative]), "all waits are")
    events = np.maximum(events, resolution_s / 2)
    unit = float(np.median(np.concatenate([events, informative])))
    data = stats.CensoredData(uncensored=events / unit, right=informative / unit)
    rows = []
    with _quiet():
        for name in candidates:
            dist = getattr(stats, name)
            try:
                scaled = dist.fit(data, floc=0)
                params = (*scaled[:-1], scaled[-1] * unit)
                loglik = dist.logpdf(events, *params).sum() + dist.logsf(informative, *params).sum()
                rows.append(_row(name, params, float(loglik)))
            except Exception as exc:
                rows.append({"candidate": name, "dist": SCENARIO_NAMES[name], "aic": np.nan, "error": f"{name}: {exc}"})
    km = stats.ecdf(stats.CensoredData(uncensored=events, right=censored))
    km_t, km_s = km.sf.quantiles, km.sf.probabilities
    all_waits = np.sort(np.concatenate([events, censored]))
    at_risk = len(all_waits) - np.searchsorted(all_waits, events, side="left")
    upto = float(events[at_risk >= min_at_risk].max()) if (at_risk >= min_at_risk).any() else float(events.min())
    _drop_degenerate(rows)
    with _quiet():
        for row in rows:
            if np.isfinite(row["aic"]):
                row["km_max_abs_diff"] = _km_gap(km_t, km_s, getattr(stats, row["candidate"])(*row["params"]), upto)
    table = _finish_table(rows)
    best = table.iloc[0]
    return PatienceFit(family=best["candidate"], params=tuple(float(p) for p in best["params"]),
                       table=table, n=len(wait), n_abandoned=len(events), n_served=len(censored),
                       n_served_zero_wait=int((censored == 0).sum()), naive_mean_abandoned_s=naive,
                       km_max_abs_diff=float(best["km_max_abs_diff"]), observed_range_s=upto,
                       km_time=km_t, km_survival=km_s, km=km)
