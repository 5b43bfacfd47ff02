"""Arrival profiles, peak uplift, growth, inferred staffing and behaviour rates from contacts.

Counting days is where arrival profiles usually go wrong. A mean rate is arrivals ÷ days, and the
days must be the days the data *covers*: a month with two days missing from the export is not a
month with two zero-call days. So the days counted are the days present in the data (any contact
on any channel); within a present day, intervals or channels with no contacts count as zeros.
``days="calendar"`` counts every date between the first and last contact instead, for data where a
gap really means nobody called. Slots are wall-clock intervals in the contacts' time zone (a planner
staffs "Monday 09:00–10:00", whatever the UTC offset).

Everything returns tidy tables (``channel`` first) so the calibration can write them as CSVs and a
report can plot them without recomputing.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from calibrate.fit import DurationFit, FitError, fit_duration

__all__ = ["ArrivalProfile", "arrival_profile", "daily_counts", "peak_uplift", "growth",
           "infer_staffing", "Rate", "BehaviourRates", "behaviour_rates"]

_DAY = pd.Timedelta("24h")


def _step(interval) -> pd.Timedelta:
    step = pd.Timedelta(interval)
    if step <= pd.Timedelta(0) or _DAY % step != pd.Timedelta(0):
        raise ValueError("The 'interval' parameter must divide a day evenly (15min, 30min, 60min ...). "
                         f"Got {interval!r} instead.")
    return step


def _local(contacts: pd.DataFrame, tz) -> pd.Series:
    created = contacts["created_at"]
    if tz is not None:
        created = created.dt.tz_convert(tz)
    return created.dt.tz_localize(None)  # wall-clock time in the contacts' zone


def _counts(contacts, step, tz, days):
    """Arrivals per channel × counted day × slot, zeros included."""
    if days not in ("present", "calendar"):
        raise ValueError(f"The 'days' parameter must be 'present' or 'calendar'. Got {days!r} instead.")
    local = _local(contacts, tz)
    date = local.dt.normalize()
    slot = ((local - date) // step).astype(int)
    if days == "present":
        counted = pd.DatetimeIndex(np.sort(date.unique()))
    else:
        counted = pd.date_range(date.min(), date.max(), freq="D")
    channels = sorted(contacts["channel"].dropna().unique())
    grid = pd.MultiIndex.from_product([channels, counted, range(int(_DAY / step))],
                                      names=["channel", "date", "interval_of_day"])
    counts = (pd.DataFrame({"channel": contacts["channel"].to_numpy(), "date": date.to_numpy(),
                            "interval_of_day": slot.to_numpy()})
              .groupby(["channel", "date", "interval_of_day"]).size().reindex(grid, fill_value=0))
    frame = counts.rename("arrivals").reset_index()
    frame["channel"] = frame["channel"].astype("string")
    frame.insert(2, "weekday", frame["date"].dt.day_of_week)
    return frame


def daily_counts(contacts, tz=None, days="present") -> pd.DataFrame:
    """Arrivals per channel and counted day: ``channel, date, weekday, arrivals``."""
    frame = _counts(contacts, _DAY, tz, days)
    return frame.drop(columns="interval_of_day")


@dataclass(frozen=True, eq=False)
class ArrivalProfile:
    """Arrival rates as level × day-of-week shape × intraday shape, per channel.

    ``rates``: ``channel, weekday (0=Mon), interval_of_day, rate_per_hour, n_days``;
    ``day_of_week``: ``channel, weekday, mean_daily, multiplier`` (multipliers average 1 over the
    weekdays present; weekdays absent from the data are missing, not zero);
    ``intraday``: ``channel, weekday, interval_of_day, share`` (shares sum to 1 per weekday);
    ``level``: mean daily volume of a typical day (each weekday weighted equally, so a data set
    with five Mondays and four Sundays does not tilt it).
    """

    interval: str
    rates: pd.DataFrame
    day_of_week: pd.DataFrame
    intraday: pd.DataFrame
    level: dict
    days_counted: int

    def mean_day(self, channel) -> list:
        """Rate per hour in each interval of a weekday-averaged day (length = intervals per day)."""
        sub = self.rates[self.rates["channel"] == channel]
        return [float(v) for v in sub.groupby("interval_of_day")["rate_per_hour"].mean()]

    def dow_multipliers(self, channel) -> list:
        """Seven multipliers, Monday first (NaN for a weekday with no data)."""
        sub = self.day_of_week[self.day_of_week["channel"] == channel].set_index("weekday")
        return [float(sub["multiplier"].get(d, np.nan)) for d in range(7)]


def arrival_profile(contacts, interval="60min", tz=None, days="present") -> ArrivalProfile:
    """Mean arrivals per hour by channel × weekday × interval of day (see module doc for days)."""
    step = _step(interval)
    frame = _counts(contacts, step, tz, days)
    keys = ["channel", "weekday", "interval_of_day"]
    rates = frame.groupby(keys).agg(mean=("arrivals", "mean"), n_days=("date", "nunique")).reset_index()
    rates["rate_per_hour"] = rates.pop("mean") / (step / pd.Timedelta("1h"))
    rates = rates[[*keys, "rate_per_hour", "n_days"]]
    daily = frame.groupby(["channel", "date", "weekday"])["arrivals"].sum().reset_index()
    dow = daily.groupby(["channel", "weekday"])["arrivals"].mean().rename("mean_daily").reset_index()
    level = dow.groupby("channel")["mean_daily"].mean()
    dow["multiplier"] = dow["mean_daily"] / dow["channel"].map(level).astype(float)
    intraday = rates[keys].copy()
    total = rates.groupby(["channel", "weekday"])["rate_per_hour"].transform("sum")
    intraday["share"] = (rates["rate_per_hour"] / total.where(total > 0)).fillna(0.0)
    return ArrivalProfile(interval=str(interval), rates=rates, day_of_week=dow, intraday=intraday,
                          level={str(k): float(v) for k, v in level.items()},
                          days_counted=int(frame["date"].nunique()))


def handle_time_profile(contacts, interval="60min", tz=None, min_n=50) -> pd.DataFrame:
    """Mean handle time by channel × interval of the day (by arrival, local time), as a multiplier
    of the channel's overall mean: planners know calls at night or in the after-work peak are
    shorter or longer, and per-interval AHT is what an Erlang sheet is fed.

    An interval of the day with fewer than ``min_n`` handled contacts gets multiplier 1 (its mean
    would be noise). Returns ``channel, interval_of_day, n, mean_handle_time_s, multiplier``.
    """
    step = _step(interval)
    ok = contacts["handle_time_s"].notna() & contacts["created_at"].notna()
    sub = contacts.loc[ok]
    columns = ["channel", "interval_of_day", "n", "mean_handle_time_s", "multiplier"]
    if sub.empty:
        return pd.DataFrame(columns=columns)
    local = _local(sub, tz)
    slot = ((local - local.dt.normalize()) // step).astype(int)
    frame = pd.DataFrame({"channel": sub["channel"].astype("string").to_numpy(), "interval_of_day": slot.to_numpy(),
                          "handle": sub["handle_time_s"].to_numpy(dtype=float)})
    per_day = int(_DAY / step)
    grid = pd.MultiIndex.from_product([sorted(frame["channel"].unique()), range(per_day)],
                                      names=["channel", "interval_of_day"])
    table = (frame.groupby(["channel", "interval_of_day"])["handle"].agg(n="size", mean_handle_time_s="mean")
             .reindex(grid).reset_index())
    table["n"] = table["n"].fillna(0).astype(int)
    overall = frame.groupby("channel")["handle"].mean()
    ratio = table["mean_handle_time_s"] / table["channel"].map(overall).astype(float)
    table["multiplier"] = ratio.where((table["n"] >= min_n) & (ratio > 0), 1.0).astype(float)
    return table[columns]


def _window(daily, start, end):
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    return daily[(daily["date"] >= start) & (daily["date"] <= end)]


def peak_uplift(contacts, peaks: dict, baseline=None, tz=None) -> pd.DataFrame:
    """Mean daily volume in each peak period ÷ baseline, by channel (dates inclusive).

    ``uplift`` compares each peak day with the baseline mean *for the same weekday* (a Black Friday
    weekend is not compared with an average weekday); ``uplift_raw`` uses the plain baseline daily
    mean. ``baseline=None`` takes every counted day outside all peaks.
    """
    daily = daily_counts(contacts, tz)
    if baseline is None:
        inside = pd.Series(False, index=daily.index)
        for start, end in peaks.values():
            inside |= daily.index.isin(_window(daily, start, end).index)
        base = daily[~inside]
    else:
        base = _window(daily, *baseline)
    if base.empty:
        raise ValueError("The 'baseline' parameter of peak_uplift covers no day with data.")
    by_weekday = base.groupby(["channel", "weekday"])["arrivals"].mean()
    overall = base.groupby("channel")["arrivals"].mean()
    rows = []
    for name, (start, end) in peaks.items():
        sub = _window(daily, start, end)
        if sub.empty:
            raise ValueError(f"The peak {name!r} ({start} – {end}) covers no day with data.")
        for channel, part in sub.groupby("channel"):
            base_mean = float(overall.get(channel, np.nan))
            expected = [by_weekday.get((channel, d), base_mean) for d in part["weekday"]]
            actual = float(part["arrivals"].mean())
            rows.append({"peak": name, "channel": channel, "start": str(pd.Timestamp(start).date()),
                         "end": str(pd.Timestamp(end).date()), "days": len(part), "mean_daily": actual,
                         "baseline_mean_daily": base_mean, "uplift_raw": actual / base_mean,
                         "uplift": actual / float(np.mean(expected))})
    return pd.DataFrame(rows)


def growth(contacts, period_a, period_b, tz=None) -> pd.DataFrame:
    """Mean daily volume in ``period_b`` ÷ ``period_a`` by channel (counted days only)."""
    daily = daily_counts(contacts, tz)
    a = _window(daily, *period_a).groupby("channel")["arrivals"].agg(["mean", "size"])
    b = _window(daily, *period_b).groupby("channel")["arrivals"].agg(["mean", "size"])
    out = pd.merge(a, b, how="outer", left_index=True, right_index=True, suffixes=("_a", "_b")).rename(
        columns={"mean_a": "mean_daily_a", "size_a": "days_a", "mean_b": "mean_daily_b", "size_b": "days_b"})
    out["ratio"] = out["mean_daily_b"] / out["mean_daily_a"]
    return out.reset_index()


def _presence(starts, ends, edges):
    """Time-weighted count of open spells per bin: ∫ #open dt over each bin ÷ bin length.

    Uses F(t) = Σ max(0, t − s_i) − Σ max(0, t − e_i) (total open time before t), O(n log n).
    """
    def ramp(points):
        points = np.sort(points)
        k = np.searchsorted(points, edges, side="left")
        csum = np.concatenate([[0.0], np.cumsum(points)])
        return k * edges - csum[k]
    total = ramp(starts) - ramp(ends)
    return np.diff(total) / np.diff(edges)


def _nobody_waiting(contacts, starts: pd.Series, ends: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Whether no caller was waiting when each session's first call was answered (that call
    included) and when its last call ended. Only calls that were answered are counted: the
    abandonment times of a replayed period must not shape its staffing (the backtest's leak test)."""
    end = contacts["answered_at"]
    ok = contacts["queued_at"].notna() & end.notna()
    ns = lambda t: pd.DatetimeIndex(t).as_unit("ns").asi8  # noqa: E731
    q, e = np.sort(ns(contacts.loc[ok, "queued_at"])), np.sort(ns(end[ok]))
    t0, t1 = ns(starts), ns(ends)
    at_start = np.searchsorted(q, t0, side="left") - np.searchsorted(e, t0, side="left")
    at_end = np.searchsorted(q, t1, side="left") - np.searchsorted(e, t1, side="right")
    return (at_start <= 0).astype(int), (at_end <= 0).astype(int)


