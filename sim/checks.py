"""Warnings that matter: results that are valid but should not be trusted as they stand.

A run can be correct and still mislead. Four checks, each a one-line message in
`run.json["warnings"]` and on the console, with what to do about it:

unstable intervals
    In an interval, the offered load of a channel (arrivals per second × mean handle time, with
    the channel's concurrency multiplier) is at least the capacity of the agents who can serve it
    (available agents after shrinkage ÷ proficiency, × concurrency), both while the channel is
    open. Checked for each channel alone, and for each set of sync channels that share agents
    (pooled load against pooled capacity), from the scenario's *rates*, not the simulated noise.
    The message quotes the quantities that raised it: the channel's own load and capacity, or,
    for a channel flagged through its pool, the pooled load and capacity. What overload does
    depends on the channel: without patience the queue grows, so its waits depend on how long
    the overload lasts and a longer horizon would give other numbers; with patience the queue
    stays bounded and customers abandon instead (in steady state at least 1 − capacity ÷ load of
    them: the agents answer at most capacity ÷ handle time); an async backlog grows from day to
    day. `intervals.csv` gets an `unstable` column.

demand while closed (sync channels with opening hours; see sim/closed_demand.py)
    A given shape (`intraday`, `day_of_week`, a `rate_per_hour` profile, replayed `counts`) puts
    demand where the channel is closed; the message gives the contacts lost over the horizon.

warm-up too short (stationary scenarios only: constant rates and staffing, always open)
    (a) `warmup: 0` with utilisation ≥ 0.8: the model starts empty, so the first intervals look
        better than the steady state; the suggested warm-up is 20 × mean handle time ÷ (1 −
        utilisation) (a few relaxation times of the queue), rounded up to whole intervals.
    (b) the first reported interval's service level differs from the mean of the second half of
        the horizon by more than 0.05 *and* by more than its own 95% CI half-width: the start
        still shows the initial condition.

too few replications for the CI width
    A channel's overall service-level 95% CI half-width above `ci_width` (0.05 by default) needs
    about n × (half-width ÷ ci_width)² replications; one replication has no CI at all.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .arrivals import channel_demand
from .calendar import interval_grid, iso, multipliers
from .closed_demand import closed_demand_warnings
from .opening import channel_calendar
from .scenario import Scenario
from .schedule import group_timeline, timeline_average
from .units import format_duration

DEFAULT_CI_WIDTH = 0.05
WARMUP_GAP = 0.05
BUSY_UTILISATION = 0.8


def load_and_capacity(scenario: Scenario, grid: pd.DataFrame | None = None) -> tuple[dict, dict, dict]:
    """Per interval, in agent-seconds: work offered to each channel, capacity of the agents able to serve
    each channel *while it is open* (available agents ÷ proficiency), and each group's capacity."""
    grid = interval_grid(scenario) if grid is None else grid
    demand = channel_demand(scenario, grid)
    edges = np.minimum(np.arange(len(grid) + 1) * scenario.interval, scenario.horizon_s)
    work = {}
    for name, ch in scenario.channels.items():
        per_contact = (ch.handle_time.mean_s * ch.handle_factors()[-1] / ch.concurrency  # agent-seconds
                       * multipliers(ch.handle_time_profile, grid))
        work[name] = demand[name].expected * per_contact * (1.0 - expected_containment(scenario, name))
    timelines = {g.name: group_timeline(g, scenario, grid) for g in scenario.agents}
    groups = {g.name: agent_seconds(*timelines[g.name], edges) / g.proficiency for g in scenario.agents}
    capacity = {}
    for name in scenario.channels:
        calendar = channel_calendar(scenario, name)
        capacity[name] = sum((agent_seconds(*timelines[g.name], edges, calendar) / g.proficiency
                              for g in scenario.agents if name in g.skills), np.zeros(len(grid)))
    return work, capacity, groups


def agent_seconds(times: np.ndarray, counts: np.ndarray, edges: np.ndarray, calendar=None) -> np.ndarray:
    """Agent-seconds of a step function (counts[i] agents from times[i]) in each [edges[k], edges[k+1]),
    only while `calendar` is open when given."""
    if calendar is None or calendar.always:
        return timeline_average(times, counts, edges) * np.diff(edges)
    spells = calendar.spells[(calendar.spells[:, 1] > edges[0]) & (calendar.spells[:, 0] < edges[-1])]
    cuts = np.unique(np.clip(np.r_[times, spells.ravel(), edges], edges[0], edges[-1]))
    index = np.searchsorted(np.asarray(times, dtype=float), cuts[:-1], side="right") - 1
    level = np.where(index >= 0, np.asarray(counts, dtype=float)[np.maximum(index, 0)], 0.0)
    level = level * calendar.is_open(cuts[:-1])  # a piece is open or closed throughout: its ends are cut points
    area = np.r_[0.0, np.cumsum(level * np.diff(cuts))]
    return np.diff(np.interp(edges, cuts, area))


