"""The scenario file: what a planner writes, validated once, then trusted by the model.

A scenario is YAML checked by pydantic models with `extra="forbid"` (a typo is an error,
not a silently ignored key), frozen after loading, and cross-checked (skills name defined
channels, every channel has someone to serve it, profiles have one value per interval of the
day). Loading errors become `ScenarioError`s that name the file, line and field.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import math
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

from .distributions import Distribution, NonNegativeSeconds, PositiveSeconds, StrictModel
from .errors import ScenarioError, at, format_validation_error
from .loops import check_zero_delay_loops
from .opening import WEEKDAYS, ClockTime, OpeningHours, Weekday  # noqa: F401 (WEEKDAYS, Weekday: re-exported)
from .scenario_levers import Balking, Callback, Overflow, ServiceLevel, check_levers
from .scenario_peak import (
    Arrivals, Behaviour, Bot, ChannelMix, Event, HandleTimeByQueue, Ramp, Reason, check_references,
)
from .scenario_outcomes import RevenueRule, Satisfaction, check_revenue_reasons
from .units import format_clock, format_duration
from .yamlsource import load_yaml_with_lines

Probability = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Rate = Annotated[float, Field(ge=0, allow_inf_nan=False)]
ALLOWED_INTERVALS_S = (900.0, 1800.0, 3600.0)
MAX_CONTACTS_PER_REPLICATION = 20_000_000
MAX_AGENTS = 100_000
MIN_HORIZON_S = 60.0
MAX_HORIZON_S = 400 * 86400  # a Q4 is 92 days; longer horizons are almost always a unit slip (e.g. 90 → 90d)
MAX_RESULT_ROWS = 50_000_000  # per-interval result rows held in memory: replications × intervals × (channels + groups)


class _Model(StrictModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Channel(_Model):
    """A contact channel: how contacts arrive, wait, and how long agents spend on them."""

    kind: Literal["sync", "async"] = Field(default="sync", description="sync: customers wait and may abandon; "
                                           "async: a backlog (email, messaging) with first-response targets")
    service_level: ServiceLevel = Field(description="the target: a share within a threshold, e.g. 80% in 20 s")
    handle_time: Distribution = Field(description="agent time per contact (before proficiency and concurrency)")
    patience: Distribution | None = Field(default=None, description="time a waiting customer stays; omit: never abandons")
    arrivals: Arrivals = Field(description="demand: a rate, a daily or weekly volume with its shape, or replayed counts")
    handle_time_profile: list[Annotated[float, Field(gt=0, le=100, allow_inf_nan=False)]] | None = Field(
        default=None,
        description="handle-time multiplier by arrival interval (one per interval of the day, or of the whole "
                    "horizon), e.g. shorter calls at night; default 1")
    patience_profile: list[Annotated[float, Field(gt=0, le=100, allow_inf_nan=False)]] | None = Field(
        default=None,
        description="patience multiplier by arrival interval (one per interval of the day, or of the whole horizon), "
                    "e.g. evening callers wait longer; default 1")
    handle_time_by_queue: HandleTimeByQueue | None = Field(
        default=None, description="handle-time multiplier by the number of customers still waiting when a contact "
                                  "is answered (agents speed up under load); default none")
    concurrency: int = Field(default=1, ge=1, le=20, description="contacts an agent can hold at once (chat)")
    concurrency_factor: list[float] | None = Field(
        default=None,
        description="handle-time multiplier when the agent holds 1, 2, … contacts of this channel",
    )
    open: OpeningHours | None = Field(default=None, description=(
        "opening hours, exact to the second (off the reporting grid too): a sync channel takes contacts only while "
        "open, async work waits for the opening; omit: always open"))
    reasons: ChannelMix | None = Field(default=None, description="contact-reason mix (shares, normalised)")
    bot: Bot | None = Field(default=None, description="a chatbot every contact meets first (default: none)")
    behaviour: Behaviour | None = Field(default=None, description="redials or chasers of customers under strain")
    callback: Callback | None = Field(default=None, description="sync: offer callbacks (virtual hold) to callers "
                                      "facing a long wait")
    balking: Balking | None = Field(default=None, description="sync: callers told the expected wait may leave at once")
    overflow: Overflow | None = Field(default=None, description="after a wait, further agent groups may answer "
                                      "(one stage, or a list of stages)")

    @model_validator(mode="after")
    def _consistent(self):
        if self.kind == "async" and self.patience is not None:
            raise at(".patience", "async channels do not abandon (got a patience distribution on an async channel); "
                     "remove `patience` or set kind: sync")
        if self.kind == "async" and self.patience_profile is not None:
            raise at(".patience_profile", "async channels do not abandon (got a patience profile on an async channel); "
                     "remove `patience_profile` or set kind: sync")
        if not self.handle_time.mean_s > 0:
            raise at(".handle_time", f"the mean handle time must be above zero (got {self.handle_time.mean_s:g}s); "
                     "give durations such as 3min")
        if self.concurrency_factor is not None:
            if len(self.concurrency_factor) != self.concurrency:
                raise at(".concurrency_factor",
                         f"needs one multiplier per concurrency level (got {len(self.concurrency_factor)} values "
                         f"for concurrency {self.concurrency}); give {self.concurrency} values")
            bad = [f for f in self.concurrency_factor if not (f > 0 and math.isfinite(f))]
            if bad:
                raise at(".concurrency_factor", f"multipliers must be positive numbers (got {bad[0]!r}); use values > 0")
        return self

    def handle_factors(self) -> list[float]:
        return list(self.concurrency_factor or [1.0] * self.concurrency)


class Shift(_Model):
    """`agents` people working `start`–`end` local time on `days` (an end before start runs overnight)."""

    start: ClockTime = Field(description="local start HH:MM")
    end: ClockTime = Field(description="local end HH:MM (before start: ends next day)")
    agents: int = Field(ge=0, le=MAX_AGENTS, description="agents on this shift")
    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS), min_length=1, description="weekdays worked",
                               json_schema_extra={"default": list(WEEKDAYS)})
    dates: list[dt.date] | None = Field(default=None, description="only on these dates (overtime, event days)")

    @model_validator(mode="after")
    def _not_empty(self):
        if self.start == self.end:
            raise at(".end", f"a shift needs `end` different from `start` (got {format_clock(self.start)} for both); "
                     "for a 24-hour shift use two 12-hour shifts")
        return self


def _skills(value: object) -> object:
    """`[voice, chat]` means equal priority; `{voice: 1, email: 2}` means lower number first."""
    if isinstance(value, list):
        return {name: 1 for name in value} if all(isinstance(v, str) for v in value) else value
    return value


class AgentGroup(_Model):
    """Agents with the same skills, schedule and proficiency."""

    name: str = Field(min_length=1, description="group name, used by sweeps (--agents NAME=…)")
    skills: Annotated[dict[str, Annotated[int, Field(ge=1, le=100)]], BeforeValidator(_skills)] = Field(
        description="channels served: a list (equal priority) or {channel: priority}, 1 = first")
    headcount: Annotated[int, Field(ge=0, le=MAX_AGENTS)] | list[Annotated[int, Field(ge=0, le=MAX_AGENTS)]] | None = Field(
        default=None, description="agents on shift: one number, one per interval of the day, or one per interval "
                                  "of the horizon")
    shifts: list[Shift] | None = Field(default=None, description="shifts instead of a headcount")
    headcount_by_interval: list[Annotated[int, Field(ge=0, le=MAX_AGENTS)]] | None = Field(
        default=None, description="agents on shift in every reporting interval of the horizon, from `start` "
                                  "(what `peaksim staff` writes when the requirement does not repeat daily)")
    shrinkage: Probability | list[Probability] = Field(
        default=0.0, description="share of scheduled agents not available (breaks, absence): one value or "
                                 "one per interval of the day")
    shrinkage_random: bool = Field(default=False, description="draw available agents binomially per interval")
    proficiency: float = Field(default=1.0, gt=0, le=20, description="handle-time multiplier")
    ramp: Ramp | None = Field(default=None, description="seasonal hires: proficiency improving after hire")

    @model_validator(mode="after")
    def _one_schedule(self):
        if not self.skills:
            raise at(".skills", "give at least one skill (got none); list the channels this group serves, e.g. [voice]")
        given = [k for k in ("headcount", "shifts", "headcount_by_interval") if getattr(self, k) is not None]
        if len(given) != 1:
            raise at(f".{given[-1]}" if given else ".", "give exactly one of `headcount`, `shifts` or `headcount_by_interval` "
                     f"(got {' and '.join(given) if given else 'none of them'}); keep one schedule per group")
        worst = max(self.shrinkage) if isinstance(self.shrinkage, list) else self.shrinkage
        if worst >= 1:
            raise at(".shrinkage", f"must be below 1, it is the share of paid time not available (got {worst:g}); "
                     "use a share such as 0.3")
        return self

    @property
    def skill_levels(self) -> list[list[str]]:
        """Channels grouped by priority, most preferred first."""
        levels = sorted(set(self.skills.values()))
        return [[c for c, p in self.skills.items() if p == level] for level in levels]


class Scenario(_Model):
    """A contact centre over a horizon, with everything the model needs."""

    name: str = Field(min_length=1, max_length=200, description="shown in reports; names the default output folder")
    start: dt.datetime = Field(description="horizon start, local time with offset (or give `timezone`)")
    timezone: str | None = Field(default=None, description="IANA zone, e.g. Europe/Berlin: local times, DST, dates")
    duration: PositiveSeconds | None = Field(default=None, description="horizon length (or give `end`)")
    end: dt.datetime | None = Field(default=None, description="horizon end (or give `duration`)")
    interval: PositiveSeconds = Field(default=1800.0, description="reporting interval: 15min, 30min or 60min")
    warmup: NonNegativeSeconds = Field(default=0.0, description="start-up period left out of the KPIs")
    seed: int = Field(default=0, ge=0, le=2**63 - 1, description="root seed: same seed, same results")
    replications: int = Field(default=10, ge=1, le=10_000, description="independent runs behind each CI")
    calibration: str | None = Field(default=None, description="calibration YAML (from `peaksim calibrate`) whose fitted "
                                    "handle_time, patience and arrivals are defaults under this file's values")
    channels: dict[str, Channel] = Field(min_length=1, description="contact channels by name")
    agents: list[AgentGroup] = Field(min_length=1, description="agent groups")
    reasons: dict[str, Reason] | None = Field(default=None, description="contact reasons, referenced by channels")
    events: list[Event] | None = Field(default=None, description="named peak events (dates in local time)")
    satisfaction: Satisfaction | None = Field(
        default=None, description="modelled CSAT of each issue (docs/outcomes.md); omit: illustrative defaults")
    revenue_at_risk: dict[str, RevenueRule] | None = Field(
        default=None, description="per contact reason (or `general`): order value and lost-sale probabilities; "
                                  "omit: no revenue at risk is computed")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value):
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError, OSError):
                guess = difflib.get_close_matches(value, sorted(available_timezones()), n=1)
                hint = f"did you mean {guess[0]}?" if guess else "use an IANA name such as Europe/Berlin"
                raise ValueError(f"unknown time zone; {hint}") from None
        return value

    @field_validator("interval")
    @classmethod
    def _allowed_interval(cls, value):
        if value not in ALLOWED_INTERVALS_S:
            raise ValueError("the reporting interval must divide the day and be one WFM tools use; "
                             "use 15min, 30min or 60min")
        return value

    @model_validator(mode="after")
    def _cross_checks(self):
        if self.start.tzinfo is None and self.timezone is None:
            raise at("start", "needs a time zone (got a time without offset); add an offset like +01:00 or a `timezone:` key")
        if (self.duration is None) == (self.end is None):
            raise at("end" if self.end is not None else "duration", "give exactly one of `duration` or `end` "
                     f"(got {'both' if self.end is not None else 'neither'}); keep one, e.g. duration: 7d")
        if self.horizon_s <= 0:
            raise at("end", f"must be after `start` (got {self.end.isoformat()}, start {self.start.isoformat()}); fix the dates")
        if self.horizon_s < MIN_HORIZON_S:  # else it rounds to 0 reporting intervals: nothing to simulate or report
            raise at("end" if self.end is not None else "duration",
                     f"the horizon must be at least {format_duration(MIN_HORIZON_S)} (got {format_duration(self.horizon_s)}); "
                     "give a duration such as 4h or 7d")
        if self.horizon_s > MAX_HORIZON_S:
            raise at("end" if self.end is not None else "duration",
                     f"the horizon is at most {MAX_HORIZON_S // 86400:g} days (got {self.horizon_s / 86400:,.1f} days); "
                     "simulate the peak in parts")
        if self.warmup >= self.horizon_s:
            raise at("warmup", f"must be shorter than the horizon (got {format_duration(self.warmup)}); shorten it")
        if self.report_start_s >= self.horizon_s:
            raise at("warmup", f"leaves no reporting interval: KPIs start at the first interval boundary after the "
                     f"warm-up (got {format_duration(self.warmup)}, interval {format_duration(self.interval)}, horizon "
                     f"{format_duration(self.horizon_s)}); shorten the warm-up or lengthen the horizon")
        per_day = self.intervals_per_day
        for name, channel in self.channels.items():
            rate = channel.arrivals.rate_per_hour
            intraday = channel.arrivals.intraday
            if intraday is not None and len(intraday) != per_day:
                raise at(f"channels.{name}.arrivals.intraday",
                         f"needs one value per interval of the day (got {len(intraday)} values); "
                         f"give {per_day} values at interval {format_duration(self.interval)}")
            for day, shape in (channel.arrivals.intraday_by_weekday or {}).items():
                if len(shape) != per_day:
                    raise at(f"channels.{name}.arrivals.intraday_by_weekday.{day}",
                             f"needs one value per interval of the day (got {len(shape)} values); "
                             f"give {per_day} values at interval {format_duration(self.interval)}")
            for key in ("handle_time_profile", "patience_profile"):
                profile = getattr(channel, key)
                if profile is not None and len(profile) not in (per_day, self.n_intervals):
                    raise at(f"channels.{name}.{key}",
                             f"needs one multiplier per interval of the day (got {len(profile)} values); "
                             f"give {per_day} values at interval {format_duration(self.interval)} "
                             f"(or {self.n_intervals} to cover the whole horizon)")
            counts = channel.arrivals.counts
            if counts is not None and len(counts) != self.n_intervals:
                raise at(f"channels.{name}.arrivals.counts",
                         f"needs one count per interval of the whole horizon (got {len(counts)} values); "
                         f"give {self.n_intervals} values at interval {format_duration(self.interval)}")
            if isinstance(rate, list) and len(rate) not in (per_day, self.n_intervals):
                raise at(f"channels.{name}.arrivals.rate_per_hour",
                         f"a profile needs one value per interval of the day (got {len(rate)} values); "
                         f"give {per_day} values at interval {format_duration(self.interval)} "
                         f"(or {self.n_intervals} to cover the whole horizon)")
        for k, event in enumerate(self.events or []):
            for name, shape in (event.intraday or {}).items():
                if len(shape) != per_day:
                    raise at(f"events[{k}].intraday.{name}",
                             f"needs one value per interval of the day (got {len(shape)} values); "
                             f"give {per_day} values at interval {format_duration(self.interval)}")
        names = [g.name for g in self.agents]
        if len(set(names)) != len(names):
            dup = next(n for n in names if names.count(n) > 1)
            raise at(f"agents[{names.index(dup)}].name", f"agent group names must be unique (got {dup!r} twice); rename one")
        served = set()
        for i, group in enumerate(self.agents):
            unknown = sorted(set(group.skills) - set(self.channels))
            if unknown:
                guess = difflib.get_close_matches(unknown[0], list(self.channels), n=1)
                hint = f"did you mean {guess[0]!r}?" if guess else f"defined channels: {', '.join(self.channels)}"
                raise at(f"agents[{i}].skills.{unknown[0]}", f"no channel of that name is defined (got {unknown[0]!r}); {hint}")
            served.update(group.skills)
            if isinstance(group.headcount, list) and len(group.headcount) not in (per_day, self.n_intervals):
                raise at(f"agents[{i}].headcount",
                         f"a profile needs one value per interval of the day (got {len(group.headcount)} values); "
                         f"give {per_day} values at interval {format_duration(self.interval)} "
                         f"(or {self.n_intervals} to cover the whole horizon)")
            by_interval = group.headcount_by_interval
            if by_interval is not None and len(by_interval) != self.n_intervals:
                raise at(f"agents[{i}].headcount_by_interval",
                         f"needs one value per interval of the horizon (got {len(by_interval)} values); "
                         f"give {self.n_intervals} values at interval {format_duration(self.interval)}")
            if isinstance(group.shrinkage, list) and len(group.shrinkage) != per_day:
                raise at(f"agents[{i}].shrinkage",
                         f"a profile needs one value per interval of the day (got {len(group.shrinkage)} values); "
                         f"give {per_day} values at interval {format_duration(self.interval)}")
        check_references(self)
        check_revenue_reasons(self)
        check_levers(self)
        check_zero_delay_loops(self)
        for i, group in enumerate(self.agents):
            self._check_shifts_in_horizon(i, group)
        unserved = sorted(set(self.channels) - served)
        if unserved:
            raise at(f"channels.{unserved[0]}", f"no agent group has this channel as a skill (got {unserved[0]!r}); add it to a group's skills")
        expected = self.expected_contacts()
        if expected > MAX_CONTACTS_PER_REPLICATION:
            shown = f"{expected:,.0f}" if expected < 1e15 else f"{expected:.3g}"  # not 300 digits for growth: 1e300
            raise at("channels", f"about {shown} contacts per replication exceeds the limit of "
                     f"{MAX_CONTACTS_PER_REPLICATION:,} (got that from rates × horizon); shorten the horizon or lower the rates")
        rows = self.replications * self.n_intervals * (len(self.channels) + len(self.agents))
        if rows > MAX_RESULT_ROWS:
            raise at("replications", f"{self.replications:,} replications × {self.n_intervals:,} intervals × "
                     f"{len(self.channels) + len(self.agents)} channels and groups would hold {rows:,} result rows in memory "
                     f"(got over the limit of {MAX_RESULT_ROWS:,}); use fewer replications or a coarser interval")
        return self

    def _check_shifts_in_horizon(self, i: int, group: "AgentGroup") -> None:
        """Shifts that never overlap the horizon leave a group empty: almost always a wrong date or day list."""
        if not group.shifts or all(s.agents == 0 for s in group.shifts):
            return
        from .schedule import shift_spells  # schedule imports this module

        if not shift_spells(group, self):
            first = group.shifts[0]
            raise at(f"agents[{i}].shifts", f"no shift of this group falls inside the horizon (got "
                     f"{format_clock(first.start)}–{format_clock(first.end)} on {','.join(first.days)}, horizon "
                     f"{self.start_local:%a %Y-%m-%d %H:%M} + {format_duration(self.horizon_s)}); "
                     "check the shift times and days, or the scenario's start and duration")

    # --- derived quantities the model and reports use -------------------------------
    @property
    def zone(self) -> dt.tzinfo:
        return ZoneInfo(self.timezone) if self.timezone else self.start.tzinfo

    @property
    def start_local(self) -> dt.datetime:
        if self.start.tzinfo is None:
            return self.start.replace(tzinfo=self.zone)
        return self.start.astimezone(self.zone) if self.timezone else self.start

    @property
    def horizon_s(self) -> float:
        if self.duration is not None:
            return float(self.duration)
        end = self.end if self.end.tzinfo else self.end.replace(tzinfo=self.zone)
        # in UTC: Python subtracts two datetimes sharing one tzinfo as wall-clock times, which
        # would make a horizon across a DST change an hour too long or too short
        utc = dt.timezone.utc
        return (end.astimezone(utc) - self.start_local.astimezone(utc)).total_seconds()

    @property
    def report_start_s(self) -> float:
        """Where the KPIs start: the warm-up rounded up to a whole interval, so the summary leaves out
        exactly the contacts of the intervals that intervals.csv leaves out."""
        return math.ceil(self.warmup / self.interval - 1e-9) * self.interval

    @property
    def intervals_per_day(self) -> int:
        return int(round(86400 / self.interval))

    @property
    def n_intervals(self) -> int:
        return int(math.ceil(self.horizon_s / self.interval - 1e-9))

    def expected_contacts(self) -> float:
        hours = self.horizon_s / 3600
        total = 0.0
        peak = max([e.largest_multiplier for e in self.events or []] + [1.0])
        for channel in self.channels.values():
            arrivals = channel.arrivals
            if arrivals.daily is not None:
                mean_rate = arrivals.daily / 24
            elif arrivals.counts is not None:
                mean_rate = sum(arrivals.counts) / hours
            else:
                rate = arrivals.rate_per_hour
                mean_rate = sum(rate) / len(rate) if isinstance(rate, list) else rate
            total += mean_rate * arrivals.growth * peak * hours
        return total

    def group_index(self, name: str) -> int:
        return [g.name for g in self.agents].index(name)


def scenario_hash(scenario: Scenario) -> str:
    """SHA-256 of the validated content, so formatting changes don't change the hash."""
    return hashlib.sha256(scenario.model_dump_json().encode()).hexdigest()


def parse_scenario(data: object, source: str = "<scenario>", lines: dict | None = None) -> Scenario:
    """Validate a mapping into a Scenario, turning pydantic errors into located messages."""
    if not isinstance(data, dict):
        kind = "empty" if data is None else type(data).__name__
        raise ScenarioError([f"{source}:1: (top level): the file must be a YAML mapping of keys (got {kind}); "
                             "start from a file in scenarios/"])
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(exc, source, lines or {}, Scenario, data)) from None


def load_scenario(path: str | Path, overrides: dict | None = None) -> Scenario:
    """Read and validate a scenario file; `overrides` (e.g. from the CLI) replace top-level keys."""
    path = Path(path)
    data, lines = load_yaml_with_lines(path)
    if overrides and isinstance(data, dict):
        data = {**data, **{k: v for k, v in overrides.items() if v is not None}}
    if isinstance(data, dict) and data.get("calibration") is not None:
        from .calibration_ref import apply_calibration
        data = apply_calibration(data, path.parent, str(path))
    return parse_scenario(data, str(path), lines)
