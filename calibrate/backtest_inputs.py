"""Optional inputs of a backtest replay beyond volumes and staffing, each chosen on training data.

A backtest (:mod:`calibrate.backtest`) feeds the test period's volumes and staffing to the model
and takes behaviour from the training period. The mechanisms here make that behaviour richer;
each is a scenario feature that any scenario can use, and each is switched on or off in the
backtest so that its effect can be measured (``bench/backtest_variants.py``):

* :func:`reason_replay`: the test period's calls *by call type* (``arrivals.reason_counts``: a
  demand input, like the volumes) with each type's own handle time and patience fitted on the
  training period (``reasons.NAME.handle_time`` / ``patience``), all in one FIFO queue;
* :func:`patience_by_hour`: the training period's patience by hour of day (``patience_profile``);
* :func:`load_steps`: agent time per call by the number of callers waiting
  (``handle_time_by_queue``), from the training period's talk times and availability.

Each also returns what the per-interval Erlang-A baseline gets from the same information, where
a formula can carry it (the hour's call-type mix and patience by hour; not the load steps).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from calibrate.backtest_replay import patience_for_replay, scale_distribution
from calibrate.behaviour_fits import handle_time_by_queue, offered_calls, patience_profile

__all__ = ["reason_replay", "call_types", "patience_by_hour", "load_steps", "ReasonReplay"]


class ReasonReplay:
    """What a replay by call type adds: ``reasons`` (scenario ``reasons``), ``reason_counts``
    (per staffing step), and per comparison interval the Erlang-A ``aht_s`` and ``patience_s``
    for that interval's mix."""

    def __init__(self, reasons: dict, reason_counts: dict, aht_s: np.ndarray, patience_s: np.ndarray, table: pd.DataFrame):
        self.reasons, self.reason_counts, self.aht_s, self.patience_s, self.table = (
            reasons, reason_counts, aht_s, patience_s, table)


UNSPECIFIED = "unspecified"


def call_types(contacts: pd.DataFrame) -> list:
    """The call types (reasons) of a period's offered calls; a missing reason is its own type."""
    return sorted(_typed(offered_calls(contacts))["reason"].unique())


def _typed(off: pd.DataFrame) -> pd.DataFrame:
    return off.assign(reason=off["reason"].astype("string").fillna(UNSPECIFIED).astype(str))


def _counts_by(off: pd.DataFrame, start, n: int, width_s: float, reasons: list) -> dict:
    k = ((off["queued_at"] - start).dt.total_seconds() // width_s).astype(int).to_numpy()
    inside = (k >= 0) & (k < n)
    out = {}
    for r in reasons:
        rows = inside & (off["reason"].to_numpy() == r)
        out[r] = np.bincount(k[rows], minlength=n)[:n]
    return out


def reason_replay(cal, channel: str, availability: float, train_contacts: pd.DataFrame, test_contacts: pd.DataFrame,
                  start, n_steps: int, step_s: float, n_intervals: int, interval_s: float, patience_choice="km"
                  ) -> ReasonReplay:
    """Call types of the test period replayed with their training behaviour.

    Every call type seen in the test period gets its training handle time (÷ availability) and
    patience where the training period had enough data for a fit (``calibrate``'s ``min_n``),
    else the channel's. Erlang A gets, per interval, the mix-weighted mean handle time and the
    censored exponential patience of the interval's mix: Σ_r s_r·W_r/n_r ÷ Σ_r s_r·A_r/n_r
    (W: training waits, A: abandonments, n: offered calls of type r, s: the interval's shares),
    which is the pooled Σ W ÷ Σ A of the training data reweighted to the interval's mix.
    """
    results = cal.results[channel]
    off_test, off_train = _typed(offered_calls(test_contacts)), _typed(offered_calls(train_contacts))
    names = sorted(off_test["reason"].unique())
    grouped = off_train.groupby("reason")
    train = pd.DataFrame({"n": grouped.size(), "waits_s": grouped["wait_s"].sum(),
                          "abandoned": grouped["served"].apply(lambda s: int((~s).sum()))})
    channel_aht = float(results["handle_time"].mean) / availability
    pooled = off_train["wait_s"].sum() / max(int((~off_train["served"]).sum()), 1)
    reasons, rows = {}, []
    for r in names:
        model, aht = {}, channel_aht
        ht = results.get(f"{r}/handle_time")
        if ht is not None:
            model["handle_time"] = scale_distribution(ht.to_scenario(), 1.0 / availability)
            aht = float(ht.mean) / availability
        pt = results.get(f"{r}/patience")
        if pt is not None:
            model["patience"] = patience_for_replay(pt, patience_choice)
        has = r in train.index and train.loc[r, "n"] > 0
        rows.append({"reason": r, "aht_s": aht, "own_handle_time": ht is not None, "own_patience": pt is not None,
                     "mean_wait_s": train.loc[r, "waits_s"] / train.loc[r, "n"] if has else np.nan,
                     "abandon_share": train.loc[r, "abandoned"] / train.loc[r, "n"] if has else np.nan})
        reasons[r] = model
    table = pd.DataFrame(rows)
    steps = _counts_by(off_test, start, n_steps, step_s, names)
    coarse = _counts_by(off_test, start, n_intervals, interval_s, names)
    counts = np.vstack([coarse[r] for r in names]).astype(float)  # reasons × intervals
    total = counts.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, counts / total, np.nan)
        aht = np.nansum(share * table["aht_s"].to_numpy()[:, None], axis=0)
        wait = table["mean_wait_s"].fillna(pooled / 1.0).to_numpy()[:, None]
        ab = table["abandon_share"].to_numpy()[:, None]
        fallback = np.isnan(ab)  # a type unseen in training behaves as the pooled training calls
        wait = np.where(fallback, off_train["wait_s"].mean(), wait)
        ab = np.where(fallback, float((~off_train["served"]).mean()), ab)
        patience = np.nansum(share * wait, axis=0) / np.nansum(share * ab, axis=0)
    aht = np.where(total > 0, aht, channel_aht)
    patience = np.where((total > 0) & np.isfinite(patience), patience, pooled)
    return ReasonReplay(reasons, {r: [int(v) for v in steps[r]] for r in names}, aht, patience, table)