def expected_containment(scenario: Scenario, channel: str) -> float:
    """Share of a channel's contacts the bot resolves, over its reason mix (0 without a bot)."""
    ch = scenario.channels[channel]
    if ch.bot is None:
        return 0.0
    mix = ch.reasons or {}
    total = sum(mix.values())
    if not total:
        return ch.bot.containment
    reasons = scenario.reasons or {}
    return sum(share / total * (reasons[r].bot_containment if r in reasons and reasons[r].bot_containment is not None
                                else ch.bot.containment) for r, share in mix.items())


def _per_day(values: np.ndarray, dates: np.ndarray) -> np.ndarray:
    """Each interval gets its local date's total: async work may wait for the next opening hours."""
    totals = pd.Series(values).groupby(dates).transform("sum")
    return totals.to_numpy()


def _components(scenario: Scenario) -> list[set[str]]:
    """Sets of channels linked by agent groups that serve more than one of them."""
    parent = {c: c for c in scenario.channels}

    def find(c):
        while parent[c] != c:
            c = parent[c]
        return c
    for g in scenario.agents:
        names = [c for c in g.skills if c in parent]
        for other in names[1:]:
            parent[find(other)] = find(names[0])
    comps: dict[str, set[str]] = {}
    for c in scenario.channels:
        comps.setdefault(find(c), set()).add(c)
    return list(comps.values())


def unstable_table(scenario: Scenario) -> pd.DataFrame:
    """One row per interval × channel: offered load and capacity (alone, and pooled with the channels that
    share its agents), and whether load ≥ capacity (`over_alone`, `over_pooled`, `unstable` = either).

    Sync channels are compared in agents while the channel is open (so an interval open for its
    last half hour compares that half hour's load with the agents then); async channels per local
    day, in agent-intervals (their work may wait for the next opening); pools per interval, in agents.
    """
    grid = interval_grid(scenario)
    work, cap, groups = load_and_capacity(scenario, grid)
    dates = grid["date"].to_numpy()
    length = np.diff(np.minimum(np.arange(len(grid) + 1) * scenario.interval, scenario.horizon_s))
    load, capacity, opened = {}, {}, {}
    for c, ch in scenario.channels.items():
        opened[c] = channel_calendar(scenario, c).per_interval(scenario.interval, scenario.horizon_s)
        if ch.kind == "async":  # a backlog is fine while the day's work fits into the day's capacity
            load[c] = _per_day(work[c], dates) / scenario.interval
            capacity[c] = _per_day(cap[c], dates) / scenario.interval
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                load[c] = np.where(opened[c] > 0, work[c] / opened[c], 0.0)
                capacity[c] = np.where(opened[c] > 0, cap[c] / opened[c], 0.0)
    n = len(grid)
    pooled_load = {c: np.full(n, np.nan) for c in scenario.channels}
    pooled_cap = {c: np.full(n, np.nan) for c in scenario.channels}
    over_pooled = {c: np.zeros(n, dtype=bool) for c in scenario.channels}
    for comp in _components(scenario):
        if len(comp) < 2 or any(scenario.channels[c].kind == "async" for c in comp):
            continue  # pooling sync and async work over different time scales: checked per channel only
        pl = sum(work[c] for c in comp) / length
        pc = sum(groups[g.name] for g in scenario.agents if set(g.skills) & comp) / length
        over = (pl > 0) & (pl >= pc - 1e-9)
        for c in comp:
            pooled_load[c], pooled_cap[c], over_pooled[c] = pl, pc, over & (work[c] > 0)
    starts = np.array(iso(grid["interval_start"]))
    frames = []
    for c in scenario.channels:
        alone = (load[c] > 0) & (load[c] >= capacity[c] - 1e-9)
        frames.append(pd.DataFrame({
            "interval_start": starts, "t_s": grid["t_s"].to_numpy(), "channel": c, "open_s": opened[c],
            "offered_load": load[c], "capacity": capacity[c], "pooled_load": pooled_load[c],
            "pooled_capacity": pooled_cap[c], "over_alone": alone, "over_pooled": over_pooled[c],
            "unstable": alone | over_pooled[c]}))
    return pd.concat(frames, ignore_index=True)


