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
from typing import Annotated, Literal, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator,
    model_validator,
)

from .distributions import Distribution, NonNegativeSeconds, PositiveSeconds
from .errors import ScenarioError, at, format_validation_error
from .units import format_duration, parse_clock
from .yamlsource import load_yaml_with_lines

Probability = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Rate = Annotated[float, Field(ge=0, allow_inf_nan=False)]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALLOWED_INTERVALS_S = (900.0, 1800.0, 3600.0)
MAX_CONTACTS_PER_REPLICATION = 20_000_000
MAX_AGENTS = 100_000


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _weekday(value: object) -> object:
    return value.lower()[:3] if isinstance(value, str) else value


Weekday = Annotated[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], BeforeValidator(_weekday)]
ClockTime = Annotated[int, BeforeValidator(parse_clock)]


class ServiceLevel(_Model):
    """Share of contacts answered within `threshold` (sync) or first-responded within it (async)."""

    threshold: NonNegativeSeconds
    target: float = Field(gt=0, le=1, allow_inf_nan=False)


class OpeningHours(_Model):
    """When agents work a channel (local time). Sync channels get no arrivals while closed."""

    start: ClockTime = 0
    end: ClockTime = 86400
    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS), min_length=1)

    @model_validator(mode="after")
    def _ordered(self):
        if self.end <= self.start:
            raise ValueError("`end` must be after `start` (opening hours within one day)")
        return self


class Arrivals(_Model):
    """Poisson arrivals: one rate, or one rate per interval of the day (repeats daily)."""

    rate_per_hour: Rate | list[Rate] = Field(
        description="contacts per hour: one number, one value per interval of the day (repeats daily), "
                    "or one value per interval of the whole horizon")


class Channel(_Model):
    """A contact channel: how contacts arrive, wait, and how long agents spend on them."""

    kind: Literal["sync", "async"] = "sync"
    service_level: ServiceLevel
    handle_time: Distribution
    patience: Distribution | None = None
    arrivals: Arrivals
    concurrency: int = Field(default=1, ge=1, le=20)
    concurrency_factor: list[float] | None = Field(
        default=None,
        description="handle-time multiplier when the agent holds 1, 2, … contacts of this channel",
    )
    open: OpeningHours | None = None

    @model_validator(mode="after")
    def _consistent(self):
        if self.kind == "async" and self.patience is not None:
            raise ValueError("async channels do not abandon: remove `patience` or set kind: sync")
        if self.concurrency_factor is not None:
            if len(self.concurrency_factor) != self.concurrency:
                raise ValueError(
                    f"`concurrency_factor` needs one multiplier per concurrency level "
                    f"({self.concurrency} values, got {len(self.concurrency_factor)})"
                )
            if any(not (f > 0 and math.isfinite(f)) for f in self.concurrency_factor):
                raise ValueError("`concurrency_factor` values must be positive numbers")
        return self

    def handle_factors(self) -> list[float]:
        return list(self.concurrency_factor or [1.0] * self.concurrency)


class Shift(_Model):
    """`agents` people working `start`–`end` local time on `days` (an end before start runs overnight)."""

    start: ClockTime
    end: ClockTime
    agents: int = Field(ge=0, le=MAX_AGENTS)
    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS), min_length=1)

    @model_validator(mode="after")
    def _not_empty(self):
        if self.start == self.end:
            raise ValueError("a shift needs `end` different from `start`")
        return self


def _skills(value: object) -> object:
    """`[voice, chat]` means equal priority; `{voice: 1, email: 2}` means lower number first."""
    if isinstance(value, list):
        return {name: 1 for name in value} if all(isinstance(v, str) for v in value) else value
    return value


