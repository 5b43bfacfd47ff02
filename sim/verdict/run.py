"""The run verdict: which channels miss target, on which days and hours, by how much, and why.

Per channel, each day's service level is the offered-weighted mean of its intervals' (the
intervals a contact arrived in, as everywhere in peaksim). A day misses when that mean is
below the target. The hours of a missed day are the span of its intervals below target.

Why a channel misses is read off the same tables by comparing the missed intervals with the
same hours of the days that hold target:

* **opening hours**: most of the missed contacts of an async channel arrived while it was
  closed and waited for the opening: more agents would not help;
* **load**: at least 15% more contacts than on good days at those hours, with the usual agents;
* **capacity**: at least 10% fewer agents on shift (the groups serving the channel) than on good
  days at those hours, for the usual load; or no day holds target at all, so the roster is short
  for the ordinary load;
* **backlog**: an async channel whose load and agents are as usual but which starts with at least
  twice the usual backlog, carried over from earlier days.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..readable import clock, day_text, days_text, listing, points, share
from ..result_files import read_json, read_table
from . import BAD, MIXED, NEUTRAL, OK, Verdict
from .facts import ChannelFacts, channel_facts, interval_seconds

HINT = "rerun `peaksim run SCENARIO --out DIR` to write it again"
LOAD_UP = 1.15
CAPACITY_DOWN = 0.90
BACKLOG_UP = 2.0
MIN_CONTACTS = 1.0  # an interval (mean over replications) with fewer offered contacts is not shown as worst


@dataclass
class ChannelOutcome:
    facts: ChannelFacts
    overall: float | None
    days: pd.DataFrame  # day, sl, offered, missed, first, last, n_missed, worst_sl, worst_at
    driver: str = ""  # short word for the headline
    why: str = ""  # the sentence for the detail line
    missed_days: list[dt.date] = field(default_factory=list)

    @property
    def misses(self) -> bool:
        target = self.facts.target
        overall_miss = target is not None and self.overall is not None and self.overall < target
        return bool(self.missed_days) or overall_miss

    @property
    def worst(self) -> pd.Series | None:
        missed = self.days[self.days["missed"]]
        return None if missed.empty else missed.sort_values("sl").iloc[0]


def from_directory(directory: Path) -> Verdict:
    numeric = ["offered", "handled", "abandoned", "service_level", "backlog", "agents"]
    return run_verdict(
        read_table(directory, "summary.csv", HINT, required=["channel", "service_level"], numeric=["service_level"]),
        read_table(directory, "intervals.csv", HINT, required=["interval_start", "channel"], numeric=numeric,
                   times=["interval_start"]),
        read_json(directory, "run.json", HINT),
        read_table(directory, "groups.csv", HINT, required=["interval_start", "group"], numeric=["agents"],
                   times=["interval_start"], optional=True),
    )


def run_verdict(summary: pd.DataFrame, intervals: pd.DataFrame, meta: dict,
                groups: pd.DataFrame | None = None) -> Verdict:
    """The run's verdict from its summary, intervals (local times) and, when present, groups tables."""
    definition = meta.get("scenario_definition") or {}
    facts = channel_facts(definition)
    step = interval_seconds(definition)
    names = list(dict.fromkeys(summary["channel"].astype(str)))
    overall = dict(zip(summary["channel"].astype(str), pd.to_numeric(summary["service_level"], errors="coerce")))
    capacity = _capacity(groups)
    outcomes = []
    for name in names:
        frame = intervals[intervals["channel"].astype(str) == name]
        outcome = assess(facts.get(name) or ChannelFacts(name), _number(overall.get(name)), frame, step, capacity)
        outcomes.append(outcome)
    return compose(outcomes)


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number else None


def _capacity(groups: pd.DataFrame | None) -> pd.DataFrame | None:
    """Agents on shift (after shrinkage) per interval and group, wide: one column per group."""
    if groups is None or groups.empty or "agents" not in groups.columns:
        return None
    return groups.pivot_table(index="interval_start", columns="group", values="agents", aggfunc="sum")


DAILY_COLUMNS = ["day", "sl", "offered", "missed", "first", "last", "n_missed", "n_intervals", "worst_sl", "worst_at"]