def unstable_warnings(scenario: Scenario, table: pd.DataFrame) -> list[dict]:
    """One warning per channel with unstable intervals, worded from the quantities that flagged them."""
    out = []
    reported = table[table["t_s"] >= scenario.warmup]
    pools = {c: sorted(comp) for comp in _components(scenario) for c in comp}
    for channel, rows in reported.groupby("channel", sort=False):
        bad = rows[rows["unstable"]]
        if bad.empty:
            continue
        ch = scenario.channels[channel]
        daily = ch.kind == "async"
        staffed = rows if daily or not (rows["open_s"] > 0).any() else rows[rows["open_s"] > 0]
        warning = {"kind": "unstable_intervals", "channel": channel, "intervals": int(len(bad)),
                   "first": bad["interval_start"].iloc[0]}
        if bool((staffed["capacity"] <= 0).all()):
            when = " while it is open" if ch.open is not None else ""
            what, ratio = f"no agent is available to serve it at any time{when}", None
        else:
            parts, ratio = [], None
            alone = bad[bad["over_alone"]]
            if len(alone):
                worst = alone.loc[(alone["offered_load"] - alone["capacity"]).idxmax()]
                unit = " (async: work and capacity per day, in agent-intervals)" if daily else " agents"
                parts.append(f"offered load ≥ staffing capacity in {len(alone)} of {len(rows)} intervals (worst "
                             f"{worst['interval_start']}: load {worst['offered_load']:.1f} vs capacity "
                             f"{worst['capacity']:.1f}{unit})")
                ratio = worst["capacity"] / worst["offered_load"]
                warning.update(load=round(float(worst["offered_load"]), 3), capacity=round(float(worst["capacity"]), 3))
            pooled = bad[bad["over_pooled"] & ~bad["over_alone"]]
            if len(pooled):
                worst = pooled.loc[(pooled["pooled_load"] - pooled["pooled_capacity"]).idxmax()]
                others = [c for c in pools[channel] if c != channel]
                parts.append(f"{'and in' if parts else 'in'} {len(pooled)} {'more ' if parts else ''}of {len(rows)} "
                             f"intervals the agents it shares with {', '.join(others)} are offered more work than "
                             f"they can do (worst {worst['interval_start']}: pooled load {worst['pooled_load']:.1f} "
                             f"vs pooled capacity {worst['pooled_capacity']:.1f} agents for {', '.join(pools[channel])})")
                if ratio is None:
                    ratio = worst["pooled_capacity"] / worst["pooled_load"]
                    warning.update(pooled_load=round(float(worst["pooled_load"]), 3),
                                   pooled_capacity=round(float(worst["pooled_capacity"]), 3), pool=pools[channel])
            what = " ".join(parts)
        warning["message"] = f"{channel}: {what}; {_consequence(ch, ratio, warning)}: add agents in those intervals " \
                             "(see `unstable` in intervals.csv)"
        out.append(warning)
    return out


def _consequence(ch, ratio: float | None, warning: dict) -> str:
    """What overload does to this channel: patience bounds a sync queue, nothing bounds a backlog."""
    if ch.kind == "async":
        return "the backlog grows faster than it is worked off, so response times there depend on the horizon"
    if ch.patience is None:
        return "queues grow there, so waits depend on the horizon"
    if ratio is None:
        return "customers abandon rather than queue on (patience bounds the queue)"
    share = max(0.0, 1.0 - float(ratio))
    warning["abandon_at_least"] = round(share, 3)
    return (f"patience bounds the queue, so customers abandon rather than queue on: in steady state at least "
            f"{share:.0%} of those offered at the worst interval would (1 − capacity ÷ load)")


def is_stationary(scenario: Scenario) -> bool:
    """Constant rates and staffing over the horizon, every channel always open."""
    if any(ch.open is not None or isinstance(ch.arrivals.rate_per_hour, list) or ch.arrivals.counts is not None
           or ch.handle_time_profile is not None for ch in scenario.channels.values()):
        return False
    return all(g.shifts is None and g.headcount_by_interval is None and not isinstance(g.headcount, list)
               for g in scenario.agents)


def utilisation(scenario: Scenario) -> float:
    """Pooled offered load ÷ pooled capacity over the horizon (stationary scenarios: one number)."""
    load, _, groups = load_and_capacity(scenario)
    total_cap = float(sum(np.mean(v) for v in groups.values()))
    total_load = float(sum(np.mean(v) for v in load.values()))
    return math.inf if total_cap <= 0 else total_load / total_cap