class AgentGroup(_Model):
    """Agents with the same skills, schedule and proficiency."""

    name: str = Field(min_length=1)
    skills: Annotated[dict[str, Annotated[int, Field(ge=1, le=100)]], BeforeValidator(_skills)]
    headcount: Annotated[int, Field(ge=0, le=MAX_AGENTS)] | list[Annotated[int, Field(ge=0, le=MAX_AGENTS)]] | None = None
    shifts: list[Shift] | None = None
    headcount_by_interval: list[Annotated[int, Field(ge=0, le=MAX_AGENTS)]] | None = Field(
        default=None, description="agents on shift in every reporting interval of the horizon, from `start` "
                                  "(what `peaksim staff` writes when the requirement does not repeat daily)")
    shrinkage: Probability = 0.0
    proficiency: float = Field(default=1.0, gt=0, le=20, description="handle-time multiplier")

    @model_validator(mode="after")
    def _one_schedule(self):
        if not self.skills:
            raise ValueError("give at least one skill (a channel name)")
        if [self.headcount, self.shifts, self.headcount_by_interval].count(None) != 2:
            raise ValueError("give exactly one of `headcount`, `shifts` or `headcount_by_interval`")
        if self.shrinkage >= 1:
            raise ValueError("`shrinkage` must be below 1 (it is the share of paid time not available)")
        return self

    @property
    def skill_levels(self) -> list[list[str]]:
        """Channels grouped by priority, most preferred first."""
        levels = sorted(set(self.skills.values()))
        return [[c for c, p in self.skills.items() if p == level] for level in levels]


class Scenario(_Model):
    """A contact centre over a horizon, with everything the model needs."""

    name: str = Field(min_length=1, max_length=200)
    start: dt.datetime
    timezone: str | None = None
    duration: PositiveSeconds | None = None
    end: dt.datetime | None = None
    interval: PositiveSeconds = 1800.0
    warmup: NonNegativeSeconds = 0.0
    seed: int = Field(default=0, ge=0, le=2**63 - 1)
    replications: int = Field(default=10, ge=1, le=10_000)
    calibration: str | None = Field(default=None, description="calibration YAML (from `peaksim calibrate`) whose fitted "
                                    "handle_time, patience and arrivals are defaults under this file's values")
    channels: dict[str, Channel] = Field(min_length=1)
    agents: list[AgentGroup] = Field(min_length=1)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value):
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError("unknown time zone; use an IANA name such as Europe/Berlin") from None
        return value

    @field_validator("interval")
    @classmethod
    def _allowed_interval(cls, value):
        if value not in ALLOWED_INTERVALS_S:
            raise ValueError("reporting interval must be 15min, 30min or 60min")
        return value

    @model_validator(mode="after")
    def _cross_checks(self):
        if self.start.tzinfo is None and self.timezone is None:
            raise at("start", "needs a time zone (got a time without offset); add an offset like +01:00 or a `timezone:` key")
        if (self.duration is None) == (self.end is None):
            raise ValueError("give exactly one of `duration` or `end`")
        if self.horizon_s <= 0:
            raise at("end", "must be after `start`; fix the dates")
        if self.warmup >= self.horizon_s:
            raise at("warmup", f"must be shorter than the horizon (got {format_duration(self.warmup)}); shorten it")
        per_day = self.intervals_per_day
        for name, channel in self.channels.items():
            rate = channel.arrivals.rate_per_hour
            if isinstance(rate, list) and len(rate) not in (per_day, self.n_intervals):
                raise at(f"channels.{name}.arrivals.rate_per_hour",
                         f"a profile needs one value per interval of the day (got {len(rate)} values); "
                         f"give {per_day} values at interval {format_duration(self.interval)} "
                         f"(or {self.n_intervals} to cover the whole horizon)")
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
        unserved = sorted(set(self.channels) - served)
        if unserved:
            raise at(f"channels.{unserved[0]}", f"no agent group has this channel as a skill (got {unserved[0]!r}); add it to a group's skills")
        expected = self.expected_contacts()
        if expected > MAX_CONTACTS_PER_REPLICATION:
            raise at("channels", f"about {expected:,.0f} contacts per replication exceeds the limit of "
                     f"{MAX_CONTACTS_PER_REPLICATION:,} (got that from rates × horizon); shorten the horizon or lower the rates")
        return self

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
        return (end - self.start_local).total_seconds()

    @property
    def intervals_per_day(self) -> int:
        return int(round(86400 / self.interval))

    @property
    def n_intervals(self) -> int:
        return int(math.ceil(self.horizon_s / self.interval - 1e-9))

    def expected_contacts(self) -> float:
        hours = self.horizon_s / 3600
        total = 0.0
        for channel in self.channels.values():
            rate = channel.arrivals.rate_per_hour
            mean_rate = sum(rate) / len(rate) if isinstance(rate, list) else rate
            total += mean_rate * hours
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
