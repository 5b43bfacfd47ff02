"""The `peaksim` command line: thin wrappers that parse options, call the library, print and write.

Any `PeaksimError` (bad scenario, bad data, unreachable scheduler, full disk …) is printed as
its one-line message(s) on stderr with exit status 2, and so are option errors; no traceback
reaches the planner. User text (names from files) is printed literally (`sim.terminal`).
Commands write through `sim.result_folder.ResultFolder` (locked, test-written, swapped in whole).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
import warnings
from pathlib import Path
from typing import Optional

import typer
from typer.core import TyperCommand, TyperGroup
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from .errors import PeaksimError, one_line
from .interrupts import EXIT_INTERRUPTED, Terminated, exit_status, terminate_as_interrupt
from .terminal import SafeConsole, styled

try:  # typer ≥ 0.29 carries its own copy of click
    from typer._click import exceptions as _clickx
except ImportError:  # pragma: no cover - older typer uses click itself
    from click import exceptions as _clickx

EXIT_BAD_INPUT = 2
# one-line messages stay one line in logs; no markup, emoji codes or raw escapes from names in files
err = SafeConsole(stderr=True, soft_wrap=True)
out = SafeConsole(width=None if sys.stdout.isatty() else 130, soft_wrap=True)


_NO_ARGS = getattr(_clickx, "NoArgsIsHelpError", ())
_ABORT = tuple({getattr(_clickx, "Abort", typer.Abort), typer.Abort})


class _OneLineErrors(TyperGroup):
    """Option and argument errors (a bad `-r`, an unknown option) as one line on stderr, exit 2,
    like every other input error, instead of click's usage block in a box."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            result = super().main(args=args, prog_name=prog_name, complete_var=complete_var,
                                  standalone_mode=False, **extra)
        except _NO_ARGS as exc:  # `peaksim` alone: the help, as before
            if not standalone_mode:
                raise
            text = exc.ctx.get_help() if exc.ctx is not None else ""
            if text:
                typer.echo(text)
            sys.exit(exc.exit_code)
        except _clickx.UsageError as exc:
            if not standalone_mode:
                raise
            path = exc.ctx.command_path.split(" ", 1) if exc.ctx is not None else [""]
            command = "peaksim" + (f" {path[1]}" if len(path) > 1 else "")  # whatever the program was called
            err.print(f"{command}: {one_line(exc.format_message()).rstrip('.')}; see `{command} --help`")
            sys.exit(exc.exit_code if exc.exit_code else EXIT_BAD_INPUT)
        except _clickx.ClickException as exc:
            if not standalone_mode:
                raise
            err.print(f"peaksim: {one_line(exc.format_message())}")
            sys.exit(exc.exit_code)
        except _ABORT:
            if not standalone_mode:
                raise
            sys.exit(EXIT_INTERRUPTED)
        if not standalone_mode:
            return result
        sys.exit(result if isinstance(result, int) and not isinstance(result, bool) else 0)


app = typer.Typer(
    cls=_OneLineErrors, add_completion=False, pretty_exceptions_enable=False, no_args_is_help=True,
    help="peaksim: Q4 peak-season capacity simulator for customer service.",
)



EXIT_FAILED = 1
MAX_AGENTS = 100_000  # sim.scenario.MAX_AGENTS (not imported here: pydantic would slow every command's start)