def warmup_warnings(scenario: Scenario, intervals: pd.DataFrame | None) -> list[dict]:
    if not is_stationary(scenario):
        return []
    out = []
    rho = utilisation(scenario)
    if scenario.warmup == 0 and BUSY_UTILISATION <= rho < 1:
        aht = max(ch.handle_time.mean_s for ch in scenario.channels.values())
        need = 20 * aht / (1 - rho)
        need = min(math.ceil(need / scenario.interval) * scenario.interval, scenario.horizon_s / 4)
        out.append({"kind": "warmup_too_short", "utilisation": round(rho, 3), "suggested_warmup_s": need,
                    "message": f"warm-up is 0 in a busy stationary scenario (utilisation {rho:.0%}): the model "
                               "starts empty, so the first intervals look better than the steady state; "
                               f"set warmup: {format_duration(need)} or more"})
    if intervals is None or "service_level" not in intervals:
        return out
    for channel, rows in intervals.groupby("channel", sort=False):
        sl = rows["service_level"].to_numpy(dtype=float)
        if len(sl) < 6 or np.isnan(sl[0]) or np.isnan(sl[len(sl) // 2:]).all():
            continue
        late = np.nanmean(sl[len(sl) // 2:])
        half = (rows["service_level_hi"].iloc[0] - rows["service_level_lo"].iloc[0]) / 2
        gap = abs(sl[0] - late)
        if gap > WARMUP_GAP and (np.isnan(half) or gap > half) and not np.isnan(late):
            out.append({"kind": "warmup_too_short", "channel": channel, "first_interval_sl": round(float(sl[0]), 4),
                        "late_sl": round(float(late), 4),
                        "message": f"{channel}: the first reported interval's service level ({sl[0]:.1%}) differs "
                                   f"from the second half's ({late:.1%}) in a stationary scenario; the start still "
                                   "shows the empty system: lengthen warmup (e.g. by "
                                   f"{format_duration(max(scenario.interval, 2 * scenario.warmup))})"})
    return out


def replication_warnings(summary: pd.DataFrame, replications: int, ci_width: float = DEFAULT_CI_WIDTH) -> list[dict]:
    if replications < 2:
        return [{"kind": "too_few_replications", "replications": replications, "needed": 5,
                 "message": "1 replication gives no confidence intervals; use --replications 5 or more"}]
    out = []
    for row in summary.itertuples(index=False):
        half = (row.service_level_hi - row.service_level_lo) / 2
        if half == half and half > ci_width:
            needed = math.ceil(round(replications * (half / ci_width) ** 2, 6))
            out.append({"kind": "too_few_replications", "channel": row.channel, "replications": replications,
                        "ci_half_width": round(float(half), 4), "needed": needed,
                        "message": f"{row.channel}: the service-level 95% CI is ±{half:.3g}, wider than ±{ci_width:g}; "
                                   f"use about {needed} replications (--replications {needed})"})
    return out


def input_warnings(scenario: Scenario) -> list[dict]:
    """What `validate` can say from the file alone: calendar surprises (DST-gap start, a channel never
    open) and demand put where a channel is closed (not repeated for a channel never open at all)."""
    from .calendar_checks import calendar_warnings

    calendar = calendar_warnings(scenario)
    never_open = {w["channel"] for w in calendar if w["kind"] == "never_open"}
    return calendar + [w for w in closed_demand_warnings(scenario) if w.get("channel") not in never_open]


def scenario_warnings(scenario: Scenario, summary: pd.DataFrame | None = None, replications: int | None = None,
                      intervals: pd.DataFrame | None = None, ci_width: float = DEFAULT_CI_WIDTH,
                      table: pd.DataFrame | None = None) -> list[dict]:
    """Every warning for a scenario and (when given) its results, in a stable order: a sweep
    point or a staffing plan deserves the same warnings as a run."""
    table = unstable_table(scenario) if table is None else table
    out = input_warnings(scenario) + unstable_warnings(scenario, table) + warmup_warnings(scenario, intervals)
    if summary is not None:
        out += replication_warnings(summary, replications or scenario.replications, ci_width)
    return out


def run_warnings(scenario: Scenario, result, ci_width: float = DEFAULT_CI_WIDTH,
                 table: pd.DataFrame | None = None) -> list[dict]:
    """Every warning for a finished run, in a stable order."""
    from .loops import cap_warnings  # customers who reached the per-customer contact cap

    return scenario_warnings(scenario, result.summary, result.meta.get("replications", scenario.replications),
                             result.intervals, ci_width, table) + cap_warnings(result.meta)


def annotate(scenario: Scenario, result, ci_width: float = DEFAULT_CI_WIDTH) -> None:
    """Add the `unstable` column to the intervals table and `warnings` to the run's meta."""
    table = unstable_table(scenario)
    flags = table.set_index(["interval_start", "channel"])["unstable"]
    keys = pd.MultiIndex.from_arrays([result.intervals["interval_start"], result.intervals["channel"]])
    position = list(result.intervals.columns).index("channel") + 1
    result.intervals.insert(position, "unstable", flags.reindex(keys).fillna(False).to_numpy(dtype=bool))
    result.meta["warnings"] = run_warnings(scenario, result, ci_width, table)
