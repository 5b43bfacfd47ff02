"""The planning commands: sweep and staff (staffing levels and plans), and compare (two runs side by side)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from .cli_common import (_duration, _fmt, _folder, _jobs, _note, _stage_bar, _write_report, app, cli_command, err,
                         out, print_verdict)
from .errors import PeaksimError
from .terminal import styled

MAX_AGENTS = 100_000  # sim.scenario.MAX_AGENTS (not imported here: pydantic would slow every command's start)


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