def cli_command(fn):
    """Input errors → one-line messages, exit 2; Ctrl-C → a clear message, exit 130; a bug → one line, exit 1.

    Messages are printed unwrapped (`soft_wrap`), one problem per line, whatever the terminal width,
    so they can be grepped and read by editors. Set PEAKSIM_DEBUG=1 to see the traceback of a bug.
    """
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            with terminate_as_interrupt(), warnings.catch_warnings():
                warnings.showwarning = _show_warning  # library warnings: one line, no site-packages path
                return fn(*args, **kwargs)
        except PeaksimError as exc:
            for line in exc.lines:
                err.print(line, markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (`Terminated`): the same clean stop
            what = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
            err.print(f"{what}: finished work was written; rerun (with --resume for sweeps) to continue",
                      markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(exit_status(exc)) from None

        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except Exception as exc:  # a bug, not bad input: say so in one line, keep the traceback for PEAKSIM_DEBUG
            if os.environ.get("PEAKSIM_DEBUG"):
                raise
            detail = " ".join(str(exc).split())[:200]
            err.print(f"internal error: {type(exc).__name__}: {detail} (this is a bug in peaksim); "
                      "rerun with PEAKSIM_DEBUG=1 for the traceback and report it", markup=False, highlight=False,
                      soft_wrap=True)
            raise typer.Exit(EXIT_FAILED) from None
    return wrapper


def _note(text: str) -> None:
    """A status line on stderr, never wrapped or styled (names come from the user's files)."""
    err.print(text, markup=False, highlight=False, soft_wrap=True)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A library warning (pandas, numpy …) as one line on stderr, without the library's file path."""
    origin = Path(str(filename)).parts
    package = next((p for p in ("pandas", "numpy", "scipy", "pyarrow", "distributed", "plotly") if p in origin), None)
    _note(f"warning: {one_line(str(message))} ({category.__name__}{f' from {package}' if package else ''})")


def _jobs(jobs: int, scheduler: str | None) -> int:
    """`--jobs` capped at the CPUs available (with a note); on Dask the cluster decides."""
    from .executors import cap_jobs

    if scheduler:
        return jobs
    capped, note = cap_jobs(jobs)
    if note:
        _note(note)
    return capped


def _folder(out_dir, name: str, kind: str, nested: bool = True):
    """The command's output folder (`sim.places.command_dir`: its default place, never another command's
    results), opened as a ResultFolder: locked, test-written, written in whole."""
    from .places import command_dir
    from .result_folder import ResultFolder

    return ResultFolder(command_dir(out_dir, name, kind, nested, create=False))




def progress_bar(label: str) -> Progress:
    return Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=err, transient=True, disable=not err.is_terminal)


def _fmt(value: float, kind: str) -> str:
    if value != value:
        return "–"
    if kind == "pct":
        return f"{100 * value:.1f}%"
    if kind == "s":
        return f"{value:.1f}"
    return f"{value:,.0f}"


def print_verdict(directory: Path, kind: str) -> None:
    """The command's verdict, first on stdout: the same sentence its report opens with."""
    from .verdict import verdict_for

    verdict = verdict_for(directory, kind)
    for line in verdict.lines():
        out.print(line, markup=False, highlight=False, soft_wrap=True)
    out.print("")


def print_summary(result) -> None:
    """Per channel: volumes, service level against target, ASA and abandonment, with 95% CIs.
    Waits are shown in the unit of the channel's threshold (seconds, minutes, hours or days)."""
    from .readable import duration, threshold_text, unit_for

    table = Table(title=styled(f"{result.scenario.name}: {result.meta['replications']} replications (95% CI)"))
    for column in ("channel", "arrived", "handled", "service level", "target", "ASA", "wait p90", "abandoned"):
        table.add_column(column, justify="left" if column == "channel" else "right")
    for row in result.summary.itertuples(index=False):
        target = result.scenario.channels[row.channel].service_level
        sl = row.service_level
        ok = sl == sl and sl >= target.target
        unit = unit_for(target.threshold, [row.asa_s, row.asa_s_hi, row.wait_p90_s])
        table.add_row(
            styled(row.channel), _fmt(row.arrived, "n"), _fmt(row.handled, "n"),
            styled(_fmt(sl, "pct"), "green" if ok else "red")
            + styled(f" [{_fmt(row.service_level_lo, 'pct')}, {_fmt(row.service_level_hi, 'pct')}]"),
            f"{_fmt(target.target, 'pct')} in {threshold_text(target.threshold)}",
            f"{duration(row.asa_s, unit)} [{duration(row.asa_s_lo, unit)}, {duration(row.asa_s_hi, unit)}]",
            duration(row.wait_p90_s, unit),
            f"{_fmt(row.abandon_rate, 'pct')}",
        )
    out.print(table)
    print_outcomes(result.summary, f"{result.scenario.name}: customer outcomes per channel of the first contact (95% CI)")


def print_outcomes(summary, title: str) -> None:
    """Per channel: issues, FCR, modelled CSAT, resolution time, given-up share and revenue at risk."""
    if "issues" not in summary.columns:
        return
    from .readable import duration

    # no `revenue_at_risk:` block gives zeros everywhere: a column of zeros would read as "nothing at risk"
    revenue = bool(summary["revenue_at_risk"].fillna(0).ne(0).any())
    table = Table(title=title)
    for column in ("channel", "issues", "FCR", "CSAT (modelled)", "resolution p50 / p90", "contacts/issue",
                   "given up") + (("revenue at risk",) if revenue else ()):
        table.add_column(column, justify="left" if column == "channel" else "right")
    for row in summary.itertuples(index=False):
        cells = [
            styled(row.channel), _fmt(row.issues, "n"),
            f"{_fmt(row.fcr, 'pct')} [{_fmt(row.fcr_lo, 'pct')}, {_fmt(row.fcr_hi, 'pct')}]",
            f"{_fmt(row.csat, 'pct')} [{_fmt(row.csat_lo, 'pct')}, {_fmt(row.csat_hi, 'pct')}]",
            f"{duration(row.resolution_time_p50_s)} / {duration(row.resolution_time_p90_s)}",
            "–" if row.contacts_per_issue != row.contacts_per_issue else f"{row.contacts_per_issue:.2f}",
            _fmt(row.unresolved_share, "pct")]
        table.add_row(*cells, *((_fmt(row.revenue_at_risk, "n"),) if revenue else ()))
    out.print(table)


@app.command()
@cli_command
def run(
    scenario: Path = typer.Argument(..., help="scenario YAML file"),
    replications: Optional[int] = typer.Option(None, "--replications", "-r", min=1, help="replications (default: the scenario's)"),
    seed: Optional[int] = typer.Option(None, "--seed", min=0, help="root seed (default: the scenario's)"),
    out_dir: Optional[Path] = typer.Option(None, "--out", "-o", help="output directory (default results/<scenario-name>/run/)"),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="replications in parallel processes"),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler address, e.g. tcp://host:8786"),
    report: bool = typer.Option(True, "--report/--no-report", help="write report.html"),
    ci_width: float = typer.Option(0.05, "--ci-width", min=0.001, max=0.5, help="service-level 95% CI half-width to aim for; wider CIs are warned about"),
):
    """Simulate a scenario and write summary.csv, intervals.csv, groups.csv, run.json (and report.html)."""
    from .outputs import write_run, write_unfinished_run
    from .runner import run_scenario
    from .scenario import load_scenario

    sc = load_scenario(scenario, {"replications": replications, "seed": seed})
    jobs = _jobs(jobs, scheduler)
    with _folder(out_dir, sc.name, "run") as folder:  # locked and test-written before the first replication
        target = folder.target
        try:
            with progress_bar("replications") as bar:
                task = bar.add_task("run", total=sc.replications)
                result = run_scenario(sc, jobs=jobs, scheduler=scheduler, ci_width=ci_width,
                                      progress=lambda done, total: bar.update(task, completed=done))
        except BaseException as exc:  # Ctrl-C, SIGTERM or a failure: write what finished and why
            written = write_unfinished_run(sc, exc, folder.staging, command=sys.argv, shown=target)
            if written is not None:
                try:
                    folder.commit()
                    _note(written)
                except PeaksimError:  # the disk may be the problem: never hide the original error
                    pass
            raise
        write_run(result, folder.staging, command=sys.argv)
        if report:
            _write_report(folder.staging, "run")
        folder.commit()
        print_verdict(target, "run")
    print_summary(result)
    for warning in result.meta.get("warnings", []):
        _note(f"warning: {warning['message']}")
    err.print(f"wrote {target}/ ({result.meta['contacts_simulated']:,} contacts in {result.meta['wall_seconds']:.1f} s)",
              markup=False, highlight=False)


