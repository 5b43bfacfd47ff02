"""Targets on customer outcomes for `sweep` and `staff`: a minimum first-contact resolution and a
resolution-time promise, per channel of the issue's first contact.

    --min-fcr 0.7                  every channel: FCR ≥ 70%
    --min-fcr chat=0.75            one channel
    --resolution-promise email=24h 90% of the channel's resolved issues resolved within 24 h
                                   (its resolution time p90 ≤ 24 h)

`sweep` checks them on the simulated outcomes of each point (they join `meets_target`). `staff`
cannot invert an outcome per interval directly, so it translates them into the queue targets its
algorithm staffs to, then re-simulates and reports the outcomes reached (staffing_outcomes.csv):
  * a promise R on a channel: first response within R − the mean handle time for at least 90% of
    its contacts (its service-level threshold and target, when stricter);
  * a minimum FCR f: FCR cannot exceed what the channel reaches when nobody abandons (its
    ceiling c: bot containment, automation and each reason's `fcr`, over its reason mix), and a
    caller who abandons is not resolved by the first contact, so abandonment is capped at 1 − f/c.
Reopen delays are outside staffing's reach: a promise shorter than the reopen cycle can only be
met for the issues that are not reopened (the re-simulation shows it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .errors import PeaksimError
from .scenario import Scenario
from .scenario_dump import scenario_data
from .units import format_duration, parse_duration

PROMISE_QUANTILE = 0.9


@dataclass(frozen=True)
class OutcomeTargets:
    """Per channel: minimum FCR and the resolution-time promise (seconds, met by the p90)."""

    min_fcr: dict[str, float] = field(default_factory=dict)
    promise_s: dict[str, float] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.min_fcr or self.promise_s)

    def met(self, channel: str, row: dict) -> bool:
        """Whether a summary row (one channel's KPIs) meets this channel's outcome targets; a channel
        without issues misses nothing (as with service levels)."""
        if not row.get("issues"):
            return True
        fcr, p90 = row.get("fcr", math.nan), row.get("resolution_time_p90_s", math.nan)
        if channel in self.min_fcr and not fcr >= self.min_fcr[channel]:
            return False
        if channel in self.promise_s and not p90 <= self.promise_s[channel]:
            return False
        return True

    def describe(self) -> dict:
        return {"min_fcr": dict(self.min_fcr),
                "resolution_promise_s": dict(self.promise_s), "promise_quantile": PROMISE_QUANTILE}


def parse_outcome_targets(min_fcr: list[str] | None, promises: list[str] | None,
                          scenario: Scenario) -> OutcomeTargets:
    """`--min-fcr [CHANNEL=]SHARE` and `--resolution-promise CHANNEL=DURATION`, checked against the scenario."""
    channels = list(scenario.channels)
    fcr: dict[str, float] = {}
    for spec in min_fcr or []:
        name, sep, value = spec.rpartition("=")
        targets = [_channel(name.strip(), channels, "--min-fcr", spec)] if sep else channels
        try:
            share = float(value)
        except ValueError:
            share = math.nan
        if not 0 < share <= 1:
            hint = " (0.7 means 70%)" if share == share and share > 1 else ""
            raise PeaksimError(f"--min-fcr {spec}: must be a share in (0, 1]{hint}; write e.g. 0.7 or chat=0.7")
        for c in targets:
            fcr[c] = share
    promise: dict[str, float] = {}
    for spec in promises or []:
        name, sep, value = spec.partition("=")
        if not sep:
            raise PeaksimError(f"--resolution-promise {spec}: write CHANNEL=DURATION, e.g. email=24h")
        channel = _channel(name.strip(), channels, "--resolution-promise", spec)
        try:
            seconds = parse_duration(value.strip())
        except ValueError as exc:
            raise PeaksimError(f"--resolution-promise {spec}: {exc}") from None
        if not seconds > 0 or not math.isfinite(seconds):
            raise PeaksimError(f"--resolution-promise {spec}: the promise must be a positive duration, e.g. 24h")
        promise[channel] = seconds
    return OutcomeTargets(fcr, promise)


def _channel(name: str, channels: list[str], option: str, spec: str) -> str:
    if name in channels:
        return name
    import difflib

    guess = difflib.get_close_matches(name, channels, n=1)
    hint = f"did you mean {guess[0]!r}?" if guess else f"channels: {', '.join(channels)}"
    raise PeaksimError(f"{option} {spec}: no channel {name!r} in the scenario; {hint}")


def fcr_ceiling(scenario: Scenario, channel: str) -> float:
    """FCR of a channel's issues if nobody abandoned: over its reason mix, the bot's true containment,
    automation and each reason's `fcr` for the contacts agents answer."""
    from .contacts import GENERAL
    from .scenario_peak import Reason

    ch = scenario.channels[channel]
    mix = ch.reasons or {GENERAL: 1.0}
    total = sum(mix.values())
    reasons = scenario.reasons or {}
    ceiling = 0.0
    for name, share in mix.items():
        reason = reasons.get(name, Reason())
        auto = reason.automation.auto_resolve if reason.automation is not None else 0.0
        agent = reason.fcr
        if ch.bot is not None:
            contained = reason.bot_containment if reason.bot_containment is not None else ch.bot.containment
            agent = contained * (1 - ch.bot.false_containment) + (1 - contained) * reason.fcr
        ceiling += share / total * (auto + (1 - auto) * agent)
    return ceiling


def staffing_queue_targets(scenario: Scenario, targets: OutcomeTargets) -> tuple[Scenario, dict[str, float], dict]:
    """The scenario with service levels tightened for the resolution promises, the abandonment cap per
    channel for the FCR targets, and a note of each translation (for staffing.json)."""
    notes: dict[str, dict] = {}
    data = scenario_data(scenario)
    for name, promise in targets.promise_s.items():
        ch = scenario.channels[name]
        threshold = promise - ch.handle_time.mean_s
        if threshold <= 0:
            raise PeaksimError(f"--resolution-promise {name}={format_duration(promise)}: shorter than the channel's "
                               f"mean handle time ({format_duration(round(ch.handle_time.mean_s, 1))}); "
                               "promise a longer resolution time")
        sl = ch.service_level
        new = {"threshold": min(sl.threshold, threshold), "target": max(sl.target, PROMISE_QUANTILE)}
        data["channels"][name]["service_level"] = new
        notes[name] = {"resolution_promise_s": promise, "staffed_service_level": new}
    caps = {}
    for name, share in targets.min_fcr.items():
        ceiling = fcr_ceiling(scenario, name)
        if share >= ceiling:
            raise PeaksimError(f"--min-fcr {name}={share:g}: the channel reaches at most {ceiling:.3f} even when nobody "
                               "abandons (bot containment, automation and the reasons' fcr); lower the target or "
                               "raise those in the scenario")
        caps[name] = 1.0 - share / ceiling
        notes.setdefault(name, {}).update(min_fcr=share, fcr_ceiling=round(ceiling, 6),
                                          max_abandon=round(caps[name], 6))
    staffed = Scenario.model_validate(data) if targets.promise_s else scenario
    return staffed, caps, notes
