"""Staffing sweeps: one scenario simulated over a grid of staffing levels with common random numbers.

A sweep point is the scenario with a different staffing and the *same* seed, so replication r
of every point sees the same customers (arrival times, handle times, patience: streams are
keyed by (seed, replication, source, channel)). Differences between points then come from
staffing, not from noise, and KPI curves over the grid are smooth.

Axes
- `agents <group>=start:stop:step`: the group's roster keeps its shape (shifts, overtime dates,
  headcount profile) and is scaled so that its peak on shift is each value; a constant headcount
  is on shift while one of the group's channels is open (sim/roster.py). The stop value is
  included, as a planner reads `10:40:2`.
- `scale start:stop:step`: every schedule (headcount, profile, shifts) not set by an agents
  axis is multiplied, rounding half up.
Several axes make a grid (row-major, in the order given). Cost is paid hours: the scheduled
time on shift, before shrinkage, times `--cost-per-hour`.

`sweep.csv` (one row per point × channel) is appended as each point finishes, so an
interrupted sweep keeps its finished points; `resume=True` skips them and the final file is
rewritten sorted by point, byte-identical to an uninterrupted sweep.
"""

from __future__ import annotations

import contextlib
import csv
import difflib
import errno
import itertools
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import ValidationError

from . import __version__
from .bounded_read import MB, read_limited
from .csv_safety import restore_cell, restore_frame, to_csv_text
from .errors import PeaksimError, format_validation_error
from .outcome_targets import OutcomeTargets
from .executors import run_tasks
from .outputs import atomic_write, write_json
from .result_files import read_json
from .runner import aggregate, run_replication
from .scenario import Scenario, scenario_hash
from . import roster

KPI_COLUMNS = ["offered", "handled", "abandoned", "service_level", "abandon_rate", "asa_s", "wait_p90_s",
               "balked", "callbacks_accepted", "prevented", "overflowed",  # these four: peak levers
               # customer outcomes of the issues started on the channel (sim/journeys.py)
               "fcr", "csat", "unresolved_share", "resolution_time_p90_s", "contacts_per_issue", "revenue_at_risk"]
DEFAULT_COST_PER_HOUR = 25.0
MAX_POINTS = 10_000
MAX_TASKS = 1_000_000  # points × replications: each is one simulated replication


@dataclass(frozen=True)
class Axis:
    """One swept parameter: `scale`, or the constant headcount of one agent group."""

    name: str
    values: tuple[float, ...]
    group: str | None = None

    @property
    def column(self) -> str:
        return f"param_{self.name}"


def parse_range(text: str, option: str, integer: bool) -> tuple[float, ...]:
    """`start:stop:step` (stop included), `a,b,c`, or one value; an empty range is an error."""
    text = text.strip()
    kind = "whole numbers" if integer else "numbers"
    option = option if option.endswith("=") else f"{option} "  # `--agents team=10:40:2`, `--scale 1:2:0.5`
    try:
        if ":" in text:
            parts = [float(p) for p in text.split(":")]
            if len(parts) != 3:
                raise ValueError
            start, stop, step = parts
            if not all(math.isfinite(v) for v in parts):
                raise PeaksimError(f"{option}{text}: start, stop and step must be finite numbers; write start:stop:step")
            if step <= 0:
                raise PeaksimError(f"{option}{text}: the step must be positive (got {step:g}); write start:stop:step")
            count = math.floor((stop - start) / step + 1e-9) + 1  # sized before anything is built
            if count > MAX_POINTS:
                raise PeaksimError(f"{option}{text}: the range has {count:,} values (limit {MAX_POINTS:,} points "
                                   "per sweep); use a coarser step or a narrower range")
            values = [start + k * step for k in range(max(count, 0))]
        else:
            if text.count(",") >= MAX_POINTS:
                raise PeaksimError(f"{option}{text[:40]}…: the list has more than {MAX_POINTS:,} values "
                                   f"(limit {MAX_POINTS:,} points per sweep); give fewer values")
            values = [float(p) for p in text.split(",") if p.strip()]
    except (ValueError, OverflowError):
        raise PeaksimError(f"{option}{text}: not a range; write start:stop:step (e.g. 10:40:2) or a list 10,12,15") from None
    if not values:
        raise PeaksimError(f"{option}{text}: the range is empty (start is above stop); write start:stop:step with start <= stop")
    values = [round(v, 10) for v in values]
    if any(v < 0 or not math.isfinite(v) for v in values):
        raise PeaksimError(f"{option}{text}: values must be non-negative (got {min(values):g})")
    if integer:
        if any(v != int(v) for v in values):
            raise PeaksimError(f"{option}{text}: headcounts must be {kind} (got {next(v for v in values if v != int(v)):g})")
        values = [int(v) for v in values]
    if len(set(values)) != len(values):
        raise PeaksimError(f"{option}{text}: the range repeats a value; give distinct values")
    return tuple(values)


