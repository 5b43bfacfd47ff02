"""`peaksim forecast`: a calibration's learned season laid onto this year's dates as a runnable scenario.

Mapping (calibration ``model:`` → scenario), per channel: ``kind``, ``handle_time``,
``handle_time_profile``, ``patience`` (sync), ``open`` (sync, detected), ``reasons`` (mix),
``bot``, ``behaviour`` and ``arrivals`` (``per_day`` of fresh demand, ``day_of_week``,
``intraday``, ``intraday_by_weekday``, ``dispersion``) are carried over; ``growth`` is the
planner's (``--growth X`` or ``--growth CHANNEL=X``), else the calibration's year-over-year growth
(exports longer than a year), else 1. Profiles are laid onto the scenario's interval. The
baseline is aligned by weekday (the scenario's weekday profile does it), and each learned event
is re-dated by name onto the target dates (retail names by the calendar rule, user names from
``--events`` or the events file the calibration was given; the January returns period keeps its
offset from 2 January); an event with no date in the target years is left out and named in the
header. Scenario-wide ``reasons`` (handle-time factor, fcr, reopen delay and channel, bot success)
come from the calibration.

``--base`` (this year's plan): its ``agents`` and each channel's ``service_level`` (and ``open``,
if it sets one) are kept; what was learned replaces the rest of its channels' keys, and keys the
data cannot identify (``concurrency``, a patience the export cannot show …) stay as the plan has
them. Its other top-level keys stay (``name``, ``interval``, ``seed``, ``replications``,
``warmup``); its ``reasons`` keep the keys not learned (e.g. ``automation``); its ``events`` stay
unless a learned event has the same name or falls on the same days. Channels only one side knows:
a learned channel the plan lacks is left out (no agents serve it); a plan channel the data lacks
is kept as planned. Both are named in the header.

Without ``--base``: agents are the groups seen in the data (calibrate/groups.py, a low starting
plan), and targets take the defaults :data:`DEFAULT_TARGETS`, each flagged ``# DEFAULT`` in the file.
"""
from __future__ import annotations

import copy
import datetime as dt
import hashlib
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from calibrate.event_calendar import RETAIL
from sim.calibration_ref import resample_daily
from sim.errors import PeaksimError, ScenarioError

__all__ = ["DEFAULT_TARGETS", "forecast_scenario", "parse_growth", "write_forecast"]

DEFAULT_TARGETS = {"sync": {"threshold": "20s", "target": 0.8}, "async": {"threshold": "24h", "target": 0.9}}
CARRIED = ("kind", "handle_time", "handle_time_profile", "patience", "open", "reasons", "bot", "behaviour")
MAX_DAYS = 400


def parse_growth(values: list[str] | None, channels: list[str]) -> dict[str, float]:
    """``["1.1"]`` → every channel 1.1; ``["voice=1.2", "chat=1.4"]`` → those channels."""
    out = {}
    plain = [v for v in values or [] if "=" not in v]
    if plain and len(values) > 1:
        raise PeaksimError(f"--growth: give one number for every channel or CHANNEL=X per channel, not both "
                           f"(got {' '.join(values)}); e.g. --growth 1.1 or --growth voice=1.2 --growth chat=1.4")
    for value in values or []:
        name, _, number = value.rpartition("=")
        try:
            x = float(number)
        except ValueError:
            x = float("nan")
        if not (x > 0 and x < 1e6):
            raise PeaksimError(f"--growth: must be a positive number such as 1.1 (got {value!r})")
        if not name:
            return {c: x for c in channels}
        if name not in channels:
            raise PeaksimError(f"--growth: no channel {name!r} in the calibration (got {value!r}); "
                               f"channels: {', '.join(channels)}")
        out[name] = x
    return out


def _load_calibration(path: Path) -> dict:
    from sim.yamlsource import load_yaml_with_lines

    if not path.exists():
        raise PeaksimError(f"{path}: file not found; give the calibration.yaml written by `peaksim calibrate`")
    data, _ = load_yaml_with_lines(path, "calibration file")  # bounded; FIFOs, devices and folders refused
    model = data.get("model") if isinstance(data, dict) else None
    if not isinstance(model, dict) or not isinstance(model.get("channels"), dict) or not model["channels"]:
        raise PeaksimError(f"{path}: model: missing (got a file without learned model inputs); recalibrate with "
                           "`peaksim calibrate` of this version, which writes them")
    return data