def infer_staffing(contacts, interval="60min", max_gap="30min", lead="0s", lag="0s") -> pd.DataFrame:
    """Agents present per interval, inferred from service spells.

    Why not "distinct agent names serving in the hour": that counts an agent who took one two-minute
    call at 10:58 as a full agent for 10:00–11:00, and counts both sides of a shift change, so it
    overstates the agents a simulation should be given. Here an agent is present
    from the first service start to the last service end of a *session*; a gap shorter than
    ``max_gap`` between services is idle-but-present time, a longer gap ends the session (a break
    or the end of a shift). Presence is time-weighted, so half an hour present counts 0.5 agents.

    Still a lower bound in one way: idle agents who took no call at all, and idle time before the
    first or after the last call of a session, are invisible in a ticket log. ``lead`` and ``lag``
    add that idle time back where the log shows the agent was idle: a session starts ``lead``
    before its first call if no (later answered) caller was waiting when that call was answered (otherwise the agent
    had just arrived and took a waiting caller at once), and ends ``lag`` after its last call if
    nobody was left waiting (otherwise the agent left with callers in the queue). Extensions stop
    halfway to the same agent's neighbouring session. ``lead`` and ``lag`` are chosen on
    training data (``docs/validation.md``).

    Returns ``interval_start, agents, busy_agents, distinct_agents`` (busy = time-weighted agents
    in service; distinct = the naive upper-bound count, for comparison).
    """
    step, gap = _step(interval), pd.Timedelta(max_gap)
    ok = contacts["agent_id"].notna() & contacts["answered_at"].notna() & (contacts["handle_time_s"] >= 0)
    spells = pd.DataFrame({"agent": contacts.loc[ok, "agent_id"].to_numpy(),
                           "start": contacts.loc[ok, "answered_at"]})
    if spells.empty:
        return pd.DataFrame(columns=["interval_start", "agents", "busy_agents", "distinct_agents"])
    spells["end"] = spells["start"] + pd.to_timedelta(contacts.loc[ok, "handle_time_s"], unit="s")
    spells = spells.sort_values(["agent", "start"], ignore_index=True)
    reach = spells.groupby("agent")["end"].cummax().groupby(spells["agent"]).shift()
    session = (reach.isna() | (spells["start"] > reach + gap)).cumsum()
    sessions = spells.groupby(session).agg(agent=("agent", "first"), start=("start", "min"), end=("end", "max"))
    lead, lag = pd.Timedelta(lead), pd.Timedelta(lag)
    if lead < pd.Timedelta(0) or lag < pd.Timedelta(0):
        raise ValueError(f"The 'lead' and 'lag' parameters of infer_staffing must be ≥ 0. Got {lead}, {lag} instead.")
    if lead or lag:  # idle time around each session, clipped at the midpoint of a gap to the same agent's next
        nxt = sessions.groupby("agent")["start"].shift(-1)
        prv = sessions.groupby("agent")["end"].shift()
        free_start, free_end = _nobody_waiting(contacts, sessions["start"], sessions["end"])
        start = sessions["start"] - lead * free_start
        end = sessions["end"] + lag * free_end
        mid_prev = prv + (sessions["start"] - prv) / 2
        mid_next = sessions["end"] + (nxt - sessions["end"]) / 2
        sessions["start"] = start.where(prv.isna() | (start >= mid_prev), mid_prev)
        sessions["end"] = end.where(nxt.isna() | (end <= mid_next), mid_next)
    first = sessions["start"].min().floor(step, ambiguous=False, nonexistent="shift_forward")
    n_bins = max(1, int(np.ceil((sessions["end"].max() - first) / step)))
    width = step.total_seconds()
    edges = np.arange(n_bins + 1) * width
    secs = lambda times: (times - first).dt.total_seconds().to_numpy()  # noqa: E731
    agents = _presence(secs(sessions["start"]), secs(sessions["end"]), edges)
    s0, s1 = secs(spells["start"]), secs(spells["end"])
    busy = _presence(s0, s1, edges)
    # distinct names: one (agent, bin) pair for every bin a spell touches
    b0 = np.floor(s0 / width).astype(int)
    reps = np.maximum(b0, np.ceil(s1 / width).astype(int) - 1) - b0 + 1
    offset = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
    pairs = pd.DataFrame({"agent": np.repeat(spells["agent"].to_numpy(), reps),
                          "bin": np.repeat(b0, reps) + offset})
    distinct = pairs.drop_duplicates().groupby("bin").size().reindex(range(n_bins), fill_value=0)
    starts = first + step * np.arange(n_bins)
    return pd.DataFrame({"interval_start": starts, "agents": agents, "busy_agents": busy,
                         "distinct_agents": distinct.to_numpy()})


