"""Warnings that matter: results that are valid but should not be trusted as they stand.

A run can be correct and still mislead. Three checks, each a one-line message in
`run.json["warnings"]` and on the console, with what to do about it:

unstable intervals
    In an interval, the offered load of a channel (arrivals per second × mean handle time, with
    the channel's concurrency multiplier) is at least the capacity of the agents who can serve it
    (available agents after shrinkage ÷ proficiency, × concurrency). Checked for each channel
    alone, and for each set of channels that share agents (pooled load against pooled capacity),
    from the scenario's *rates*, not the simulated noise. Such an interval has a growing queue:
    its waits depend on how long the overload lasts and on patience, and a longer horizon
    would give other numbers. `intervals.csv` gets an `unstable` column.

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

from .arrivals import channel_rates
from .calendar import interval_grid, iso, multipliers
from .scenario import Scenario
from .schedule import scheduled_per_interval
from .units import format_duration

DEFAULT_CI_WIDTH = 0.05
WARMUP_GAP = 0.05
BUSY_UTILISATION = 0.8


def load_and_capacity(scenario: Scenario, grid: pd.DataFrame | None = None) -> tuple[dict, dict, dict]:
    """Per interval: offered load per channel (agents' worth of work), capacity of the agents able to serve
    each channel, and each group's capacity (available agents ÷ proficiency)."""
    grid = interval_grid(scenario) if grid is None else grid
    rates = channel_rates(scenario, grid)
    load = {}
    for name, ch in scenario.channels.items():
        per_contact = (ch.handle_time.mean_s * ch.handle_factors()[-1] / ch.concurrency  # agent-seconds
                       * multipliers(ch.handle_time_profile, grid))
        load[name] = rates[name] / 3600.0 * per_contact * (1.0 - expected_containment(scenario, name))
    agents = {g.name: scheduled_per_interval(g, scenario, grid) / g.proficiency for g in scenario.agents}
    capacity = {name: sum(agents[g.name] for g in scenario.agents if name in g.skills) * 1.0
                for name in scenario.channels}
    return load, capacity, agents


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
    """One row per interval × channel: offered load, capacity, and whether load ≥ capacity."""
    grid = interval_grid(scenario)
    load, cap, groups = load_and_capacity(scenario, grid)
    dates = grid["date"].to_numpy()
    for c, ch in scenario.channels.items():
        if ch.kind == "async":  # a backlog is fine while the day's work fits into the day's capacity
            load[c], cap[c] = _per_day(load[c], dates), _per_day(cap[c], dates)
    unstable = {c: (load[c] > 0) & (load[c] >= cap[c] - 1e-9) for c in scenario.channels}
    for comp in _components(scenario):
        if len(comp) < 2:
            continue
        if any(scenario.channels[c].kind == "async" for c in comp):
            continue  # pooling sync and async work over different time scales: checked per channel above
        pooled_load = sum(load[c] for c in comp)
        pooled_cap = sum(groups[g.name] for g in scenario.agents if set(g.skills) & comp)
        over = (pooled_load > 0) & (pooled_load >= pooled_cap - 1e-9)
        for c in comp:
            unstable[c] = unstable[c] | (over & (load[c] > 0))
    starts = np.array(iso(grid["interval_start"]))
    frames = [pd.DataFrame({"interval_start": starts, "t_s": grid["t_s"].to_numpy(), "channel": c,
                            "offered_load": load[c], "capacity": cap[c], "unstable": unstable[c]})
              for c in scenario.channels]
    return pd.concat(frames, ignore_index=True)


def unstable_warnings(scenario: Scenario, table: pd.DataFrame) -> list[dict]:
    out = []
    reported = table[table["t_s"] >= scenario.warmup]
    for channel, rows in reported.groupby("channel", sort=False):
        bad = rows[rows["unstable"]]
        if bad.empty:
            continue
        worst = bad.loc[(bad["offered_load"] - bad["capacity"]).idxmax()]
        never = bool((rows["capacity"] <= 0).all())
        daily = scenario.channels[channel].kind == "async"
        unit = " (async: work and capacity per day, in agent-intervals)" if daily else " agents"
        what = ("no agent is available to serve it at any time" if never else
                f"offered load ≥ staffing capacity in {len(bad)} of {len(rows)} intervals "
                f"(worst {worst['interval_start']}: load {worst['offered_load']:.1f} vs capacity "
                f"{worst['capacity']:.1f}{unit})")
        out.append({"kind": "unstable_intervals", "channel": channel, "intervals": int(len(bad)),
                    "first": bad["interval_start"].iloc[0],
                    "message": f"{channel}: {what}; queues grow there, so waits depend on the horizon: "
                               "add agents in those intervals (see `unstable` in intervals.csv)"})
    return out


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


def scenario_warnings(scenario: Scenario, summary: pd.DataFrame | None = None, replications: int | None = None,
                      intervals: pd.DataFrame | None = None, ci_width: float = DEFAULT_CI_WIDTH,
                      table: pd.DataFrame | None = None) -> list[dict]:
    """Every warning for a scenario and (when given) its results, in a stable order: a sweep
    point or a staffing plan deserves the same warnings as a run."""
    from .calendar_checks import calendar_warnings  # DST-gap start, channels never open

    table = unstable_table(scenario) if table is None else table
    out = calendar_warnings(scenario) + unstable_warnings(scenario, table) + warmup_warnings(scenario, intervals)
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
