"""The `peaksim` command line: thin wrappers that parse options, call the library, print and write.

Any `PeaksimError` (bad scenario, bad data, unreachable scheduler …) is printed as its
one-line message(s) on stderr with exit status 2; no traceback reaches the planner.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from .errors import PeaksimError
from .units import format_duration

app = typer.Typer(
    add_completion=False, pretty_exceptions_enable=False, no_args_is_help=True,
    help="peaksim: Q4 peak-season capacity simulator for customer service.",
)
err = Console(stderr=True, soft_wrap=True)  # one-line messages stay one line in logs
out = Console(width=None if sys.stdout.isatty() else 130, soft_wrap=True)
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


EXIT_FAILED = 1


def cli_command(fn):
    """Input errors → one-line messages, exit 2; Ctrl-C → a clear message, exit 130; a bug → one line, exit 1.

    Messages are printed unwrapped (`soft_wrap`), one problem per line, whatever the terminal width,
    so they can be grepped and read by editors. Set PEAKSIM_DEBUG=1 to see the traceback of a bug.
    """
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except PeaksimError as exc:
            for line in exc.lines:
                err.print(line, markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except KeyboardInterrupt:
            err.print("interrupted: finished work was written; rerun (with --resume for sweeps) to continue",
                      markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_INTERRUPTED) from None
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


def print_summary(result) -> None:
    """Per channel: volumes, service level against target, ASA and abandonment, with 95% CIs."""
    table = Table(title=f"{result.scenario.name}: {result.meta['replications']} replications (95% CI)")
    for column in ("channel", "arrived", "handled", "service level", "target", "ASA s", "wait p90 s", "abandoned"):
        table.add_column(column, justify="left" if column == "channel" else "right")
    for row in result.summary.itertuples(index=False):
        target = result.scenario.channels[row.channel].service_level
        sl = row.service_level
        ok = sl == sl and sl >= target.target
        table.add_row(
            Text(str(row.channel)), _fmt(row.arrived, "n"), _fmt(row.handled, "n"),
            f"[{'green' if ok else 'red'}]{_fmt(sl, 'pct')}[/] [{_fmt(row.service_level_lo, 'pct')}, {_fmt(row.service_level_hi, 'pct')}]",
            f"{_fmt(target.target, 'pct')} in {format_duration(target.threshold)}",
            f"{_fmt(row.asa_s, 's')} [{_fmt(row.asa_s_lo, 's')}, {_fmt(row.asa_s_hi, 's')}]",
            _fmt(row.wait_p90_s, "s"),
            f"{_fmt(row.abandon_rate, 'pct')}",
        )
    out.print(table)


@app.command()
@cli_command
def run(
    scenario: Path = typer.Argument(..., help="scenario YAML file"),
    replications: Optional[int] = typer.Option(None, "--replications", "-r", min=1, help="replications (default: the scenario's)"),
    seed: Optional[int] = typer.Option(None, "--seed", min=0, help="root seed (default: the scenario's)"),
    out_dir: Optional[Path] = typer.Option(None, "--out", "-o", help="output directory (default results/<scenario-name>/)"),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="replications in parallel processes"),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler address, e.g. tcp://host:8786"),
    report: bool = typer.Option(True, "--report/--no-report", help="write report.html"),
    ci_width: float = typer.Option(0.05, "--ci-width", min=0.001, max=0.5, help="service-level 95% CI half-width to aim for; wider CIs are warned about"),
):
    """Simulate a scenario and write summary.csv, intervals.csv, groups.csv, run.json (and report.html)."""
    from .outputs import output_dir, write_run, write_unfinished_run
    from .runner import run_scenario
    from .scenario import load_scenario

    sc = load_scenario(scenario, {"replications": replications, "seed": seed})
    target = output_dir(out_dir, sc.name)
    try:
        with progress_bar("replications") as bar:
            task = bar.add_task("run", total=sc.replications)
            result = run_scenario(sc, jobs=jobs, scheduler=scheduler, ci_width=ci_width,
                                  progress=lambda done, total: bar.update(task, completed=done))
    except BaseException as exc:  # Ctrl-C or a failure: write what finished and why, then report as usual
        written = write_unfinished_run(sc, exc, target, command=sys.argv)
        if written is not None:
            _note(written)
        raise
    write_run(result, target, command=sys.argv)
    if report:
        _write_report(target, "run")
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

    sc = load_scenario(scenario)
    out.print(f"{scenario}: OK ({len(sc.channels)} channels, {len(sc.agents)} agent groups, "
              f"{sc.n_intervals} intervals, {sc.replications} replications)", markup=False, highlight=False)


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


def _note(text: str) -> None:
    err.print(text, markup=False, highlight=False, soft_wrap=True)


# --- report commands (issue 6) ---
@app.command()
@cli_command
def report(
    directory: Path = typer.Argument(..., help="output folder of run, sweep, staff, calibrate, backtest or compare"),
    kind: Optional[str] = typer.Option(None, "--kind", help="report kind (default: detected from the files present)"),
):
    """Rebuild report.html from the CSV/JSON tables saved in DIRECTORY."""
    from .report import build_report

    path = build_report(directory, kind)
    err.print(f"wrote {path}", markup=False, highlight=False)


@app.command()
@cli_command
def sweep(
    scenario: Path = typer.Argument(..., help="scenario YAML file"),
    agents: Optional[list[str]] = typer.Option(None, "--agents", help="GROUP=start:stop:step headcount range (stop included); repeat for a grid"),
    scale: Optional[str] = typer.Option(None, "--scale", help="start:stop:step multiplier on every other group's schedule"),
    replications: Optional[int] = typer.Option(None, "--replications", "-r", min=1, help="replications per point (default: the scenario's)"),
    seed: Optional[int] = typer.Option(None, "--seed", min=0, help="root seed (default: the scenario's)"),
    out_dir: Optional[Path] = typer.Option(None, "--out", "-o", help="output directory (default results/<scenario-name>/)"),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="tasks in parallel processes"),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler address, e.g. tcp://host:8786"),
    resume: bool = typer.Option(False, "--resume", help="keep the finished points of an interrupted sweep in --out"),
    cost_per_hour: float = typer.Option(25.0, "--cost-per-hour", help="cost of one paid agent-hour (default 25.0)"),
):
    """Simulate a grid of staffing levels with common random numbers; write sweep.csv and sweep.json."""
    from .outputs import output_dir
    from .scenario import load_scenario
    from .sweep import agents_axis, run_sweep, scale_axis

    sc = load_scenario(scenario, {"seed": seed})
    axes = [agents_axis(spec, sc) for spec in agents or []] + ([scale_axis(scale)] if scale else [])
    target = output_dir(out_dir, sc.name)
    bar, update = _stage_bar()
    with bar:
        result = run_sweep(sc, axes, target, replications, jobs, scheduler, resume, cost_per_hour,
                           progress=lambda d, t: update("sweep points", d, t))
    meta = result.meta
    _note(f"cost = paid agent-hours x {cost_per_hour:g} per agent-hour (--cost-per-hour)")
    best = meta["best_point"]
    if best is None:
        out.print("No point meets every channel's service-level target; widen the range upwards.", markup=False)
    else:
        params = ", ".join(f"{k}={v}" for k, v in best.items() if k not in ("point", "agent_hours", "cost"))
        out.print(f"Smallest staffing meeting every target: point {best['point']} ({params}): "
                  f"{best['agent_hours']:,.1f} agent-hours, cost {best['cost']:,.2f}", markup=False, highlight=False)
    for m in meta["marginal_value_of_one_more_agent"]:
        if "per_agent" not in m:
            continue
        gains = "; ".join(f"{ch}: {v['service_level_pp']:+.2f} pp SL, {v['asa_s']:+.1f} s ASA, "
                          f"{v['abandon_rate_pp']:+.2f} pp abandoned" for ch, v in m["per_agent"].items())
        out.print(f"One more agent ({m['axis']}, from point {m['from_point']}): {gains}", markup=False, highlight=False)
    _note(f"wrote {target}/sweep.csv and sweep.json ({meta['points']} points x {meta['replications']} replications)")


@app.command()
@cli_command
def staff(
    scenario: Path = typer.Argument(..., help="scenario YAML file"),
    replications: Optional[int] = typer.Option(None, "--replications", "-r", min=2, help="replications per iteration (default: the scenario's)"),
    check_replications: Optional[int] = typer.Option(None, "--check-replications", min=2, help="replications re-simulating each staffing with fresh seeds (default: --replications)"),
    seed: Optional[int] = typer.Option(None, "--seed", min=0, help="root seed (default: the scenario's)"),
    out_dir: Optional[Path] = typer.Option(None, "--out", "-o", help="output directory (default results/<scenario-name>/)"),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="replications in parallel processes"),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler address, e.g. tcp://host:8786"),
    max_abandon: Optional[float] = typer.Option(None, "--max-abandon", help="cap on the abandonment share per interval, e.g. 0.05"),
    max_occupancy: Optional[float] = typer.Option(None, "--max-occupancy", help="cap on occupancy per interval, e.g. 0.85"),
    max_agents: int = typer.Option(5000, "--max-agents", min=1, help="most agents a group may get in one interval"),
    max_iterations: int = typer.Option(12, "--max-iterations", min=1, help="iterations of the staffing algorithm"),
    shift_templates: Optional[Path] = typer.Option(None, "--shift-templates", help="YAML shift templates: also plan shifts (MILP) and re-simulate them"),
):
    """Fewest agents per interval and group meeting every target (simulation), beside Erlang C and Erlang A."""
    from .outputs import output_dir
    from .scenario import load_scenario
    from .shifts import load_templates, run_shift_plan, write_shift_plan
    from .staffing import Targets, run_staff, write_staff

    sc = load_scenario(scenario, {"seed": seed})
    targets = Targets(max_abandon, max_occupancy)
    templates = load_templates(shift_templates, sc) if shift_templates else None
    target = output_dir(out_dir, sc.name)
    bar, update = _stage_bar()
    with bar:
        result = run_staff(sc, replications, check_replications, targets, jobs, scheduler, max_iterations,
                           max_agents, progress=update)
        shift_result = None
        if templates is not None:
            shift_result = run_shift_plan(sc, result.plans["sim"], templates, result.meta["check_replications"],
                                          result.meta["check_seed"], jobs, scheduler, progress=update)
    if shift_result is not None:
        result.meta["shift_plan"] = shift_result.meta
    written = write_staff(result, target, command=sys.argv)
    if shift_result is not None:
        written += write_shift_plan(shift_result, target)
    meta = result.meta
    table = Table(title=f"{sc.name}: staffing per interval, re-simulated with fresh seeds ({meta['check_replications']} replications)")
    for column in ("method", "agent-hours", "intervals meeting target (mean)", "not significantly below (95% CI)"):
        table.add_column(column, justify="left" if column == "method" else "right")
    for method, label in (("sim", "simulation (ISA)"), ("erlang_c", "Erlang C per interval"), ("erlang_a", "Erlang A per interval")):
        share = meta["share_of_intervals_meeting_target"].get(method, float("nan"))
        ok = meta["share_of_intervals_not_significantly_below_target"].get(method, float("nan"))
        table.add_row(label, f"{meta['agent_hours'][method]:,.1f}", _fmt(share, "pct"), _fmt(ok, "pct"))
    out.print(table)
    if not meta["converged"]:
        _note(f"note: the staffing still changed after {max_iterations} iterations; raise --max-iterations or --replications")
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
    _note(f"wrote {', '.join(p.name for p in written)} to {target}/")


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
    from .outputs import output_dir

    target = output_dir(out_dir, f"compare-{run_a.name}-vs-{run_b.name}")
    meta = write_comparison(run_a, run_b, target)
    if report:
        _write_report(target, "compare")
    _print_comparison(target, meta)
    err.print(f"wrote {target}/", markup=False, highlight=False)


def _print_comparison(target: Path, meta: dict) -> None:
    import pandas as pd
    from rich.text import Text

    table = pd.read_csv(target / "compare.csv")
    shown = table[table["kpi"].isin(["service_level", "abandon_rate", "asa_s", "wait_p90_s"])]
    grid = Table(title=f"B − A: {meta['b']['label']} vs {meta['a']['label']} (95% Welch CI)")
    for column in ("channel", "KPI", "A", "B", "B − A", "95% CI"):
        grid.add_column(column, justify="left" if column in ("channel", "KPI") else "right")
    for row in shown.itertuples(index=False):
        kind = "pct" if row.kpi in ("service_level", "abandon_rate") else "s"
        scale = 100 if kind == "pct" else 1
        unit = " pp" if kind == "pct" else ""
        ci = "–" if row.diff_lo != row.diff_lo else f"[{scale * row.diff_lo:+.1f}, {scale * row.diff_hi:+.1f}]{unit}"
        grid.add_row(Text(str(row.channel)), row.kpi, _fmt(row.a, kind), _fmt(row.b, kind),
                     "–" if row.diff != row.diff else f"{scale * row.diff:+.1f}{unit}", ci)
    out.print(grid, markup=False)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
