"""Read last year's ticket exports into one tidy table of contacts (the generic schema).

Exports differ in column names, separators, encodings and time formats; the planner should not
have to clean them by hand, and must never get a silently wrong calibration from them. So reading
has two kinds of outcome:

* a file that cannot be read as intended (wrong separator, bad encoding, missing required columns,
  an unreadable time or number) raises :class:`TicketError` with a one-line message naming the
  file, row, field, offending value and a fix;
* a row that is readable but unusable (answered before it was created, a negative handle time, a
  duplicated id, a PHANTOM call ...) is dropped and counted in ``TicketData.dropped``.

Formats: ``generic`` (CSV or Parquet, with an optional mapping file for helpdesk exports — see
``calibrate/mappings/*.yaml``), ``technion`` and ``uci`` (the two public data sets in
``shared/data``, read by :mod:`calibrate.sources`). Column semantics are in :mod:`calibrate.schema`.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from sim.bounded_read import MB, read_limited
from sim.csv_safety import restore_cell, restore_series
from sim.errors import PeaksimError
from sim.yamlsource import load_yaml_with_lines

from calibrate import sources
from calibrate.schema import (BOOL_COLUMNS, COLUMNS, CSAT_COLUMNS, NUMBER_COLUMNS, REQUIRED, TIME_COLUMNS,
                              Described, TicketData, TicketError, drop_rows, finalise, parse_bools, parse_csat,
                              parse_numbers, parse_times, sha256_bytes, utc_offsets)

__all__ = ["load_tickets", "load_mapping", "TicketData", "TicketError", "FORMATS", "MAPPINGS"]

FORMATS = ("generic", "technion", "uci")
MAPPINGS = Path(__file__).resolve().parent / "mappings"
MAPPING_KEYS = ("columns", "time_format", "tz", "sep", "encoding", "na_values", "values")
MAX_TICKET_BYTES = 1000 * MB  # per file; split bigger exports (several files are concatenated)
_SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
WIDE_EXPORT = 500  # columns; wider exports are parsed for the columns peaksim reads only


def load_tickets(paths, fmt="generic", mapping=None, tz=None, default_channel=None) -> TicketData:
    """Read one or more ticket files into a :class:`TicketData`.

    Parameters
    ----------
    paths : path or list of paths. Several files (e.g. monthly exports) are concatenated;
        duplicate contact ids across them are dropped and counted.
    fmt : ``"generic"``, ``"technion"`` or ``"uci"``.
    mapping : for ``generic`` only: a dict or the path of a YAML file
        ``{columns: {generic_name: source_column}, time_format, tz, sep, encoding, na_values,
        values: {generic_name: {source_value: value}}}``.
    tz : IANA zone for times written without a UTC offset. ``None`` means the mapping's ``tz``,
        else the format's own zone (``Asia/Jerusalem`` for technion), else ``UTC`` (which keeps
        wall-clock hours as written).
    default_channel : channel for rows (or files) without one.
    """
    if fmt not in FORMATS:
        raise ValueError(f"The 'fmt' parameter of load_tickets must be one of {FORMATS}. Got {fmt!r} instead.")
    if isinstance(paths, (str, Path)):
        paths = [paths]
    paths = [Path(p) for p in paths]
    if not paths:
        raise ValueError("The 'paths' parameter of load_tickets must name at least one file. Got [] instead.")
    seen = {}
    for path in paths:  # e.g. overlapping wildcards: every contact would count twice in the arrival rates
        key = path.resolve()
        if key in seen:
            raise TicketError(path, "file", "given more than once", got=Described(f"also given as {seen[key]}"),
                              fix="give each export once (check overlapping wildcards)")
        seen[key] = path
    if mapping is not None and fmt != "generic":
        raise ValueError(f"The 'mapping' parameter of load_tickets only applies to fmt='generic'. Got fmt={fmt!r}.")
    spec = load_mapping(mapping) if fmt == "generic" else {}
    zone = tz or spec.get("tz") or ("Asia/Jerusalem" if fmt == "technion" else "UTC")
    try:
        ZoneInfo(str(zone))
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise TicketError("tz" if tz else "mapping", "tz", "unknown time zone", got=str(zone),
                          fix="use an IANA name such as Europe/Berlin") from None
    frames, files, dropped, notes, examples, rows_read = [], [], Counter(), Counter(), {}, 0
    offsets = set() if fmt == "generic" and not (tz or spec.get("tz")) else None
    for path in paths:
        data = _read_bytes(path)
        files.append((str(path), sha256_bytes(data)))
        if fmt == "technion":
            frame, n = sources.read_technion(path, _decode(path, data, "utf-8"), zone, dropped, notes, examples)
        elif fmt == "uci":
            frame, n = sources.read_uci(path, data, zone, dropped, notes, examples)
        else:
            frame, n = _read_generic(path, data, spec, zone, default_channel, dropped, notes, examples, offsets)
        if default_channel is not None:
            channel = frame["channel"] if "channel" in frame else pd.Series(pd.NA, index=frame.index, dtype="string")
            frame["channel"] = channel.astype("string").replace("", pd.NA).fillna(default_channel)
        frames.append(frame)
        rows_read += n
    if offsets:
        zone = _zone_from_offsets(offsets, notes)
    contacts = finalise(pd.concat(frames, ignore_index=True), dropped, examples, zone)
    return TicketData(contacts=contacts, dropped=dict(dropped), rows_read=rows_read, files=files,
                      notes=dict(notes), drop_examples=examples)


def _zone_from_offsets(offsets: set, notes: Counter) -> str:
    """The zone to express times in when no ``tz`` was given, from what the files' times carry.

    Arrival profiles are counted in wall-clock hours and days, so times written as
    ``10:00+01:00`` must stay 10:00: converting them to UTC would move every contact an hour and
    split each local day across two dates. One offset → that fixed offset (``Etc/GMT-1`` is
    UTC+01:00); one zone-aware Parquet zone → that zone. Several offsets (a DST change) name no
    single zone: times stay in UTC and a note says to pass ``tz``. Naive times are wall-clock UTC
    already, so files with any naive time are left as they are.
    """
    zones = {o[5:] for o in offsets if o.startswith("zone:")}
    fixed = {o for o in offsets if o[0] in "+-"}
    if "naive" in offsets:
        return "UTC"
    if zones and not fixed:
        if len(zones) == 1:
            return zones.pop()
    elif len(fixed) == 1 and not zones:
        (offset,) = fixed
        sign, hours, minutes = offset[0], int(offset[1:3]), int(offset[4:6])
        if minutes == 0 and (hours == 0 or (sign == "+" and hours <= 14) or (sign == "-" and hours <= 12)):
            return "UTC" if hours == 0 else f"Etc/GMT{'-' if sign == '+' else '+'}{hours}"  # POSIX sign: inverted
    notes[f"utc_offsets_read_as_utc: {', '.join(sorted(fixed | zones))}"] += 1
    return "UTC"


def load_mapping(mapping) -> dict:
    """Read and check a mapping: a dict, a YAML path, or the name of a shipped one (``"zendesk"``,
    ``"freshdesk"``: ``calibrate/mappings/<name>.yaml``). Unknown keys and column names are errors."""
    if mapping is None:
        return {}
    if isinstance(mapping, str) and not Path(mapping).exists() and (MAPPINGS / f"{mapping}.yaml").is_file():
        mapping = MAPPINGS / f"{mapping}.yaml"
    where = "mapping"
    if isinstance(mapping, (str, Path)):
        where = str(mapping)
        if not Path(mapping).exists():
            shipped = ", ".join(sorted(p.stem for p in MAPPINGS.glob("*.yaml")))
            raise TicketError(where, "mapping", "file does not exist",
                              fix=f"check the path, or name a shipped mapping: {shipped}")
        try:  # bounded, non-regular files refused, impossible dates kept as text (see sim.yamlsource)
            mapping, _ = load_yaml_with_lines(Path(mapping), "mapping file")
        except PeaksimError as exc:
            raise TicketError.located(exc.lines[0], where, "mapping") from None
        mapping = {} if mapping is None else mapping
    if not isinstance(mapping, dict):
        raise TicketError(where, "mapping", "must be a mapping of keys", got=Described(type(mapping).__name__),
                          fix=f"use keys among {', '.join(MAPPING_KEYS)}")
    for key in mapping:
        if key not in MAPPING_KEYS:
            raise TicketError(where, key, "unknown mapping key", got=key, fix=f"use one of {', '.join(MAPPING_KEYS)}")
    for section in ("columns", "values"):
        if not isinstance(mapping.get(section) or {}, dict):
            raise TicketError(where, section, "must be a mapping of generic column names",
                              got=Described(type(mapping[section]).__name__),
                              fix=f"write one `generic_name: ...` per line, e.g. `channel: {'Via' if section == 'columns' else '{Mail: email}'}`")
        for name in mapping.get(section) or {}:
            if name not in COLUMNS:
                raise TicketError(where, f"{section}.{name}", "not a generic column", got=name,
                                  fix=f"use one of {', '.join(COLUMNS)}")
    _check_mapping_values(where, mapping)
    return dict(mapping)


def _check_mapping_values(where, mapping):
    """Each value of a mapping has the kind the reader uses, so a typo is a one-line error, not a crash."""
    def scalar(value):
        return isinstance(value, (str, int, float)) and not isinstance(value, bool)

    for name, source in (mapping.get("columns") or {}).items():
        if not scalar(source):
            raise TicketError(where, f"columns.{name}", "must be a column name of the export",
                              got=Described(repr(source)),
                              fix="write the export's column header as text, e.g. `created_at: Created at`")
    for name, recode in (mapping.get("values") or {}).items():
        if not isinstance(recode, dict):
            raise TicketError(where, f"values.{name}", "must be a mapping of export values to generic values",
                              got=Described(type(recode).__name__), fix="write e.g. `channel: {Mail: email, Phone: voice}`")
        for old, new in recode.items():
            if not scalar(new) and not isinstance(new, bool):
                raise TicketError(where, f"values.{name}.{old}", "must be a value", got=Described(repr(new)),
                                  fix=f"give the generic value to use for {old!r}, or remove the line")
    for key in ("time_format", "tz", "sep", "encoding"):
        value = mapping.get(key)
        if value is not None and (not isinstance(value, str) or not value):
            raise TicketError(where, key, "must be text" if key != "sep" else "must be a separator such as ',' or ';'",
                              got=Described(repr(value)), fix=_MAPPING_EXAMPLES[key])
    if mapping.get("tz") is not None:
        try:
            ZoneInfo(mapping["tz"])
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise TicketError(where, "tz", "unknown time zone", got=mapping["tz"],
                              fix="use an IANA name such as Europe/Berlin") from None
    if mapping.get("encoding") is not None:
        _check_encoding(where, mapping["encoding"])
    if mapping.get("sep") is not None:
        _check_separator(where, mapping["sep"])
    if mapping.get("time_format") is not None:
        _check_time_format(where, mapping["time_format"])
    na = mapping.get("na_values")
    if na is not None and not (scalar(na) or (isinstance(na, list) and all(scalar(v) for v in na))):
        raise TicketError(where, "na_values", "must be a value or a list of values that mean 'empty'",
                          got=Described(repr(na)), fix="write e.g. `na_values: ['-', 'n/a']`")


def _check_encoding(where, encoding: str) -> None:
    """A text encoding Python knows; codecs that are not text encodings (rot13, hex, base64) are refused."""
    try:
        b"peaksim".decode(encoding)
    except LookupError as exc:
        problem = "not a text encoding" if "not a text encoding" in str(exc) else "unknown encoding"
        raise TicketError(where, "encoding", problem, got=encoding, fix=_MAPPING_EXAMPLES["encoding"]) from None
    except (UnicodeDecodeError, ValueError):
        pass  # a real text encoding that merely cannot decode this sample (e.g. utf-16): fine


def _check_separator(where, sep: str) -> None:
    """One character that can separate fields: not a line break, a quote or a NUL."""
    if len(sep) != 1 or sep in '\n\r"\x00' or (sep.isspace() and sep not in " \t"):
        raise TicketError(where, "sep", "must be one character that is not a line break, quote or NUL",
                          got=sep, fix=_MAPPING_EXAMPLES["sep"])


_SAMPLE_TIME = dt.datetime(2024, 11, 29, 14, 5, 7, 123000)


def _check_time_format(where, fmt: str) -> None:
    """A strptime format that can read back a time it wrote (``%`` alone, ``%Q`` or ``%s`` cannot)."""
    if fmt in ("unix", "unix_ms"):
        return
    try:
        written = _SAMPLE_TIME.strftime(fmt)
        dt.datetime.strptime(written, fmt)
        pd.to_datetime(pd.Series([written]), format=fmt)
    except (ValueError, TypeError, OverflowError) as exc:
        reason = " ".join(str(exc).split())[:80] or type(exc).__name__
        raise TicketError(where, "time_format", f"not a usable strptime format ({reason})", got=fmt,
                          fix=_MAPPING_EXAMPLES["time_format"]) from None
    if written == fmt:
        raise TicketError(where, "time_format", "holds no date or time directive", got=fmt,
                          fix=_MAPPING_EXAMPLES["time_format"])


_MAPPING_EXAMPLES = {"time_format": "write e.g. time_format: '%Y-%m-%d %H:%M:%S' (or unix, unix_ms)",
                     "tz": "use an IANA name such as Europe/Berlin",
                     "sep": "write e.g. sep: ';' (or '\\t' for tabs)",
                     "encoding": "use e.g. utf-8, latin-1 or cp1252"}


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise TicketError(path, "file", "does not exist or is not a file", fix="check the path")
    data = read_limited(path, MAX_TICKET_BYTES, "ticket file (CSV or Parquet)",
                        error=lambda message: TicketError.located(message, path))
    if not data.strip():
        raise TicketError(path, "file", "is empty", got=Described(f"{len(data)} bytes"), fix="export the tickets again")
    return data


def _decode(path: Path, data: bytes, encoding: str) -> str:
    try:
        return data.decode("utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding)
    except UnicodeDecodeError as exc:
        row = data[: exc.start].count(b"\n") + 1
        raise TicketError(path, "encoding", f"not valid {encoding}", got=Described(f"byte 0x{data[exc.start]:02x}"),
                          fix="re-save the file as UTF-8, or set encoding (e.g. latin-1) in the mapping file",
                          row=row) from None


def _read_generic(path, data, spec, tz, default_channel, dropped, notes, examples, offsets=None):
    """CSV or Parquet by extension → generic columns, typed; returns (frame, rows read). ``offsets``,
    a set, collects the UTC offsets the time columns are written with (:func:`utc_offsets`)."""
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            raw = pd.read_parquet(io.BytesIO(data))
        except ImportError:
            raise TicketError(path, "file", "reading Parquet needs pyarrow", fix="pip install 'peaksim[parquet]'") from None
        except Exception as exc:  # pyarrow's errors have no common public base class
            raise TicketError(path, "file", "not a readable Parquet file", got=Described(str(exc).split(".")[0]),
                              fix="export it again, or as CSV") from None
        rows = list(range(1, len(raw) + 1))
        _refuse_nested_cells(path, raw, rows)
    else:
        for magic, what in ((b"PK\x03\x04", "a zip archive (a zipped export or an Excel workbook)"),
                            (b"\xd0\xcf\x11\xe0", "an Excel 97-2003 workbook")):
            if data.startswith(magic):  # else it would be reported as "not valid utf-8"
                raise TicketError(path, "file", f"{what}, not a CSV or Parquet file",
                                  got=Described(f"starts with {magic!r}"),
                                  fix="unzip it, or save the sheet as CSV (UTF-8) or Parquet; "
                                      "the UCI incident log zip is read with --format uci")
        raw = _read_csv(path, data, spec)
        rows = list(range(2, len(raw) + 2))
    if raw.empty or raw.isna().all(axis=1).all():
        raise TicketError(path, "file", "has a header but no data rows",
                          got=Described(f"{len(raw)} rows, all blank" if len(raw) else "only the header"),
                          fix="export the tickets again")
    columns = dict(spec.get("columns") or {})
    for name in COLUMNS:
        if name not in columns and name in raw.columns:
            columns[name] = name
    missing = []
    for name in REQUIRED:
        source = columns.get(name)
        if source in raw.columns or (name == "channel" and default_channel is not None):
            continue
        missing.append(name if source is None else f"{name} (mapped to {source!r})")
    if missing:
        raise TicketError(path, "columns", f"missing required column(s) {', '.join(missing)}",
                          got=Described(", ".join(map(str, raw.columns[:8]))),
                          fix="rename them, pass a mapping file (see calibrate/mappings/) or default_channel")
    for name, source in columns.items():  # optional columns a mapping names but this export lacks
        if source not in raw.columns:
            notes[f"mapped_column_absent: {source}"] += 1
    frame = pd.DataFrame(index=raw.index)
    frame["_file"], frame["_row"] = str(path), rows
    values = spec.get("values") or {}
    ambiguous = pd.Series(False, index=raw.index)
    for name, source in columns.items():
        if source not in raw.columns:
            continue
        col = restore_series(raw[source])  # only the columns used: a wide export stays cheap
        if name in values:
            col = col.astype("string").str.strip().replace({str(k): str(v) for k, v in values[name].items()})
        label = name if source == name else f"{source} ({name})"
        if name in TIME_COLUMNS:
            if offsets is not None:
                offsets |= utc_offsets(col, spec.get("time_format"))
            col, shifted, amb = parse_times(col, spec.get("time_format"), tz, path, label, rows)
            if shifted.any():
                notes["dst_nonexistent_shifted"] += int(shifted.sum())
            ambiguous |= amb
        elif name in NUMBER_COLUMNS:
            col = parse_numbers(col, path, label, rows)
        elif name in BOOL_COLUMNS:
            col = parse_bools(col, path, label, rows)
        elif name in CSAT_COLUMNS:
            col = parse_csat(col, path, label, rows)
        frame[name] = col
    frame = drop_rows(frame, raw.isna().all(axis=1), "blank_row", dropped, examples)
    frame = drop_rows(frame, ambiguous, "dst_ambiguous_time", dropped, examples)
    return frame, len(raw)


def _refuse_nested_cells(path, raw: pd.DataFrame, rows: list) -> None:
    """A Parquet cell holding a list or mapping (`['voice']`) is not one value: refuse it, naming the
    row and column, rather than read it as the text "['voice']"."""
    for column in raw.columns:
        values = raw[column]
        if values.dtype != object:
            continue
        nested = values.map(lambda v: isinstance(v, (list, tuple, dict, set, np.ndarray)))
        if nested.any():
            i = int(np.flatnonzero(nested.to_numpy())[0])
            shown = values.iloc[i]
            shown = list(shown) if isinstance(shown, np.ndarray) else shown
            raise TicketError(path, column, "holds a list or mapping, not one value", got=Described(repr(shown)),
                              row=rows[i], fix="store one value per cell (e.g. the channel as text)")


def _check_row_lengths(path, text, sep):
    """A row with more fields than the header has a value no column can hold: refuse it, naming the
    row; extra fields that are all empty (a trailing separator) are harmless and ignored."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=sep)
    try:
        width = len(next(reader))
        line = reader.line_num + 1
        for row, record in enumerate(reader, start=2):  # the spreadsheet row; a quoted value may span lines
            extra = [v for v in record[width:] if v.strip()]
            if extra:
                raise TicketError(path, "file", "rows have different numbers of fields",
                                  got=Described(f"Expected {width} fields in line {line}, saw {len(record)}: "
                                                f"{extra[0]!r} has no column"), row=row,
                                  fix="check the separator and quoting of text fields, or name the extra column")
            line = reader.line_num + 1
    except (csv.Error, StopIteration):
        return  # pandas reports malformed quoting with its own message