def daily(frame: pd.DataFrame, target: float, step: float) -> pd.DataFrame:
    """Per day: offered-weighted service level, whether it misses, and the span and depth of its misses.

    Grouped in one pass per quantity (a loop over days cost a third of a second on a 44-day run)."""
    if frame.empty:
        return pd.DataFrame(columns=DAILY_COLUMNS)
    weight = frame["offered"].fillna(0)
    level = frame["service_level"]
    day = frame["interval_start"].dt.date
    totals = pd.DataFrame({"offered": weight, "weighted": level * weight, "n_intervals": weight > 0}).groupby(
        day.to_numpy(), sort=True).sum()
    totals = totals[totals["offered"] > 0]
    if totals.empty:
        return pd.DataFrame(columns=DAILY_COLUMNS)
    below = (level < target) & (weight > 0)
    starts = frame.loc[below, "interval_start"].groupby(day[below].to_numpy())
    shown = frame.loc[below & (frame["offered"] >= MIN_CONTACTS), ["interval_start", "service_level"]]
    worst = (shown.assign(day=day[shown.index]).sort_values(["day", "service_level"], kind="stable")
             .groupby("day", sort=False).head(1).set_index("day"))
    out = pd.DataFrame({"day": totals.index, "sl": (totals["weighted"] / totals["offered"]).to_numpy(),
                        "offered": totals["offered"].to_numpy(dtype=float)})
    out["missed"] = out["sl"] < target
    first, last = starts.min(), starts.max()
    out["first"] = [first.get(d) for d in out["day"]]
    out["last"] = [last[d] + dt.timedelta(seconds=step) if d in last.index else None for d in out["day"]]
    counts = starts.size()
    out["n_missed"] = [int(counts.get(d, 0)) for d in out["day"]]
    out["n_intervals"] = totals["n_intervals"].to_numpy(dtype=int)
    out["worst_sl"] = [float(worst.at[d, "service_level"]) if d in worst.index else None for d in out["day"]]
    out["worst_at"] = [worst.at[d, "interval_start"] if d in worst.index else None for d in out["day"]]
    return out[DAILY_COLUMNS]


def assess(facts: ChannelFacts, overall: float | None, frame: pd.DataFrame, step: float,
           capacity: pd.DataFrame | None) -> ChannelOutcome:
    frame = frame[frame["service_level"].notna()] if "service_level" in frame.columns else frame.iloc[0:0]
    if "offered" not in frame.columns:
        frame = frame.assign(offered=frame.get("handled", 0) + frame.get("abandoned", 0))
    if facts.target is None or frame.empty:
        return ChannelOutcome(facts, overall, daily(frame, 0.0, step) if not frame.empty else pd.DataFrame())
    days = daily(frame, facts.target, step)
    outcome = ChannelOutcome(facts, overall, days, missed_days=list(days.loc[days["missed"], "day"]))
    if outcome.misses:
        outcome.driver, outcome.why = driver(facts, frame, days, capacity)
    return outcome


def _closed_share(facts: ChannelFacts, missed: pd.DataFrame) -> float | None:
    """Share of the offered contacts of `missed` intervals that arrived while an async channel was closed."""
    if facts.kind != "async" or facts.open_hours is None or missed.empty:
        return None
    closed = ~missed["interval_start"].map(facts.is_open).astype(bool)
    return float(missed.loc[closed, "offered"].sum() / max(missed["offered"].sum(), 1e-9))


