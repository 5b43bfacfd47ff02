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

This module runs the backtest; its settings are checked in :mod:`calibrate.backtest_settings`, the
log's own tallies come from :mod:`calibrate.backtest_observed`, the replayed scenario is built from
:mod:`calibrate.backtest_replay` and scored in :mod:`calibrate.backtest_scores`.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from calibrate.calibration import Calibration, calibrate
from calibrate.backtest_inputs import (availability_by_replay, call_types, load_steps,
                                      patience_by_hour as patience_by_hour_fit, reason_replay)
from calibrate.capacity import contacts_per_busy_agent
from calibrate.backtest_capacity import replay_staffing, talk_time_profile, team_channel
from calibrate.backtest_observed import (_offered, _span, agent_availability, exponential_patience_mle,
                                         observed_intervals)
from calibrate.backtest_replay import (_demand, _laid_onto, _profile_of_day, _scenario, patience_for_replay,
                                       scale_distribution, whole_agents)
from calibrate.backtest_scores import (daily_errors, erlang_a_baseline as _erlang_a, simulate_tallies as _simulate,
                                      summary_rows)
from calibrate.backtest_settings import ROUNDING, BacktestError, check_settings
from calibrate.schema import TicketData

__all__ = ["BacktestError", "BacktestResult", "backtest", "daily_errors", "agent_availability", "scale_distribution",
           "patience_for_replay", "whole_agents", "observed_intervals", "exponential_patience_mle", "ROUNDING",
           "INTERVAL_COLUMNS"]

INTERVAL_COLUMNS = ["interval_start", "offered", "agents", "observed_abandon_rate", "predicted_abandon_rate",
                    "erlang_a_abandon_rate", "observed_asa_s", "predicted_asa_s", "erlang_a_asa_s"]


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


def _reason_names(contacts: pd.DataFrame) -> pd.Series:
    """Call types as strings; a missing one is its own type."""
    return contacts["reason"].astype("string").fillna("unspecified").astype(str)


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
    step, interval_s, sub_s = check_settings(interval, staffing_step, arrivals, min_offered, replications, capacity,
                                             teams, wrap, talk_time)
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
