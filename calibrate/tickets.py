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
import io
import re
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import yaml

from calibrate import sources
from calibrate.schema import (BOOL_COLUMNS, COLUMNS, NUMBER_COLUMNS, REQUIRED, TIME_COLUMNS,
                              Described, TicketData, TicketError, drop_rows, finalise, parse_bools,
                              parse_numbers, parse_times, sha256_bytes)

__all__ = ["load_tickets", "load_mapping", "TicketData", "TicketError", "FORMATS", "MAPPINGS"]

FORMATS = ("generic", "technion", "uci")
MAPPINGS = Path(__file__).resolve().parent / "mappings"
MAPPING_KEYS = ("columns", "time_format", "tz", "sep", "encoding", "na_values", "values")
_SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


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
    for path in paths:
        data = _read_bytes(path)
        files.append((str(path), sha256_bytes(data)))
        if fmt == "technion":
            frame, n = sources.read_technion(path, _decode(path, data, "utf-8"), zone, dropped, notes, examples)
        elif fmt == "uci":
            frame, n = sources.read_uci(path, data, zone, dropped, notes, examples)
        else:
            frame, n = _read_generic(path, data, spec, zone, default_channel, dropped, notes, examples)
        if default_channel is not None:
            channel = frame["channel"] if "channel" in frame else pd.Series(pd.NA, index=frame.index, dtype="string")
            frame["channel"] = channel.astype("string").replace("", pd.NA).fillna(default_channel)
        frames.append(frame)
        rows_read += n
    contacts = finalise(pd.concat(frames, ignore_index=True), dropped, examples, zone)
    return TicketData(contacts=contacts, dropped=dict(dropped), rows_read=rows_read, files=files,
                      notes=dict(notes), drop_examples=examples)


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
        try:
            mapping = yaml.safe_load(Path(mapping).read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            raise TicketError(where, "mapping", "file does not exist", fix="check the path") from None
        except yaml.YAMLError as exc:
            raise TicketError(where, "mapping", "not valid YAML", got=Described(str(exc).splitlines()[0]),
                              fix="check indentation and quoting") from None
    if not isinstance(mapping, dict):
        raise TicketError(where, "mapping", "must be a mapping of keys", got=Described(type(mapping).__name__),
                          fix=f"use keys among {', '.join(MAPPING_KEYS)}")
    for key in mapping:
        if key not in MAPPING_KEYS:
            raise TicketError(where, key, "unknown mapping key", got=key, fix=f"use one of {', '.join(MAPPING_KEYS)}")
    for section in ("columns", "values"):
        for name in mapping.get(section) or {}:
            if name not in COLUMNS:
                raise TicketError(where, f"{section}.{name}", "not a generic column", got=name,
                                  fix=f"use one of {', '.join(COLUMNS)}")
    return dict(mapping)


def _read_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise TicketError(path, "file", "does not exist or is not a file", fix="check the path")
    data = path.read_bytes()
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


def _read_generic(path, data, spec, tz, default_channel, dropped, notes, examples):
    """CSV or Parquet by extension → generic columns, typed; returns (frame, rows read)."""
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            raw = pd.read_parquet(io.BytesIO(data))
        except ImportError:
            raise TicketError(path, "file", "reading Parquet needs pyarrow", fix="pip install 'peaksim[parquet]'") from None
        except Exception as exc:  # pyarrow's errors have no common public base class
            raise TicketError(path, "file", "not a readable Parquet file", got=Described(str(exc).split(".")[0]),
                              fix="export it again, or as CSV") from None
        rows = list(range(1, len(raw) + 1))
    else:
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
        col = raw[source]
        if name in values:
            col = col.astype("string").str.strip().replace({str(k): str(v) for k, v in values[name].items()})
        label = name if source == name else f"{source} ({name})"
        if name in TIME_COLUMNS:
            col, shifted, amb = parse_times(col, spec.get("time_format"), tz, path, label, rows)
            if shifted.any():
                notes["dst_nonexistent_shifted"] += int(shifted.sum())
            ambiguous |= amb
        elif name in NUMBER_COLUMNS:
            col = parse_numbers(col, path, label, rows)
        elif name in BOOL_COLUMNS:
            col = parse_bools(col, path, label, rows)
        frame[name] = col
    frame = drop_rows(frame, raw.isna().all(axis=1), "blank_row", dropped, examples)
    frame = drop_rows(frame, ambiguous, "dst_ambiguous_time", dropped, examples)
    return frame, len(raw)


def _read_csv(path, data, spec) -> pd.DataFrame:
    text = _decode(path, data, spec.get("encoding", "utf-8"))
    sep = spec.get("sep", ",")
    na_values = spec.get("na_values")
    try:
        raw = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=na_values is None,
                          na_values=na_values, skip_blank_lines=False)
    except pd.errors.EmptyDataError:
        raise TicketError(path, "file", "is empty", fix="export the tickets again") from None
    except pd.errors.ParserError as exc:
        detail = str(exc).strip().splitlines()[-1]
        line = re.search(r"line (\d+)", detail)
        raise TicketError(path, "file", "rows have different numbers of fields", got=Described(detail),
                          fix="check the separator and quoting of text fields",
                          row=int(line.group(1)) if line else None) from None
    header = next(csv.reader([text.lstrip("\ufeff").splitlines()[0]], delimiter=sep)) if len(sep) == 1 else []
    twice = sorted({c.strip() for c in header if [h.strip() for h in header].count(c.strip()) > 1})
    if twice:
        raise TicketError(path, "header", "a column name appears more than once", got=twice[0], row=1,
                          fix="rename or remove one of them, so it is clear which one holds the data")
    raw.columns = [str(c).strip() for c in raw.columns]
    if raw.shape[1] == 1:
        header = text.splitlines()[0]
        for candidate, name in _SEPARATORS.items():
            if candidate != sep and candidate in header:
                raise TicketError(path, "header", f"only one column found; the file looks {name}-separated",
                                  got=header, row=1,
                                  fix=f"set sep: {candidate!r} in the mapping file, or re-export it comma-separated")
    return raw