def agents_axis(spec: str, scenario: Scenario) -> Axis:
    """`--agents chat_team=10:40:2` → an axis over that group's constant headcount.

    The range is what follows the *last* `=` (a range never holds one), so a group named
    `tier=1` is swept with `--agents tier=1=10:40:2`."""
    name, sep, rng = spec.rpartition("=")
    name = name.strip()
    if not sep or not name:
        raise PeaksimError(f"--agents {spec}: write GROUP=start:stop:step, e.g. chat_team=10:40:2")
    groups = [g.name for g in scenario.agents]
    if name not in groups:
        guess = difflib.get_close_matches(name, groups, n=1)
        hint = f"did you mean {guess[0]!r}?" if guess else f"groups: {', '.join(groups)}"
        raise PeaksimError(f"--agents {spec}: no agent group {name!r} in the scenario; {hint}")
    return Axis(f"agents_{name}", parse_range(rng, f"--agents {name}=", integer=True), group=name)


def scale_axis(spec: str) -> Axis:
    values = parse_range(spec, "--scale", integer=False)
    if 0 in values:
        raise PeaksimError(f"--scale {spec}: a multiplier of 0 leaves no agents; start the range above 0")
    return Axis("scale", values)


def check_axes(axes: list[Axis], replications: int | None = None) -> None:
    """The axes make a grid of at most MAX_POINTS points and, with `replications` per point, at most
    MAX_TASKS replications: checked from the axes' lengths before any point is built."""
    if not axes:
        raise PeaksimError("nothing to sweep: give --agents GROUP=start:stop:step and/or --scale start:stop:step")
    names = [a.name for a in axes]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup:
        raise PeaksimError(f"{dup} is swept twice; give each group (and --scale) once")
    n = math.prod(len(a.values) for a in axes)
    if n > MAX_POINTS:
        raise PeaksimError(f"the grid has {n:,} points (limit {MAX_POINTS:,}); use coarser steps")
    if replications is not None and n * replications > MAX_TASKS:
        raise PeaksimError(f"the sweep would simulate {n:,} points × {replications:,} replications = "
                           f"{n * replications:,} replications (limit {MAX_TASKS:,}); use fewer points or "
                           "--replications")


def grid(axes: list[Axis]) -> list[dict[str, float]]:
    """Every point of the grid as {axis name: value}, row-major in the axes' order."""
    return [dict(zip([a.name for a in axes], combo)) for combo in itertools.product(*[a.values for a in axes])]


def clock_text(seconds: int) -> str:
    """Seconds after midnight as the `HH:MM` (or `HH:MM:SS`) a scenario file takes back."""
    h, rest = divmod(int(seconds), 3600)
    m, sec = divmod(rest, 60)
    return f"{h:02d}:{m:02d}" + (f":{sec:02d}" if sec else "")


def scenario_data(scenario: Scenario, mode: str = "python") -> dict:
    """The scenario as plain data that validates back into the same scenario (clock times as text)."""
    data = scenario.model_dump(mode=mode)
    for channel in data["channels"].values():
        if channel.get("open"):
            channel["open"] = {**channel["open"], "start": clock_text(channel["open"]["start"]),
                               "end": clock_text(channel["open"]["end"])}
    for group in data["agents"]:
        if group.get("shifts"):
            group["shifts"] = [{**s, "start": clock_text(s["start"]), "end": clock_text(s["end"])}
                               for s in group["shifts"]]
    return data