def driver(facts: ChannelFacts, frame: pd.DataFrame, days: pd.DataFrame,
           capacity: pd.DataFrame | None) -> tuple[str, str]:
    """(short word, sentence): opening hours, load, capacity or backlog, from the missed intervals."""
    target = facts.target
    missed_days = set(days.loc[days["missed"], "day"])
    good_days = set(days.loc[~days["missed"], "day"])
    on_day = frame["interval_start"].dt.date
    missed = frame[on_day.isin(missed_days) & (frame["service_level"] < target)] if missed_days else \
        frame[frame["service_level"] < target]
    if missed.empty:
        return "marginal", "its overall service level is just below target, no day clearly misses"
    closed = _closed_share(facts, missed)
    if closed is not None and closed >= 0.5:
        return ("opening hours", f"opening hours: {share(closed)} of the contacts in its missed intervals arrive "
                f"while {facts.name} is closed and wait for the opening, so more agents would not fix it; longer "
                "opening hours or a night bot would")
    if good_days:
        return _against(facts, frame, missed, good_days, capacity, "the same hours on days that hold target")
    # no day holds target: say what its best day lacks, and compare the others with that day
    best = days.sort_values("sl").iloc[-1]
    on_best = frame[(on_day == best["day"]) & (frame["service_level"] < target)]
    closed = _closed_share(facts, on_best)
    if closed is not None and closed >= 0.5:
        word, ordinary = "opening hours", (f"on its best day ({day_text(best['day'])}, {share(best['sl'])}) "
                                           f"{share(closed)} of the missed contacts arrive while it is closed")
    else:
        word, ordinary = "capacity", (f"even its best day ({day_text(best['day'])}) reaches only "
                                      f"{share(best['sl'])}, so the roster is short for the ordinary load")
    rest = missed[missed["interval_start"].dt.date != best["day"]]
    if rest.empty:
        return word, f"no day holds target: {ordinary}"
    peak_word, peak = _against(facts, frame, rest, {best["day"]}, capacity, f"the same hours on {day_text(best['day'])}")
    if peak_word in ("load", "load and capacity", "backlog"):
        return f"{word}, and {peak_word} on the worst days", f"no day holds target: {ordinary}; on the worst days, {peak}"
    return word, f"no day holds target: {ordinary}"


def _against(facts: ChannelFacts, frame: pd.DataFrame, missed: pd.DataFrame, good_days: set,
             capacity: pd.DataFrame | None, reference: str) -> tuple[str, str]:
    """Load, agents and backlog at the missed intervals against the same times of day on `good_days`."""
    good = frame[frame["interval_start"].dt.date.isin(good_days)]
    hour = good["interval_start"].dt.time
    load = _ratio(missed, good.groupby(hour)["offered"].mean(), missed["offered"])
    agents = None
    if capacity is not None and facts.groups:
        present = [g for g in facts.groups if g in capacity.columns]
        if present:
            total = capacity[present].sum(axis=1)
            at_missed = total.reindex(missed["interval_start"]).to_numpy()
            by_hour = total.reindex(good["interval_start"]).groupby(hour.to_numpy()).mean()
            agents = _ratio(missed, by_hour, pd.Series(at_missed, index=missed.index))
    more_load = load is not None and load >= LOAD_UP
    fewer_agents = agents is not None and agents <= CAPACITY_DOWN
    if more_load and fewer_agents:
        return ("load and capacity", f"load and capacity: {load:.1f}× the contacts and {1 - agents:.0%} fewer agents "
                f"than at {reference}")
    if more_load:
        staffed = "" if agents is None else f", with {_change(agents)} agents"
        return "load", f"load: {load:.1f}× the contacts of {reference}{staffed}"
    if fewer_agents:
        return "capacity", f"capacity: {1 - agents:.0%} fewer agents on shift than at {reference}, for {_change(load)} load"
    if facts.kind == "async" and "backlog" in frame.columns:
        backlog = _ratio(missed, good.groupby(hour)["backlog"].mean(), missed["backlog"])
        if backlog is not None and backlog >= BACKLOG_UP:
            return ("backlog", f"backlog carried over: {backlog:.1f}× the waiting contacts of {reference}, "
                    "with the usual load and agents")
    return ("marginal", f"neither load nor agents differ from {reference} by more than 15%: the target is "
            "marginal at these hours")
def _ratio(missed: pd.DataFrame, reference: pd.Series, values: pd.Series) -> float | None:
    """Σ values at the missed intervals ÷ Σ of the reference at the same times of day (where known)."""
    expected = missed["interval_start"].dt.time.map(reference)
    known = expected.notna() & values.notna()
    total = float(expected[known].sum())
    return float(values[known].sum()) / total if known.any() and total > 0 else None


def _change(ratio: float | None) -> str:
    if ratio is None:
        return "the usual"
    if abs(ratio - 1) < 0.005:
        return "the usual"
    return f"{ratio - 1:+.0%}".replace("-", "−")


def window(row: pd.Series) -> str:
    """` 09:00–22:00` (the span of a day's intervals below target), ` all day`, or nothing."""
    if row["first"] is None or not row["n_missed"]:
        return ""
    if (row["last"] - row["first"]) >= dt.timedelta(hours=23):
        return " all day"
    end = "24:00" if row["last"].date() > row["first"].date() and clock(row["last"]) == "00:00" else clock(row["last"])
    return f" {clock(row['first'])}–{end}"


