"""The backtest command: calibrate on past tickets, replay a later period, and score the replay against it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer
from typer.core import TyperCommand
from rich.table import Table

from .cli_common import _folder, _note, _stage_bar, _write_report, app, cli_command, out, print_verdict
from .cli_data import _check_interval, _data_errors, _dist_text, _load, _zone_notes
from .errors import PeaksimError


class _ManyValuesCommand(TyperCommand):
    """Lets an option take several values after one flag, as argparse's ``nargs='+'``:
    ``--train A B C`` is read as ``--train A --train B --train C`` (Click takes one value per
    flag). Values run until the next token that starts with ``-``."""

    many = ("--train",)

    def parse_args(self, ctx, args):
        out, active, fresh = [], None, False
        for i, token in enumerate(args):
            if token == "--":
                out += args[i:]
                break
            if token in self.many:
                active, fresh = token, True
                out.append(token)
            elif token.startswith("-"):
                active, fresh = (token.split("=", 1)[0], False) if token.split("=", 1)[0] in self.many else (None, False)
                out.append(token)
            elif active is not None and not fresh:
                out += [active, token]
            else:
                fresh = False
                out.append(token)
        return super().parse_args(ctx, out)


@app.command(cls=_ManyValuesCommand)
@cli_command
def backtest(
    train: list[Path] = typer.Option(..., "--train", help="training ticket files: --train FILE [FILE ...]"),
    test: list[Path] = typer.Option(..., "--test", help="ticket file(s) of the period to replay"),
    fmt: str = typer.Option("generic", "--format", "-f", help="generic, technion or uci"),
    mapping: Optional[str] = typer.Option(None, "--mapping", "-m", help="column mapping YAML (generic format)"),
    tz: Optional[str] = typer.Option(None, "--tz", help="IANA zone of times written without offset"),
    interval: str = typer.Option("60min", "--interval", help="comparison interval: 15min, 30min or 60min"),
    replications: int = typer.Option(10, "--replications", "-r", min=1, help="replications of the replay"),
    seed: int = typer.Option(0, "--seed", min=0, help="root seed"),
    min_offered: int = typer.Option(10, "--min-offered", min=1, help="intervals with fewer offered calls are left out of the errors"),
    channel: Optional[str] = typer.Option(None, "--channel", help="channel to replay (default: the one with abandonment data)"),
    arrivals: str = typer.Option("counts", "--arrivals", help="counts: each 15-min step's own offered calls, exactly; "
                                 "poisson: Poisson arrivals at each interval's observed rate"),
    by_reason: bool = typer.Option(False, "--by-reason/--no-by-reason", help="replay the test calls by call type, "
                                   "each type with its training handle time and patience"),
    patience_by_hour: bool = typer.Option(True, "--patience-by-hour/--no-patience-by-hour",
                                          help="patience by hour of day, fitted on --train"),
    load_speedup: bool = typer.Option(False, "--load-speedup/--no-load-speedup",
                                      help="agent time per call by the callers waiting, fitted on --train (peaksim only)"),
    idle_lead: str = typer.Option("5min", "--idle-lead", help="with --capacity sessions: idle time before a session's "
                                  "first call, where nobody waited"),
    idle_lag: str = typer.Option("5min", "--idle-lag", help="with --capacity sessions: idle time after a session's "
                                 "last call, where nobody waited"),
    availability: str = typer.Option("replay", "--availability", help="with --capacity sessions: replay: the value at "
                                     "which replaying --train reproduces its abandonment; train: busy share of present "
                                     "agents while callers wait; or a number in (0, 1]"),
    capacity: str = typer.Option("revealed", "--capacity", help="revealed: agents in service while answered callers "
                                 "wait, idle agents inside sessions otherwise; sessions: agents present from first "
                                 "to last call, with --availability"),
    wrap: str = typer.Option("10s", "--wrap", help="with --capacity revealed: time after a call before an idle agent "
                             "counts as available"),
    teams: bool = typer.Option(True, "--teams/--no-teams", help="with --capacity revealed: agents who serve one "
                               "call type only form a team, and that type a channel of its own"),
    talk_time: str = typer.Option("train", "--talk-time", help="train: handle time fitted on --train; test: each "
                                  "step's own talk time in --test (a diagnostic: see docs/validation.md)"),
    out_dir: Path = typer.Option(Path("results/backtest"), "--out", "-o", help="output directory"),
    report: bool = typer.Option(True, "--report/--no-report", help="write report.html"),
):
    """Calibrate on --train, replay --test's offered volumes and inferred staffing, compare with what happened and with Erlang A.

    The defaults switch on the mechanisms chosen on training months (docs/validation.md); --capacity
    sessions --no-patience-by-hour --idle-lead 0s --idle-lag 0s --availability train give the plain replay."""
    from calibrate.backtest import backtest as run_backtest

    from .outputs import write_csv, write_json

    interval = _check_interval(interval)
    train_data = _load(train, fmt, mapping, tz)
    test_data = _load(test, fmt, mapping, tz)
    _zone_notes(train_data, train)
    _zone_notes(test_data, test)
    with _folder(out_dir, "backtest", "backtest", nested=False) as folder:
        target = folder.target
        bar, update = _stage_bar()
        with bar, _data_errors():
            result = run_backtest(train_data, test_data, interval=interval, replications=replications, seed=seed,
                                  min_offered=min_offered, channel=channel, arrivals=arrivals,
                                  by_reason=by_reason and arrivals == "counts", patience_by_hour=patience_by_hour,
                                  load_speedup=load_speedup, idle_lead=_duration_option(idle_lead, "--idle-lead"),
                                  idle_lag=_duration_option(idle_lag, "--idle-lag"),
                                  availability=_availability_option(availability),
                                  capacity=_choice_option(capacity, "--capacity", ("revealed", "sessions")),
                                  wrap=_duration_option(wrap, "--wrap"), teams=teams and capacity == "revealed",
                                  talk_time=_choice_option(talk_time, "--talk-time", ("train", "test")),
                                  progress=lambda label: update(label, 0, 0))
        intervals = result.intervals.assign(interval_start=[t.isoformat() for t in result.intervals["interval_start"]])
        write_csv(intervals, folder.staging / "backtest_intervals.csv")
        write_csv(result.summary, folder.staging / "backtest_summary.csv")
        result.calibration.to_yaml(folder.staging / "calibration.yaml")
        write_json({**result.meta, "command": sys.argv}, folder.staging / "backtest.json")
        if report:
            _write_report(folder.staging, "backtest")
        folder.commit()
        print_verdict(target, "backtest")
    m = result.meta
    title = (f"backtest on {m['intervals_included']} intervals with ≥ {m['min_offered']} offered calls "
             f"({m['offered_included']:,} calls), {m['replications']} replications: offered-weighted MAE")
    table = Table(title=title)
    for column in ("metric", "peaksim", "Erlang A", "peaksim ÷ Erlang A", "sampling-noise floor",
                   "model vs own replication"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for row in result.summary.itertuples(index=False):
        pct = row.metric == "abandon_rate"
        show = (lambda v: "–" if v != v else f"{100 * v:.2f} pp") if pct else (lambda v: "–" if v != v else f"{v:.1f} s")
        per = {900: "15-min ", 1800: "30-min ", 3600: "hourly "}.get(int(m["interval_s"]), "")
        ratio = row.peaksim_mae / row.erlang_a_mae if row.erlang_a_mae > 0 else float("nan")
        table.add_row(per + ("abandonment" if pct else "ASA"),
                      show(row.peaksim_mae), show(row.erlang_a_mae), "–" if ratio != ratio else f"{ratio:.2f}",
                      show(row.noise_floor_mae), show(row.replication_noise_mae))
    out.print(table)
    if m["intervals_included"] == 0:
        _note(f"note: no interval has ≥ {m['min_offered']} offered calls on channel {m['channel']!r} (the busiest "
              f"has {int(result.intervals['offered'].max())}), so there are no errors to report; lower "
              "--min-offered or use a longer --interval")
    avail = m["availability"]
    how = avail.get("source", "busy share of present agents while callers wait, training")
    if m["capacity"] == "revealed":
        teams_text = ", ".join(sorted({t["team"] for t in m["teams"] or []})) or "none"
        _note(f"capacity revealed by congestion (wrap {m['wrap']}; teams: {teams_text}); raw talk time"
              + ("; the test period's own talk time per step" if m["talk_time"] == "test" else ""))
    else:
        _note(f"agent availability ({how}): {avail['availability']:.3f}")
    _note(f"patience replayed: {_dist_text(m['patience'])}" + ("; replayed by call type" if m.get("by_reason") else ""))
    _note(f"wrote {target}/backtest_intervals.csv, backtest_summary.csv, backtest.json, calibration.yaml")


def _duration_option(value: str, option: str) -> str:
    """A duration option (``5min``, ``300s``, ``0``) as pandas reads it, or one located line, exit 2."""
    import pandas as pd

    try:
        seconds = pd.Timedelta(value if any(ch.isalpha() for ch in value) else f"{value}s").total_seconds()
    except (ValueError, TypeError):
        seconds = None
    if seconds is None or seconds != seconds or seconds < 0 or seconds > 4 * 3600:
        raise PeaksimError([f"{option}: must be a duration between 0 and 4h such as 5min (got {value!r}); "
                            f"write e.g. {option} 5min"])
    return f"{seconds:g}s"


def _choice_option(value: str, option: str, choices: tuple) -> str:
    if value not in choices:
        raise PeaksimError([f"{option}: must be {' or '.join(choices)} (got {value!r}); write e.g. {option} {choices[0]}"])
    return value


def _availability_option(value: str):
    if value in ("train", "replay"):
        return value
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not 0 < number <= 1:
        raise PeaksimError([f"--availability: must be replay, train or a number in (0, 1] (got {value!r}); "
                            "write e.g. --availability 0.8"])
    return number