def apply_point(scenario: Scenario, point: dict[str, float], axes: list[Axis]) -> Scenario:
    """The scenario with this point's staffing: set headcounts first, then scale the other groups."""
    data = scenario_data(scenario)
    fixed = {a.group: int(point[a.name]) for a in axes if a.group is not None}
    factor = point.get("scale", 1.0)
    agents = []
    for group, model in zip(data["agents"], scenario.agents):
        if group["name"] in fixed:
            group = roster.at_peak(group, model, scenario, fixed[group["name"]])
        elif factor != 1.0:
            group = roster.scaled(group, factor)
        agents.append(group)
    try:
        return Scenario.model_validate({**data, "agents": agents})
    except ValidationError as exc:  # e.g. a headcount beyond the scenario's limits: the options are at fault
        where = ", ".join(f"{name}={value:g}" for name, value in point.items())
        first = format_validation_error(exc, "", {}, Scenario, {**data, "agents": agents})[0]
        raise PeaksimError(f"sweep point {where}: {re.sub(r'^:[0-9]+: ', '', first)}; narrow --agents or --scale") from None


agent_hours = roster.paid_hours  # paid agent-hours of a point (scheduled, before shrinkage)
scaled_group = roster.scaled


def sweep_columns(axes: list[Axis]) -> list[str]:
    kpis = [c for k in KPI_COLUMNS for c in (k, f"{k}_lo", f"{k}_hi")]
    return ["point", *[a.column for a in axes], "channel", "target_sl", *kpis, "meets_outcome_targets", "meets_target",
            "agent_hours", "cost"]


def point_rows(point_id: int, point: dict, axes: list[Axis], scenario: Scenario, summary: pd.DataFrame,
               cost_per_hour: float, outcomes: OutcomeTargets = OutcomeTargets()) -> pd.DataFrame:
    """The tidy rows (one per channel) of one finished point; `meets_target` also needs the outcome targets."""
    hours = agent_hours(scenario)
    rows = []
    for rec in summary.to_dict("records"):
        target = scenario.channels[rec["channel"]].service_level.target
        sl = rec["service_level"]
        row = {"point": point_id, **{a.column: point[a.name] for a in axes}, "channel": rec["channel"],
               "target_sl": target}
        row.update({c: rec[c] for k in KPI_COLUMNS for c in (k, f"{k}_lo", f"{k}_hi")})
        # a channel that got no contacts to serve misses no target (else it would veto every point)
        meets = (sl == sl and sl >= target) or rec["offered"] == 0
        outcome_ok = outcomes.met(rec["channel"], rec)
        row.update(meets_outcome_targets=bool(outcome_ok), meets_target=bool(meets and outcome_ok),
                   agent_hours=hours, cost=hours * cost_per_hour)
        rows.append(row)
    return pd.DataFrame(rows, columns=sweep_columns(axes))


def format_rows(frame: pd.DataFrame) -> str:
    """CSV text without header, formatted exactly as the final file is (so appends and rewrites agree)."""
    return to_csv_text(frame, header=False, float_format="%.6g")


def _header(axes: list[Axis]) -> str:
    return to_csv_text(pd.DataFrame(columns=sweep_columns(axes)))


MAX_JOURNAL_BYTES = 2000 * MB
RESUME_FIX = "run without --resume to start over, or use another --out"


def read_finished(path: Path, axes: list[Axis], channels: list[str], n_points: int | None = None) -> dict[int, str]:
    """Complete points already in `path` as {point: their CSV lines}; a cut-off last line is dropped.

    Every line kept is checked (field count, point number, channel, numbers where numbers belong)
    because it is copied into the final file as it is: a garbled or edited line is a one-line
    error naming its line, never a silently wrong sweep. `channels` may be a count (old callers).
    """
    raw = read_limited(path, MAX_JOURNAL_BYTES, "sweep.csv")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise PeaksimError(f"{path}:{line}: not UTF-8 text (got byte 0x{raw[exc.start]:02x}); {RESUME_FIX}") from None
    if not text:
        return {}
    if not text.startswith(_header(axes)):
        raise PeaksimError(f"{path}: its columns do not match this sweep's parameters; "
                           "use another --out, or run without --resume to start over")
    n_channels = channels if isinstance(channels, int) else len(channels)
    known = None if isinstance(channels, int) else {str(c) for c in channels}
    columns = sweep_columns(axes)
    lines = text[len(_header(axes)):].split("\n")
    complete = lines[:-1]  # the last element is "" after a final newline, or a cut-off line
    by_point: dict[int, list[str]] = {}
    for number, line in enumerate(complete, start=2):
        point = _checked_row(path, number, line, columns, known, n_points)
        by_point.setdefault(point, []).append(line + "\n")
    return {p: "".join(rows) for p, rows in by_point.items() if len(rows) == n_channels}


_TEXT_COLUMNS = ("channel",)


