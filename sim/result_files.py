"""Reading the files peaksim wrote (results folders), with one-line errors that say how to fix.

Reports and `peaksim compare` read the same CSV tables and JSON files; a missing, empty,
garbled or outdated file must give the planner one line, not a traceback.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

import pandas as pd

from .errors import PeaksimError


def _existing(directory: Path, name: str, hint: str, optional: bool) -> Path | None:
    """`directory/name` if it exists; None when it may be missing; else a one-line error."""
    path = Path(directory) / name
    if path.is_file():
        return path
    if optional:
        return None
    raise PeaksimError(f"{path}: file not found; {hint}")


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
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise PeaksimError(f"{path}: the file is empty; {hint}") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
        raise PeaksimError(f"{path}: cannot be read as CSV ({reason}); {hint}") from None
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
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise PeaksimError(f"{path}: not valid JSON ({exc}); {hint}") from None
    if not isinstance(data, dict):
        raise PeaksimError(f"{path}: expected a JSON object (got {type(data).__name__}); {hint}")
    return data