def day_summary(row: pd.Series, facts: ChannelFacts) -> str:
    """`Fri 27 Nov 09:00–22:00 at 31% (−49 pp; lowest 12% at 18:30)`."""
    text = day_text(row["day"]) + window(row)
    text += f" at {share(row['sl'])} ({points(row['sl'] - facts.target)}"
    if row["worst_at"] is not None and row["worst_sl"] < row["sl"] - 0.005:
        text += f"; lowest {share(row['worst_sl'])} at {clock(row['worst_at'])}"
    return text + ")"


def channel_line(outcome: ChannelOutcome) -> str:
    facts, days = outcome.facts, outcome.days
    name, overall = facts.name, share(outcome.overall, 1)
    if facts.target is None:
        return f"{name}: {overall} service level (no target set)"
    if days.empty:
        return f"{name}: no contacts decided in the horizon, so no service level"
    if not outcome.misses:
        low = days.sort_values("sl").iloc[0]
        return (f"{name}: holds {facts.goal()} on every day ({overall} overall; lowest day "
                f"{day_text(low['day'])} at {share(low['sl'])})")
    missed = days[days["missed"]].sort_values("sl")
    head = (f"{name}: misses {facts.goal()} ({overall} overall)" if outcome.overall is not None
            and outcome.overall < facts.target else f"{name}: {overall} overall meets {facts.goal()}, but")
    if missed.empty:
        return f"{head}; {outcome.why}"
    shown = "; ".join(day_summary(row, facts) for _, row in missed.head(3).iterrows())
    more = f"; and {len(missed) - 3} more day{'s' if len(missed) > 4 else ''}" if len(missed) > 3 else ""
    return f"{head} on {len(missed)} of {len(days)} days: {shown}{more}. Why: {outcome.why}"


def compose(outcomes: list[ChannelOutcome]) -> Verdict:
    details = [channel_line(o) for o in sorted(outcomes, key=lambda o: not o.misses)]
    judged = [o for o in outcomes if o.facts.target is not None and not o.days.empty]
    if not judged:
        return Verdict("run", NEUTRAL, "No channel has a service-level target and contacts to judge it by.", details)
    missing = [o for o in judged if o.misses]
    holding = [o for o in judged if not o.misses]
    if not missing:
        low = min(judged, key=lambda o: o.days["sl"].min())
        day = low.days.sort_values("sl").iloc[0]
        return Verdict("run", OK, f"Every channel holds its target on every day (closest: {low.facts.name} "
                       f"{share(day['sl'])} against {low.facts.goal()} on {day_text(day['day'])}).", details)
    worst = min(missing, key=lambda o: (o.worst["sl"] - o.facts.target) if o.worst is not None
                else (o.overall or 0) - o.facts.target)
    all_days = sorted({d for o in missing for d in o.missed_days})
    verb = "misses" if len(missing) == 1 else "miss"
    headline = f"{listing(o.facts.name for o in missing)} {verb} target"
    headline += f" on {days_text(all_days)}" if all_days else " over the horizon"
    row = worst.worst
    if row is not None:
        headline += (f"; worst: {worst.facts.name} {share(row['sl'])} against {worst.facts.goal()} on "
                     f"{day_text(row['day'])}{window(row)} ({points(row['sl'] - worst.facts.target)})")
    else:
        headline += f"; worst: {worst.facts.name} {share(worst.overall, 1)} against {worst.facts.goal()}"
    headline += f", driven by {worst.driver}" if worst.driver and worst.driver != "marginal" else ""
    headline += "."
    if holding:
        headline += f" {listing(o.facts.name for o in holding)} {'holds' if len(holding) == 1 else 'hold'} target."
    judged_days = {d for o in judged for d in o.days["day"]}
    calm = judged_days - set(all_days)
    if all_days and calm:
        headline += (f" Every channel holds its target on the other {len(calm)} days." if len(calm) > 1 else
                     f" Every channel holds its target on the other day ({day_text(next(iter(calm)))}).")
    status = BAD if not holding else MIXED
    return Verdict("run", status, headline, details)
