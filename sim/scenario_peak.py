"""Scenario parts for peak season: demand build-up, named events, contact reasons, the chatbot
funnel, automation, customers under strain (redials, chasers, reopens) and seasonal hires.

Kept apart from `scenario.py` so the core schema stays short; `scenario.py` wires these
models into channels, agent groups and the scenario, and calls `check_references` for the
cross-field checks (every name a part refers to must be defined).
"""

from __future__ import annotations

import datetime as dt
import difflib
from typing import Annotated, Literal

from pydantic import BeforeValidator, ConfigDict, Field, model_validator

from .distributions import Distribution, PositiveSeconds, StrictModel
from .errors import at
from .scenario_levers import PRIORITY_LIMIT, Proactive, ServiceLevel

Probability = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
ChannelMix = dict[str, Annotated[float, Field(ge=0, allow_inf_nan=False)]]
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _weekday_name(value: object) -> object:
    return value.lower()[:3] if isinstance(value, str) else value


WeekdayName = Annotated[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], BeforeValidator(_weekday_name)]


class _Model(StrictModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Dispersion(_Model):
    """Forecast uncertainty: each day's volume is multiplied by a gamma(mean 1, `cv`) draw per replication."""

    cv: float = Field(gt=0, le=2, allow_inf_nan=False,
                      description="coefficient of variation of the daily volume multiplier, e.g. 0.08 for ±8%")


Multiplier = Annotated[float, Field(gt=0, le=100, allow_inf_nan=False)]
Shares = list[Annotated[float, Field(ge=0, allow_inf_nan=False)]]


class Event(_Model):
    """A named peak (Singles Day, Black Friday, …): volume × `multiplier` from `date` to `end`
    (inclusive; default one day), ramping linearly over `ramp_before` / `ramp_after` days.

    `multipliers` gives a channel its own multiplier (what `peaksim forecast` writes: learned per
    channel); `intraday` gives a channel the event's own shape of the day on its core days (the
    day's volume is kept, only its spread over the day changes)."""

    name: str = Field(min_length=1, description="shown in reports, e.g. Black Friday")
    date: dt.date = Field(description="first local date of the event, e.g. 2026-11-27")
    end: dt.date | None = Field(default=None, description="last local date (inclusive); default: the same day")
    multiplier: Multiplier | None = Field(
        default=None, description="volume multiplier on the event's days (channels without their own in "
                                  "`multipliers`); give this or `multipliers`; 0.4 for a quiet Christmas")
    multipliers: dict[str, Multiplier] | None = Field(
        default=None, description="per channel: its own volume multiplier (channels not listed take `multiplier`, "
                                  "or are not affected when it is absent)")
    ramp_before: int = Field(default=0, ge=0, le=60, description="days over which volume ramps up linearly before `date`")
    ramp_after: int = Field(default=0, ge=0, le=60, description="days over which volume ramps down linearly after `end`")
    channels: list[str] | None = Field(default=None, description="channels affected (default: all)")
    reason_mix: dict[str, ChannelMix] | None = Field(
        default=None, description="per channel, the contact-reason mix while the event lasts (e.g. returns surge)")
    intraday: dict[str, Shares] | None = Field(
        default=None, description="per channel, the event's own relative volume per interval of the day on its "
                                  "days from `date` to `end` (normalised; default: the channel's usual shape)")

    @model_validator(mode="after")
    def _ordered(self):
        if self.end is not None and self.end < self.date:
            raise ValueError("`end` must not be before `date`")
        if self.multiplier is None and not self.multipliers:
            raise ValueError("give `multiplier` (all channels) or `multipliers` (per channel), e.g. multiplier: 2.5")
        for channel, shape in (self.intraday or {}).items():
            if sum(shape) <= 0:
                raise at(f".intraday.{channel}", "needs at least one positive value (got all zeros); "
                         "give the event day's relative volume per interval")
        return self

    def multiplier_for(self, channel: str) -> float | None:
        """This event's multiplier on `channel`, or None when the channel is not affected."""
        if self.channels is not None and channel not in self.channels:
            return None
        if self.multipliers and channel in self.multipliers:
            return self.multipliers[channel]
        return self.multiplier

    @property
    def largest_multiplier(self) -> float:
        return max([self.multiplier or 0.0, *(self.multipliers or {}).values()])


class Arrivals(_Model):
    """Poisson arrivals, stated as a rate or built up as volume × day-of-week × intraday shape;
    either way multiplied by the named events, `growth` and the random daily `dispersion`.
    Or `counts`: a replay of known volumes (a backtest), exactly that many contacts per interval."""

    rate_per_hour: Annotated[float, Field(ge=0, allow_inf_nan=False)] | list[
        Annotated[float, Field(ge=0, allow_inf_nan=False)]] | None = Field(
        default=None,
        description="contacts per hour (on a sync channel: while it is open; a partly open interval gets its "
                    "open share): one number, one value per interval of the day (repeats daily), or one value "
                    "per interval of the whole horizon")
    per_day: Positive | None = Field(default=None, description=(
        "contacts on an average day (before events and growth); on a sync channel with opening hours: those that "
        "arrive while it is open, on an average open day, spread over each day's open hours"))
    per_week: Positive | None = Field(default=None, description=(
        "contacts in an average week (alternative to per_day); on a sync channel with opening hours, those that "
        "arrive while it is open, spread over its open days"))
    day_of_week: list[Annotated[float, Field(ge=0, allow_inf_nan=False)]] | None = Field(
        default=None, min_length=7, max_length=7, description=(
            "relative volume Mon…Sun (normalised to mean 1; on a sync channel with opening hours over its open "
            "weekdays: weight on a closed weekday is lost, with a warning)"))
    intraday: list[Annotated[float, Field(ge=0, allow_inf_nan=False)]] | None = Field(
        default=None, description=(
            "relative volume per interval of the day (default flat); normalised over each day's open part on a sync "
            "channel with opening hours: weight on closed hours is lost, with a warning"))
    intraday_by_weekday: dict[WeekdayName, Shares] | None = Field(
        default=None, description="a weekday's own relative volume per interval of the day (mon … sun), normalised "
                                  "per day as `intraday` is; weekdays not listed take `intraday`")
    counts: list[Annotated[int, Field(ge=0, le=1_000_000)]] | None = Field(
        default=None,
        description="replay: exactly this many contacts in each interval of the whole horizon, at uniform random "
                    "times inside it (not Poisson; events, growth and dispersion do not apply); on a sync channel "
                    "an interval's count is prorated by its open share and placed in its open part (none while "
                    "closed)")
    reason_counts: dict[str, list[Annotated[int, Field(ge=0, le=1_000_000)]]] | None = Field(
        default=None,
        description="with `counts`: how many of each interval's contacts come for each reason (a replay of a "
                    "known reason mix; the reasons' counts add up to `counts` in every interval; each reason's "
                    "counts are prorated by open share as `counts` are)")
    growth: Positive = Field(default=1.0, description="volume multiplier versus last year")
    dispersion: Dispersion | None = Field(default=None, description="a random daily volume multiplier per replication "
                                          "(forecast error in the CI); default: none")

    @model_validator(mode="after")
    def _one_level(self):
        if [self.rate_per_hour, self.per_day, self.per_week, self.counts].count(None) != 3:
            raise ValueError("give exactly one of `rate_per_hour`, `per_day`, `per_week` or `counts`")
        if self.counts is not None and (self.day_of_week is not None or self.intraday is not None
                                        or self.growth != 1.0 or self.dispersion is not None):
            raise ValueError("`counts` replays known volumes as they are; remove `day_of_week`, `intraday`, "
                             "`growth` and `dispersion` (or state the demand as `rate_per_hour`)")
        if self.reason_counts is not None:
            if self.counts is None:
                raise ValueError("`reason_counts` splits replayed `counts` by reason; give `counts` too")
            for name, values in self.reason_counts.items():
                if len(values) != len(self.counts):
                    raise at(f".reason_counts.{name}", f"needs one count per interval, as `counts` (got {len(values)} "
                             f"values for {len(self.counts)}); give {len(self.counts)} values")
            sums = [sum(column) for column in zip(*self.reason_counts.values())] or [0] * len(self.counts)
            bad = next((k for k, (a, b) in enumerate(zip(sums, self.counts)) if a != b), None)
            if bad is not None:
                raise at(".reason_counts", f"the reasons' counts must add up to `counts` in every interval (got "
                         f"{sums[bad]} against {self.counts[bad]} in interval {bad}); make each interval's counts agree")
        if self.counts is not None and self.intraday_by_weekday is not None:
            raise ValueError("`counts` replays known volumes as they are; remove `intraday_by_weekday`")
        if self.rate_per_hour is not None and (self.day_of_week is not None or self.intraday is not None
                                               or self.intraday_by_weekday is not None):
            raise ValueError("`day_of_week`, `intraday` and `intraday_by_weekday` shape `per_day`/`per_week`; "
                             "with `rate_per_hour` give the profile as a list instead")
        for day, shape in (self.intraday_by_weekday or {}).items():
            weight = self.day_of_week[WEEKDAY_NAMES.index(day)] if self.day_of_week is not None else 1.0
            if sum(shape) <= 0 and weight > 0:
                raise at(f".intraday_by_weekday.{day}", "needs at least one positive value on a day with volume "
                         "(got all zeros); give relative volumes, or set that day's `day_of_week` to 0")
        if self.day_of_week is not None and sum(self.day_of_week) <= 0:
            raise ValueError("`day_of_week` needs at least one positive value")
        if self.intraday is not None and sum(self.intraday) <= 0:
            raise ValueError("`intraday` needs at least one positive value")
        return self

    @property
    def daily(self) -> float | None:
        """Contacts on an average day, for volume-based demand (None for rate-based)."""
        if self.per_day is not None:
            return self.per_day
        return self.per_week / 7 if self.per_week is not None else None


class HandleTimeByQueue(_Model):
    """Agents work faster (or slower) when customers are waiting: a contact answered while at least
    `waiting[k]` others still wait on its channel takes `multiplier[k]` × its handle time (the
    highest step reached applies; below the first, 1). Call-centre agents speed up under load
    (Delasay et al. 2019, "Load effect on service times", EJOR 279(3)), mostly by cutting
    wrap-up and breaks, which is agent time a ticket log does not show."""

    waiting: list[Annotated[int, Field(ge=0, le=100_000)]] = Field(
        min_length=1, max_length=50, description="queue lengths where a step starts (increasing, e.g. [0, 2, 5, 10])")
    multiplier: list[Positive] = Field(min_length=1, max_length=50, description="handle-time multiplier of each step")

    @model_validator(mode="after")
    def _steps(self):
        if len(self.multiplier) != len(self.waiting):
            raise at(".multiplier", f"needs one value per step of `waiting` (got {len(self.multiplier)} values for "
                     f"{len(self.waiting)} steps); give {len(self.waiting)} values")
        if any(b <= a for a, b in zip(self.waiting, self.waiting[1:])):
            raise at(".waiting", f"the steps must increase (got {self.waiting}); list queue lengths in increasing order")
        if any(m > 100 for m in self.multiplier):
            raise at(".multiplier", f"multipliers above 100 are not a speed change (got {max(self.multiplier):g}); "
                     "give values such as 0.9")
        return self


class Automation(_Model):
    """From `start` (date), a share of contacts of this reason is resolved automatically and the
    rest take less agent time. `channels` limits it (default: every channel)."""

    start: dt.date | None = Field(default=None, description="first local date it applies (default: from the start)")
    auto_resolve: Probability = Field(default=0.0, description="share of this reason's contacts resolved without an agent")
    handle_time_reduction: float = Field(default=0.0, ge=0, lt=1, allow_inf_nan=False,
                                         description="share of handle time saved on the rest (0.15 = 15% shorter)")
    channels: list[str] | None = Field(default=None, description="channels where it applies (default: all)")


class Reason(_Model):
    """Why customers contact: its own handle time, bot success, first-contact resolution and automation."""

    handle_time: Distribution | None = Field(default=None, description="replaces the channel's handle time")
    handle_factor: Positive = Field(default=1.0, description="multiplies the channel's handle time")
    patience: Distribution | None = Field(
        default=None, description="replaces the channel's patience on sync channels (e.g. prospects hang up sooner)")
    bot_containment: Probability | None = Field(default=None, description="replaces the bot's containment")
    fcr: Probability = Field(default=1.0, description="first-contact resolution; 1 − fcr of handled contacts reopen")
    reopen_delay: Distribution | None = Field(default=None, description="time from handling to the reopen "
                                              "(needed when fcr < 1)")
    reopen_channel: ChannelMix | None = Field(default=None, description="where reopens arrive (default: same channel)")
    automation: Automation | None = Field(default=None, description="automatic resolution of this reason from a date")
    priority: Annotated[int, Field(ge=-PRIORITY_LIMIT, le=PRIORITY_LIMIT)] | None = Field(
        default=None, description="rank in a channel's queue, lower served first (non-preemptive); reasons "
                                  "without one come after those with one; none set: first come, first served")
    service_level: ServiceLevel | None = Field(default=None, description="this reason's own target (replaces the "
                                               "channel's in reasons.csv)")
    proactive: Proactive | None = Field(default=None, description="notifications that prevent a share of this "
                                        "reason's contacts from a date")


class Bot(_Model):
    """The chatbot in front of a channel: every contact meets it first.

    `containment` of them are resolved by the bot (apparent containment); of those,
    `false_containment` come back after `return_delay` (on `return_channel`). The rest escalate
    to an agent after the session, with patience × `escalation_patience_factor` and handle time ×
    `escalation_handle_factor` (the easy contacts stayed with the bot)."""

    containment: Probability = Field(description="share of contacts the bot resolves (apparent containment); a "
                                                 "reason's `bot_containment` replaces it")
    session: Distribution = Field(description="time a customer spends with the bot before it resolves or escalates")
    false_containment: Probability = Field(default=0.0, description="share of the bot-resolved who come back later "
                                                                    "(true containment = containment × (1 − this))")
    return_delay: Distribution | None = Field(default=None, description="when the falsely contained come back "
                                                                        "(needed when false_containment > 0)")
    return_channel: ChannelMix | None = Field(default=None, description="channels they come back on, as shares "
                                                                        "(default: the same channel)")
    escalation_patience_factor: Positive = Field(default=1.0, description="patience × this after an escalation "
                                                                          "(time already spent with the bot)")
    escalation_handle_factor: Positive = Field(default=1.0, description="handle time × this for escalated contacts "
                                                                        "(the easy ones stayed with the bot)")

    @model_validator(mode="after")
    def _return_delay(self):
        if self.false_containment > 0 and self.return_delay is None:
            raise ValueError("`false_containment` > 0 needs `return_delay` (when they come back)")
        return self


class Redial(_Model):
    """After abandoning, a customer tries again with `probability` after `delay`, on another
    channel with the probabilities in `switch` (the rest on the same channel)."""

    probability: Probability = Field(description="chance an abandoning customer tries again")
    delay: Distribution = Field(description="time from abandoning to the next attempt")
    switch: ChannelMix | None = Field(default=None, description="shares of the retries made on other channels "
                                                                "(the rest on the same channel)")
    max_attempts: int = Field(default=5, ge=1, le=50, description="contacts per customer at most")


class Chaser(_Model):
    """Async: when a contact has no first response `after` this long, the customer sends a
    follow-up with `probability` (on `channel`, default the same). The original stays in the queue."""

    after: PositiveSeconds = Field(description="time without a first response before the customer chases")
    probability: Probability = Field(description="chance the customer sends a chaser then")
    channel: ChannelMix | None = Field(default=None, description="channels the chaser arrives on, as shares "
                                                                 "(the rest on the same channel)")
    max_per_customer: int = Field(default=3, ge=1, le=50, description="chasers per contact at most")


class Behaviour(_Model):
    """How customers of a channel react to strain."""

    redial: Redial | None = Field(default=None, description="sync channels: trying again after abandoning")
    chaser: Chaser | None = Field(default=None, description="async channels: a follow-up when there is no answer")


class Ramp(_Model):
    """Seasonal hires: handle-time multiplier `proficiency` on `hired` (date), improving linearly
    to `final` over `weeks`."""

    hired: dt.date = Field(description="hire date: on no shift before it")
    weeks: Positive = Field(description="weeks until they reach `final`")
    final: Positive = Field(default=1.0, description="handle-time multiplier once trained (1 = as fast as the rest)")


def _unknown(name: str, known: list[str], what: str) -> str:
    guess = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {guess[0]!r}?" if guess else f"defined {what}: {', '.join(known) or 'none'}"
    return f"no {what[:-1]} of that name is defined (got {name!r}); {hint}"


def check_references(scenario) -> None:
    """Every channel and reason named anywhere must be defined."""
    channels = list(scenario.channels)
    reasons = list(scenario.reasons or {})

    def need_channels(names, path):
        for name in names or []:
            if name not in scenario.channels:
                raise at(f"{path}.{name}" if isinstance(names, dict) else path, _unknown(name, channels, "channels"))

    def need_reasons(names, path):
        for name in names or []:
            if name not in reasons:
                raise at(f"{path}.{name}", _unknown(name, reasons, "reasons"))

    for c, channel in scenario.channels.items():
        base = f"channels.{c}"
        need_reasons(channel.reasons, f"{base}.reasons")
        need_reasons(channel.arrivals.reason_counts, f"{base}.arrivals.reason_counts")
        if channel.reasons is not None and sum(channel.reasons.values()) <= 0:
            raise at(f"{base}.reasons", "the reason mix needs at least one positive share (got all zeros); give shares")
        if channel.bot is not None:
            need_channels(channel.bot.return_channel, f"{base}.bot.return_channel")
        if channel.behaviour is not None:
            if channel.behaviour.redial is not None:
                need_channels(channel.behaviour.redial.switch, f"{base}.behaviour.redial.switch")
            if channel.behaviour.chaser is not None:
                need_channels(channel.behaviour.chaser.channel, f"{base}.behaviour.chaser.channel")
                if channel.kind != "async":
                    raise at(f"{base}.behaviour.chaser", "chasers apply to async channels (got a sync channel); "
                             "use `redial` for sync channels or set kind: async")
            if channel.behaviour.redial is not None and channel.kind == "async":
                raise at(f"{base}.behaviour.redial", "async contacts never abandon, so they cannot redial "
                         "(got redial on an async channel); use `chaser`")
    for name, reason in (scenario.reasons or {}).items():
        need_channels(reason.reopen_channel, f"reasons.{name}.reopen_channel")
        if reason.automation is not None:
            need_channels(reason.automation.channels, f"reasons.{name}.automation.channels")
        if reason.fcr < 1 and reason.reopen_delay is None:
            raise at(f"reasons.{name}.reopen_delay", f"fcr below 1 needs a reopen delay (got fcr {reason.fcr}); "
                     "add reopen_delay: {dist: exponential, mean: 2d}")
    for k, event in enumerate(scenario.events or []):
        for name in event.channels or []:
            if name not in scenario.channels:
                raise at(f"events[{k}].channels", _unknown(name, channels, "channels"))
        for key in ("multipliers", "intraday"):
            for name in getattr(event, key) or {}:
                if name not in scenario.channels:
                    raise at(f"events[{k}].{key}.{name}", _unknown(name, channels, "channels"))
        for c, mix in (event.reason_mix or {}).items():
            if c not in scenario.channels:
                raise at(f"events[{k}].reason_mix.{c}", _unknown(c, channels, "channels"))
            need_reasons(mix, f"events[{k}].reason_mix.{c}")