def _write_report(directory: Path, kind: str) -> None:
    try:
        from .report import build_report
    except ImportError:  # the report module lands with the reporting issue
        return
    build_report(directory, kind)


@app.command()
@cli_command
def validate(scenario: Path = typer.Argument(..., help="scenario YAML file")):
    """Check a scenario file and print every problem as FILE:LINE: field: message."""
    from .scenario import load_scenario

    from .checks import input_warnings

    sc = load_scenario(scenario)
    out.print(f"{scenario}: OK ({len(sc.channels)} channels, {len(sc.agents)} agent groups, "
              f"{sc.n_intervals} intervals, {sc.replications} replications)", markup=False, highlight=False)
    for warning in input_warnings(sc):
        _note(f"warning: {warning['message']}")


@app.command()
@cli_command
def schema():
    """Print the scenario file's JSON Schema (for editor validation)."""
    from .scenario import Scenario

    out.print_json(json.dumps(Scenario.model_json_schema()))


# --- staffing commands (issue 5) ---
def _stage_bar():
    """A progress bar whose label follows the stage (iteration, check …), with ETA, on stderr."""
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                   console=err, transient=True, disable=not err.is_terminal)
    task = bar.add_task("starting", total=None)

    def update(label: str, done: int, total: int) -> None:
        bar.update(task, description=label, completed=done, total=total)
    return bar, update


