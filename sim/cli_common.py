"""What every `peaksim` command shares: the Typer app, its one-line error handling, consoles and output helpers."""

from __future__ import annotations

import functools
import os
import sys
import warnings
from pathlib import Path

import typer
from typer.core import TyperGroup
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from .errors import PeaksimError, one_line
from .interrupts import EXIT_INTERRUPTED, Terminated, exit_status, terminate_as_interrupt
from .terminal import SafeConsole

try:  # typer ≥ 0.29 carries its own copy of click
    from typer._click import exceptions as _clickx
except ImportError:  # pragma: no cover - older typer uses click itself
    from click import exceptions as _clickx

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1
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


def _stage_bar():
    """A progress bar whose label follows the stage (iteration, check …), with ETA, on stderr."""
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                   console=err, transient=True, disable=not err.is_terminal)
    task = bar.add_task("starting", total=None)

    def update(label: str, done: int, total: int) -> None:
        bar.update(task, description=label, completed=done, total=total)
    return bar, update


def _fmt(value: float, kind: str) -> str:
    if value != value:
        return "–"
    if kind == "pct":
        return f"{100 * value:.1f}%"
    if kind == "s":
        return f"{value:.1f}"
    return f"{value:,.0f}"


def _duration(seconds: float) -> str:
    from .readable import duration

    return duration(seconds)


def print_verdict(directory: Path, kind: str) -> None:
    """The command's verdict, first on stdout: the same sentence its report opens with."""
    from .verdict import verdict_for

    verdict = verdict_for(directory, kind)
    for line in verdict.lines():
        out.print(line, markup=False, highlight=False, soft_wrap=True)
    out.print("")


def _write_report(directory: Path, kind: str) -> None:
    from .report import build_report  # imported here: Plotly is only loaded when a report is written

    build_report(directory, kind)
