"""The ticket-data commands: calibrate (fit a model to tickets), synth (tickets from a scenario) and forecast."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from .cli_common import _duration, _folder, _note, _write_report, app, cli_command, out, print_verdict
from .errors import PeaksimError
from .terminal import styled


@contextlib.contextmanager
def _data_errors(prefix: str = ""):
    """Ticket-file and fitting problems reach the planner as one line and exit 2, like scenario errors."""
    from calibrate import FitError, TicketError
    from calibrate.backtest import BacktestError

    try:
        yield
    except (TicketError, FitError, BacktestError) as exc:
        text = " ".join(str(exc).split())
        raise PeaksimError(f"{prefix}{text}") from None


def _check_interval(interval: str) -> str:
    from .units import parse_duration

    try:
        seconds = float(parse_duration(interval))
    except (TypeError, ValueError):
        seconds = -1.0
    if seconds not in (900.0, 1800.0, 3600.0):
        raise PeaksimError(f"--interval: must be 15min, 30min or 60min (got {interval!r})")
    return f"{int(seconds // 60)}min"


def _load(files, fmt, mapping=None, tz=None, default_channel=None):
    from calibrate import load_tickets
    from calibrate.tickets import FORMATS

    if fmt not in FORMATS:
        raise PeaksimError(f"--format: must be one of {', '.join(FORMATS)} (got {fmt!r})")
    if mapping is not None and fmt != "generic":
        raise PeaksimError(f"--mapping: only applies to --format generic (got --format {fmt})")
    if tz is not None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise PeaksimError(f"--tz: unknown time zone (got {tz!r}); use an IANA name such as Europe/Berlin") from None
    with _data_errors():
        return load_tickets([str(f) for f in files], fmt=fmt, mapping=mapping, tz=tz, default_channel=default_channel)


def _zone_notes(data, files) -> None:
    """Times written with several UTC offsets and no --tz: say the hours are UTC, not local."""
    for key in data.notes:
        if key.startswith("utc_offsets_read_as_utc: "):
            offsets = key.split(": ", 1)[1]
            _note(f"note: {files[0]}{' …' if len(files) > 1 else ''}: times carry several UTC offsets ({offsets}) "
                  "and no --tz was given, so arrival hours and days are counted in UTC; pass --tz "
                  "(e.g. Europe/Berlin) to count them in local time")


def _drops_line(data) -> str:
    drops = ", ".join(f"{k} {v:,}" for k, v in sorted(data.dropped.items(), key=lambda kv: -kv[1])) or "none"
    return f"{data.rows_read:,} rows read, {data.rows_used:,} used; dropped: {drops}"


@app.command()
@cli_command
def calibrate(
    files: list[Path] = typer.Argument(..., help="ticket files (CSV or Parquet; several are concatenated)"),
    fmt: str = typer.Option("generic", "--format", "-f", help="generic, technion or uci"),
    mapping: Optional[str] = typer.Option(None, "--mapping", "-m", help="column mapping YAML (or a shipped one: zendesk, freshdesk)"),
    tz: Optional[str] = typer.Option(None, "--tz", help="IANA zone of times written without offset (default: the mapping's, else the format's, else UTC)"),
    default_channel: Optional[str] = typer.Option(None, "--default-channel", help="channel for rows without one"),
    interval: str = typer.Option("60min", "--interval", help="arrival-profile interval: 15min, 30min or 60min"),
    min_n: int = typer.Option(50, "--min-n", min=10, help="fewest values (abandonments, for patience) a fit needs"),
    events: Optional[Path] = typer.Option(None, "--events", help="events YAML: name → dates per year (White Friday, a sale, …)"),
    window: Optional[list[str]] = typer.Option(None, "--window", help="repeat-contact window NAME=DURATION (redial, chaser, reopen, bot_bounce), e.g. redial=12h"),
    out_dir: Path = typer.Option(Path("results/calibration"), "--out", "-o", help="output directory"),
    report: bool = typer.Option(True, "--report/--no-report", help="write report.html"),
    promise: Optional[list[str]] = typer.Option(None, "--promise", help="CHANNEL=DURATION first-response promise, for the CSAT fit's late_first_response (e.g. voice=20s); repeat"),
    issue_window: str = typer.Option("7d", "--issue-window", help="a customer's contacts within this gap of each other are one issue (CSAT fit)"),
):
    """Fit arrivals, handle times, patience (censored) and behaviour, and learn the season; write calibration.yaml and diagnostics."""
    from calibrate import calibrate as fit_all
    from calibrate.event_calendar import load_events
    from calibrate.origins import Windows

    from .outputs import write_json

    interval = _check_interval(interval)
    try:
        windows = Windows.parse(window)
    except ValueError as exc:
        raise PeaksimError(f"--window: {exc}") from None
    with _data_errors():
        user = load_events(events) if events else None
    csat_window = _check_window(issue_window)
    data = _load(files, fmt, mapping, tz, default_channel)
    _zone_notes(data, files)
    promises = _promises(promise, data)
    with _folder(out_dir, "calibration", "calibrate", nested=False) as folder:
        target = folder.target
        with _data_errors():
            if data.contacts.empty:
                raise PeaksimError(f"{files[0]}: no usable contacts ({_drops_line(data)}); check the file and --format")
            cal = fit_all(data, interval=interval, min_n=min_n, windows=windows, user_events=user, promises=promises,
                          issue_window=csat_window)
        cal.to_yaml(folder.staging / "calibration.yaml")
        written = cal.write_diagnostics(folder.staging)
        write_json({"command": sys.argv, "format": fmt, "interval": interval, "provenance": cal.to_dict()["provenance"],
                    "skipped": cal.skipped, "files_written": ["calibration.yaml"] + [p.name for p in written]},
                   folder.staging / "calibrate.json")
        if report:
            _write_report(folder.staging, "calibrate")
        folder.commit()
        print_verdict(target, "calibrate")
    table = Table(title=styled(f"calibration of {len(data.files)} file(s): {_drops_line(data)}"))
    for column in ("channel", "contacts", "handle time", "patience (censored)", "naive abandoned mean", "other"):
        table.add_column(column, justify="left" if column in ("channel", "handle time", "patience (censored)", "other") else "right")
    counts = data.contacts["channel"].value_counts()
    for name, params in cal.channels.items():
        objects = cal.results[name]
        pat = objects.get("patience")
        other = "resolution " + _dist_text(params["resolution_time"]) if "resolution_time" in params else ""
        table.add_row(styled(name), f"{counts.get(name, 0):,}", _dist_text(params.get("handle_time")),
                      _dist_text(params.get("patience")), _duration(pat.naive_mean_abandoned_s) if pat else "–", other)
    out.print(table)
    notes = {k: v for k, v in (cal.provenance.get("notes") or {}).items()
             if not k.startswith("utc_offsets_read_as_utc")}  # has its own note line
    if notes:
        _note("notes: " + ", ".join(f"{k} {v:,}" for k, v in notes.items()))
    fitted = cal.results.get("_satisfaction")
    if fitted is not None:
        ci = Table(title=f"CSAT model: {fitted.table['model'].iloc[0]} on {fitted.n:,} rated issues (95% CI)")
        for column in ("parameter", "estimate", "95% CI"):
            ci.add_column(column, justify="left" if column == "parameter" else "right")
        for row in fitted.table.itertuples(index=False):
            ci.add_row(styled(row.parameter), f"{row.estimate:+.3f}", f"[{row.ci_lo:+.3f}, {row.ci_hi:+.3f}]")
        out.print(ci)
    if len(cal.skipped) == 1:
        _note(f"skipped: {cal.skipped[0]}")
    elif cal.skipped:  # one line however many channels and reasons: the full list is in calibrate.json
        from .verdict.calibrate import skipped_summary

        _note(f"skipped: {skipped_summary(cal.skipped)} (each in calibrate.json `skipped`)")
    _note(f"wrote {target}/calibration.yaml and {len(written)} diagnostics tables")


def _check_window(text: str) -> str:
    from .units import parse_duration

    try:
        seconds = float(parse_duration(text))
    except (TypeError, ValueError):
        seconds = -1.0
    if not seconds > 0:
        raise PeaksimError(f"--issue-window: must be a positive duration such as 7d (got {text!r})")
    return text


def _promises(specs, data) -> dict | None:
    """`--promise voice=20s` → {"voice": 20.0}; channels must occur in the tickets."""
    from .units import parse_duration

    if not specs:
        return None
    channels = sorted(data.contacts["channel"].dropna().unique())
    out = {}
    for spec in specs:
        name, sep, value = spec.partition("=")
        name = name.strip().lower()
        try:
            seconds = float(parse_duration(value.strip())) if sep else -1.0
        except ValueError:
            seconds = -1.0
        if not sep or not seconds > 0:
            raise PeaksimError(f"--promise {spec}: write CHANNEL=DURATION with a positive duration, e.g. voice=20s")
        if name not in channels:
            raise PeaksimError(f"--promise {spec}: no channel {name!r} in the tickets (channels: {', '.join(channels)})")
        out[name] = seconds
    return out


def _dist_text(params) -> str:
    """A fitted distribution with its durations in readable units (`mean 52:13 h`, never 188,000 s)."""
    from .readable import duration

    if not params:
        return "–"
    if "mean" in params and params.get("sd") is not None:
        return f"{params['dist']} mean {duration(params['mean'])}, sd {duration(params['sd'])}"
    if "shape" in params:
        return f"{params['dist']} shape {params['shape']:.3g}, scale {duration(params['scale'])}"
    return f"{params['dist']} mean {duration(params['mean'])}"


@app.command()
@cli_command
def synth(
    scenario: Path = typer.Argument(..., help="scenario YAML file"),
    out_file: Path = typer.Option(..., "--out", "-o", help="ticket file to write (.csv, or .parquet)"),
    replication: int = typer.Option(0, "--replication", min=0, help="which replication's contacts to write"),
    seed: Optional[int] = typer.Option(None, "--seed", min=0, help="root seed (default: the scenario's)"),
    csat: str = typer.Option("auto", "--csat", help="survey answers per closed issue from the CSAT model: auto (scores when the scenario has a satisfaction block), score, yes-no or none"),
):
    """Simulate a scenario and write its contacts as a ticket file in the generic schema ("last year's tickets")."""
    from calibrate.synth import synth_contacts, write_tickets

    from .result_folder import check_entries, write_error
    from .scenario import load_scenario

    if out_file.exists() and out_file.is_dir() and not out_file.is_symlink():
        raise PeaksimError(f"{out_file}: is a directory; give a file name such as tickets.csv")
    check_entries(out_file.parent, [out_file.name])  # a link, FIFO or device is never written through or over
    if out_file.suffix.lower() not in (".csv", ".parquet", ".pq"):
        raise PeaksimError(f"--out {out_file}: unknown ticket file type (got {out_file.suffix or 'no extension'!r}); "
                           "name it .csv or .parquet (peaksim writes no spreadsheet workbooks)")
    from calibrate.synth import CSAT_KINDS

    if csat not in CSAT_KINDS:
        raise PeaksimError(f"--csat: must be one of {', '.join(CSAT_KINDS)} (got {csat!r})")
    sc = load_scenario(scenario, {"seed": seed})
    frame = synth_contacts(sc, replication, csat)
    try:
        write_tickets(frame, out_file)
    except OSError as exc:
        raise write_error(out_file.parent, exc) from None
    counts = ", ".join(f"{k} {v:,}" for k, v in frame["channel"].value_counts().items())
    _note(f"wrote {out_file} ({len(frame):,} contacts: {counts}; seed {sc.seed}, replication {replication})")


def _date_option(value: str, option: str):
    import datetime as dt

    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise PeaksimError(f"{option}: not a date (got {value!r}); write YYYY-MM-DD, e.g. 2026-11-02") from None


@app.command()
@cli_command
def forecast(
    calibration: Path = typer.Argument(..., help="calibration.yaml written by `peaksim calibrate`"),
    start: str = typer.Option(..., "--start", help="first day to forecast (YYYY-MM-DD, local)"),
    end: str = typer.Option(..., "--end", help="last day to forecast, included (YYYY-MM-DD)"),
    growth: Optional[list[str]] = typer.Option(None, "--growth", help="volume vs last year: X for every channel, or CHANNEL=X (repeat)"),
    base: Optional[Path] = typer.Option(None, "--base", help="this year's plan: its agents, service levels (and opening hours) are kept"),
    events: Optional[Path] = typer.Option(None, "--events", help="events YAML: name → dates per year, to re-date user events"),
    out_file: Path = typer.Option(..., "--out", "-o", help="scenario YAML to write"),
):
    """Write a runnable scenario for --start..--end from a calibration: learned season, events re-dated, behaviour, growth."""
    from calibrate.event_calendar import load_events
    from calibrate.forecast import forecast_scenario, parse_growth, write_forecast

    from .result_folder import check_entries, write_error
    from .yamlsource import load_yaml_with_lines

    first, last = _date_option(start, "--start"), _date_option(end, "--end")
    if out_file.exists() and out_file.is_dir() and not out_file.is_symlink():
        raise PeaksimError(f"{out_file}: is a directory; give a file name such as forecast.yaml")
    check_entries(out_file.parent, [out_file.name])  # a link, FIFO or device is never written through or over
    with _data_errors():
        user = load_events(events) if events else None
    channels = []
    if calibration.is_file():
        with contextlib.suppress(Exception):
            cal, _ = load_yaml_with_lines(calibration, "calibration file")
            channels = list((cal or {}).get("model", {}).get("channels", {}))
    scenario, header = forecast_scenario(calibration, first, last, parse_growth(growth, channels), base, user)
    try:
        write_forecast(scenario, header, out_file)
    except OSError as exc:
        raise write_error(out_file.parent, exc) from None
    _print_expected_volume(out_file, first, last)
    for line in header[2:]:
        if line.startswith(("DEFAULT", "note")):
            _note(line)
    _note(f"wrote {out_file} ({len(scenario['channels'])} channels, {len(scenario.get('events') or [])} events, "
          f"{first} to {last}); run it with `peaksim run {out_file}`")


def _print_expected_volume(path: Path, first, last) -> None:
    """The forecast's answer first: the volume it expects, read back from the written scenario; then
    any event that cannot touch these dates (a plan from another year keeps its own dates)."""
    from .expected_volume import events_outside, volume_headline
    from .scenario import load_scenario

    try:
        scenario = load_scenario(path)
    except PeaksimError as exc:  # written, but `peaksim run` would refuse it: say so now
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        _note(f"warning: the written scenario does not validate: {first_line}")
        return
    out.print(styled(volume_headline(scenario)))
    outside = events_outside(scenario, first, last)
    if outside:
        _note("warning: events outside the forecast dates have no effect: "
              + ", ".join(f"{e.name} ({e.date})" for e in outside)
              + "; re-date them in --base if they belong to this peak")