def _read_csv(path, data, spec) -> pd.DataFrame:
    text = _decode(path, data, spec.get("encoding", "utf-8"))
    sep = spec.get("sep", ",")
    na_values = spec.get("na_values")
    if len(sep) == 1:
        _check_row_lengths(path, text, sep)
    header = next(csv.reader([text.lstrip("\ufeff").splitlines()[0]], delimiter=sep)) if len(sep) == 1 else []
    usecols = None
    if len(header) > WIDE_EXPORT:  # parse only the columns peaksim reads: linear, and fast, in the width
        wanted = set(COLUMNS) | {str(v).strip() for v in (spec.get("columns") or {}).values()}
        usecols = [0] + [i for i, h in enumerate(header) if i and restore_cell(h.strip()) in wanted]
    try:
        # index_col=False: when every data row ends in a separator (a trailing empty field), pandas
        # would otherwise take the first column as the index and shift every column left by one
        raw = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=na_values is None,
                          na_values=na_values, skip_blank_lines=False, index_col=False, usecols=usecols)
    except pd.errors.EmptyDataError:
        raise TicketError(path, "file", "is empty", fix="export the tickets again") from None
    except pd.errors.ParserError as exc:
        detail = str(exc).strip().splitlines()[-1]
        line = re.search(r"line (\d+)", detail)
        raise TicketError(path, "file", "rows have different numbers of fields", got=Described(detail),
                          fix="check the separator and quoting of text fields",
                          row=int(line.group(1)) if line else None) from None
    names = [h.strip() for h in header if h.strip()]  # empty names: a spreadsheet's unused trailing columns
    twice = sorted(name for name, n in Counter(names).items() if n > 1)  # (count() per name is quadratic)
    if twice:
        raise TicketError(path, "header", "a column name appears more than once", got=twice[0], row=1,
                          fix="rename or remove one of them, so it is clear which one holds the data")
    raw.columns = [restore_cell(str(c).strip()) for c in raw.columns]  # `'=x` (formula-safe export) is `=x`
    if raw.shape[1] == 1:
        header = text.lstrip("\ufeff").splitlines()[0]
        for candidate, name in _SEPARATORS.items():
            if candidate != sep and candidate in header:
                raise TicketError(path, "header", f"only one column found; the file looks {name}-separated",
                                  got=header, row=1,
                                  fix=f"set sep: {candidate!r} in the mapping file, or re-export it comma-separated")
    return raw
