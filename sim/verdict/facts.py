"""What a verdict needs to know about the scenario, read from the definition a command saved.

`run.json`, `sweep.json` and `compare.json` carry the validated scenario (`scenario_definition`):
times there are seconds (thresholds, opening hours), so nothing here parses user units.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass
class ChannelFacts:
    name: str
    kind: str = "sync"
    threshold_s: float | None = None
    target: float | None = None
    open_hours: tuple[float, float, tuple[str, ...]] | None = None  # (start_s, end_s, days)
    groups: list[str] = field(default_factory=list)  # agent groups with this channel as a skill
    special: dict[dt.date, tuple[float, float] | None] = field(default_factory=dict)  # date → hours, None: closed

    def is_open(self, moment: dt.datetime) -> bool:
        """Whether the channel is open at a local wall-clock time (always, without opening hours); a special
        date's hours (`open.exceptions`) replace the weekly rule."""
        if self.open_hours is None:
            return True
        seconds = moment.hour * 3600 + moment.minute * 60 + moment.second
        if moment.date() in self.special:
            hours = self.special[moment.date()]
            return hours is not None and hours[0] <= seconds < hours[1]
        start, end, days = self.open_hours
        return WEEKDAYS[moment.weekday()] in days and start <= seconds < end

    def goal(self) -> str:
        from ..readable import share, threshold_text

        if self.target is None:
            return "its target"
        return f"{share(self.target)} in {threshold_text(self.threshold_s)}"


def _number(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def channel_facts(definition: dict | None) -> dict[str, ChannelFacts]:
    """Per channel of a saved scenario definition: kind, threshold, target, opening hours, groups."""
    definition = definition if isinstance(definition, dict) else {}
    channels = definition.get("channels") if isinstance(definition.get("channels"), dict) else {}
    facts: dict[str, ChannelFacts] = {}
    for name, spec in channels.items():
        spec = spec if isinstance(spec, dict) else {}
        level = spec.get("service_level") if isinstance(spec.get("service_level"), dict) else {}
        opening = spec.get("open") if isinstance(spec.get("open"), dict) else None
        hours = None
        if opening is not None and _number(opening.get("start")) is not None and _number(opening.get("end")) is not None:
            hours = (_number(opening["start"]), _number(opening["end"]), tuple(opening.get("days") or WEEKDAYS))
        facts[str(name)] = ChannelFacts(str(name), str(spec.get("kind", "sync")), _number(level.get("threshold")),
                                        _number(level.get("target")), hours, special=_exceptions(opening))
    for group in definition.get("agents") or []:
        if isinstance(group, dict):
            for channel in (group.get("skills") or {}):
                if str(channel) in facts:
                    facts[str(channel)].groups.append(str(group.get("name")))
    return facts


def _exceptions(opening: dict | None) -> dict[dt.date, tuple[float, float] | None]:
    """`open.exceptions` as date → (start_s, end_s), or None for a closed date."""
    out: dict[dt.date, tuple[float, float] | None] = {}
    for exception in (opening or {}).get("exceptions") or []:
        if not isinstance(exception, dict):
            continue
        hours = None if exception.get("closed") else (_number(exception.get("start")), _number(exception.get("end")))
        if hours is not None and None in hours:
            continue
        for day in exception.get("dates") or []:
            try:
                out[dt.date.fromisoformat(str(day))] = hours
            except ValueError:
                continue
    return out


def interval_seconds(definition: dict | None, default: float = 1800.0) -> float:
    value = _number((definition or {}).get("interval")) if isinstance(definition, dict) else None
    return value if value and value > 0 else default


def group_channels(definition: dict | None) -> dict[str, list[str]]:
    """Per agent group: the channels it serves, in skill-priority order."""
    out: dict[str, list[str]] = {}
    for group in (definition or {}).get("agents") or [] if isinstance(definition, dict) else []:
        if isinstance(group, dict):
            skills = group.get("skills") or {}
            out[str(group.get("name"))] = [str(c) for c, _ in sorted(skills.items(), key=lambda kv: kv[1])]
    return out
