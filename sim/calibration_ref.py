"""A scenario's `calibration: path`: fitted parameters as defaults under the planner's own values.

A scenario file may name a calibration YAML (written by `peaksim calibrate`), relative to the
scenario file's folder. For every channel the scenario defines and the calibration also has,
`handle_time`, `handle_time_profile`, `patience`, `patience_profile` and `arrivals` are taken from the calibration
(and its fitted `satisfaction:` CSAT model, when the export had a `csat` column)
**unless the scenario gives them**: the scenario always wins, key by key (a scenario `arrivals: {rate_per_hour: 80}`
replaces the calibrated profile; a scenario `patience` replaces the fitted one). Channels only
the calibration knows are ignored, so one calibration can serve scenarios of any subset of
channels. Async channels take no patience (they do not abandon).

The calibration's daily arrival profile (one rate per interval of its own interval, usually
24 hourly values, averaged over weekdays) is laid onto the scenario's interval (repeated when
the scenario's intervals are finer, averaged when coarser) and becomes the demand form
`per_day` × `day_of_week` × `intraday`, so the scenario's `growth` and `events` apply on top. On a
sync channel with opening hours `per_day` counts the contacts of an open day that arrive while it
is open (see `open_volume`), so the channel gets the arrivals the profile gives while it is open.
A scenario that states its own volume (`rate_per_hour`, `per_day`, `per_week` or `counts`) replaces
the calibrated volume and shape. The handle-time profile (a multiplier per interval of the day)
is laid onto the scenario's intervals the same way, and multiplies a scenario's own
`handle_time` too (it is the shape of handle time over the day, not its level); the patience
profile likewise. Fit tables are provenance, not model inputs.

Every problem with the calibration file is one line that names that file, e.g.
`cal.yaml: channels.voice.patience: unknown value (got 'lognorm'); ...`.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
from pydantic import TypeAdapter, ValidationError

from .distributions import Distribution
from .errors import AT_PATH, ScenarioError
from .opening import WEEKDAYS, OpeningHours, clock_share
from .units import parse_duration
from .yamlsource import load_yaml_with_lines

MERGED = ("handle_time", "handle_time_profile", "patience", "patience_profile", "arrivals")
_DIST = TypeAdapter(Distribution)


def calibration_path(reference: object, base_dir: Path, source: str) -> Path:
    """The calibration file a scenario names (relative paths from the scenario's folder)."""
    if not isinstance(reference, str) or not reference.strip():
        raise ScenarioError([f"{source}: calibration: must be the path of a calibration YAML "
                             f"(got {reference!r}); write e.g. `calibration: calibration.yaml`"])
    path = Path(reference).expanduser()
    return path if path.is_absolute() else Path(base_dir) / path


def apply_calibration(data: dict, base_dir: Path | str, source: str = "<scenario>") -> dict:
    """Return a copy of the raw scenario mapping with the referenced calibration merged under it.

    ``data`` is the scenario as read from YAML (before validation); without a ``calibration``
    key it is returned unchanged.
    """
    reference = data.get("calibration")
    if reference is None:
        return data
    path = calibration_path(reference, Path(base_dir), source)
    if not path.exists():
        raise ScenarioError([f"{source}: calibration: file not found ({path}); check the path "
                             "(relative paths start at the scenario file's folder)"])
    cal, _ = load_yaml_with_lines(path, "calibration file")
    where = str(path)
    if not isinstance(cal, dict) or not isinstance(cal.get("channels"), dict):
        raise ScenarioError([f"{where}: channels: missing; is this a calibration written by `peaksim calibrate`?"])
    merged = copy.deepcopy(data)
    channels = merged.get("channels")
    if not isinstance(channels, dict):
        return merged  # the scenario's own error will be reported by validation
    interval_s = _interval(merged.get("interval", 1800.0))
    for name, channel in channels.items():
        fitted = cal["channels"].get(name)
        if not isinstance(fitted, dict) or not isinstance(channel, dict):
            continue
        for key in MERGED:
            if key not in fitted or fitted[key] is None:
                continue
            if key in ("patience", "patience_profile") and channel.get("kind") == "async":
                continue
            value = _checked(key, fitted[key], where, f"channels.{name}.{key}", interval_s)
            if key == "arrivals":
                value = open_volume(value, channel, interval_s)
            if key not in channel or channel[key] is None:
                channel[key] = value
            elif isinstance(channel[key], dict) and isinstance(value, dict) and key == "arrivals":
                own = channel[key]
                if any(own.get(k) is not None for k in LEVEL_KEYS):  # the scenario states its own volume
                    value = {k: v for k, v in value.items() if k not in LEVEL_KEYS + SHAPE_KEYS}
                channel[key] = {**value, **own}  # the scenario's keys win
    fitted_csat = cal.get("satisfaction")
    if fitted_csat is not None and merged.get("satisfaction") is None:  # the scenario's own model wins
        merged["satisfaction"] = _satisfaction(fitted_csat, where)
    return merged


def _satisfaction(value, where: str) -> dict:
    """The calibration's fitted CSAT model, checked as a scenario's `satisfaction:` block would be."""
    from .scenario_outcomes import Satisfaction

    try:
        Satisfaction.model_validate(value)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = ".".join(str(p) for p in first.get("loc", ()))
        raise ScenarioError([f"{where}: satisfaction{'.' + field if field else ''}: {first.get('msg')}; "
                             "recalibrate with `peaksim calibrate`"]) from None
    return value


def _interval(value) -> float | None:
    try:
        return float(parse_duration(value))
    except (TypeError, ValueError):
        return None  # validation reports the scenario's bad interval


LEVEL_KEYS = ["rate_per_hour", "per_day", "per_week", "counts"]
SHAPE_KEYS = ["intraday", "day_of_week"]


def _checked(key: str, value, where: str, path: str, interval_s: float | None):
    if key == "arrivals":
        if not isinstance(value, dict) or "rate_per_hour" not in value:
            raise ScenarioError([f"{where}: {path}: needs `rate_per_hour`; recalibrate with `peaksim calibrate`"])
        return _demand(value, where, path, interval_s)
    if key in ("handle_time_profile", "patience_profile"):
        return resample_daily(value, where, path, interval_s)
    try:
        _DIST.validate_python(value)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        located = AT_PATH.match(str(first["msg"]).removeprefix("Value error, "))
        if located:  # a check that names its own field and fix (e.g. `.sd: must be between …`)
            field = located.group(1).lstrip(".")
            raise ScenarioError([f"{where}: {path}{'.' + field if field else ''}: {located.group(2)}"]) from None
        raise ScenarioError([f"{where}: {path}: not a valid distribution ({first['msg']}, got {value!r}); "
                             "recalibrate with `peaksim calibrate` or set it in the scenario"]) from None
    return copy.deepcopy(value)


def _demand(value: dict, where: str, path: str, interval_s: float | None) -> dict:
    """The fitted weekday-averaged daily profile and day-of-week multipliers as the scenario's
    demand form (`per_day` × `day_of_week` × `intraday`), so `growth` and `events` apply on top."""
    rates = resample_daily(value["rate_per_hour"], where, f"{path}.rate_per_hour", interval_s)
    if not isinstance(rates, list) or interval_s is None:
        return {"rate_per_hour": rates}
    per_day = sum(rates) * interval_s / 3600
    if per_day <= 0:
        return {"rate_per_hour": rates}
    demand = {"per_day": per_day, "intraday": [float(r) for r in rates]}
    weekdays = value.get("day_of_week")
    if isinstance(weekdays, list) and len(weekdays) == 7:
        known = [w for w in weekdays if isinstance(w, (int, float)) and not isinstance(w, bool) and w >= 0]
        if known:
            fill = sum(known) / len(known)  # a weekday absent from the data gets the average
            demand["day_of_week"] = [float(w) if isinstance(w, (int, float)) and not isinstance(w, bool) and w >= 0
                                     else fill for w in weekdays]
    return demand


def open_volume(demand: dict, channel: dict, interval_s: float | None) -> dict:
    """The calibrated daily volume as this scenario's `per_day` means it on a sync channel with opening
    hours: the contacts of an average *open* day that arrive while it is open (sim/arrivals.py).

    The calibrated profile covers whole days, closed ones included, so `per_day` becomes its volume
    inside the opening hours on an average open weekday; the shapes stay as fitted (weight they put
    on closed time is reported by `validate` and `run`). The arrivals are those the profile gives
    while the channel is open, as before.
    """
    raw = channel.get("open")
    if "per_day" not in demand or channel.get("kind", "sync") != "sync" or not isinstance(raw, dict) or not interval_s:
        return demand
    try:
        hours = OpeningHours.model_validate(raw)
    except (ValidationError, ValueError, TypeError):
        return demand  # the scenario's own validation reports its opening hours
    rates = np.asarray(demand["intraday"], dtype=float)
    own = channel.get("arrivals") if isinstance(channel.get("arrivals"), dict) else {}
    weekdays = own.get("day_of_week") or demand.get("day_of_week") or [1.0] * 7
    try:
        dow = np.asarray(weekdays, dtype=float)
    except (TypeError, ValueError):
        return demand
    if dow.shape != (7,) or rates.sum() <= 0 or dow.mean() <= 0:
        return demand
    inside = float(np.dot(rates, clock_share((hours.start, hours.end), interval_s))) / rates.sum()
    open_days = (dow / dow.mean())[[WEEKDAYS.index(d) for d in hours.days]].mean()
    return {**demand, "per_day": demand["per_day"] * inside * open_days}


def resample_daily(rates, where: str, path: str, interval_s: float | None):
    """A daily profile (n values per day) laid onto the scenario's intervals per day."""
    if isinstance(rates, (int, float)) and not isinstance(rates, bool):
        return rates
    if not isinstance(rates, list) or not rates or not all(
            isinstance(r, (int, float)) and not isinstance(r, bool) and r >= 0 for r in rates):
        raise ScenarioError([f"{where}: {path}: must be a list of non-negative rates (got {str(rates)[:60]}); "
                             "recalibrate with `peaksim calibrate`"])
    if interval_s is None or interval_s <= 0 or 86400 % interval_s:
        return rates
    have, want = len(rates), int(86400 // interval_s)
    if have == want:
        return list(rates)
    if want % have == 0:
        return [float(r) for r in rates for _ in range(want // have)]
    if have % want == 0:
        k = have // want
        return [sum(rates[i:i + k]) / k for i in range(0, have, k)]
    raise ScenarioError([f"{where}: {path}: {have} values per day cannot be laid onto the scenario's "
                         f"{want} intervals per day; recalibrate with --interval matching the scenario"])
