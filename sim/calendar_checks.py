"""Calendar surprises that are valid input but silently change what is simulated: warn about them.

start inside a DST gap
    `start: 2026-03-29T02:30:00` with `timezone: Europe/Berlin` names a wall-clock time that does
    not exist (clocks jump from 02:00 to 03:00). Python reads it as 03:30 summer time, so the
    horizon starts an hour later on the wall clock than written. Warned, with the time used.

a channel never open during the horizon
    Opening hours whose days and hours never meet the horizon (open Mon–Fri, horizon a weekend)
    give a sync channel no contacts at all and an async channel no agent time: a typo far more
    often than a plan. Warned per channel, as shifts outside the horizon are refused for groups.

Each warning is a `{kind, message, …}` dict like those of `sim.checks`, shown by `validate`
and `run` and stored in `run.json`.
"""

from __future__ import annotations

import datetime as dt

from .calendar import open_changes
from .scenario import Scenario
from .units import format_clock, format_duration


def dst_gap_warnings(scenario: Scenario) -> list[dict]:
    """The start's wall-clock time does not exist in the scenario's zone (spring-forward gap)."""
    start = scenario.start
    if start.tzinfo is not None or scenario.timezone is None:
        return []  # an explicit offset names an instant: nothing is shifted
    local = start.replace(tzinfo=scenario.zone)
    round_trip = local.astimezone(dt.timezone.utc).astimezone(scenario.zone)
    if round_trip.replace(tzinfo=None) == start:
        return []
    return [{"kind": "start_in_dst_gap", "written": start.isoformat(), "used": round_trip.isoformat(),
             "message": f"start {start:%Y-%m-%d %H:%M} does not exist in {scenario.timezone} (the clocks jump "
                        f"forward that night), so the horizon starts at {round_trip:%H:%M} "
                        f"({round_trip.isoformat()}); write a start outside the gap to make it explicit"}]


def never_open_warnings(scenario: Scenario) -> list[dict]:
    """Channels whose opening hours never fall inside the horizon."""
    out = []
    start = scenario.start_local.astimezone(dt.timezone.utc).astimezone(scenario.zone)  # a DST-gap start normalised
    for name, channel in scenario.channels.items():
        hours = channel.open
        if hours is None:
            continue
        changes = open_changes(hours, scenario)
        if any(is_open for _, is_open in changes):
            continue
        effect = ("it gets no contacts at all" if channel.kind == "sync"
                  else "its contacts wait and no agent works them")
        out.append({"kind": "never_open", "channel": name,
                    "message": f"{name}: never open during the horizon (open {format_clock(hours.start)}–"
                               f"{format_clock(hours.end)} on {','.join(hours.days)}, horizon "
                               f"{start:%a %Y-%m-%d %H:%M} + {format_duration(scenario.horizon_s)}), "
                               f"so {effect}; check `open` and the scenario's start and duration"})
    return out


def calendar_warnings(scenario: Scenario) -> list[dict]:
    return dst_gap_warnings(scenario) + never_open_warnings(scenario)