def _checked_row(path: Path, number: int, line: str, columns: list[str], channels: set | None,
                 n_points: int | None) -> int:
    """The point number of one sweep.csv line, after checking every field has the right kind."""
    where = f"{path}:{number}"
    try:
        fields = next(csv.reader([line]))
    except (csv.Error, StopIteration):
        raise PeaksimError(f"{where}: not a CSV row (got {line[:60]!r}); {RESUME_FIX}") from None
    if len(fields) != len(columns):
        raise PeaksimError(f"{where}: has {len(fields)} fields, the header {len(columns)} (got {line[:60]!r}); "
                           f"{RESUME_FIX}")
    row = dict(zip(columns, fields))
    point = row["point"]
    if not point.isdigit() or (n_points is not None and int(point) >= n_points):
        raise PeaksimError(f"{where}: point: not a point of this sweep (got {point[:30]!r}); {RESUME_FIX}")
    channel = restore_cell(row["channel"])
    if channels is not None and channel not in channels:
        raise PeaksimError(f"{where}: channel: not a channel of the scenario (got {channel[:40]!r}); {RESUME_FIX}")
    for name in columns:
        if name.startswith("meets_") and row[name] not in ("True", "False"):
            raise PeaksimError(f"{where}: {name}: must be True or False (got {row[name][:30]!r}); {RESUME_FIX}")
    for name in columns:
        if name in _TEXT_COLUMNS or name == "point" or name.startswith("meets_"):
            continue
        value = row[name]
        try:
            if value != "":
                float(value)
        except ValueError:
            raise PeaksimError(f"{where}: {name}: must be a number (got {value[:30]!r}); {RESUME_FIX}") from None
    return int(point)


def resume_points(out: Path, identity: dict, axes: list[Axis], channels: list[str], n_points: int) -> dict[int, str]:
    """The finished points of an interrupted sweep in `out` that this sweep may keep.

    sweep.json identifies the sweep (scenario hash, seed, replications, ranges, cost): without it
    the rows of sweep.csv cannot be told apart from another sweep's, so resuming is refused rather
    than relabelling them with this sweep's seed.
    """
    csv_path, json_path = out / "sweep.csv", out / "sweep.json"
    if not csv_path.exists() and not json_path.exists():
        return {}
    if not json_path.exists():
        raise PeaksimError(f"{json_path}: missing, so the points in sweep.csv cannot be matched to this sweep's "
                           f"scenario, seed and ranges; {RESUME_FIX}")
    previous = read_json(out, "sweep.json", RESUME_FIX)
    changed = [k for k, v in identity.items() if previous.get(k) != v]
    if changed:
        raise PeaksimError(f"{out}: the sweep there differs in {', '.join(changed)}; "
                           "use another --out, or run without --resume to start over")
    if not csv_path.exists():
        return {}
    return read_finished(csv_path, axes, channels, n_points)


@dataclass
class SweepResult:
    table: pd.DataFrame
    meta: dict
    paths: list[Path]


def sweep_identity(scenario: Scenario, axes: list[Axis], replications: int, cost_per_hour: float,
                   outcomes: OutcomeTargets = OutcomeTargets()) -> dict:
    return {
        "scenario": scenario.name,
        "scenario_sha256": scenario_hash(scenario),
        "seed": scenario.seed,
        "replications": replications,
        "axes": {a.name: list(a.values) for a in axes},
        "cost_per_hour": cost_per_hour,
        "outcome_targets": outcomes.describe(),
        "agents_axis": "roster scaled to its peak on shift",  # what --agents means (an older sweep set a flat headcount)
    }