def _redate(event: dict, year: int, user: dict) -> tuple[dt.date, dt.date] | None:
    name = event["name"]
    first_seen = dt.date.fromisoformat(str(event["occurrences"][-1]["date"]))
    last_seen = dt.date.fromisoformat(str(event["occurrences"][-1]["end"]))
    if name in user:
        spans = [s for s in user[name] if s[0].year == year]
        return spans[0] if spans else None
    if name not in RETAIL:
        return None
    rule_first, _, window = RETAIL[name](first_seen.year)
    start, _, _ = RETAIL[name](year)
    if window:  # a period found inside a window: same offset and length
        start = start + (first_seen - rule_first)
    return start, start + (last_seen - first_seen)


def _days_per(interval_s: float) -> int:
    return int(round(86400 / interval_s))


def _lay(values, interval_s, where):
    return resample_daily(values, where, "profile", interval_s)


def _arrivals(learned: dict, growth: float, interval_s: float, where: str) -> dict:
    a = learned["arrivals"]
    out = {"per_day": a["per_day"], "day_of_week": a["day_of_week"], "intraday": _lay(a["intraday"], interval_s, where)}
    if a.get("intraday_by_weekday"):
        out["intraday_by_weekday"] = {d: _lay(v, interval_s, where) for d, v in a["intraday_by_weekday"].items()}
    out["growth"] = round(float(growth), 6)
    if a.get("dispersion"):
        out["dispersion"] = a["dispersion"]
    return out


def _only(mix: dict | None, names) -> dict | None:
    kept = {k: v for k, v in (mix or {}).items() if k in names}
    return kept or None


def _channel(name: str, learned: dict, growth: float, interval_s: float, channels, where) -> dict:
    out = {k: copy.deepcopy(learned[k]) for k in CARRIED if k in learned}
    if "handle_time_profile" in out:
        out["handle_time_profile"] = _lay(out["handle_time_profile"], interval_s, where)
    behaviour = out.get("behaviour") or {}
    for key, field in (("redial", "switch"), ("chaser", "channel")):
        if key in behaviour and field in behaviour[key]:
            behaviour[key][field] = _only(behaviour[key][field], channels)
            if behaviour[key][field] is None:
                del behaviour[key][field]
    if "bot" in out and "return_channel" in out["bot"]:
        out["bot"]["return_channel"] = _only(out["bot"]["return_channel"], channels)
        if out["bot"]["return_channel"] is None:
            del out["bot"]["return_channel"]
    out["arrivals"] = _arrivals(learned, growth, interval_s, where)
    return out


