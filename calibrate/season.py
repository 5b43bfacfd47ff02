"""The season in last year's fresh demand: an ordinary-day baseline, named peak events, unnamed
outliers, the residual day-to-day spread and year-over-year growth.

Why this shape: a planner's forecast is "an ordinary day of this weekday, times what the
calendar does to it, times growth". Averaging every day (what `arrival_profile` does) spreads
Black Friday over November; here unusual days are found, named and measured, and kept out of the
baseline. The model, per channel ``c`` and day ``d`` (``k`` = whole years before the export's
last year, in 364-day steps so weekdays stay aligned)::

    expected(c, d) = level_c × day_of_week_c[weekday(d)] × growth_c^(−k) × event_c(d)

1. **Baseline.** Mean fresh volume per weekday over ordinary days (first guess: the median, with
   the retail calendar's days left out); ``level`` is the mean over the seven weekdays.
2. **Unusual days.** ``z = (observed − expected) / sqrt(expected + (cv·expected)²)`` (Poisson plus
   the day-to-day spread); a day with ``|z| > z_day`` on any channel is unusual.
3. **Named events.** Each occurrence of a retail or user event in the export is measured on its
   days: multiplier = Σ observed ÷ Σ expected per channel with a 95% CI from the same variance; it
   is kept when some channel departs beyond ``z_event``. Its ramps (0…``max_ramp`` days before and
   after, linear as the scenario's ``ramp_before``/``ramp_after``) are the lengths that fit the
   neighbouring days best. Its own intraday shape and reason mix are kept where a chi-square test
   (``scipy.stats.chisquare``) rejects the ordinary ones at ``p < 0.001``.
4. **Unnamed outliers** are unusual days no event explains: listed, and left out of the baseline.
5. **Dispersion.** ``cv² = mean((observed/expected − 1)²) − mean(1/expected)`` over ordinary days
   (the spread beyond Poisson noise), the scenario's ``dispersion.cv``.
6. **Growth** (exports longer than 371 days): Σ ordinary days ÷ Σ the ordinary days 364 days
   earlier, per channel, with a 95% CI.

Steps 1–6 are repeated (four passes) so each estimate uses the others' latest values. The intraday
profile is the weekday × interval-of-day shape of ordinary days; a weekday keeps its own shape only
where it differs from the pooled one (chi-square, ``p < 0.001``), so a short week does not turn noise
into shape. Sync channels get opening hours: the intervals with at least 1% of the busiest
interval's volume, on weekdays with at least 2% of the busiest weekday's; the shapes are zero outside.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from calibrate.event_calendar import occurrences
from calibrate.season_events import pool_events

__all__ = ["Season", "learn_season"]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_YEAR = 364
_P_SHAPE = 1e-3
EVENT_COLUMNS = ["event", "source", "channel", "first", "last", "occurrences", "days", "fresh", "baseline", "multiplier",
                 "multiplier_lo", "multiplier_hi", "ramp_before", "ramp_after", "own_intraday", "own_reason_mix"]


@dataclass
class Season:
    """Scenario-ready season per channel plus the tables behind it (see module doc)."""

    channels: dict
    events: list
    outliers: list
    not_found: list
    daily: pd.DataFrame = field(repr=False)
    event_table: pd.DataFrame = field(repr=False)


def _grid(fresh: pd.DataFrame, dates: pd.DatetimeIndex, channels: list, step: pd.Timedelta):
    """channels × dates × slots counts (fresh contacts, local wall-clock)."""
    local = fresh["created_at"].dt.tz_localize(None)
    day = local.dt.normalize()
    slot = ((local - day) // step).astype(int).to_numpy()
    per_day = int(pd.Timedelta("24h") / step)
    c = pd.Categorical(fresh["channel"].astype(str), categories=channels).codes.astype(np.int64)
    d = dates.get_indexer(day).astype(np.int64)
    ok = (c >= 0) & (d >= 0)
    flat = np.bincount((c[ok] * len(dates) + d[ok]) * per_day + slot[ok],
                       minlength=len(channels) * len(dates) * per_day)
    return flat.reshape(len(channels), len(dates), per_day).astype(float)


def _baseline(obs, ordinary, weekday, scale):
    """Per channel: level and 7 weekday multipliers from ordinary days (scaled to the last year)."""
    n_c = obs.shape[0]
    means = np.full((n_c, 7), np.nan)
    for w in range(7):
        days = ordinary & (weekday == w)
        if days.any():
            means[:, w] = (obs[:, days] * scale[:, days]).mean(axis=1)
    fill = np.nanmean(means, axis=1, keepdims=True)
    means = np.where(np.isnan(means), fill, means)
    level = means.mean(axis=1)
    dow = means / np.where(level > 0, level, 1.0)[:, None]
    return level, dow


def _z(obs, exp, cv):
    var = exp + (cv[:, None] * exp) ** 2
    return (obs - exp) / np.sqrt(np.maximum(var, 1e-9))


def _ramp(obs, exp, factor, cv, mult, days, blocked, side, max_ramp):
    """Ramp length (0…max_ramp) on one side whose linear ramp fits the neighbouring days best, on
    top of the effects already placed in ``factor`` (the scenario takes the largest multiplier of the
    events touching a day); the scan stops at another event's core day."""
    near = []
    for j in range(1, max_ramp + 1):
        d = days[0] - j if side == "before" else days[-1] + j
        if d < 0 or d >= obs.shape[1] or blocked[d]:
            break
        near.append((j, d))
    best, best_sse = 0, np.inf
    for r in range(len(near) + 1):
        sse = 0.0
        for j, d in near:
            ramp = 1 + (mult - 1) * (r + 1 - j) / (r + 1) if j <= r else np.ones_like(mult)
            combined = np.where(mult >= 1, np.maximum(factor[:, d], ramp), np.minimum(factor[:, d], ramp))
            e = exp[:, d] * combined
            sse += float((((obs[:, d] - e) ** 2) / np.maximum(e + (cv * e) ** 2, 1e-9)).sum())
        if sse < best_sse - 1e-9:
            best, best_sse = r, sse
    return best


