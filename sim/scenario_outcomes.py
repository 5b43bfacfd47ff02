"""Scenario parts for customer outcomes: the `satisfaction:` model (modelled CSAT) and the
`revenue_at_risk:` rules (sales lost to waiting and giving up), per contact reason.

Both turn an issue's journey (sim/journeys.py) into a number the business reads; neither
changes what happens in the model, so they cost nothing while the simulation runs.

The defaults are ILLUSTRATIVE: round numbers set from published industry figures (sources in
docs/outcomes.md and on each default below), not fitted to any shop. Replace them with the
coefficients `peaksim calibrate` fits from a ticket export with a `csat` column.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, model_validator

from .distributions import PositiveSeconds, StrictModel
from .errors import at

Probability = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Coefficient = Annotated[float, Field(ge=-50, le=50, allow_inf_nan=False)]

# Illustrative defaults (docs/outcomes.md, "Sources"):
# * resolved +2.6 with the satisfied threshold 0.85: a resolved, one-contact, no-wait issue is satisfied with
#   p = 0.85 and an unresolved one with p = 0.30 (CFI Group: 68% of customers left unresolved are at risk of
#   defecting, 43% definitely);
# * extra_contacts -0.8: satisfaction falls by about 15% (relative) for every additional contact about the same
#   issue (SQM Group, as quoted by SaleMove / Customer Experience Update), 0.85 -> 0.72;
# * late_first_response -0.9: customers waiting past the promise are about twice as likely to give a low score
#   (Support Center University, D. Brown: resolution after more than one hour doubles low scores), 0.85 -> 0.70;
# * log_wait -0.2 per unit of ln(1 + total wait in minutes): 10 minutes of waiting cost about 0.85 -> 0.77
#   (60% of callers will not hold longer than a minute, 90% hang up after five: Mindful).
DEFAULT_COEFFICIENTS = {"resolved": 2.6, "extra_contacts": -0.8, "late_first_response": -0.9, "log_wait": -0.2}
DEFAULT_CUTPOINTS = (-1.5, -0.5, 0.85, 2.5)
FEATURES = tuple(DEFAULT_COEFFICIENTS)


class _Model(StrictModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Coefficients(_Model):
    """Effects on the log-odds of a satisfied customer (and on the 1-5 score, ordered logit)."""

    resolved: Coefficient = Field(default=DEFAULT_COEFFICIENTS["resolved"],
                                  description="issue resolved (1) or not (0); illustrative default 2.6")
    extra_contacts: Coefficient = Field(default=DEFAULT_COEFFICIENTS["extra_contacts"],
                                        description="contacts the issue needed beyond the first; default -0.8")
    late_first_response: Coefficient = Field(
        default=DEFAULT_COEFFICIENTS["late_first_response"],
        description="first response later than the first channel's service-level threshold (the promise); "
                    "default -0.9")
    log_wait: Coefficient = Field(default=DEFAULT_COEFFICIENTS["log_wait"],
                                  description="per unit of ln(1 + total queue wait in minutes); default -0.2")


class Satisfaction(_Model):
    """Modelled CSAT: each closed issue's score 1-5 from an ordered logit, P(score <= k) =
    logistic(cutpoints[k-1] - x·coefficients); satisfied means a score of 4 or 5, so
    P(satisfied) = logistic(x·coefficients - cutpoints[2]). Defaults are illustrative
    (docs/outcomes.md); `peaksim calibrate` fits them from a `csat` column."""

    coefficients: Coefficients = Field(default_factory=Coefficients,
                                       description="effects on the log-odds of a satisfied customer (illustrative "
                                                   "defaults; see docs/outcomes.md for their sources)")
    cutpoints: list[Annotated[float, Field(ge=-50, le=50, allow_inf_nan=False)]] = Field(
        default_factory=lambda: list(DEFAULT_CUTPOINTS), min_length=4, max_length=4,
        description="the four increasing thresholds between scores 1|2, 2|3, 3|4 and 4|5 on the log-odds scale; "
                    "default [-1.5, -0.5, 0.85, 2.5]")
    source: str = Field(default="illustrative defaults", max_length=500,
                        description="where the numbers come from (a calibration writes its file and fit)")

    @model_validator(mode="after")
    def _increasing(self):
        c = self.cutpoints
        if any(b <= a for a, b in zip(c, c[1:])):
            raise at(".cutpoints", f"must increase from the 1|2 threshold to the 4|5 threshold (got {c}); "
                     "sort them, e.g. [-1.5, -0.5, 0.85, 2.5]")
        return self


class RevenueRule(_Model):
    """Sales at risk for issues of one contact reason: `order_value` × the probability that the
    customer buys elsewhere. A customer who gives up is lost with `lost_if_given_up`; one who
    is helped after waiting w in total with `lost_after_wait` × (1 − 2^(−w / `half_wait`))."""

    order_value: float = Field(gt=0, le=1e9, allow_inf_nan=False, description="value of the order at stake")
    lost_if_given_up: Probability = Field(
        default=0.45, description="share lost when the customer gives up; default 0.45 (44% of consumers take "
                                  "their business elsewhere after poor service: NewVoiceMedia; 43% definitely "
                                  "defect when unresolved: CFI Group)")
    lost_after_wait: Probability = Field(
        default=0.45, description="share lost after a very long wait even when helped; default 0.45")
    half_wait: PositiveSeconds = Field(
        default=3600.0, description="total wait at which half of `lost_after_wait` is lost; default 1h (leads "
                                    "answered within an hour are 7x as likely to convert: Oldroyd, McElheran & "
                                    "Elkington, HBR 2011)")


def check_revenue_reasons(scenario) -> None:
    """Every reason named in `revenue_at_risk` must exist (or be `general`, the default reason)."""
    if not scenario.revenue_at_risk:
        return
    known = ["general", *(scenario.reasons or {})]
    for name in scenario.revenue_at_risk:
        if name not in known:
            import difflib

            guess = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean {guess[0]!r}?" if guess else f"defined reasons: {', '.join(known)}"
            raise at(f"revenue_at_risk.{name}", f"no reason of that name is defined (got {name!r}); {hint} "
                     "(`general` is the reason of contacts outside any reason mix)")
