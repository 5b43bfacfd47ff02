"""Reading the files peaksim wrote (results folders), with one-line errors that say how to fix.

Reports and `peaksim compare` read the same CSV tables and JSON files; a missing, empty,
garbled, oversized, edited or outdated file must give the planner one line, not a traceback.
Files are read through the bounded reader (a FIFO or device in a results folder is refused, not
read), and the JSON files' fields that reports and `compare` use are checked for their types
(`JSON_SHAPES`) before anything uses them: an edited `run.json` whose `replications` is text is
named with its field, not a crash three modules later.
"""
from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Iterable

import pandas as pd

from .bounded_read import MB, read_limited
from .csv_safety import restore_frame
from .errors import PeaksimError, describe

MAX_TABLE_BYTES = 1000 * MB
MAX_JSON_BYTES = 200 * MB


def _existing(directory: Path, name: str, hint: str, optional: bool) -> Path | None:
    """`directory/name` if it exists; None when it may be missing; else a one-line error."""
    path = Path(directory) / name
    if path.exists() or path.is_symlink():  # what is there is checked when it is read (regular files only)
        return path
    if optional:
        return None
    raise PeaksimError(f"{path}: file not found; {hint}")


def _bytes(path: Path, limit: int, hint: str) -> bytes:
    return read_limited(path, limit, "results file", error=lambda message: PeaksimError(f"{message} ({hint})"))


def read_table(directory: Path, name: str, hint: str, required: Iterable[str] = (),
               numeric: Iterable[str] = (), times: Iterable[str] = (), optional: bool = False) -> pd.DataFrame | None:
    """Read `directory/name` as CSV, or raise a one-line `PeaksimError` that says how to fix it.

    `required` columns must be present; `numeric` columns (when present) must hold numbers;
    `times` columns are ISO times with offset, turned into local wall-clock datetimes for the
    x axes (the offset is dropped: planners read the centre's local time). With
    `optional=True`, a missing file gives None instead of an error.
    """
    path = _existing(directory, name, hint, optional)
    if path is None:
        return None
    data = _bytes(path, MAX_TABLE_BYTES, hint)
    try:
        frame = pd.read_csv(io.BytesIO(data))
    except pd.errors.EmptyDataError:
        raise PeaksimError(f"{path}: the file is empty; {hint}") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
        raise PeaksimError(f"{path}: cannot be read as CSV ({reason}); {hint}") from None
    frame = restore_frame(frame)  # names peaksim neutralised against formula injection read back as written
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise PeaksimError(f"{path}: missing column(s) {', '.join(missing)}; {hint}")
    for column in numeric:
        if column in frame.columns:
            try:
                frame[column] = pd.to_numeric(frame[column])
            except (ValueError, TypeError):
                bad = frame[column][pd.to_numeric(frame[column], errors="coerce").isna() & frame[column].notna()]
                raise PeaksimError(f"{path}: column {column} must hold numbers (got {str(bad.iloc[0])[:40]!r}); "
                                   f"{hint}") from None
    for column in times:
        if column in frame.columns:
            frame[column] = _local_times(frame[column], path, column, hint)
    return frame


def _local_times(values: pd.Series, path: Path, column: str, hint: str) -> pd.Series:
    text = values.astype(str)
    try:
        return pd.to_datetime(text.str.slice(0, 19), format="ISO8601")
    except (ValueError, TypeError):
        raise PeaksimError(f"{path}: column {column} must hold ISO times such as 2026-11-27T08:00:00+01:00 "
                           f"(got {text.iloc[0][:40]!r}); {hint}") from None