@dataclass(frozen=True)
class Rate:
    """A proportion with its sample: ``value = count / n``."""

    value: float
    count: int
    n: int


@dataclass(frozen=True, eq=False)
class BehaviourRates:
    """Customer and bot behaviour; each field is ``None`` when the data cannot say."""

    bot_containment: Rate | None = None
    escalation_share: Rate | None = None
    redial_prob: Rate | None = None
    redial_delay_s: np.ndarray | None = None
    redial_delay_fit: DurationFit | None = None
    redial_window_s: float | None = None
    reopen_rate: Rate | None = None

    def to_dict(self) -> dict:
        """Flat ``{name: value, name_n: sample size}`` for the present rates (YAML-ready)."""
        out = {}
        for name in ("bot_containment", "escalation_share", "redial_prob", "reopen_rate"):
            rate = getattr(self, name)
            if rate is not None:
                out[name], out[f"{name}_n"] = rate.value, rate.n
        if self.redial_delay_fit is not None:
            # fitted to delays ≤ the window: a simulator should truncate draws there
            out["redial_delay"] = self.redial_delay_fit.to_scenario()
            out["redial_window_s"] = self.redial_window_s
        return out


def _rate(mask: pd.Series, among: pd.Series):
    n = int(among.sum())
    return Rate(value=float(mask[among].sum()) / n, count=int(mask[among].sum()), n=n) if n else None


