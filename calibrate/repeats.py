"""Repeat contacts turned into the scenario's behaviour: redials, chasers, reopens, bot bounces.

Given the origins of :mod:`calibrate.origins`, each repeat is a child of the contact it repeats,
so each rate is "children ÷ contacts that could have had one", in the form sim/behaviour.py
simulates:

* ``channels.X.behaviour.redial``: probability = abandoned contacts followed by a redial ÷
  abandoned contacts; ``delay`` fitted to abandonment → redial; ``switch`` = share of redials
  on each other channel;
* ``channels.X.behaviour.chaser`` (async): ``after`` = median time from queue entry to the first
  chaser; probability = contacts chased ÷ contacts still unanswered ``after`` their queue entry;
* ``reasons.R.fcr`` = 1 − reopened ÷ handled, ``reopen_delay`` fitted to end of service → reopen,
  ``reopen_channel`` = share of reopens arriving on another channel;
* ``channels.X.bot``: containment = resolved ÷ met the bot, ``false_containment`` = bounced ÷
  resolved, ``return_delay``, ``return_channel``, ``session`` fitted to the escalated contacts'
  creation → queue entry; ``reasons.R.bot_containment`` where a reason has enough bot contacts.

Closed hours: the simulator drops a repeat that would arrive while its (sync) target channel is
closed (the customer meets the closed message), so the export shows only the repeats that found
the channel open. Each probability is therefore divided by the share of would-be repeats that land
in opening hours (``_reach``: the fitted delay drawn for each parent, the target channel by the
fitted mix, checked against the learned opening hours), so the scenario's rate is the customers'
and the simulation's own dropping reproduces what was seen.

Censoring at the end of the export: a contact whose window reaches past the last contact could
still have had a child we cannot see, so it is left out of the denominator. Every rate carries
the sample it rests on (``n``); rates resting on fewer than ``min_rate_n`` contacts are not
written (listed under ``skipped`` instead).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from calibrate.fit import FitError, fit_duration
from calibrate.origins import Windows

__all__ = ["Repeats", "fit_repeats"]


@dataclass
class Repeats:
    """Scenario-form behaviour: ``channels[X]`` (``behaviour``, ``bot``), ``reasons[R]`` and a tidy
    ``rates`` table (``channel, reason, behaviour, parameter, value, count, n``) for the report."""

    channels: dict = field(default_factory=dict)
    reasons: dict = field(default_factory=dict)
    rates: list = field(default_factory=list)
    skipped: list = field(default_factory=list)

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(self.rates, columns=["channel", "reason", "behaviour", "parameter", "value", "count", "n"])


def _delay(seconds: np.ndarray, min_n: int) -> dict | None:
    """A fitted delay distribution, or an exponential with the sample mean when the sample is small."""
    seconds = seconds[np.isfinite(seconds) & (seconds > 0)]
    if len(seconds) == 0:
        return None
    try:
        return fit_duration(seconds, min_n=min_n).to_scenario()
    except FitError:
        return {"dist": "exponential", "mean": float(seconds.mean())}


def open_table(open_hours: dict | None, per_day: int) -> np.ndarray:
    """7 × intervals-per-day: True where the channel is open (no hours: always)."""
    table = np.ones((7, per_day), bool)
    if open_hours:
        minutes = lambda text: int(text[:2]) * 60 + int(text[3:5])  # noqa: E731
        slot = np.arange(per_day) * (1440 / per_day)
        inside = (slot >= minutes(open_hours["start"])) & (slot < minutes(open_hours["end"]))
        days = [("mon", "tue", "wed", "thu", "fri", "sat", "sun").index(d) for d in open_hours["days"]]
        table[:] = False
        table[days] = inside
    return table


def _reach(times: pd.Series, delay: dict | None, source: str, mix: dict | None, opens: dict | None,
           fixed_s: float = 0.0, draws: int = 16) -> float:
    """Share of would-be repeats of these parents that arrive while their target channel is open."""
    if not opens or len(times) == 0:
        return 1.0
    from pydantic import TypeAdapter

    from sim.distributions import Distribution

    rng = np.random.default_rng(0)
    local = times.dt.tz_localize(None).to_numpy("datetime64[ns]").astype(np.int64)
    n = len(local) * draws
    seconds = TypeAdapter(Distribution).validate_python(delay).sample(rng, n) if delay else np.zeros(n)
    t = np.repeat(local, draws) + ((seconds + fixed_s) * 1e9).astype(np.int64)
    day = t // 86_400_000_000_000
    weekday = (day + 3) % 7  # 1970-01-01 was a Thursday
    share = 0.0
    targets = dict(mix or {})
    targets[source] = targets.get(source, 0.0) + max(0.0, 1 - sum((mix or {}).values()))
    for channel, p in targets.items():
        table = opens.get(channel)
        if table is None or p <= 0:
            share += p
            continue
        slot = ((t - day * 86_400_000_000_000) * table.shape[1]) // 86_400_000_000_000
        share += p * float(table[weekday, slot].mean())
    return max(share, 1e-3)


def _secs(later: pd.Series, earlier: pd.Series) -> np.ndarray:
    """Seconds from ``earlier`` to ``later``, row by row (position, not index)."""
    return (later.reset_index(drop=True) - earlier.reset_index(drop=True)).dt.total_seconds().to_numpy(float)


def _mix(children: pd.DataFrame, source: pd.Series) -> dict | None:
    """Share of children arriving on each channel other than their source's: a scenario mix whose
    remainder stays on the source channel."""
    other = children["channel"].astype(str) != source.astype(str).to_numpy()
    if not other.any():
        return None
    shares = {}
    for channel in sorted(children.loc[other, "channel"].astype(str).unique()):
        eligible = source.astype(str).to_numpy() != channel
        shares[channel] = round(float((children["channel"].astype(str).to_numpy()[eligible] == channel).mean()), 4)
    return {k: v for k, v in shares.items() if v > 0} or None


def fit_repeats(contacts: pd.DataFrame, origins: pd.DataFrame, kinds: dict, windows: Windows,
                min_n: int = 50, min_rate_n: int = 30, opens: dict | None = None) -> Repeats:
    """Fit every behaviour the data identifies (module doc). ``contacts`` and ``origins`` share an
    index; ``opens`` maps a sync channel to its :func:`open_table`."""
    out = Repeats()
    w = {name: pd.Timedelta(value) for name, value in windows.to_dict().items()}
    last = contacts["created_at"].max()
    frame = contacts.join(origins)
    children = frame[frame["origin"] != "fresh"]
    parent = contacts.loc[children["prior"].to_numpy()]
    kids = {o: (children[children["origin"] == o], parent[(children["origin"] == o).to_numpy()])
            for o in ("redial", "chaser", "reopen", "bot_bounce")}

    def rate(channel, reason, behaviour, parameter, count, n):
        value = count / n if n else float("nan")
        out.rates.append({"channel": channel, "reason": reason, "behaviour": behaviour, "parameter": parameter,
                          "value": value, "count": int(count), "n": int(n)})
        if n < min_rate_n:
            out.skipped.append(f"{channel or reason}: {behaviour} {parameter}: only {n} contacts could show it "
                               f"(fewer than {min_rate_n}); not written")
            return None
        return value

    for channel, sub in contacts.groupby(contacts["channel"].astype(str)):
        blocks = {}
        # redials after abandonment (sync)
        child, par = kids["redial"]
        mine = (par["channel"].astype(str) == channel).to_numpy()
        gone = sub["abandoned_at"].notna() & sub["customer_id"].notna() & (sub["abandoned_at"] + w["redial"] <= last)
        if gone.any():
            counted = par.index[mine].isin(sub.index[gone])
            p = rate(channel, None, "redial", "probability", counted.sum(), gone.sum())
            if p is not None and p > 0:
                delay = _delay(_secs(child["created_at"][mine], par["abandoned_at"][mine]), min_n)
                switch = _mix(child[mine], par["channel"][mine])
                p = min(p / _reach(sub.loc[gone, "abandoned_at"], delay, channel, switch, opens), 1.0)
                redial = {"probability": round(p, 4), "delay": delay}
                if switch:
                    redial["switch"] = switch
                blocks["behaviour"] = {"redial": redial}
        # chasers on unanswered async contacts
        child, par = kids["chaser"]
        mine = (par["channel"].astype(str) == channel).to_numpy()
        if kinds.get(channel) == "async" and mine.any():
            entry = par["queued_at"].fillna(par["created_at"])
            waited = _secs(child["created_at"][mine], entry[mine])
            after = float(np.median(waited))
            queued = sub["queued_at"].fillna(sub["created_at"])
            due = queued + pd.Timedelta(seconds=after)
            unanswered = (sub["answered_at"].isna() | (sub["answered_at"] > due)) & (due <= last) \
                & sub["customer_id"].notna()
            chased = sub.index[unanswered].isin(par.index[mine])
            p = rate(channel, None, "chaser", "probability", chased.sum(), unanswered.sum())
            if p is not None and p > 0:
                mix = _mix(child[mine], par["channel"][mine])
                p = p / _reach(queued[unanswered], None, channel, mix, opens, fixed_s=after)
                chaser = {"after": round(max(after, 1.0), 1), "probability": round(min(p, 1.0), 4)}
                if mix:
                    chaser["channel"] = mix
                blocks.setdefault("behaviour", {})["chaser"] = chaser
        # the bot in front of the channel
        met = sub["bot_handled"].fillna(False).astype(bool)
        if met.any():
            resolved = met & sub["bot_resolved"].fillna(False).astype(bool)
            containment = rate(channel, None, "bot", "containment", resolved.sum(), met.sum())
            escalated = sub[met & ~resolved & sub["queued_at"].notna()]
            session = _delay(((escalated["queued_at"] - escalated["created_at"]).dt.total_seconds()).to_numpy(), min_n)
            if containment is not None and session is not None:
                bot = {"containment": round(containment, 4), "session": session}
                child, par = kids["bot_bounce"]
                mine = (par["channel"].astype(str) == channel).to_numpy()
                eligible = resolved & (sub["created_at"] + w["bot_bounce"] <= last) & sub["customer_id"].notna()
                bounced = sub.index[eligible].isin(par.index[mine])
                false = rate(channel, None, "bot", "false_containment", bounced.sum(), eligible.sum())
                if false:
                    back = _delay(_secs(child["created_at"][mine], par["created_at"][mine]), min_n) or {
                        "dist": "exponential", "mean": 3600.0}
                    mix = _mix(child[mine], par["channel"][mine])
                    false = min(false / _reach(sub.loc[eligible, "created_at"], back, channel, mix, opens), 1.0)
                    bot["false_containment"] = round(false, 4)
                    bot["return_delay"] = back
                    if mix:
                        bot["return_channel"] = mix
                blocks["bot"] = bot
        if blocks:
            out.channels[channel] = blocks

    # reopens per reason (reasons are scenario-wide)
    child, par = kids["reopen"]
    end = contacts["answered_at"] + pd.to_timedelta(contacts["handle_time_s"], unit="s")
    end = end.fillna(contacts["resolved_at"])
    done = end.notna() & (end + w["reopen"] <= last) & contacts["customer_id"].notna()
    reasons = contacts["reason"].astype("string").fillna("general")
    par_end = end.loc[par.index]
    for reason in sorted(reasons[done].unique()):
        among = done & (reasons == reason)
        mine = (reasons.loc[par.index] == reason).to_numpy()
        reopened = contacts.index[among].isin(par.index[mine])
        r = rate(None, reason, "reopen", "rate", reopened.sum(), among.sum())
        if r is None:
            continue
        block = {}
        if r > 0:
            delay = _delay(_secs(child["created_at"][mine], par_end[mine]), min_n) or {"dist": "exponential", "mean": 86400.0}
            mix = _mix(child[mine], par["channel"][mine])
            source = contacts.loc[among, "channel"].astype(str)
            reach = sum(_reach(end[among][source == c], delay, c, mix, opens) * (source == c).sum()
                        for c in source.unique()) / len(source)
            r = min(r / reach, 1.0)
            block["reopen_delay"] = delay
            if mix:
                block["reopen_channel"] = mix
        block = {"fcr": round(1 - r, 4), **block}
        out.reasons[reason] = block
    # a reason's own bot success, where the bot met enough of its contacts
    met = contacts["bot_handled"].fillna(False).astype(bool)
    if met.any():
        resolved = contacts["bot_resolved"].fillna(False).astype(bool)
        for reason in sorted(reasons[met].unique()):
            among = met & (reasons == reason)
            value = rate(None, reason, "bot", "containment", (among & resolved).sum(), among.sum())
            if value is not None:
                out.reasons.setdefault(reason, {})["bot_containment"] = round(value, 4)
    return out