def read_json(directory: Path, name: str, hint: str, optional: bool = False) -> dict | None:
    """Read `directory/name` as a JSON object, or raise a one-line `PeaksimError`."""
    path = _existing(directory, name, hint, optional)
    if path is None:
        return None
    raw = _bytes(path, MAX_JSON_BYTES, hint)
    try:
        data = json.loads(raw.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        reason = " ".join(str(exc).split())[:120] or type(exc).__name__
        raise PeaksimError(f"{path}: not valid JSON ({reason}); {hint}") from None
    if not isinstance(data, dict):
        raise PeaksimError(f"{path}: expected a JSON object (got {type(data).__name__}); {hint}")
    check_shape(data, JSON_SHAPES.get(Path(name).name, {}), path, hint)
    return data


# --- the fields of peaksim's JSON files that readers use, with their JSON types --------------------
TEXT, INT, NUMBER, BOOL, LIST, DICT = "text", "a whole number", "a number", "true or false", "a list", "a mapping"
_WARNINGS = [(TEXT, {"message": TEXT, "kind": TEXT})]  # items: a text, or a mapping like this
_SCENARIO = {"name": TEXT, "channels": {"*": {"kind": TEXT, "service_level": {"threshold": NUMBER, "target": NUMBER}}},
             "agents": [{"name": TEXT}]}
_COMMON = {"scenario": TEXT, "seed": INT, "replications": INT, "peaksim_version": TEXT, "scenario_sha256": TEXT,
           "contacts_simulated": INT, "wall_seconds": NUMBER, "status": TEXT, "warnings": _WARNINGS,
           "scenario_definition": _SCENARIO}
_SIDE = {"label": TEXT, "directory": TEXT, "scenario": TEXT, "scenario_sha256": TEXT, "seed": INT,
         "replications": INT, "peaksim_version": TEXT, "warnings": _WARNINGS}
JSON_SHAPES = {
    "run.json": {**_COMMON, "replications_requested": INT, "command": [TEXT]},
    "sweep.json": {**_COMMON, "points": INT, "cost_per_hour": NUMBER, "axes": {"*": [NUMBER]},
                   "best_point": (INT, {"point": INT}), "point_warnings": {"*": _WARNINGS},
                   "marginal_value_of_one_more_agent": [{"axis": TEXT, "per_agent": {"*": {"*": NUMBER}}}],
                   "marginal_values": ([{}], {}), "marginal": ([{}], {})},
    "staffing.json": _COMMON,
    "compare.json": {"a": _SIDE, "b": _SIDE, "method": TEXT, "scenario_definitions": {"a": _SCENARIO, "b": _SCENARIO}},
    "backtest.json": _COMMON,
    "calibrate.json": {"format": TEXT, "interval": TEXT, "skipped": [TEXT], "warnings": _WARNINGS},
}


def _kind(value) -> str:
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT
    if isinstance(value, float):
        return NUMBER
    if isinstance(value, str):
        return TEXT
    return LIST if isinstance(value, list) else DICT if isinstance(value, dict) else type(value).__name__


def _fits(value, shape) -> bool:
    """Whether `value` has the JSON kind `shape` asks for (children are checked separately)."""
    if isinstance(shape, tuple):
        return any(_fits(value, s) for s in shape)
    kind = _kind(value)
    if isinstance(shape, dict):
        return kind == DICT
    if isinstance(shape, list):
        return kind == LIST
    return kind == shape or (shape == NUMBER and kind == INT)


def _wanted(shape) -> str:
    if isinstance(shape, tuple):
        return " or ".join(_wanted(s) for s in shape)
    return DICT if isinstance(shape, dict) else LIST if isinstance(shape, list) else shape


def check_shape(value, shape, path: Path, hint: str, where: str = "") -> None:
    """Raise a one-line PeaksimError naming the first field of `value` whose JSON type differs from `shape`.

    `shape` is a kind (TEXT, INT …), a mapping of field → shape (`"*"`: every value), a one-item list
    (every item has that shape) or a tuple of alternatives. Missing fields and nulls are accepted:
    readers treat them as absent.
    """
    if value is None:
        return
    if not _fits(value, shape):
        raise PeaksimError(f"{path}: {where or '(top level)'}: must be {_wanted(shape)} (got {describe(value)}); "
                           f"the file was edited or damaged: {hint}")
    if isinstance(shape, tuple):
        shape = next(s for s in shape if _fits(value, s))
    if isinstance(shape, dict):
        for key, sub in shape.items():
            for name, item in (value.items() if key == "*" else [(key, value.get(key))]):
                check_shape(item, sub, path, hint, f"{where}.{name}" if where else str(name))
    elif isinstance(shape, list) and shape:
        for i, item in enumerate(value):
            check_shape(item, shape[0], path, hint, f"{where}[{i}]")