def _apply_ramp(factor, mult, days, before, after):
    """Place an event's ramps into ``factor`` (largest multiplier wins, as in sim/arrivals.py)."""
    n_d = factor.shape[1]
    for side, r in (("before", before), ("after", after)):
        for j in range(1, r + 1):
            d = days[0] - j if side == "before" else days[-1] + j
            if 0 <= d < n_d:
                ramp = 1 + (mult - 1) * (r + 1 - j) / (r + 1)
                factor[:, d] = np.where(mult >= 1, np.maximum(factor[:, d], ramp), np.minimum(factor[:, d], ramp))


def _shape_differs(observed: np.ndarray, expected_share: np.ndarray) -> bool:
    total = observed.sum()
    if total < 20:
        return False
    expected = expected_share * total
    if (observed[expected <= 0] > 0).any():
        return True
    keep = expected > 0
    if keep.sum() < 2:
        return False
    exp = expected[keep] * observed[keep].sum() / expected[keep].sum()
    return bool(stats.chisquare(observed[keep], exp).pvalue < _P_SHAPE)


def _mix(counts: pd.Series) -> dict:
    total = counts.sum()
    return {str(k): round(float(v / total), 4) for k, v in counts.items() if v > 0} if total else {}


def learn_season(fresh: pd.DataFrame, kinds: dict, present: pd.DatetimeIndex, interval="60min",
                 user_events: dict | None = None, z_day=3.5, z_event=3.0, max_ramp=7, passes=4) -> Season:
    """Learn the season from fresh contacts (``channel, created_at, reason``) on the ``present``
    dates (naive local midnights of the days the export covers). See the module doc."""
    step = pd.Timedelta(interval)
    channels = sorted(fresh["channel"].astype(str).unique())
    dates = pd.DatetimeIndex(sorted(set(present)))
    slots = _grid(fresh, dates, channels, step)
    obs = slots.sum(axis=2)
    n_c, n_d = obs.shape
    weekday = dates.day_of_week.to_numpy()
    day_list = [d.date() for d in dates]
    years_back = ((dates[-1] - dates).days.to_numpy() // _YEAR) if n_d else np.zeros(0, int)
    long_export = n_d and (dates[-1] - dates[0]).days >= _YEAR + 7
    known = occurrences(day_list[0], day_list[-1], user_events)
    index = {d: i for i, d in enumerate(day_list)}
    candidate = np.zeros(n_d, bool)
    for o in known:
        for i in _days(o.first, o.last, index):
            candidate[i] = True
    ordinary = ~candidate if (~candidate).sum() >= 7 else np.ones(n_d, bool)
    growth = np.ones(n_c)
    growth_ci = [None] * n_c
    cv = np.full(n_c, 0.1)
    found, not_found = [], []
    for it in range(passes):
        scale = growth[:, None] ** years_back[None, :]
        if it == 0:  # robust first guess: weekday medians
            level, dow = _median_baseline(obs * scale, ordinary, weekday)
        else:
            level, dow = _baseline(obs, ordinary, weekday, scale)
        base = level[:, None] * dow[:, weekday] / scale
        z = _z(obs, base, cv)
        unusual = (np.abs(z) > z_day).any(axis=0)
        found, not_found = [], []
        covered = np.zeros(n_d, bool)
        core_of = np.zeros(n_d, bool)
        for o in known:
            days = _days(o.first, o.last, index)
            if o.window:
                days = [i for i in days if unusual[i]]
                days = list(range(days[0], days[-1] + 1)) if days else []
            if not days:
                continue
            O, E = obs[:, days].sum(axis=1), base[:, days].sum(axis=1)
            var = E + cv ** 2 * (base[:, days] ** 2).sum(axis=1)
            # the baseline is itself a mean of a few ordinary days of each weekday: its error adds
            n_w = np.array([max(int((ordinary & (weekday == weekday[i])).sum()), 1) for i in days])
            var_base = ((base[:, days] + cv[:, None] ** 2 * base[:, days] ** 2) / n_w).sum(axis=1)
            var = var + (O / np.maximum(E, 1e-9)) ** 2 * var_base
            ze = (O - E) / np.sqrt(np.maximum(var, 1e-9))
            if not (np.abs(ze) > z_event).any():
                not_found.append({"name": o.name, "first": o.first, "last": o.last, "source": o.source,
                                  "largest_abs_z": round(float(np.abs(ze).max()), 2)})
                continue
            found.append((o, days, O, E, var))
            core_of[days] = True
        factor = np.ones_like(base)
        mults = []
        for o, days, O, E, var in found:
            mults.append(np.where(E > 0, O / np.maximum(E, 1e-9), 1.0))
            factor[:, days] = mults[-1][:, None]
        ramps = {}
        for k in sorted(range(len(found)), key=lambda k: -float(np.abs(mults[k] - 1).max())):
            days = found[k][1]
            before = _ramp(obs, base, factor, cv, mults[k], days, core_of, "before", max_ramp)
            after = _ramp(obs, base, factor, cv, mults[k], days, core_of, "after", max_ramp)
            _apply_ramp(factor, mults[k], days, before, after)
            ramps[k] = (before, after)
            covered[max(days[0] - before, 0):min(days[-1] + after, n_d - 1) + 1] = True
        found = [(*item, *ramps[k]) for k, item in enumerate(found)]
        expected = base * factor
        ordinary = ~unusual & ~covered
        if ordinary.sum() < 7:
            ordinary = ~covered if (~covered).sum() >= 7 else np.ones(n_d, bool)
        cv = _dispersion(obs, base, ordinary)
        if long_export:
            growth, growth_ci = _growth(obs, ordinary, dates, cv)
    status = np.where(ordinary, "ordinary", np.where(covered, "event", "outlier")).astype(object)
    for o, days, *_ in found:
        status[days] = o.name
    daily = pd.DataFrame({
        "channel": np.repeat(channels, n_d), "date": np.tile(dates, n_c), "weekday": np.tile(weekday, n_c),
        "fresh": obs.ravel(), "baseline": base.ravel(), "expected": expected.ravel(),
        "ratio": (obs / np.where(expected > 0, expected, np.nan)).ravel(), "z": _z(obs, expected, cv).ravel(),
        "status": np.tile(status, n_c)})
    out_channels = {}
    for c, name in enumerate(channels):
        out_channels[name] = _channel(name, c, kinds.get(name, "sync"), slots, ordinary, weekday, level, dow,
                                      cv, growth, growth_ci, fresh, dates, step)
    events, event_rows = pool_events(found, channels, slots, base, weekday, out_channels, fresh, dates,
                                     _shape_differs, _mix)
    outliers = [{"date": day_list[i], "weekday": WEEKDAYS[weekday[i]],
                 **{ch: round(float(obs[c, i] / base[c, i]), 3) if base[c, i] > 0 else None
                    for c, ch in enumerate(channels)}}
                for i in np.flatnonzero(status == "outlier")]
    return Season(out_channels, events, outliers, not_found, daily, pd.DataFrame(event_rows, columns=EVENT_COLUMNS))


def _days(first: dt.date, last: dt.date, index: dict) -> list[int]:
    return [index[first + dt.timedelta(days=k)] for k in range((last - first).days + 1)
            if first + dt.timedelta(days=k) in index]


def _median_baseline(scaled, ordinary, weekday):
    n_c = scaled.shape[0]
    means = np.full((n_c, 7), np.nan)
    for w in range(7):
        days = ordinary & (weekday == w)
        if days.any():
            means[:, w] = np.median(scaled[:, days], axis=1)
    fill = np.nanmean(means, axis=1, keepdims=True)
    means = np.where(np.isnan(means), fill, means)
    level = means.mean(axis=1)
    return level, means / np.where(level > 0, level, 1.0)[:, None]


def _dispersion(obs, base, ordinary):
    cv = np.zeros(obs.shape[0])
    n = int(ordinary.sum())
    if n <= 8:
        return np.full(obs.shape[0], 0.1)
    for c in range(obs.shape[0]):
        e = base[c, ordinary]
        ok = e > 0
        if ok.sum() <= 8:
            continue
        r = obs[c, ordinary][ok] / e[ok]
        excess = ((r - 1) ** 2).sum() / (ok.sum() - 7) - (1 / e[ok]).mean()
        cv[c] = np.sqrt(max(excess, 0.0))
    return cv


def _growth(obs, ordinary, dates, cv):
    """Year-over-year growth per channel from ordinary days 364 days apart (module doc, step 6)."""
    pos = {d: i for i, d in enumerate(dates)}
    pairs = [(pos[d], pos[d - pd.Timedelta(days=_YEAR)]) for d in dates
             if d - pd.Timedelta(days=_YEAR) in pos and ordinary[pos[d]] and ordinary[pos[d - pd.Timedelta(days=_YEAR)]]]
    growth, ci = np.ones(obs.shape[0]), [None] * obs.shape[0]
    if len(pairs) < 7:
        return growth, ci
    now, then = zip(*pairs)
    for c in range(obs.shape[0]):
        a, b = obs[c, list(now)].sum(), obs[c, list(then)].sum()
        if a <= 0 or b <= 0:
            continue
        growth[c] = a / b
        se = np.sqrt(1 / a + 1 / b + 2 * cv[c] ** 2 / len(pairs))
        ci[c] = {"value": round(float(a / b), 4), "lo": round(float(a / b * np.exp(-1.96 * se)), 4),
                 "hi": round(float(a / b * np.exp(1.96 * se)), 4), "day_pairs": len(pairs)}
    return growth, ci


def _channel(name, c, kind, slots, ordinary, weekday, level, dow, cv, growth, growth_ci, fresh, dates, step):
    per_day = slots.shape[2]
    by_weekday = np.array([slots[c, ordinary & (weekday == w)].sum(axis=0) for w in range(7)])
    n_days = np.array([int((ordinary & (weekday == w)).sum()) for w in range(7)])
    pooled = by_weekday.sum(axis=0)
    pooled_share = pooled / pooled.sum() if pooled.sum() > 0 else np.full(per_day, 1 / per_day)
    weekday_dow = dow[c].copy()
    out = {"kind": kind, "per_day": round(float(level[c]), 3), "ordinary_days": int(ordinary.sum())}
    shares = np.tile(pooled_share, (7, 1))
    own = []
    for w in range(7):
        if _shape_differs(by_weekday[w], pooled_share):
            shares[w] = by_weekday[w] / by_weekday[w].sum()
            own.append(WEEKDAYS[w])
    if kind == "sync":
        mean = by_weekday / np.maximum(n_days, 1)[:, None]
        daily_mean = mean.sum(axis=1)
        open_days = [w for w in range(7) if n_days[w] and daily_mean[w] >= 0.02 * daily_mean.max()]
        if open_days:
            busy = mean[open_days].max(axis=0)
            open_slots = np.flatnonzero(busy >= 0.01 * busy.max())
            first, last = int(open_slots[0]), int(open_slots[-1]) + 1
            inside = np.zeros(per_day, bool)
            inside[first:last] = True
            shares = np.where(inside[None, :], shares, 0.0)
            for w in range(7):
                if w not in open_days:
                    weekday_dow[w] = 0.0
            if first > 0 or last < per_day or len(open_days) < 7:
                minutes = lambda k: int(k * step / pd.Timedelta("1min"))  # noqa: E731
                out["open"] = {"start": f"{minutes(first) // 60:02d}:{minutes(first) % 60:02d}",
                               "end": f"{minutes(last) // 60:02d}:{minutes(last) % 60:02d}",
                               "days": [WEEKDAYS[w] for w in open_days]}
    norm = shares.sum(axis=1, keepdims=True)
    shares = np.divide(shares, norm, out=np.zeros_like(shares), where=norm > 0)
    if weekday_dow.mean() > 0:
        out["per_day"] = round(float(level[c] * weekday_dow.mean()), 3)
        weekday_dow = weekday_dow / weekday_dow.mean()
    out["day_of_week"] = [round(float(v), 4) for v in weekday_dow]
    out["intraday"] = [round(float(v), 6) for v in shares[[w for w in range(7) if w not in own][0]]] if len(own) < 7 \
        else [round(float(v), 6) for v in pooled_share]
    if own:
        out["intraday_by_weekday"] = {WEEKDAYS[w]: [round(float(v), 6) for v in shares[w]] for w in range(7)
                                      if WEEKDAYS[w] in own}
    reasons = fresh.loc[fresh["channel"].astype(str) == name, ["created_at", "reason"]]
    day = reasons["created_at"].dt.tz_localize(None).dt.normalize()
    keep = day.isin(dates[ordinary])
    counts = reasons.loc[keep, "reason"].astype("string").fillna("general").value_counts()
    if len(counts) > 1 or (len(counts) == 1 and counts.index[0] != "general"):
        out["reasons"] = _mix(counts)
    if cv[c] >= 0.01 and ordinary.sum() >= 14:  # fewer ordinary days cannot tell spread from noise
        out["dispersion"] = {"cv": round(float(min(cv[c], 2.0)), 4)}
    if growth_ci[c] is not None:
        out["growth"] = growth_ci[c]
    return out
