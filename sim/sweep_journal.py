"""sweep.csv as a journal: the rows of each finished point, and the finished points a --resume may keep."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from .bounded_read import MB, read_limited
from .csv_safety import restore_cell, to_csv_text
from .errors import PeaksimError
from .outcome_targets import OutcomeTargets
from .result_files import read_json
from .scenario import Scenario
from .sweep_grid import Axis, agent_hours

KPI_COLUMNS = ["offered", "handled", "abandoned", "service_level", "abandon_rate", "asa_s", "wait_p90_s",
               "balked", "callbacks_accepted", "prevented", "overflowed",  # these four: peak levers
               # customer outcomes of the issues started on the channel (sim/journeys.py)
               "fcr", "csat", "unresolved_share", "resolution_time_p90_s", "contacts_per_issue", "revenue_at_risk"]


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


def csv_header(axes: list[Axis]) -> str:
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
    if not text.startswith(csv_header(axes)):
        raise PeaksimError(f"{path}: its columns do not match this sweep's parameters; "
                           "use another --out, or run without --resume to start over")
    n_channels = channels if isinstance(channels, int) else len(channels)
    known = None if isinstance(channels, int) else {str(c) for c in channels}
    columns = sweep_columns(axes)
    lines = text[len(csv_header(axes)):].split("\n")
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