# --- report commands (issue 6) ---
@app.command()
@cli_command
def report(
    directory: Path = typer.Argument(..., help="output folder of run, sweep, staff, calibrate, backtest or compare"),
    kind: Optional[str] = typer.Option(None, "--kind", help="report kind (default: detected from the files present)"),
):
    """Rebuild report.html from the CSV/JSON tables saved in DIRECTORY (and print its verdict first)."""
    from .outputs import atomic_write
    from .report import detect_kind, render_report
    from .result_folder import ResultFolder, write_error

    kind = kind or detect_kind(directory)
    with ResultFolder(directory):  # no other command may be writing there
        path = Path(directory) / "report.html"
        html = render_report(directory, kind)
        try:
            atomic_write(path, html)
        except OSError as exc:
            raise write_error(Path(directory), exc) from None
        print_verdict(directory, kind)
    err.print(f"wrote {path}", markup=False, highlight=False)


@app.command()
@cli_command
def sweep(
    scenario: Path = typer.Argument(..., help="scenario YAML file"),
    agents: Optional[list[str]] = typer.Option(None, "--agents", help="GROUP=start:stop:step: the group's agents on shift at its peak (stop included); its roster keeps its shape; repeat for a grid"),
    scale: Optional[str] = typer.Option(None, "--scale", help="start:stop:step multiplier on every other group's schedule"),
    replications: Optional[int] = typer.Option(None, "--replications", "-r", min=1, help="replications per point (default: the scenario's)"),
    seed: Optional[int] = typer.Option(None, "--seed", min=0, help="root seed (default: the scenario's)"),
    out_dir: Optional[Path] = typer.Option(None, "--out", "-o", help="output directory (default results/<scenario-name>/sweep/)"),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="tasks in parallel processes"),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler address, e.g. tcp://host:8786"),
    resume: bool = typer.Option(False, "--resume", help="keep the finished points of an interrupted sweep in --out"),
    cost_per_hour: float = typer.Option(25.0, "--cost-per-hour", help="cost of one paid agent-hour (default 25.0)"),
    min_fcr: Optional[list[str]] = typer.Option(None, "--min-fcr", help="[CHANNEL=]SHARE: minimum first-contact resolution (all channels, or one); repeat"),
    promise: Optional[list[str]] = typer.Option(None, "--resolution-promise", help="CHANNEL=DURATION: 90%% of its resolved issues within it, e.g. email=24h; repeat"),
):
    """Simulate a grid of staffing levels with common random numbers; write sweep.csv and sweep.json."""
    from .outcome_targets import parse_outcome_targets
    from .scenario import load_scenario
    from .sweep import agents_axis, check_axes, run_sweep, scale_axis, warning_summary

    sc = load_scenario(scenario, {"seed": seed})
    axes = [agents_axis(spec, sc) for spec in agents or []] + ([scale_axis(scale)] if scale else [])
    outcomes = parse_outcome_targets(min_fcr, promise, sc)
    check_axes(axes, replications or sc.replications)  # sized before anything is built or written
    jobs = _jobs(jobs, scheduler)
    with _folder(out_dir, sc.name, "sweep") as folder:  # sweep.csv is a journal in the folder itself (--resume)
        target = folder.target
        keep = ("sweep.csv", "sweep.json") if resume else ()
        bar, update = _stage_bar()
        with bar:
            result = run_sweep(sc, axes, target, replications, jobs, scheduler, resume, cost_per_hour,
                               progress=lambda d, t: update("sweep points", d, t),
                               prepare=lambda: folder.remove_stale(keep), outcomes=outcomes)
        _write_report(target, "sweep")
        print_verdict(target, "sweep")
    meta = result.meta
    _note(f"cost = paid agent-hours (the scheduled roster, before shrinkage) x {cost_per_hour:g} per agent-hour "
          "(--cost-per-hour)")
    best = result.meta["best_point"]
    if best is not None and "fcr" in result.table.columns:
        there = result.table[result.table["point"] == best["point"]]
        out.print("Customer outcomes at that point: " + "; ".join(
            f"{r.channel}: FCR {_fmt(r.fcr, 'pct')}, CSAT {_fmt(r.csat, 'pct')}, resolution p90 "
            f"{_duration(r.resolution_time_p90_s)}" for r in there.itertuples(index=False)), markup=False, highlight=False)
    for line in warning_summary(meta.get("point_warnings", {})):
        _note(f"warning: {line} (messages in sweep.json point_warnings)")
    _note(f"wrote {target}/sweep.csv, sweep.json and report.html ({meta['points']} points x "
          f"{meta['replications']} replications)")


