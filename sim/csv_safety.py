"""CSV cells that a spreadsheet would run as formulas, neutralised as OWASP recommends.

Channel, reason and group names come from planners' scenario files and from ticket exports, and
they reach every CSV peaksim writes. A spreadsheet opening `summary.csv` treats a cell that
starts with `=`, `+`, `-` or `@` as a formula (`=HYPERLINK(...)`, `@SUM(...)`, DDE payloads), and
tab or carriage return as a way to smuggle one into the next cell. The OWASP "CSV Injection"
rule: prefix such a cell with a single quote, which spreadsheets show as text and do not
evaluate. peaksim applies it to every *text* cell and column name of every CSV it writes
(numbers such as `-0.5` in numeric columns are numbers, not text, and are left alone), plus
the NUL of ASVS 1.2.10 and the full-width `＝＋－＠` that some spreadsheets also read as formula
signs. Cells are then quoted by the CSV writer as RFC 4180 requires (quotes doubled).

Reading a CSV that peaksim wrote (`peaksim report`, `compare`, `calibrate` on `synth` output)
undoes the prefix (`restore_cell`), so names round-trip: `=sales` is written `'=sales` and read
back as `=sales`. Only a quote followed by one of the trigger characters is removed, so other
text starting with a quote is read as written.
"""

from __future__ import annotations

import csv

import pandas as pd

TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\x00", "\uff1d", "\uff0b", "\uff0d", "\uff20")
PREFIX = "'"


def neutralise_cell(value):
    """`'` + value for text starting with a formula trigger; anything else unchanged."""
    if isinstance(value, str) and value.startswith(TRIGGERS):
        return PREFIX + value
    return value


def restore_cell(value):
    """Undo `neutralise_cell` on a value read back from a peaksim CSV."""
    if isinstance(value, str) and value.startswith(PREFIX) and value[1:2] and value[1:].startswith(TRIGGERS):
        return value[1:]
    return value


def _text_columns(frame: pd.DataFrame) -> list:
    return [c for c in frame.columns
            if pd.api.types.is_object_dtype(frame[c].dtype) or pd.api.types.is_string_dtype(frame[c].dtype)
            or isinstance(frame[c].dtype, pd.CategoricalDtype)]


def _starting(values: pd.Series, prefixes: tuple) -> pd.Series:
    """Which cells are text starting with one of `prefixes` (vectorised where pandas can)."""
    try:
        return values.str.startswith(prefixes, na=False).astype(bool)
    except (AttributeError, TypeError):  # no text at all in the column, or a mixed column
        return values.map(lambda v: isinstance(v, str) and v.startswith(prefixes)).astype(bool)


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` safe to write as CSV (text cells and column names neutralised); `frame`
    itself is returned when nothing needs changing, so the common case costs one scan."""
    columns = [neutralise_cell(str(c)) if isinstance(c, str) else c for c in frame.columns]
    changes = {}
    for column in _text_columns(frame):
        values = frame[column]
        if _starting(values, TRIGGERS).any():
            changes[column] = values.map(neutralise_cell)
    if not changes and columns == list(frame.columns):
        return frame
    out = frame.assign(**{str(k): v for k, v in changes.items()}) if changes else frame.copy()
    out.columns = columns
    return out


def restore_series(values: pd.Series) -> pd.Series:
    """One column read back from a peaksim (or other formula-safe) CSV, neutralised cells restored."""
    if not (pd.api.types.is_object_dtype(values.dtype) or pd.api.types.is_string_dtype(values.dtype)):
        return values
    return values.map(restore_cell) if _starting(values, (PREFIX,)).any() else values


def restore_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` as read from a peaksim CSV, with neutralised text cells and column names restored."""
    frame.columns = [restore_cell(c) for c in frame.columns]
    for column in _text_columns(frame):
        values = frame[column]
        if _starting(values, (PREFIX,)).any():
            frame[column] = values.map(restore_cell)
    return frame


def to_csv_text(frame: pd.DataFrame, header: bool = True, **options) -> str:
    """`frame.to_csv` with cells neutralised: the one way peaksim turns a table into CSV text.

    A text cell holding a carriage return anywhere would be written unquoted (the writer only quotes
    characters of its `\\n` line terminator) and split the row in a spreadsheet: such a table is
    written with every text cell quoted."""
    safe = neutralise_frame(frame)
    if any(_holding(safe[c], "\r").any() for c in _text_columns(safe)) or any("\r" in str(c) for c in safe.columns):
        options.setdefault("quoting", csv.QUOTE_NONNUMERIC)
    return safe.to_csv(index=False, header=header, lineterminator="\n", **options)


def _holding(values: pd.Series, char: str) -> pd.Series:
    try:
        return values.str.contains(char, regex=False, na=False).astype(bool)
    except (AttributeError, TypeError):
        return values.map(lambda v: isinstance(v, str) and char in v).astype(bool)
