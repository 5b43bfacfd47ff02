"""Fit the CSAT model (sim/satisfaction.py) to a ticket export's `csat` answers, with coefficient CIs.

Why: the scenario's `satisfaction:` defaults are illustrative; a shop's own survey answers say how
much waiting, late first responses, repeat contacts and unresolved issues cost it. The fit uses
statsmodels, not a hand-written likelihood: an ordered logit (`OrderedModel`) for 1-5 scores and a
logit (`Logit`) for yes/no answers, both on the four features peaksim models, so the fitted
numbers drop into a scenario unchanged.

Issues in an export: contacts of the same `customer_id` belong to one issue while each follows
the customer's previous contact within `window` (default 7 days); a longer gap starts a new issue.
Contacts without a customer id are issues of their own. Per issue (the simulation's definitions,
docs/outcomes.md):

    resolved             its last contact was answered and not reopened, or resolved by the bot, or
                         has a `resolved_at`
    extra_contacts       its contacts beyond the first
    late_first_response  its first answer (or bot resolution) came later than the first channel's
                         promise (`promises`, e.g. {"voice": 20, "email": 86400}); never answered = late;
                         left out of the fit (default kept) when no promise is given
    log_wait             ln(1 + Σ queue waits in minutes): answered_at (or abandoned_at) − queued_at
    csat                 the last answer among its contacts

A feature that does not vary among the rated issues cannot be estimated and keeps its default.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from sim.scenario_outcomes import DEFAULT_COEFFICIENTS, DEFAULT_CUTPOINTS, FEATURES
from sim.satisfaction import log_wait
from sim.units import parse_duration

__all__ = ["CsatFit", "fit_csat", "issue_table", "DEFAULT_WINDOW"]

DEFAULT_WINDOW = "7d"


class CsatFit:
    """A fitted CSAT model: `coefficients`, `cutpoints`, the `table` of estimates with 95% CIs, `n` rated issues."""

    def __init__(self, kind: str, coefficients: dict, cutpoints: list, table: pd.DataFrame, n: int, kept: list):
        self.kind, self.coefficients, self.cutpoints, self.table, self.n, self.kept = (
            kind, coefficients, cutpoints, table, n, kept)

    def to_scenario(self) -> dict:
        """The `satisfaction:` block of a scenario (what `calibration:` references merge in)."""
        model = "ordered logit on 1-5 scores" if self.kind == "score" else "logit on yes/no answers"
        kept = f"; defaults kept for {', '.join(self.kept)}" if self.kept else ""
        return {"coefficients": {k: round(float(v), 6) for k, v in self.coefficients.items()},
                "cutpoints": [round(float(c), 6) for c in self.cutpoints],
                "source": f"fitted by peaksim calibrate ({model}, statsmodels) from {self.n} rated issues{kept}"}


def issue_table(contacts: pd.DataFrame, promises: dict[str, float] | None = None,
                window: str = DEFAULT_WINDOW) -> pd.DataFrame:
    """One row per issue: channel of its first contact, the four features and its csat answer (NaN if none)."""
    gap = pd.Timedelta(seconds=parse_duration(window))
    frame = contacts.sort_values("created_at", kind="stable").reset_index(drop=True)
    customer = frame["customer_id"].astype("string")
    own = "#row" + pd.Series(np.arange(len(frame)), dtype="string")  # no customer id: an issue of its own
    key = customer.where(customer.notna(), own)
    previous = frame.groupby(key)["created_at"].shift()
    starts = previous.isna() | ((frame["created_at"] - previous) > gap)
    frame["issue"] = key + "/" + starts.astype(int).groupby(key).cumsum().astype("string")
    waited = (frame["answered_at"].fillna(frame["abandoned_at"]) - frame["queued_at"]).dt.total_seconds()
    frame["wait_s"] = waited.fillna(0.0).clip(lower=0.0)
    bot = frame["bot_resolved"].fillna(False).astype(bool)
    answered = frame["answered_at"].notna()
    frame["resolves"] = (answered & ~frame["reopened"].fillna(False).astype(bool)) | bot | frame["resolved_at"].notna()
    frame["responded_at"] = frame["answered_at"].where(answered, frame["created_at"].where(bot))
    grouped = frame.groupby("issue", sort=False)  # rows keep their time order within an issue
    issues = pd.DataFrame({
        "channel": grouped["channel"].first(),
        "created_at": grouped["created_at"].first(),
        "contacts": grouped.size(),
        "resolved": grouped["resolves"].last().astype(float),
        "wait_s": grouped["wait_s"].sum(),
        "first_response_s": (grouped["responded_at"].min() - grouped["created_at"].first()).dt.total_seconds(),
        "csat": grouped["csat"].last(),  # the last answer given (skips empty cells)
    }).reset_index(drop=True)
    issues["extra_contacts"] = issues["contacts"] - 1.0
    issues["log_wait"] = log_wait(issues["wait_s"].to_numpy(dtype=float).copy())
    if promises:
        limit = issues["channel"].map(promises).astype(float)
        late = ~(issues["first_response_s"] <= limit)
        issues["late_first_response"] = late.astype(float).where(limit.notna())
    else:
        issues["late_first_response"] = np.nan
    return issues


def fit_csat(contacts: pd.DataFrame, promises: dict[str, float] | None = None, window: str = DEFAULT_WINDOW,
             min_n: int = 50, max_n: int = 50_000) -> CsatFit:
    """Fit the CSAT model to the rated issues of `contacts` (generic schema with a `csat` column).

    At most `max_n` rated issues are used (a fixed random sample beyond that, as for the other fits:
    50,000 answers already pin the coefficients far tighter than they are known to hold).
    Raises ValueError (one line, how to fix) when there are fewer than `min_n` rated issues or the
    answers do not vary; the caller reports it as a skipped fit."""
    issues = issue_table(contacts, promises, window)
    rated = issues[issues["csat"].notna()]
    if promises:
        rated = rated[rated["late_first_response"].notna()]  # channels without a promise: no late feature
    if len(rated) > max_n:
        rated = rated.sample(n=max_n, random_state=0).sort_index()
    if len(rated) < min_n:
        raise ValueError(f"{len(rated)} rated issues, fewer than {min_n} (--min-n); a CSAT fit needs more answers")
    y = rated["csat"].to_numpy(dtype=float)
    kind = "binary" if set(np.unique(y)) <= {0.0, 1.0} else "score"
    if np.unique(y).size < 2:
        raise ValueError(f"every rated issue has the same answer ({y[0]:g}); nothing to fit")
    use = [f for f in FEATURES if rated[f].notna().all() and rated[f].nunique() > 1]
    kept = [f for f in FEATURES if f not in use]
    X = rated[use].astype(float).reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter; a failed fit raises below
        if kind == "score":
            from statsmodels.miscmodels.ordinal_model import OrderedModel

            codes = pd.Series(pd.Categorical(y.astype(int), categories=[1, 2, 3, 4, 5], ordered=True))
            if codes.value_counts().min() == 0:
                raise ValueError("not every score 1-5 occurs among the rated issues; an ordered fit needs all five "
                                 "(or export yes/no answers)")
            model = OrderedModel(codes, X, distr="logit")
            result = model.fit(method="bfgs", maxiter=2000, disp=False)
            cutpoints = list(model.transform_threshold_params(result.params)[1:-1])
        else:
            from statsmodels.discrete.discrete_model import Logit
            from statsmodels.tools.tools import add_constant

            model = Logit(y, add_constant(X, has_constant="add"))
            result = model.fit(disp=False, maxiter=200)
            # P(satisfied) = logistic(const + x·β) = logistic(x·β − c3): c3 = −const, the others at the default spacing
            c3 = -float(result.params["const"])
            cutpoints = [c - DEFAULT_CUTPOINTS[2] + c3 for c in DEFAULT_CUTPOINTS]
    if not np.all(np.isfinite(result.params)) or not np.all(np.diff(cutpoints) > 0):
        raise ValueError("the CSAT fit did not converge to a usable model; check the csat column")
    ci = result.conf_int(alpha=0.05)
    names = [n for n in result.params.index]
    table = pd.DataFrame({"parameter": names, "estimate": result.params.to_numpy(), "se": result.bse.to_numpy(),
                          "ci_lo": ci.iloc[:, 0].to_numpy(), "ci_hi": ci.iloc[:, 1].to_numpy(),
                          "p_value": result.pvalues.to_numpy()})
    table["model"] = "ordered logit" if kind == "score" else "logit"
    table["n_issues"] = len(rated)
    coefficients = {f: float(result.params[f]) if f in use else DEFAULT_COEFFICIENTS[f] for f in FEATURES}
    if not all(math.isfinite(v) for v in coefficients.values()):
        raise ValueError("the CSAT fit gave non-finite coefficients; check the csat column")
    return CsatFit(kind, coefficients, cutpoints, table, len(rated), kept)
