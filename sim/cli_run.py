"""The single-scenario commands: run, validate, schema, and report (rebuilds any command's report)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from .cli_common import (_fmt, _folder, _jobs, _note, _write_report, app, cli_command, err, out, print_verdict,
                         progress_bar)
from .errors import PeaksimError
from .terminal import styled


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