def forecast_scenario(calibration: str | Path, start: dt.date, end: dt.date, growth: dict | None = None,
                      base: str | Path | None = None, user_events: dict | None = None) -> tuple[dict, list[str]]:
    """(scenario mapping, header lines) for ``start``…``end`` (both included); see the module doc."""
    from sim.calendar import interval_grid
    from sim.scenario import load_scenario, parse_scenario
    from sim.yamlsource import load_yaml_with_lines
    from calibrate.groups import headcount_over

    path = Path(calibration)
    cal = _load_calibration(path)
    model = cal["model"]
    if end < start:
        raise PeaksimError(f"--end: must be on or after --start (got {end}, start {start}); give the last day to forecast")
    if (end - start).days + 1 > MAX_DAYS:
        raise PeaksimError(f"--end: at most {MAX_DAYS} days can be forecast at once (got {(end - start).days + 1}); "
                           "forecast the peak in parts")
    learned_channels = model["channels"]
    growth = growth or {}
    plan, base_path = None, None
    if base is not None:
        base_path = Path(base)
        load_scenario(base_path)  # a broken plan is reported with its own file and line
        plan, _ = load_yaml_with_lines(base_path)
    user = {k: [(dt.date.fromisoformat(a), dt.date.fromisoformat(b)) for a, b in v]
            for k, v in (model.get("user_events") or {}).items()}
    user.update(user_events or {})
    interval = (plan or {}).get("interval", model.get("interval", "60min"))
    from sim.units import parse_duration
    interval_s = float(parse_duration(interval))
    names = list(plan["channels"]) if plan else sorted(learned_channels)
    from_data, from_planner, defaults, notes = [], [], [], []
    channels = {}
    for name in names:
        learned = learned_channels.get(name)
        planned = copy.deepcopy(plan["channels"][name]) if plan else None
        if learned is None:
            channels[name] = planned
            notes.append(f"channel {name}: not in the calibration, kept as planned")
            continue
        fallback = learned.get("growth", {}).get("value") if isinstance(learned.get("growth"), dict) else None
        g = growth.get(name, fallback if fallback is not None else 1.0)
        (from_planner if name in growth else from_data if fallback is not None else defaults).append(
            f"growth {name} {g:g}" + ("" if name in growth or fallback is not None else " (no growth given: 1)"))
        block = _channel(name, learned, g, interval_s, names, str(path))
        if planned is not None:
            merged = {**planned, **block, "service_level": planned["service_level"]}
            if "open" in planned:
                merged["open"] = planned["open"]
            elif "open" in block:
                merged["open"] = block["open"]
            if block.get("kind") == "async":
                merged.pop("patience", None)
            channels[name] = merged
        else:
            block["service_level"] = dict(DEFAULT_TARGETS[block.get("kind", "sync")])
            defaults.append(f"service_level {name} (default {block['service_level']['target']:.0%} in "
                            f"{block['service_level']['threshold']})")
            channels[name] = block
        if block.get("kind", "sync") == "sync" and "patience" not in block:
            notes.append(f"channel {name}: no abandonments in the export, so patience is "
                         + ("the plan's" if planned and "patience" in planned else "unset (customers never abandon)"))
    if plan:
        dropped = sorted(set(learned_channels) - set(names))
        if dropped:
            notes.append(f"learned channels not in the plan, left out: {', '.join(dropped)}")
    reasons = {}
    for rname, block in (model.get("reasons") or {}).items():
        block = copy.deepcopy(block)
        if "reopen_channel" in block:
            block["reopen_channel"] = _only(block["reopen_channel"], names)
            if block["reopen_channel"] is None:
                del block["reopen_channel"]
        planned = ((plan or {}).get("reasons") or {}).get(rname) or {}
        reasons[rname] = {**planned, **block}
    for rname, planned in ((plan or {}).get("reasons") or {}).items():
        reasons.setdefault(rname, planned)
    events, missing = [], []
    for event in model.get("events") or []:
        placed = False
        for year in range(start.year - 1, end.year + 2):
            dates = _redate(event, year, user)
            if dates is None:
                continue
            first, last = dates
            if first - dt.timedelta(days=event["ramp_before"]) > end or last + dt.timedelta(days=event["ramp_after"]) < start:
                continue
            out = {"name": event["name"], "date": str(first)}
            if last != first:
                out["end"] = str(last)
            # a closure (×0) is written as ×0.001: the scenario's multipliers are positive
            out["multipliers"] = {c: min(max(float(m), 0.001), 100.0) for c, m in event["multipliers"].items()
                                  if c in channels}
            if not out["multipliers"]:
                continue
            for key in ("ramp_before", "ramp_after"):
                if event.get(key):
                    out[key] = int(event[key])
            if event.get("intraday"):
                out["intraday"] = {c: _lay(v, interval_s, str(path)) for c, v in event["intraday"].items() if c in channels}
            if event.get("reason_mix"):
                out["reason_mix"] = {c: v for c, v in event["reason_mix"].items() if c in channels}
            events.append({k: v for k, v in out.items() if v not in ({}, None)})
            placed = True
        if not placed and (event["name"] not in RETAIL and event["name"] not in user):
            missing.append(event["name"])
    learned_days = {(e["date"], e.get("end", e["date"])) for e in events}
    learned_names = {e["name"] for e in events} | {e["name"] for e in model.get("events") or []}
    for planned in (plan or {}).get("events") or []:
        day = str(planned.get("date"))
        span = (day, str(planned.get("end") or day))
        if planned.get("name") in learned_names or any(a <= span[1] and span[0] <= b for a, b in learned_days):
            continue
        events.append(planned)
        from_planner.append(f"event {planned.get('name')} (from the plan)")
    if missing:
        notes.append(f"learned events with no date for the target years, left out: {', '.join(missing)} "
                     "(give their dates with --events)")
    tz = model.get("timezone") or "UTC"
    try:
        ZoneInfo(tz)
    except Exception:  # noqa: BLE001 - a fixed offset export: keep times with their offset
        tz = None
    replaced = ("start", "end", "duration", "timezone", "calibration", "channels", "agents", "reasons", "events")
    scenario = {
        "name": (plan or {}).get("name", f"forecast {start} to {end}"),
        "start": f"{start}T00:00:00", "end": f"{end + dt.timedelta(days=1)}T00:00:00",
        "interval": interval,
        **{k: copy.deepcopy(v) for k, v in (plan or {}).items() if k not in replaced and k not in ("name", "interval")},
    }
    if plan and plan.get("calibration") is not None:
        notes.append("the plan's `calibration:` reference is dropped: the forecast carries the learned values")
    if tz:
        scenario["timezone"] = tz
    elif plan and plan.get("timezone"):
        scenario["timezone"] = plan["timezone"]
    else:
        scenario["start"] += "+00:00"
        scenario["end"] += "+00:00"
    scenario.setdefault("replications", 10)
    used = {r for c in channels.values() for r in (c.get("reasons") or {})}
    used |= {r for e in events for mix in (e.get("reason_mix") or {}).values() for r in mix}
    for rname in sorted(used - set(reasons)):
        reasons[rname] = {}  # named in a mix, nothing learned about it: the channel's own handling
    if reasons:
        scenario["reasons"] = reasons
    if events:
        scenario["events"] = events
    scenario["channels"] = channels
    if plan:
        scenario["agents"] = copy.deepcopy(plan["agents"])
        from_planner.append("agents and service levels from the plan" + (" (and its opening hours)" if any(
            "open" in (plan["channels"][c] or {}) for c in names) else ""))
    else:
        groups = model.get("agents") or []
        agents = [{"name": g["name"], "skills": [s for s in g["skills"] if s in channels], "headcount_by_interval": [1]}
                  for g in groups if any(s in channels for s in g["skills"])]
        served = {s for a in agents for s in a["skills"]}
        if set(channels) - served:
            agents.append({"name": "unseen", "skills": sorted(set(channels) - served), "headcount_by_interval": [1]})
            defaults.append(f"agent group 'unseen' for {', '.join(sorted(set(channels) - served))}: no agent activity "
                            "in the export, 1 agent per interval")
        probe = copy.deepcopy({**scenario, "agents": [{**a, "headcount_by_interval": None, "headcount": 1} for a in agents]})
        for a in probe["agents"]:
            a.pop("headcount_by_interval")
        grid = interval_grid(_validated(probe, path))
        for a in agents:
            g = next((g for g in groups if g["name"] == a["name"]), None)
            a["headcount_by_interval"] = headcount_over(g, grid, _days_per(interval_s)) if g else [1] * len(grid)
        scenario["agents"] = agents
        defaults.append("agents: groups seen in the export, headcount per interval of the week from their activity "
                        "(a low starting plan: idle agents are invisible in tickets)")
    if cal.get("satisfaction") is not None and "satisfaction" not in scenario:  # the fitted CSAT model (csat column)
        scenario["satisfaction"] = copy.deepcopy(cal["satisfaction"])
        from_data.append("satisfaction: the CSAT model fitted from the export's csat answers")
    _validated(scenario, path)
    prov = cal.get("provenance") or {}
    from sim.bounded_read import read_limited
    from sim.yamlsource import MAX_FILE_BYTES

    digest = hashlib.sha256(read_limited(path, MAX_FILE_BYTES, "calibration file")).hexdigest()[:12]
    from_data.insert(0, "arrivals (fresh demand: per_day, day_of_week, intraday shapes, dispersion), events "
                        "(re-dated by name), handle times and their profile, patience, opening hours, reason mix, "
                        "reasons (handle factor, fcr, reopens, bot success), bot, redial/chaser behaviour")
    header = [f"peaksim forecast {start} to {end} from calibration {path} (sha256 {digest}…)",
              f"calibrated from {', '.join(f['path'] for f in prov.get('files', [])) or 'tickets'}, "
              f"{' to '.join(str(d)[:10] for d in prov.get('date_range', []))}",
              *(f"from data: {line}" for line in from_data),
              *(f"from the planner: {line}" for line in from_planner),
              *(f"DEFAULT: {line}" for line in defaults),
              *(f"note: {line}" for line in notes)]
    return scenario, header


def _validated(data: dict, path: Path):
    from sim.scenario import parse_scenario

    try:
        return parse_scenario(copy.deepcopy(data), f"forecast from {path}")
    except ScenarioError as exc:
        raise PeaksimError([f"{path}: the forecast scenario does not validate: {line}" for line in exc.lines]) from None


def write_forecast(scenario: dict, header: list[str], out: str | Path) -> Path:
    """The scenario YAML with its header comment, written atomically; defaults are flagged inline."""
    from calibrate.calibration import _Dumper, _plain
    from sim.outputs import atomic_write

    text = "".join(f"# {line}\n" for line in header)
    body = yaml.dump(_plain(scenario), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)
    flagged = []
    for line in body.splitlines():
        if line == "agents:" and not any(h.startswith("from the planner: agents") for h in header):
            line += "  # DEFAULT: groups and headcounts inferred from last year's activity; set this year's plan"
        if line.strip().startswith("service_level:") and any(h.startswith("DEFAULT: service_level") for h in header):
            line += "  # DEFAULT target: set your own"
        flagged.append(line)
    path = Path(out)
    atomic_write(path, text + "\n".join(flagged) + "\n")
    return path
