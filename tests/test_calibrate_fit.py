"""Round trips for calibrate.fit: draw from a known distribution (fixed seeds), fit, compare.

Tolerances come from standard errors (delta method on the Fisher information), not from
trial and error: an estimate must lie within 4 SE of the truth.
"""
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from calibrate.fit import FitError, fit_duration, fit_patience

N = 2000


def _se_of_mean_sd(dist, params, events, censored=np.array([])):
    """SEs of the fitted mean and sd from the observed information (numerical Hessian in log-params)."""
    theta0 = np.log([params[0], params[-1]]) if len(params) == 3 else np.log([params[-1]])

    def unpack(theta):
        e = np.exp(theta)
        return (e[0], 0.0, e[1]) if len(theta) == 2 else (0.0, e[0])

    def loglik(theta):
        p = unpack(theta)
        return dist.logpdf(events, *p).sum() + dist.logsf(censored, *p).sum()

    k, h = len(theta0), 1e-4
    hess = np.zeros((k, k))
    for i in range(k):
        for j in range(k):
            ei, ej = np.eye(k)[i] * h, np.eye(k)[j] * h
            hess[i, j] = (loglik(theta0 + ei + ej) - loglik(theta0 + ei - ej)
                          - loglik(theta0 - ei + ej) + loglik(theta0 - ei - ej)) / (4 * h * h)
    cov = np.linalg.inv(-hess)
    out = []
    for stat in ("mean", "std"):
        f = lambda t: getattr(dist(*unpack(t)), stat)()  # noqa: E731
        grad = np.array([(f(theta0 + np.eye(k)[i] * h) - f(theta0 - np.eye(k)[i] * h)) / (2 * h) for i in range(k)])
        out.append(float(np.sqrt(grad @ cov @ grad)))
    return out


def test_lognormal_round_trip_recovers_mean_and_sd_within_standard_errors():
    sigma, scale = 0.6, 150.0
    truth = stats.lognorm(sigma, scale=scale)
    x = truth.rvs(N, random_state=np.random.default_rng(11))
    fit = fit_duration(x)
    assert fit.family == "lognorm"
    se_mean, se_sd = _se_of_mean_sd(stats.lognorm, fit.params, fit.values)
    # closed form for the lognormal mean's SE, as a check on the numerical one
    assert se_mean == pytest.approx(truth.mean() * sigma * np.sqrt((1 + sigma**2 / 2) / N), rel=0.1)
    scen = fit.to_scenario()
    assert scen["dist"] == "lognormal"
    assert abs(scen["mean"] - truth.mean()) < 4 * se_mean
    assert abs(scen["sd"] - truth.std()) < 4 * se_sd


@pytest.mark.parametrize("name, dist", [
    ("lognorm", stats.lognorm(0.6, scale=150)),
    ("gamma", stats.gamma(3.0, scale=60)),
    ("weibull_min", stats.weibull_min(1.6, scale=200)),
])
def test_aic_picks_the_generating_family(name, dist):
    fit = fit_duration(dist.rvs(N, random_state=np.random.default_rng(5)))
    assert fit.family == name
    assert list(fit.table["candidate"])[0] == name
    assert (fit.table["delta_aic"].iloc[1:] > 10).all()


def test_exponential_data_is_not_distinguishable_from_its_two_parameter_generalisations():
    # gamma and Weibull contain the exponential; AIC may pick them by chance, but only by a hair
    fit = fit_duration(stats.expon(scale=180).rvs(N, random_state=np.random.default_rng(3)))
    table = fit.table.set_index("candidate")
    assert table.loc["expon", "delta_aic"] < 4
    assert fit.mean == pytest.approx(180, rel=4 / np.sqrt(N))


def test_table_has_aic_and_ks_per_candidate():
    fit = fit_duration(stats.gamma(2.0, scale=90).rvs(500, random_state=np.random.default_rng(1)))
    assert set(fit.table["candidate"]) == {"lognorm", "gamma", "weibull_min", "expon"}
    for col in ("aic", "delta_aic", "ks_stat", "ks_pvalue", "loglik", "mean", "sd"):
        assert fit.table[col].notna().all(), col
    assert fit.table["aic"].is_monotonic_increasing


@pytest.mark.parametrize("family, keys", [
    ("lognorm", {"dist": "lognormal", "keys": {"mean", "sd"}}),
    ("gamma", {"dist": "gamma", "keys": {"mean", "sd"}}),
    ("weibull_min", {"dist": "weibull", "keys": {"shape", "scale"}}),
    ("expon", {"dist": "exponential", "keys": {"mean"}}),
])
def test_to_scenario_formats(family, keys):
    x = stats.gamma(2.0, scale=90).rvs(300, random_state=np.random.default_rng(2))
    scen = fit_duration(x, candidates=(family,)).to_scenario()
    assert scen["dist"] == keys["dist"]
    assert set(scen) - {"dist"} == keys["keys"]
    assert all(type(v) is float for k, v in scen.items() if k != "dist")


def test_too_little_data_is_refused():
    with pytest.raises(FitError, match="too little data: 12 values, need ≥ 50"):
        fit_duration(np.r_[np.arange(1, 13), [0, -1, np.nan]])


