"""Backtest: calibrate on training tickets, replay a held-out period, compare with what happened.

The question a backtest answers is "given the demand and the staffing that actually occurred,
does the model predict the waits and abandonment that actually occurred?" So the test period's
own inputs are fed to the model, and only the *behaviour* comes from the training period:

* **demand**: the test period's offered calls (calls that reached the agent queue, i.e. served,
  or abandoned after queueing; IVR-only calls are not offered). By default (``arrivals="counts"``)
  each staffing step's own count is replayed exactly (``arrivals: {counts: [...]}``), at uniform
  times inside the step: the Poisson model conditioned on what happened, so no volume noise is
  added that the real period did not have. ``arrivals="poisson"`` gives the comparison
  interval's volume as a Poisson rate instead;
* **staffing**: agents present inferred from the test period's service spells
  (:func:`calibrate.profiles.infer_staffing`) every ``staffing_step`` (15 min), time-weighted and
  therefore fractional; or (``capacity="revealed"``) agents *available*, revealed by congestion
  (:func:`calibrate.capacity.revealed_capacity`: in service while later-answered callers wait,
  idle inside a session otherwise), with teams that serve one call type as groups and channels
  of their own (``teams``; :mod:`calibrate.backtest_capacity`). The model needs whole agents:
  :func:`whole_agents` rounds the running total (error diffusion), so each hour keeps its
  fractional agent-hours;
* **behaviour**: handle time and patience fitted on the training period
  (:func:`calibrate.calibration.calibrate`; patience right-censored). Two corrections, both
  estimated on the training period only: talk time is divided by the agents' availability
  (:func:`agent_availability`: the busy share of present agents while callers wait — a log
  records talk, not wrap-up or short breaks), and the patience family replayed is the candidate
  closest to Kaplan–Meier (:func:`patience_for_replay`).

Every interval is attributed by **queue-entry time**; observed and predicted abandonment rates
are abandoned ÷ offered, ASA is the mean wait of served calls (zero waits included). Predictions
pool the replications (total abandoned ÷ total offered over replications), which is the mean rate
weighted by each replication's volume and is steadier than averaging per-replication ratios in
quiet intervals.

The **Erlang-A baseline** is evaluated per interval with the same inputs, as a planner would: the
interval's arrival rate, the same fractional agents (results for ⌊c⌋ and ⌈c⌉ agents mixed by the
fractional part), AHT = mean of the same handle-time distribution (availability included), and
exponential patience whose mean is the censored exponential MLE on the training
data, Σ waits of all offered calls ÷ number of abandonments (the standard Erlang-A practice, and
the exponential member of the same censored likelihood the patience fit maximises).

Errors are **offered-weighted mean absolute errors** over the intervals with at least
``min_offered`` offered calls (quiet intervals give rates that are mostly noise). Two yardsticks
come with them, because an hour's observed abandonment rate is itself a noisy measurement:
``noise_floor_mae`` is the error that *any* predictor of each interval's abandonment rate would
still make from binomial sampling alone (min over q of E|X/n − q|, X ~ Binomial(n, p),
n = offered, p = peaksim's prediction), and ``replication_noise_mae`` is peaksim's error against one further
replication of itself: the error a model that is *exactly right* would make, because one
hour's outcome also carries the randomness of arrival instants inside the step, service times
and the waits they cause (with ``arrivals="poisson"`` it also carries Poisson volume noise the
real, fixed volumes do not have).
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from calibrate.calibration import Calibration, calibrate
from calibrate.backtest_inputs import (availability_by_replay, call_types, load_steps,
                                      patience_by_hour as patience_by_hour_fit, reason_replay)
from calibrate.capacity import contacts_per_busy_agent
from calibrate.backtest_capacity import CAPACITY, TALK_TIME, replay_staffing, talk_time_profile, team_channel
from calibrate.backtest_scores import (daily_errors, erlang_a_baseline as _erlang_a, simulate_tallies as _simulate,
                                      summary_rows)
from calibrate.profiles import _presence, infer_staffing
from calibrate.schema import TicketData

__all__ = ["BacktestError", "BacktestResult", "backtest", "daily_errors", "agent_availability", "scale_distribution",
           "patience_for_replay", "whole_agents", "observed_intervals", "exponential_patience_mle", "ROUNDING",
           "INTERVAL_COLUMNS"]

INTERVAL_COLUMNS = ["interval_start", "offered", "agents", "observed_abandon_rate", "predicted_abandon_rate",
                    "erlang_a_abandon_rate", "observed_asa_s", "predicted_asa_s", "erlang_a_asa_s"]
ROUNDING = ("dither", "nearest", "ceil", "floor")
ARRIVALS = ("counts", "poisson")


class BacktestError(ValueError):
    """A backtest that cannot be run as asked (bad settings, or data without what it needs)."""


@dataclass(frozen=True, eq=False)
class BacktestResult:
    """``intervals``: one row per interval of the test period (``INTERVAL_COLUMNS`` plus
    ``agents_inferred`` and ``included``); ``summary``: ``metric, peaksim_mae, erlang_a_mae,
    peaksim_bias, erlang_a_bias, noise_floor_mae, replication_noise_mae, intervals, offered,
    description``; ``meta``: inputs and settings (JSON-ready); ``calibration``: the
    training calibration; ``scenario``: the replayed scenario (a :class:`sim.scenario.Scenario`)."""

    intervals: pd.DataFrame
    summary: pd.DataFrame
    meta: dict
    calibration: Calibration = field(repr=False)
    scenario: object = field(repr=False)

    def mae(self, metric: str, model: str = "peaksim") -> float:
        row = self.summary.set_index("metric").loc[metric]
        return float(row[f"{model}_mae"])


def _offered(contacts: pd.DataFrame) -> pd.DataFrame:
    """Offered calls with a known outcome: queue entry, served flag, wait (seconds)."""
    end = contacts["answered_at"].fillna(contacts["abandoned_at"])
    ok = contacts["queued_at"].notna() & end.notna()
    sub = contacts.loc[ok]
    return pd.DataFrame({"queued_at": sub["queued_at"], "served": sub["answered_at"].notna().to_numpy(),
                         "wait_s": (end[ok] - sub["queued_at"]).dt.total_seconds().to_numpy()})


def exponential_patience_mle(contacts: pd.DataFrame) -> float:
    """Censored exponential MLE of mean patience: Σ waits of all offered calls ÷ abandonments."""
    off = _offered(contacts)
    n_abandoned = int((~off["served"]).sum())
    if n_abandoned == 0:
        return math.inf
    return float(off["wait_s"].sum() / n_abandoned)


def agent_availability(contacts: pd.DataFrame, max_gap="30min", min_queue=1.0, resolution="1min", lead="0s",
                       lag="0s") -> dict:
    """Share of present agents' time spent in service while customers were waiting.

    A ticket log records talk time only. Between calls agents also wrap up, take short breaks and
    do other work, and the staffing inferred from service spells counts them as present through
    gaps shorter than ``max_gap``. While customers wait, a present agent who could take a call
    would: so in the minutes where on average at least ``min_queue`` calls were waiting, the
    share ``busy ÷ present`` is the fraction of an agent's present time actually available for
    calls. Its inverse scales talk time into agent time per call (the model's handle time).

    Returns ``{"availability", "minutes", "busy_agent_hours", "present_agent_hours"}``.
    """
    step = pd.Timedelta(resolution)
    staffing = infer_staffing(contacts, interval=resolution, max_gap=max_gap, lead=lead, lag=lag)
    if staffing.empty:
        return {"availability": math.nan, "minutes": 0, "busy_agent_hours": 0.0, "present_agent_hours": 0.0}
    first = staffing["interval_start"].iloc[0]
    off = _offered(contacts)
    t0 = (off["queued_at"] - first).dt.total_seconds().to_numpy()
    edges = np.arange(len(staffing) + 1) * step.total_seconds()
    queue = _presence(t0, t0 + off["wait_s"].to_numpy(), edges)
    present = staffing["agents"].to_numpy()
    waiting = (queue >= min_queue) & (present > 0)
    busy, on = staffing["busy_agents"].to_numpy()[waiting].sum(), present[waiting].sum()
    hours = step.total_seconds() / 3600.0
    return {"availability": float(busy / on) if on > 0 else math.nan, "minutes": int(waiting.sum()),
            "busy_agent_hours": float(busy * hours), "present_agent_hours": float(on * hours)}


def scale_distribution(dist: dict, factor: float) -> dict:
    """A scenario distribution (dict) with every duration multiplied by ``factor``."""
    out = dict(dist)
    for key in ("mean", "sd", "scale", "value"):
        if key in out and out[key] is not None:
            out[key] = float(out[key]) * factor
    if "values" in out:
        out["values"] = [float(v) * factor for v in out["values"]]
    return out


def patience_for_replay(fit, choice="km") -> dict:
    """The patience distribution to simulate with, in scenario form.

    AIC ranks families by likelihood over *all* waits, and most waits are short, so with
    thousands of calls it can prefer a family (often lognormal) that matches the first minute
    closely but whose tail beyond the longest observed waits is pure extrapolation: its mean can
    be several times that of the other candidates. A replay only needs the survival curve over
    the waits that occur, so ``"km"`` takes the candidate with the smallest largest gap to the
    Kaplan–Meier estimate over the observed range (``km_max_abs_diff``); ``"aic"`` keeps the
    calibration's choice.
    """
    from calibrate.fit import _scenario as scenario_form

    if choice not in ("km", "aic"):
        raise BacktestError(f"The 'patience' parameter of backtest must be 'km' or 'aic'. Got {choice!r} instead.")
    if choice == "aic":
        return fit.to_scenario()
    table = fit.table[np.isfinite(fit.table["km_max_abs_diff"])]
    best = table.sort_values("km_max_abs_diff", kind="stable").iloc[0]
    return scenario_form(best["candidate"], best["params"])


def observed_intervals(contacts: pd.DataFrame, start: pd.Timestamp, n_intervals: int, interval_s: float
                       ) -> pd.DataFrame:
    """Per interval from ``start`` (by queue entry): offered, abandoned, served, observed rates."""
    off = _offered(contacts)
    k = ((off["queued_at"] - start).dt.total_seconds() // interval_s).astype(int).to_numpy()
    inside = (k >= 0) & (k < n_intervals)
    k, served, wait = k[inside], off["served"].to_numpy()[inside], off["wait_s"].to_numpy()[inside]
    offered = np.bincount(k, minlength=n_intervals).astype(float)
    n_served = np.bincount(k[served], minlength=n_intervals).astype(float)
    wait_served = np.bincount(k[served], weights=wait[served], minlength=n_intervals)
    with np.errstate(invalid="ignore", divide="ignore"):
        return pd.DataFrame({"offered": offered, "served": n_served, "abandoned": offered - n_served,
                             "observed_abandon_rate": np.where(offered > 0, (offered - n_served) / offered, np.nan),
                             "observed_asa_s": np.where(n_served > 0, wait_served / n_served, np.nan)})


def whole_agents(agents: np.ndarray, rounding: str = "dither") -> np.ndarray:
    """Fractional agents per interval → whole agents the model can schedule.

    ``dither`` (error diffusion): round the running total, so every stretch of consecutive
    intervals keeps the fractional total to within one agent-interval (8.25 agents over four
    quarter-hours become 8, 8, 8, 9). ``nearest`` rounds each value half up, ``ceil``/``floor``
    bracket it.
    """
    agents = np.asarray(agents, dtype=float)
    if rounding not in ROUNDING:
        raise BacktestError(f"The 'rounding' parameter must be one of {ROUNDING}. Got {rounding!r} instead.")
    if rounding == "dither":
        total = np.floor(np.cumsum(agents) + 0.5)
        return np.diff(np.r_[0.0, total]).astype(int)
    if rounding == "ceil":
        return np.ceil(agents - 1e-9).astype(int)
    if rounding == "floor":
        return np.floor(agents + 1e-9).astype(int)
    return np.floor(agents + 0.5).astype(int)


def _demand(counts, arrivals, interval_s, reason_counts=None) -> dict:
    demand = ({"counts": [int(c) for c in counts]} if arrivals == "counts"
              else {"rate_per_hour": [float(c) * 3600.0 / interval_s for c in counts]})
    if reason_counts is not None:
        demand["reason_counts"] = reason_counts
    return demand


def _scenario(start, n, interval_s, channels: dict, groups: list, replications, seed, reasons=None):
    """The replayed scenario: ``channels`` {name: channel keys}, ``groups`` [(name, skills, agents per step)]."""
    from sim.scenario import parse_scenario

    data = {
        "name": "backtest", "start": start.isoformat(), "timezone": str(start.tz),
        "duration": float(n * interval_s), "interval": float(interval_s),
        "seed": int(seed), "replications": int(replications),
        "channels": {c: {"service_level": {"threshold": 20.0, "target": 0.8}, **keys} for c, keys in channels.items()},
        "agents": [{"name": g, "skills": list(skills), "headcount_by_interval": [int(a) for a in agents]}
                   for g, skills, agents in groups],
    }
    if reasons:
        data["reasons"] = reasons
    return parse_scenario(data, "<backtest scenario>")


def _laid_onto(profile: list, interval_s: float) -> list:
    """A calibration's per-interval-of-day profile at the replay's interval (repeated or averaged,
    as a scenario referencing the calibration would get it)."""
    from sim.calibration_ref import resample_daily
    from sim.errors import ScenarioError

    try:
        return [float(m) for m in resample_daily(list(profile), "<calibration>", "handle_time_profile", interval_s)]
    except ScenarioError as exc:
        raise BacktestError(f"{exc.lines[0]}") from None


def _reason_names(contacts: pd.DataFrame) -> pd.Series:
    """Call types as strings; a missing one is its own type."""
    return contacts["reason"].astype("string").fillna("unspecified").astype(str)


def _profile_of_day(profile, start, n_steps: int, step_s: float) -> np.ndarray:
    """A per-interval-of-day multiplier at each replay step, by local clock time (ones without one)."""
    if profile is None:
        return np.ones(n_steps)
    per_day = np.asarray(_laid_onto(profile, step_s), dtype=float)
    local = pd.DatetimeIndex(start + pd.to_timedelta(np.arange(n_steps) * step_s, unit="s"))
    slot = ((local - local.normalize()) // pd.Timedelta(seconds=step_s)).to_numpy(dtype=np.int64)
    return per_day[slot % len(per_day)]


def backtest(train: TicketData, test: TicketData, interval="60min", replications=10, seed=0,
             min_offered=10, rounding="dither", staffing_step="15min", channel=None, max_gap="30min",
             availability="train", patience="km", arrivals="counts", aht_profile=True,
             by_reason=False, patience_by_hour=False, load_speedup=False, idle_lead="0s", idle_lag="0s",
             capacity="sessions", wrap="10s", teams=False, talk_time="train",
             calibration: Calibration | None = None, progress=None) -> BacktestResult:
    """Calibrate on ``train``, replay ``test``'s offered volumes and inferred staffing, compare.

    ``staffing_step``: the resolution at which staffing is inferred and the model's headcount
    changes (a divisor of ``interval``; the default 15 min follows shift changes inside an hour);
    ``rounding``: see :func:`whole_agents`. ``availability``: ``"train"`` estimates
    :func:`agent_availability` on the training data and divides talk time by it (for peaksim and
    Erlang A alike); a number sets it; ``1`` replays raw talk time. ``channel`` picks the channel
    to replay (default: the only one with patience data, else the largest); ``calibration``
    reuses a calibration of ``train``; ``progress(label)`` is called between stages.
    ``patience``: ``"km"`` replays the candidate family closest to the Kaplan–Meier estimate over
    the observed waits (see :func:`patience_for_replay`), ``"aic"`` the calibration's choice.

    Richer behaviour, each estimated on ``train`` only (see :mod:`calibrate.backtest_inputs`):
    ``by_reason`` replays the test period's calls by call type with each type's handle time and
    patience; ``patience_by_hour`` gives patience a time-of-day profile; ``load_speedup`` makes
    agent time per call depend on the callers waiting (peaksim only: a per-interval formula
    cannot carry it); ``idle_lead`` / ``idle_lag`` extend every inferred agent session by idle
    time before its first and after its last call (staffing and availability alike).

    The test period's own inputs (see :mod:`calibrate.backtest_capacity`): ``capacity``
    ``"sessions"`` (agents present; talk time ÷ ``availability``) or ``"revealed"`` (agents
    available, raw talk time; ``wrap``: time after a call before an idle agent counts); ``teams``
    (with revealed capacity) makes agents who serve one call type a group and that type a channel
    of their own; ``talk_time="test"`` replays each step's own talk time (a diagnostic: it
    conditions on workload a forecast does not have; docs/validation.md).
    """
    started = time.perf_counter()
    settings = {"interval": interval, "seed": seed, "min_offered": min_offered, "rounding": rounding,
                "staffing_step": staffing_step, "max_gap": max_gap, "patience": patience, "arrivals": arrivals,
                "aht_profile": aht_profile, "by_reason": by_reason, "patience_by_hour": patience_by_hour,
                "load_speedup": load_speedup, "idle_lead": idle_lead, "idle_lag": idle_lag, "capacity": capacity,
                "wrap": wrap, "teams": teams, "talk_time": talk_time}
    step, sub = pd.Timedelta(interval), pd.Timedelta(staffing_step)
    interval_s, sub_s = step.total_seconds(), sub.total_seconds()
    if interval_s not in (900.0, 1800.0, 3600.0):
        raise BacktestError(f"The 'interval' parameter of backtest must be 15min, 30min or 60min. Got {interval!r} instead.")
    if sub_s not in (900.0, 1800.0, 3600.0) or interval_s % sub_s:
        raise BacktestError("The 'staffing_step' parameter of backtest must be 15min, 30min or 60min and divide "
                         f"'interval'. Got {staffing_step!r} instead.")
    if arrivals not in ARRIVALS:
        raise BacktestError(f"The 'arrivals' parameter of backtest must be one of {ARRIVALS}. Got {arrivals!r} instead.")
    if min_offered < 1:
        raise BacktestError(f"The 'min_offered' parameter of backtest must be ≥ 1. Got {min_offered!r} instead.")
    if replications < 1:
        raise BacktestError(f"The 'replications' parameter of backtest must be ≥ 1. Got {replications!r} instead.")
    if capacity not in CAPACITY:
        raise BacktestError(f"The 'capacity' parameter of backtest must be one of {CAPACITY}. Got {capacity!r} instead.")
    if teams and capacity != "revealed":
        raise BacktestError("The 'teams' parameter of backtest needs capacity='revealed' (a team's capacity is revealed "
                            f"by its own callers waiting). Got capacity={capacity!r} instead.")
    try:
        wrap_ok = pd.Timedelta(wrap) >= pd.Timedelta(0)
    except (ValueError, TypeError):
        wrap_ok = False
    if not wrap_ok:
        raise BacktestError(f"The 'wrap' parameter of backtest must be a duration ≥ 0 such as '10s'. Got {wrap!r} instead.")
    if talk_time not in TALK_TIME:
        raise BacktestError(f"The 'talk_time' parameter of backtest must be one of {TALK_TIME}. Got {talk_time!r} instead.")
    tick = progress or (lambda label: None)
    tick("calibrating on the training files")
    cal = calibration or calibrate(train, interval=interval, max_gap=max_gap, season=False)
    name = channel or _pick_channel(cal, test)
    if name not in cal.channels:
        usable = [c for c, p in cal.channels.items() if "patience" in p] or list(cal.channels)
        raise BacktestError(f"{_files(train)}: channel: no contacts on channel {name!r} in the training data "
                            f"(got {', '.join(cal.channels)}); pick one with --channel {usable[0]}")
    params = cal.channels.get(name, {})
    if "handle_time" not in params or "patience" not in params:
        missing = [q for q in ("handle_time", "patience") if q not in params]
        own = [s.split(": ", 1)[1] for s in cal.skipped if s.startswith(f"{name}: ")]
        raise BacktestError(f"{_files(train)}: {missing[0]}: the training data give no {' or '.join(missing)} fit "
                            f"for channel {name!r} (skipped: {'; '.join(own) or 'none'}); a backtest needs both: "
                            "train on tickets with handle_time_s, queued_at and abandonments"
                            + (", or pick another channel with --channel" if len(cal.channels) > 1 else ""))
    contacts = test.contacts[test.contacts["channel"] == name]
    train_contacts = train.contacts[train.contacts["channel"] == name]
    idle = {"lead": idle_lead, "lag": idle_lag}
    if capacity == "revealed":  # agents are counted only while available for calls: raw talk time
        held = contacts_per_busy_agent(contacts)
        if held > 1.05:  # busy agents would count contacts, not agents
            raise BacktestError(f"{_files(test)}: agent_id: on channel {name!r} agents hold several contacts at once "
                                f"({held:.2f} on average while busy); the backtest replays a one-call-at-a-time "
                                "queue: pick such a channel with --channel")
        avail = {"availability": 1.0, "source": "capacity revealed by congestion (agents counted while available)"}
    elif availability in ("train", "replay"):
        avail = agent_availability(train_contacts, max_gap=max_gap, **idle)
        if availability == "replay" and 0 < avail["availability"] <= 1:
            def replayed(u):  # the training period replayed with these settings, 2 replications
                kw = {**settings, "availability": u, "replications": 2, "calibration": cal, "channel": name}
                return backtest(train, train, **kw).meta["predicted_abandon_rate"]
            observed = observed_intervals(train_contacts, *_span(train_contacts, interval_s))
            rate = float(observed["abandoned"].sum() / max(observed["offered"].sum(), 1))
            avail = {**avail, **availability_by_replay(replayed, rate, avail["availability"])}
    else:
        avail = {"availability": float(availability), "source": "given"}
    u = avail["availability"]
    if not (0 < u <= 1):
        if availability not in ("train", "replay") or capacity == "revealed":
            why = "."
        elif u > 1:  # more contacts in service than agents present: a channel with concurrency (chat)
            why = (f" (on channel {name!r} agents hold several contacts at once, so busy exceeds present; the "
                   "backtest replays a one-call-at-a-time queue: pick such a channel with --channel)")
        else:
            why = " (the training data have no minutes with customers waiting)."
        raise BacktestError(f"The agent availability must be in (0, 1]. Got {u!r} instead{why}")
    handle_time = scale_distribution(params["handle_time"], 1.0 / u)
    patience_dist = patience_for_replay(cal.results[name]["patience"], patience)
    off = _offered(contacts)
    if off.empty:
        raise BacktestError(f"{_files(test)}: queued_at: no offered calls on channel {name!r} (got {len(contacts)} "
                            "contacts, none with a queue entry and an answer or abandonment); the replay needs "
                            "calls that reached the agent queue: give queued_at and answered_at / abandoned_at")
    start = off["queued_at"].min().floor("D", ambiguous=False, nonexistent="shift_forward")
    n = int((off["queued_at"].max() - start).total_seconds() // interval_s) + 1
    from sim.scenario import MAX_HORIZON_S

    if n * interval_s > MAX_HORIZON_S:  # one mistyped year would otherwise ask for a years-long replay
        raise BacktestError(f"{_files(test)}: queued_at: the test period spans {n * interval_s / 86400:,.0f} days "
                            f"(got {off['queued_at'].min():%Y-%m-%d} to {off['queued_at'].max():%Y-%m-%d}), more "
                            f"than the {MAX_HORIZON_S // 86400} days a replay can simulate; look for mistyped "
                            "dates, or split the test file into shorter periods")
    per = int(interval_s // sub_s)
    if train is not test:  # (the availability search replays the training data on itself, on purpose)
        _refuse_same_files(train, test)  # after the checks of the data themselves, before the replay

    tick("inferring staffing of the test period")
    staffing = replay_staffing(contacts, start, n * per, sub_s, capacity, max_gap=max_gap, wrap=wrap, teams=teams,
                               **idle)
    if not staffing.inferred.any():
        raise BacktestError(f"{_files(test)}: agent_id: no service spells on channel {name!r} (agent_id, answered_at "
                            "and handle_time_s of answered calls), so no staffing can be inferred; the replay needs "
                            "them: give each answered call its agent and talk time")
    whole = [whole_agents(fine, rounding) for _, _, fine in staffing.groups]
    inferred = staffing.inferred.reshape(n, per).mean(axis=1)
    coarse_agents = np.sum(whole, axis=0).reshape(n, per).mean(axis=1)
    reason_of = _reason_names(contacts)
    parts = {name: contacts[~reason_of.isin(staffing.team_types)]}  # a team's call type: a channel of its own
    parts.update({team_channel(name, t): contacts[reason_of == t] for t in staffing.team_types})

    obs = observed_intervals(contacts, start, n, interval_s)
    profile = params.get("handle_time_profile") if aht_profile else None  # per interval of the day
    hour_of_step = _profile_of_day(profile, start, n * per, sub_s)
    results = cal.results[name]
    own_means = {key.split("/")[0]: float(fit.mean) for key, fit in results.items()
                 if key.endswith("/handle_time")}
    extra_keys, replay, hourly_patience, steps = {}, None, None, None
    if by_reason:
        if arrivals != "counts":
            raise BacktestError("The 'by_reason' parameter of backtest replays counts by call type; it needs "
                                f"arrivals='counts'. Got {arrivals!r} instead.")
        if len(call_types(parts[name])) > 1:  # one type (or none recorded): the plain replay already is by type
            replay = reason_replay(cal, name, u, train_contacts, parts[name], start, n * per, sub_s, n, interval_s,
                                   patience)
    if patience_by_hour:
        hourly_patience = patience_by_hour_fit(train_contacts, interval=interval)
        if not hourly_patience.empty:
            extra_keys["patience_profile"] = _laid_onto(hourly_patience["multiplier"].tolist(), sub_s)
    if load_speedup:
        steps = load_steps(train_contacts, max_gap=max_gap, talk_only=capacity == "revealed", **idle)
        extra_keys["handle_time_by_queue"] = {"waiting": steps["waiting"].astype(int).tolist(),
                                              "multiplier": steps["multiplier"].astype(float).tolist()}

    def expected_talk(calls, own):  # the training model's mean talk time of each answered call
        base = float(results["handle_time"].mean)
        reason = _reason_names(calls)
        mean = reason.map(own_means).fillna(base).to_numpy(dtype=float) if own else np.full(len(calls), base)
        k = ((calls["queued_at"] - start).dt.total_seconds() // sub_s).astype(int).to_numpy()
        return mean * hour_of_step[np.clip(k, 0, n * per - 1)]

    channels, talk = {}, {}
    for c, part in parts.items():
        team = c != name
        if arrivals == "counts":  # each staffing step's own offered calls, exactly
            volumes = observed_intervals(part, start, n * per, sub_s)["offered"].to_numpy()
        else:  # the comparison interval's volume, spread evenly, as a Poisson rate
            volumes = np.repeat(observed_intervals(part, start, n, interval_s)["offered"].to_numpy() / per, per)
        type_name = c[len(name) + 1:] if team else None
        ht, pt = (results.get(f"{type_name}/handle_time"), results.get(f"{type_name}/patience")) if team else (None, None)
        keys = {"handle_time": handle_time if ht is None else scale_distribution(ht.to_scenario(), 1.0 / u),
                "patience": patience_dist if pt is None else patience_for_replay(pt, patience),
                "arrivals": _demand(volumes, arrivals, sub_s,
                                    None if replay is None or team else replay.reason_counts), **extra_keys}
        if talk_time == "test":  # the period's own talk time per step, relative to the training model
            talk[c] = talk_time_profile(part, start, n * per, sub_s,
                                        lambda calls, own=team or replay is not None: expected_talk(calls, own))
            keys["handle_time_profile"] = [round(float(v), 6) for v in hour_of_step * talk[c]]
        elif profile is not None:
            keys["handle_time_profile"] = _laid_onto(profile, sub_s)
        channels[c] = keys
    groups = [(g, list(channels) if t is None else [team_channel(name, t)], agents)
              for (g, t, _), agents in zip(staffing.groups, whole)]
    sc = _scenario(start, n * per, sub_s, channels, groups, replications, seed,
                   None if replay is None else replay.reasons)
    tick(f"simulating {replications} replications")
    (pred_rate, pred_asa), (own_rate, own_asa) = _simulate(sc, replications, n, interval_s)

    aht = float(results["handle_time"].mean) / u
    patience_mean = exponential_patience_mle(train_contacts)
    if replay is not None:  # the interval's call-type mix
        aht, patience_ea = replay.aht_s, replay.patience_s
    else:
        patience_ea = patience_mean
    starts = start + step * np.arange(n)
    local = pd.DatetimeIndex(starts)
    if profile is not None:  # the same time-of-day handle time peaksim gets
        per_interval = np.asarray(_laid_onto(profile, interval_s), dtype=float)
        slot = ((local - local.normalize()) // step).to_numpy(dtype=np.int64) % len(per_interval)
        aht = aht * per_interval[slot]
    if talk_time == "test":  # and the same realized talk time, per interval
        aht = aht * talk_time_profile(contacts, start, n, interval_s,
                                      lambda calls: expected_talk(calls, replay is not None))
    if hourly_patience is not None and not hourly_patience.empty:  # and the same patience by time of day
        per_interval = hourly_patience["multiplier"].to_numpy(dtype=float)
        slot = ((local - local.normalize()) // step).to_numpy(dtype=np.int64) % len(per_interval)
        patience_ea = patience_ea * per_interval[slot]
    ea_rate, ea_asa = _erlang_a(obs["offered"].to_numpy(), coarse_agents, interval_s, aht, patience_ea,
                                fractional=True)

    frame = pd.DataFrame({
        "interval_start": starts, "offered": obs["offered"].astype(int),
        "agents": np.round(coarse_agents, 4),
        "observed_abandon_rate": obs["observed_abandon_rate"], "predicted_abandon_rate": pred_rate,
        "erlang_a_abandon_rate": ea_rate, "observed_asa_s": obs["observed_asa_s"],
        "predicted_asa_s": pred_asa, "erlang_a_asa_s": ea_asa,
        "agents_inferred": np.round(inferred, 4), "included": obs["offered"].to_numpy() >= min_offered,
    })
    inc = frame[frame["included"]]
    weights = inc["offered"].astype(float)
    own = pd.DataFrame({"abandon_rate": own_rate, "asa_s": own_asa}, index=frame.index).loc[inc.index]
    rows = summary_rows(inc, own, min_offered)
    summary = pd.DataFrame(rows)
    meta = {
        "channel": name, "interval": str(interval), "interval_s": interval_s, "staffing_step": str(staffing_step),
        "replications": replications, "seed": seed, "min_offered": min_offered, "rounding": rounding,
        "max_gap": str(max_gap), "arrivals": arrivals, "test_start": start.isoformat(), "intervals": n,
        "intervals_included": int(len(inc)), "offered_total": int(obs["offered"].sum()),
        "offered_included": int(weights.sum()),
        "observed_abandon_rate": float(obs["abandoned"].sum() / max(obs["offered"].sum(), 1)),
        "predicted_abandon_rate": float(np.nansum(pred_rate * obs["offered"].to_numpy()) / max(obs["offered"].sum(), 1)),
        "handle_time_talk": params["handle_time"], "handle_time": handle_time,
        "patience": patience_dist, "patience_choice": patience, "patience_aic": params["patience"],
        "availability": avail,
        "handle_time_profile": profile,
        "by_reason": None if replay is None else {"reasons": replay.reasons,
                                                   "table": replay.table.to_dict(orient="records")},
        "patience_profile": None if hourly_patience is None else extra_keys.get("patience_profile"),
        "handle_time_by_queue": None if steps is None else extra_keys["handle_time_by_queue"],
        "idle_lead": str(idle_lead), "idle_lag": str(idle_lag),
        "capacity": capacity, "wrap": str(wrap) if capacity == "revealed" else None, "talk_time": talk_time,
        "groups": [{"name": g, "skills": skills, "agent_hours": round(float(np.sum(agents)) * sub_s / 3600.0, 2)}
                   for g, skills, agents in groups],
        "teams": None if staffing.teams is None else staffing.teams[staffing.teams["team"] != ""].to_dict(orient="records"),
        "erlang_a": {"aht_s": float(cal.results[name]["handle_time"].mean) / u, "patience_mean_s": patience_mean,
                     "patience": "exponential, censored MLE: sum of waits / abandonments (training)",
                     "agents": "fractional: mix of floor and ceil by the fractional part",
                     "aht_profile": "aht_s × the training handle-time profile at the interval's hour of day"
                     if profile is not None else "none"},
        "train_files": [{"path": p, "sha256": h} for p, h in train.files],
        "test_files": [{"path": p, "sha256": h} for p, h in test.files],
        "summary": {r["metric"]: {k: r[k] for k in ("peaksim_mae", "erlang_a_mae", "noise_floor_mae",
                                                     "replication_noise_mae")} for r in rows},
        "wall_seconds": round(time.perf_counter() - started, 3),
    }
    return BacktestResult(intervals=frame, summary=summary, meta=meta, calibration=cal, scenario=sc)


def _span(contacts: pd.DataFrame, interval_s: float) -> tuple:
    """(start, intervals) covering a period's offered calls from the midnight before the first."""
    off = _offered(contacts)
    start = off["queued_at"].min().floor("D", ambiguous=False, nonexistent="shift_forward")
    return start, int((off["queued_at"].max() - start).total_seconds() // interval_s) + 1, interval_s


def _refuse_same_files(train: TicketData, test: TicketData) -> None:
    """A file that is both a training and a test file would test the model on the data it was fitted to."""
    for test_file, _ in test.files:
        for train_file, _ in train.files:
            try:
                same = os.path.samefile(test_file, train_file)
            except OSError:
                same = False
            if same:
                raise BacktestError(f"--test {test_file}: is also a training file (--train {train_file}); a backtest "
                                    "replays a period the model was not fitted to: give another period's file "
                                    "(e.g. the next month) to --test")


def _files(data: TicketData) -> str:
    """The file(s) a ticket set came from, for messages: the first, and how many more."""
    first = data.files[0][0] if data.files else "<tickets>"
    return first if len(data.files) <= 1 else f"{first} (+{len(data.files) - 1} more)"


def _pick_channel(cal: Calibration, test: TicketData) -> str:
    with_patience = [c for c, p in cal.channels.items() if "patience" in p]
    if len(with_patience) == 1:
        return with_patience[0]
    counts = test.contacts["channel"].value_counts()
    candidates = [c for c in counts.index if c in with_patience] or list(counts.index)
    return str(candidates[0])