def patience_by_hour(train_contacts: pd.DataFrame, interval="60min", min_n=50) -> pd.DataFrame:
    """The training period's patience multiplier per interval of the day (see
    :func:`calibrate.behaviour_fits.patience_profile`)."""
    return patience_profile(train_contacts, interval=interval, min_n=min_n)


def load_steps(train_contacts: pd.DataFrame, max_gap="30min", lead="0s", lag="0s", min_n=50, talk_only=False
               ) -> pd.DataFrame:
    """The training period's handle-time multiplier by callers waiting (see
    :func:`calibrate.behaviour_fits.handle_time_by_queue`)."""
    return handle_time_by_queue(train_contacts, max_gap=max_gap, lead=lead, lag=lag, min_n=min_n, talk_only=talk_only)


def availability_by_replay(predicted_rate, observed_rate: float, start: float, xtol=0.002) -> dict:
    """The availability at which replaying the *training* period reproduces its abandonment rate.

    The busy share of present agents while callers wait (``start``) is a direct measurement, but
    the replay of the training period with it over-predicts the training period's own
    abandonment (Technion January: +2.7 pp): the share varies with load, staffing is inferred,
    and the log does not say what agents did between calls. Calibrating the one capacity factor
    by simulation (``predicted_rate(u)``: the pooled abandonment rate of a replay of the training
    period with availability u) removes that bias on the training period; scipy's ``brentq``
    finds the root of ``predicted_rate(u) − observed_rate`` in (0.3, 1].
    """
    from scipy.optimize import brentq

    lo, hi = max(0.3, start - 0.15), min(1.0, start + 0.2)
    f = lambda u: predicted_rate(u) - observed_rate  # noqa: E731 (decreasing: more capacity, fewer abandon)
    f_lo, f_hi = f(lo), f(hi)
    if f_lo < 0:
        lo, f_lo = 0.3, f(0.3)
    if f_hi > 0:
        hi, f_hi = 1.0, f(1.0)
    if f_lo < 0 or f_hi > 0:  # no root inside: the closest end
        u = lo if f_lo < 0 else hi
        return {"availability": u, "source": "replay of the training period (at the bound: no exact match)",
                "start": start, "observed_abandon_rate": observed_rate}
    u = brentq(f, lo, hi, xtol=xtol)
    return {"availability": float(u), "source": "replay of the training period", "start": start,
            "observed_abandon_rate": observed_rate}