def test_nonpositive_values_are_excluded_and_counted():
    x = np.r_[stats.expon(scale=100).rvs(100, random_state=np.random.default_rng(0)), [0, 0, -5, np.nan]]
    fit = fit_duration(x)
    assert (fit.n, fit.n_excluded) == (100, 4)


def test_unknown_candidate_is_a_parameter_error():
    with pytest.raises(ValueError, match="'candidates' parameter of fit_duration"):
        fit_duration(np.arange(1, 100), candidates=("normal",))


def test_duration_diagnostics_are_tidy_tables():
    fit = fit_duration(stats.lognorm(0.5, scale=100).rvs(1000, random_state=np.random.default_rng(4)))
    diag = fit.diagnostics()
    qq, dens = diag["qq"], diag["density"]
    assert list(qq.columns) == ["prob", "empirical_s", "fitted_s"] and len(qq) == 200
    assert np.corrcoef(qq["empirical_s"], qq["fitted_s"])[0, 1] > 0.99
    assert {"x_s", "empirical_density", "fitted_pdf"} <= set(dens.columns) and len(dens) == 50
    width = dens["bin_right_s"] - dens["bin_left_s"]
    assert (dens["empirical_density"] * width).sum() == pytest.approx(0.995, abs=0.01)


def _queue(patience, rng, n, service_start_mean=60.0):
    """Customers abandon if patience runs out before an agent picks up (exp service-start times)."""
    p = patience.rvs(n, random_state=rng)
    start = rng.exponential(service_start_mean, n)
    return np.minimum(p, start), p < start


def test_patience_naive_mean_is_biased_but_censored_fit_recovers_truth():
    truth = stats.expon(scale=300)
    wait, gone = _queue(truth, np.random.default_rng(7), 5000)
    fit = fit_patience(wait, gone)
    # the abandoners' mean wait measures the impatient: E[min(P, S)] = 1/(1/300 + 1/60) = 50 s
    assert fit.naive_mean_abandoned_s < 0.3 * truth.mean()
    assert fit.naive_mean_abandoned_s == pytest.approx(50, rel=0.15)
    # censored MLE: SE of an exponential mean is mean / sqrt(number of events)
    exp_mean = fit.table.set_index("candidate").loc["expon", "mean"]
    assert abs(exp_mean - 300) < 4 * 300 / np.sqrt(fit.n_abandoned)
    assert fit.table.set_index("candidate").loc["expon", "delta_aic"] < 4
    assert fit.km_max_abs_diff < 0.05
    surv = fit.diagnostics()["survival"]
    inside = (surv["fitted_survival"] >= surv["km_lo"] - 1e-9) & (surv["fitted_survival"] <= surv["km_hi"] + 1e-9)
    assert inside[surv["km_lo"].notna()].mean() > 0.9


def test_weibull_patience_recovered_and_km_agrees():
    truth = stats.weibull_min(0.8, scale=400)
    wait, gone = _queue(truth, np.random.default_rng(8), 8000, service_start_mean=120)
    fit = fit_patience(wait, gone)
    assert fit.family == "weibull_min"
    se_mean, _ = _se_of_mean_sd(stats.weibull_min, fit.params, wait[gone], wait[~gone])
    assert abs(fit.mean - truth.mean()) < 4 * se_mean
    assert abs(fit.naive_mean_abandoned_s - truth.mean()) > 10 * se_mean
    scen = fit.to_scenario()
    assert scen["dist"] == "weibull" and scen["shape"] == pytest.approx(0.8, abs=0.1)
    surv = fit.diagnostics()["survival"]
    assert list(surv.columns) == ["time_s", "km_survival", "km_lo", "km_hi", "fitted_survival"]
    inside = (surv["fitted_survival"] >= surv["km_lo"] - 1e-9) & (surv["fitted_survival"] <= surv["km_hi"] + 1e-9)
    assert inside[surv["km_lo"].notna()].mean() > 0.9
    assert fit.km_max_abs_diff < 0.03


def test_zero_waits_of_served_customers_are_legal_and_carry_no_information():
    wait, gone = _queue(stats.expon(scale=200), np.random.default_rng(9), 2000)
    base = fit_patience(wait, gone)
    more = fit_patience(np.r_[wait, np.zeros(300)], np.r_[gone, np.zeros(300, bool)])
    assert more.n_served_zero_wait == 300
    assert more.params == pytest.approx(base.params, rel=1e-6)


def test_patience_input_errors():
    with pytest.raises(FitError, match="too little data: 3 abandonments, need ≥ 50"):
        fit_patience([1, 2, 3, 4], [True, True, True, False])
    with pytest.raises(ValueError, match="'abandoned' parameter of fit_patience must match"):
        fit_patience([1, 2, 3], [True, False])
    with pytest.raises(ValueError, match="must be finite and ≥ 0"):
        fit_patience([1, -2, 3], [True, False, True])


def test_abandonment_at_zero_wait_is_placed_at_half_the_resolution():
    wait, gone = _queue(stats.expon(scale=200), np.random.default_rng(10), 2000)
    wait[np.flatnonzero(gone)[:5]] = 0.0
    fit = fit_patience(pd.Series(wait), pd.Series(gone))
    assert np.isfinite(fit.table["aic"]).all()