@app.command()
@cli_command
def staff(
    scenario: Path = typer.Argument(..., help="scenario YAML file"),
    replications: Optional[int] = typer.Option(None, "--replications", "-r", min=2, help="replications per iteration (default: the scenario's, at least 2)"),
    check_replications: Optional[int] = typer.Option(None, "--check-replications", min=2, help="replications re-simulating each staffing with fresh seeds (default: --replications)"),
    seed: Optional[int] = typer.Option(None, "--seed", min=0, help="root seed (default: the scenario's)"),
    out_dir: Optional[Path] = typer.Option(None, "--out", "-o", help="output directory (default results/<scenario-name>/staff/)"),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="replications in parallel processes"),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler address, e.g. tcp://host:8786"),
    max_abandon: Optional[float] = typer.Option(None, "--max-abandon", help="cap on the abandonment share per interval, e.g. 0.05"),
    max_occupancy: Optional[float] = typer.Option(None, "--max-occupancy", help="cap on occupancy per interval, e.g. 0.85"),
    max_agents: int = typer.Option(5000, "--max-agents", min=1, max=MAX_AGENTS, help="most agents a group may get in one interval"),
    max_iterations: int = typer.Option(12, "--max-iterations", min=1, help="iterations of the staffing algorithm"),
    repair_rounds: int = typer.Option(6, "--repair-rounds", min=0, help="verification-and-repair rounds after the iterations (0: none)"),
    shift_templates: Optional[Path] = typer.Option(None, "--shift-templates", help="YAML shift templates: also plan shifts (MILP) and re-simulate them"),
    min_fcr: Optional[list[str]] = typer.Option(None, "--min-fcr", help="[CHANNEL=]SHARE: minimum first-contact resolution, staffed as an abandonment cap; repeat"),
    promise: Optional[list[str]] = typer.Option(None, "--resolution-promise", help="CHANNEL=DURATION: 90%% of its resolved issues within it (e.g. email=24h), staffed as a first-response target; repeat"),
):
    """Fewest agents per interval and group meeting every target (simulation), beside Erlang C and Erlang A."""
    from .scenario import load_scenario
    from .shifts import load_templates, run_shift_plan, write_shift_plan
    from .staffing import Targets, run_staff, write_staff

    from .outcome_targets import parse_outcome_targets

    sc = load_scenario(scenario, {"seed": seed})
    targets = Targets(max_abandon, max_occupancy)
    outcomes = parse_outcome_targets(min_fcr, promise, sc)
    templates = load_templates(shift_templates, sc) if shift_templates else None
    jobs = _jobs(jobs, scheduler)
    with _folder(out_dir, sc.name, "staff") as folder:
        target = folder.target
        bar, update = _stage_bar()
        with bar:
            result = run_staff(sc, replications, check_replications, targets, jobs, scheduler, max_iterations,
                               max_agents, progress=update, repair_rounds=repair_rounds, outcome_targets=outcomes)
            shift_result = None
            if templates is not None:
                shift_result = run_shift_plan(sc, result.plans["sim"], templates, result.meta["check_replications"],
                                              result.meta["check_seed"], jobs, scheduler, progress=update)
        if shift_result is not None:
            result.meta["shift_plan"] = shift_result.meta
        written = write_staff(result, folder.staging, command=sys.argv)
        if shift_result is not None:
            written += write_shift_plan(shift_result, folder.staging)
        _write_report(folder.staging, "staff")
        folder.commit()
        print_verdict(target, "staff")
    meta = result.meta
    table = Table(title=styled(f"{sc.name}: staffing per interval, re-simulated with fresh seeds ({meta['check_replications']} replications)"))
    for column in ("method", "agent-hours", "intervals meeting target (mean)", "not significantly below (95% CI)"):
        table.add_column(column, justify="left" if column == "method" else "right")
    for method, label in (("sim", "simulation (ISA)"), ("erlang_c", "Erlang C per interval"), ("erlang_a", "Erlang A per interval")):
        share = meta["share_of_intervals_meeting_target"].get(method, float("nan"))
        ok = meta["share_of_intervals_not_significantly_below_target"].get(method, float("nan"))
        table.add_row(label, f"{meta['agent_hours'][method]:,.1f}", _fmt(share, "pct"), _fmt(ok, "pct"))
    out.print(table)
    from .readable import duration

    for method, label in (("sim", "simulation (ISA)"), ("erlang_c", "Erlang C"), ("erlang_a", "Erlang A")):
        per = meta["outcomes_by_method"].get(method, {})
        out.print(f"Customer outcomes, {label}: " + "; ".join(
            f"{ch}: FCR {_fmt(v['fcr'] if v['fcr'] is not None else float('nan'), 'pct')}, resolution p90 "
            f"{duration(v['resolution_time_p90_s'] if v['resolution_time_p90_s'] is not None else float('nan'))}"
            for ch, v in per.items()), markup=False, highlight=False)
    for method, shares in meta.get("share_of_intervals_meeting_outcome_targets", {}).items():
        out.print(f"Intervals meeting the outcome targets ({method}): "
                  + ", ".join(f"{ch} {_fmt(v, 'pct')}" for ch, v in shares.items()), markup=False, highlight=False)
    for warning in meta.get("warnings", []):
        _note(f"warning (staffed plan): {warning['message']}")
    if not meta["converged"]:
        _note(f"note: the iterations stopped after {len(meta['iterations'])} of at most {max_iterations} without a fixed "
              "point (see staffing.json); the verification-and-repair rounds then checked the result")
    if shift_result is not None:
        sm = shift_result.meta
        out.print(f"Shift plan ({sm['status']}): {sm['paid_hours']:,.1f} paid hours, cost {sm['cost']:,.2f}; "
                  f"{_fmt(sm['share_of_group_intervals_meeting_target'] or float('nan'), 'pct')} of intervals meet target when re-simulated",
                  markup=False, highlight=False)
        for gap in sm["uncovered_intervals"][:20]:
            out.print(f"  not coverable: {gap['group']} at {gap['interval_start']}: {gap['missing_agents']:g} agents short",
                      markup=False, highlight=False)
        if len(sm["uncovered_intervals"]) > 20:
            out.print(f"  … and {len(sm['uncovered_intervals']) - 20} more (see staffing.json)", markup=False)
    _note(f"wrote {', '.join(p.name for p in written)} and report.html to {target}/")