def behaviour_rates(contacts, channel=None, redial_window="24h", min_n=50) -> BehaviourRates:
    """Bot containment and escalation, redial probability and delay, reopen rate.

    ``channel`` restricts whose behaviour is measured; redials are searched among *all* contacts
    passed in, so a caller who abandons the phone queue and then writes an email counts as a redial.
    A redial is the same ``customer_id`` creating a contact within ``redial_window`` after an
    abandonment; ``redial_prob`` is over abandonments with a known customer. The delay
    distribution is fitted when there are at least ``min_n`` redials.
    """
    own = contacts if channel is None else contacts[contacts["channel"] == channel]
    bot = own["bot_handled"].fillna(False).astype(bool)
    resolved = own["bot_resolved"].fillna(False).astype(bool)
    out = {"bot_containment": _rate(resolved, bot), "escalation_share": _rate(~resolved, bot),
           "reopen_rate": _rate(own["reopened"].fillna(False).astype(bool), own["reopened"].notna())}
    gone = own[own["abandoned_at"].notna() & own["customer_id"].notna()]
    if len(gone):
        left = gone[["customer_id", "abandoned_at"]].sort_values("abandoned_at")
        known = contacts[contacts["customer_id"].notna()]
        right = known[["customer_id", "created_at"]].rename(columns={"created_at": "next_at"}).sort_values("next_at")
        match = pd.merge_asof(left, right, left_on="abandoned_at", right_on="next_at", by="customer_id",
                              direction="forward", allow_exact_matches=False,
                              tolerance=pd.Timedelta(redial_window))
        hit = match["next_at"].notna()
        out["redial_window_s"] = pd.Timedelta(redial_window).total_seconds()
        out["redial_prob"] = Rate(value=float(hit.mean()), count=int(hit.sum()), n=len(match))
        delay = match.loc[hit, "next_at"] - match.loc[hit, "abandoned_at"]
        out["redial_delay_s"] = delay.dt.total_seconds().to_numpy()
        try:
            out["redial_delay_fit"] = fit_duration(out["redial_delay_s"], min_n=min_n)
        except FitError:
            pass
    return BehaviourRates(**out)
