"""The calibration's ``model:`` section: everything `peaksim forecast` needs, in scenario form.

Why one section: the older ``channels:`` entries are fits and provenance (and what a scenario's
``calibration:`` reference reads); ``model:`` is what a forecast writes into a scenario, with the
fresh-vs-repeat split applied: arrivals from fresh demand only (calibrate/season.py), repeats as
behaviour (calibrate/repeats.py), reasons with their handle-time factor, first-contact resolution and
bot success, the named events, and the agent groups seen in the data (calibrate/groups.py).

Reason handle-time factors: a scenario's reasons are shared by all channels and multiply the
channel's handle time, so each reason's factor is its mean handle time ÷ its channel's mean, pooled
over channels (weighted by contacts, at least ``min_n``), and each channel's handle time is scaled
by 1 ÷ (its reason mix · factors), so the channel's mean handle time is unchanged.
"""
from __future__ import annotations

import pandas as pd

from calibrate.groups import infer_groups
from calibrate.origins import Windows, channel_kinds, classify, origin_counts
from calibrate.repeats import fit_repeats, open_table
from calibrate.season import learn_season

__all__ = ["learn_model"]


def _scaled(dist: dict, factor: float) -> dict:
    out = dict(dist)
    for key in ("mean", "sd", "scale"):
        if out.get(key) is not None:
            out[key] = round(float(out[key]) * factor, 4)
    return out


def _handle_factors(contacts: pd.DataFrame, min_n: int) -> dict:
    ok = contacts[contacts["handle_time_s"] > 0]
    if ok.empty:
        return {}
    reason = ok["reason"].astype("string").fillna("general")
    channel_mean = ok.groupby(ok["channel"].astype(str))["handle_time_s"].transform("mean")
    ratio = ok["handle_time_s"] / channel_mean
    table = ratio.groupby(reason).agg(["mean", "size"])
    return {str(r): round(float(row["mean"]), 4) for r, row in table.iterrows() if row["size"] >= min_n}


def learn_model(contacts: pd.DataFrame, fitted: dict, interval="60min", min_n=50, windows: Windows | None = None,
                user_events: dict | None = None, max_gap="30min") -> tuple[dict, dict, dict]:
    """(model section, season summary, diagnostics tables) from loaded contacts and the channel fits
    ``fitted`` (the calibration's ``channels``)."""
    windows = windows or Windows()
    kinds = channel_kinds(contacts)
    origins = classify(contacts, kinds, windows)
    fresh = contacts[origins["origin"].to_numpy() == "fresh"]
    local = contacts["created_at"].dt.tz_localize(None).dt.normalize()
    present = pd.DatetimeIndex(local.unique())
    season = learn_season(fresh, kinds, present, interval=interval, user_events=user_events)
    per_day = int(pd.Timedelta("24h") / pd.Timedelta(interval))
    opens = {name: open_table(learned.get("open"), per_day) for name, learned in season.channels.items()
             if learned["kind"] == "sync"}
    repeats = fit_repeats(contacts, origins, kinds, windows, min_n=min_n, opens=opens)
    groups, group_table = infer_groups(contacts, present, interval=interval, max_gap=max_gap)
    factors = _handle_factors(contacts, min_n)
    reasons = {}
    for name in sorted(set(factors) | set(repeats.reasons)):
        block = dict(repeats.reasons.get(name, {}))
        if factors.get(name, 1.0) != 1.0:
            block = {"handle_factor": factors[name], **block}
        reasons[name] = block
    channels = {}
    for name, learned in season.channels.items():
        fit = fitted.get(name, {})
        arrivals = {k: learned[k] for k in ("per_day", "day_of_week", "intraday", "intraday_by_weekday", "dispersion")
                    if k in learned}
        block = {"kind": learned["kind"]}
        mix = learned.get("reasons")
        if "handle_time" in fit:
            weight = sum(share * factors.get(r, 1.0) for r, share in (mix or {"general": 1.0}).items())
            block["handle_time"] = _scaled(fit["handle_time"], 1 / weight if weight > 0 else 1.0)
        if "handle_time_profile" in fit:
            block["handle_time_profile"] = fit["handle_time_profile"]
        if "patience" in fit and learned["kind"] == "sync":
            block["patience"] = fit["patience"]
        for key in ("open",):
            if key in learned:
                block[key] = learned[key]
        if mix:
            block["reasons"] = mix
        block.update(repeats.channels.get(name, {}))
        block["arrivals"] = arrivals
        if "growth" in learned:
            block["growth"] = learned["growth"]
        channels[name] = block
    model = {"timezone": str(contacts["created_at"].dt.tz), "interval": str(interval), "windows": windows.to_dict(),
             "channels": channels, "reasons": reasons, "events": season.events, "agents": groups}
    if user_events:
        model["user_events"] = {name: [[str(a), str(b)] for a, b in spans] for name, spans in user_events.items()}
    split = origin_counts(contacts, origins)
    summary = {"origins": split.to_dict("records"), "outliers": season.outliers,
               "events_not_found": season.not_found, "skipped": repeats.skipped}
    not_found = pd.DataFrame(season.not_found, columns=["name", "first", "last", "source", "largest_abs_z"])
    diagnostics = {"origins": split, "season_daily": season.daily, "season_events": season.event_table,
                   "season_not_found": not_found,
                   "behaviour_rates": repeats.table(), "agent_groups": group_table}
    return model, summary, diagnostics
