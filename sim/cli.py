"""The `peaksim` command line: the entry point, gathering every command onto the one Typer app.

Any `PeaksimError` (bad scenario, bad data, unreachable scheduler, full disk …) is printed as
its one-line message(s) on stderr with exit status 2, and so are option errors; no traceback
reaches the planner. User text (names from files) is printed literally (`sim.terminal`).
Commands write through `sim.result_folder.ResultFolder` (locked, test-written, swapped in whole).
The app and that handling live in `sim.cli_common`, the commands in `sim.cli_run`, `sim.cli_plan`,
`sim.cli_data` and `sim.cli_backtest`; importing them registers their commands, in this order in --help.
"""

from __future__ import annotations

from .cli_common import EXIT_BAD_INPUT, EXIT_FAILED, app, cli_command, err, out, print_verdict, progress_bar
from .cli_run import print_outcomes, print_summary, report, run, schema, validate
from .cli_plan import compare, staff, sweep
from .cli_data import calibrate, forecast, synth
from .cli_backtest import backtest

__all__ = ["EXIT_BAD_INPUT", "EXIT_FAILED", "app", "backtest", "calibrate", "cli_command", "compare", "err", "forecast",
           "main", "out", "print_outcomes", "print_summary", "print_verdict", "progress_bar", "report", "run", "schema",
           "staff", "sweep", "synth", "validate"]


def main() -> None:
    app()


if __name__ == "__main__":
    main()