def run_sweep(scenario: Scenario, axes: list[Axis], out: Path, replications: int | None = None,
              jobs: int = 1, scheduler=None, resume: bool = False,
              cost_per_hour: float = DEFAULT_COST_PER_HOUR, progress=None, prepare=None,
              outcomes: OutcomeTargets = OutcomeTargets()) -> SweepResult:
    """Simulate every grid point (same replication seeds at each), appending sweep.csv as points finish.

    `outcomes` (a minimum FCR, resolution-time promises) must hold as well for a channel to meet its target;
    `prepare()`, if given, is called once everything is checked, before the first write into `out`."""
    n = replications or scenario.replications
    check_axes(axes, n)
    if not (cost_per_hour >= 0 and math.isfinite(cost_per_hour)):
        raise PeaksimError(f"--cost-per-hour must be a non-negative number (got {cost_per_hour})")
    points = grid(axes)
    scenarios = [apply_point(scenario, p, axes) for p in points]
    csv_path, json_path = out / "sweep.csv", out / "sweep.json"
    identity = sweep_identity(scenario, axes, n, cost_per_hour, outcomes)

    finished = resume_points(out, identity, axes, list(scenario.channels), len(points)) if resume else {}
    if prepare is not None:  # everything is checked: the caller may now clear the folder of other results
        prepare()
    with _journal_errors(csv_path):
        write_json({**identity, "status": "running", "points": len(points), "peaksim_version": __version__}, json_path)
        atomic_write(csv_path, _header(axes) + "".join(finished[p] for p in sorted(finished)))

        pending = [k for k in range(len(points)) if k not in finished]
        tasks = [(scenarios[k], r) for k in pending for r in range(n)]
        results: dict[int, list] = {k: [None] * n for k in pending}
        remaining = {k: n for k in pending}
        done = 0
        if progress:
            progress(0, len(tasks))
        with open(csv_path, "a", encoding="utf-8", newline="") as fh:
            for t, result in run_tasks(run_replication, tasks, jobs, scheduler):
                k, r = pending[t // n], t % n
                results[k][r] = result
                remaining[k] -= 1
                if remaining[k] == 0:
                    summary = aggregate(scenarios[k], results.pop(k)).summary
                    text = format_rows(point_rows(k, points[k], axes, scenarios[k], summary, cost_per_hour, outcomes))
                    fh.write(text)
                    fh.flush()
                    finished[k] = text
                done += 1
                if progress:
                    progress(done, len(tasks))
        atomic_write(csv_path, _header(axes) + "".join(finished[p] for p in sorted(finished)))

        table = restore_frame(pd.read_csv(csv_path))
        best = best_point(table, axes)
        peaks = [roster.peaks(sc) for sc in scenarios]
        meta = {**identity, "status": "complete", "points": len(points), "peaksim_version": __version__,
                "best_point": best, "marginal_value_of_one_more_agent": marginal_values(table, axes, scenario, best, peaks),
                "point_warnings": point_warnings(scenarios, table, n),
                "agents_at_peak": {str(k): p for k, p in enumerate(peaks)},
                "agent_hours": "paid agent-hours over the whole horizon, all groups: the scheduled roster on shift, "
                               "before shrinkage",
                "cost": f"agent_hours x cost_per_hour ({cost_per_hour:g} per agent-hour)",
                # the scenario as validated, channel order kept (it keys the random streams), for the verdict and report
                "scenario_definition": json.loads(scenario.model_dump_json())}
        write_json({k: meta[k] for k in sorted(meta)}, json_path, sort_keys=False)
    return SweepResult(table, meta, [csv_path, json_path])


@contextlib.contextmanager
def _journal_errors(csv_path: Path):
    """A full disk or read-only folder while the sweep writes: one line; the finished points stay on disk."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO):
            raise
        raise PeaksimError(f"{csv_path}: cannot write the sweep (got {exc.strerror}); the points finished so far "
                           "are kept: free space or fix the permissions, then rerun with --resume") from None


def point_warnings(scenarios: list[Scenario], table: pd.DataFrame, replications: int) -> dict[str, list[dict]]:
    """Per point with any: the warnings a run of it would give (``{kind, message, …}``: unstable
    intervals, warm-up, too few replications for the CI), from its scenario and its sweep rows."""
    from .checks import scenario_warnings

    out = {}
    for k, sc in enumerate(scenarios):
        warnings = scenario_warnings(sc, table[table["point"] == k], replications)
        if warnings:
            out[str(k)] = warnings
    return out


def warning_summary(point_warnings: dict) -> list[str]:
    """One line per kind of warning with the points that have it (e.g. for a report's warning box)."""
    points: dict[str, list[str]] = {}
    for k, warnings in point_warnings.items():
        for w in warnings if isinstance(warnings, list) else [warnings]:
            kind = w.get("kind", "warning") if isinstance(w, dict) else "warning"
            if k not in points.setdefault(kind, []):
                points[kind].append(k)
    labels = {"unstable_intervals": "offered load ≥ staffing capacity in some intervals (queues grow)",
              "too_few_replications": "service-level CI wider than ±0.05 (more replications needed)",
              "warmup_too_short": "warm-up too short"}
    return [f"{labels.get(kind, kind.replace('_', ' '))}: point{'s' if len(ks) > 1 else ''} {', '.join(ks)}"
            for kind, ks in points.items()]


def best_point(table: pd.DataFrame, axes: list[Axis]) -> dict | None:
    """The cheapest point at which every channel meets its service-level target and outcome targets (ties: lowest point)."""
    ok = table.groupby("point")["meets_target"].all()
    ok = ok[ok]
    if ok.empty:
        return None
    rows = table[table["point"].isin(ok.index)]
    cost = rows.groupby("point")["agent_hours"].first().sort_index()
    point = int(cost.idxmin())
    first = rows[rows["point"] == point].iloc[0]
    return {"point": point, **{a.name: _plain(first[a.column]) for a in axes},
            "agent_hours": float(first["agent_hours"]), "cost": float(first["cost"])}


def _finite(value: float) -> float | None:
    return round(value, 4) if math.isfinite(value) else None


def _plain(value):
    return int(value) if float(value).is_integer() else float(value)


def marginal_values(table: pd.DataFrame, axes: list[Axis], scenario: Scenario, best: dict | None,
                    peaks: list[dict] | None = None) -> list[dict]:
    """Per axis: KPI change per extra agent at the peak when stepping from the reference point to the next value.

    The reference is the best point, or (if no point meets every target) the point closest to
    meeting them (largest worst-channel service level minus target). "One more agent" is one more
    at the busiest time (the sum over groups of the change in their peak on shift, `peaks` per
    point); without `peaks` it is one more on shift on average over the horizon.
    `extra_agents_on_shift` is that average, `extra_agent_hours` the paid hours the step adds.
    """
    if best is not None:
        ref = best["point"]
    else:
        gap = (table["service_level"] - table["target_sl"]).groupby(table["point"]).min()
        ref = int(gap.idxmax()) if gap.notna().any() else int(table["point"].min())
    ref_rows = table[table["point"] == ref].set_index("channel")
    ref_params = {a.column: ref_rows.iloc[0][a.column] for a in axes}
    hours = scenario.horizon_s / 3600.0
    out = []
    for axis in axes:
        values = list(axis.values)
        at = values.index(_plain(ref_params[axis.column])) if _plain(ref_params[axis.column]) in values else None
        if at is None or at + 1 >= len(values):
            out.append({"axis": axis.name, "from_point": ref, "note": "no larger value on this axis"})
            continue
        others = np.ones(len(table), dtype=bool)
        for a in axes:
            want = values[at + 1] if a is axis else ref_params[a.column]
            others &= np.isclose(table[a.column].to_numpy(dtype=float), float(want))
        nxt = table[others].set_index("channel")
        extra_hours = float(nxt["agent_hours"].iloc[0] - ref_rows["agent_hours"].iloc[0])
        extra_agents = extra_hours / hours
        to = int(nxt["point"].iloc[0])
        at_peak = (sum(peaks[to].values()) - sum(peaks[ref].values())) if peaks is not None else extra_agents
        if extra_agents <= 0 or at_peak <= 0:
            out.append({"axis": axis.name, "from_point": ref, "note": "the next value adds no agents"})
            continue
        per_channel = {}
        for channel in ref_rows.index:
            kpis = ["service_level", "abandon_rate", "asa_s", *[k for k in ("fcr", "csat") if k in table.columns]]
            d = nxt.loc[channel, kpis].astype(float) - ref_rows.loc[channel, kpis].astype(float)
            if not np.isfinite(d).any():
                continue  # no contacts left the queue at either point: nothing to compare
            per_channel[channel] = {  # None where a KPI is undefined at either point (e.g. ASA with none answered)
                "service_level_pp": _finite(100 * float(d["service_level"]) / at_peak),
                "abandon_rate_pp": _finite(100 * float(d["abandon_rate"]) / at_peak),
                "asa_s": _finite(float(d["asa_s"]) / at_peak),
                **{f"{k}_pp": _finite(100 * float(d[k]) / at_peak) for k in ("fcr", "csat") if k in d.index},
            }
        if not per_channel:
            out.append({"axis": axis.name, "from_point": ref, "note": "no channel has contacts to compare"})
            continue
        out.append({"axis": axis.name, "from_point": ref, "to_point": to,
                    "extra_agents_at_peak": round(float(at_peak), 4),
                    "extra_agents_on_shift": round(float(extra_agents), 4),
                    "extra_agent_hours": round(extra_hours, 2),
                    "extra_cost": round(float(nxt["cost"].iloc[0] - ref_rows["cost"].iloc[0]), 2),
                    "per_agent": per_channel})
    return out