@app.command()
@cli_command
def compare(
    run_a: Path = typer.Argument(..., help="folder of the baseline run (A)"),
    run_b: Path = typer.Argument(..., help="folder of the changed run (B)"),
    out_dir: Optional[Path] = typer.Option(None, "--out", "-o", help="output directory (default results/compare-A-vs-B/)"),
    report: bool = typer.Option(True, "--report/--no-report", help="write report.html"),
):
    """Compare two runs: B − A per channel and KPI with 95% CIs (compare.csv, compare.json, report.html)."""
    from .compare import write_comparison

    with _folder(out_dir, f"compare-{run_a.name}-vs-{run_b.name}", "compare", nested=False) as folder:
        target = folder.target
        for given in (run_a, run_b):
            if given.exists() and target.exists() and target.resolve() == given.resolve():
                raise PeaksimError(f"--out {target}: is the folder of a run being compared (its results would be "
                                   "replaced); choose another --out")
        meta = write_comparison(run_a, run_b, folder.staging)
        if report:
            _write_report(folder.staging, "compare")
        folder.commit()
        print_verdict(target, "compare")
    _print_comparison(target, meta)
    err.print(f"wrote {target}/", markup=False, highlight=False)


def _print_comparison(target: Path, meta: dict) -> None:
    from .result_files import read_table

    table = read_table(target, "compare.csv", "rerun `peaksim compare`")
    shown = table[table["kpi"].isin(["service_level", "abandon_rate", "asa_s", "wait_p90_s", "fcr", "csat"])]
    kind = "paired" if "paired" in meta.get("method", "") else "Welch"
    grid = Table(title=styled(f"B − A: {meta['b']['label']} vs {meta['a']['label']} (95% {kind} CI)"))
    for column in ("channel", "KPI", "A", "B", "B − A", "95% CI"):
        grid.add_column(column, justify="left" if column in ("channel", "KPI") else "right")
    for row in shown.itertuples(index=False):
        kind = "pct" if row.kpi in ("service_level", "abandon_rate", "fcr", "csat") else "s"
        scale = 100 if kind == "pct" else 1
        unit = " pp" if kind == "pct" else ""
        ci = "–" if row.diff_lo != row.diff_lo else f"[{scale * row.diff_lo:+.1f}, {scale * row.diff_hi:+.1f}]{unit}"
        grid.add_row(styled(row.channel), row.kpi, _fmt(row.a, kind), _fmt(row.b, kind),
                     "–" if row.diff != row.diff else f"{scale * row.diff:+.1f}{unit}", ci)
    out.print(grid, markup=False)


# --- calibration commands (issue 4) ---
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


def _duration(seconds: float) -> str:
    from .readable import duration

    return duration(seconds)

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
    for line in header[2:]:
        if line.startswith(("DEFAULT", "note")):
            _note(line)
    _note(f"wrote {out_file} ({len(scenario['channels'])} channels, {len(scenario.get('events') or [])} events, "
          f"{first} to {last}); run it with `peaksim run {out_file}`")


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


def main() -> None:
    app()


if __name__ == "__main__":
    main()
