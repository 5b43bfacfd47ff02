"""Where each command writes by default, and a guard against mixing two commands in one folder.

`peaksim run`, `sweep` and `staff` on the same scenario each get their own folder under
`results/<scenario>/` (`run/`, `sweep/`, `staff/`), so a staffing search never replaces the
report of the run whose CSVs sit beside it. An `--out` folder that already holds another
command's results is refused with one line rather than overwritten.
"""

from __future__ import annotations

from pathlib import Path

from .errors import PeaksimError
from .outputs import output_dir, output_path

# the files that show which command wrote a folder (calibrate's diagnostics include a staffing.csv,
# so staff is recognised by its staffing.json, not by that table)
MARKERS = {
    "run": ("run.json", "summary.csv"),
    "sweep": ("sweep.csv", "sweep.json"),
    "staff": ("staffing.json", "staffing_sl.csv"),
    "calibrate": ("calibrate.json", "fits.csv"),
    "backtest": ("backtest.json", "backtest_intervals.csv"),
    "compare": ("compare.json", "compare.csv"),
}


def written_by(directory: Path) -> list[str]:
    """The commands whose result files are in `directory`."""
    directory = Path(directory)
    return [kind for kind, names in MARKERS.items() if any((directory / n).is_file() for n in names)]


def command_dir(out: str | Path | None, name: str, kind: str, nested: bool = True, create: bool = True) -> Path:
    """`out`, or by default `results/<name>/<kind>/` (`results/<name>/` when not `nested`: calibrate,
    backtest and compare name their own folder); created (unless `create` is false: the caller's
    `ResultFolder` makes it), and refused if another command's results are in it."""
    if out is None:
        path = output_path(None, name) / kind if nested else output_path(None, name)
    else:
        path = Path(out)
    others = [k for k in written_by(path) if k != kind] if path.is_dir() else []
    if others:
        found = ", ".join(n for n in MARKERS[others[0]] if (path / n).is_file())
        raise PeaksimError(f"{path}: already holds the results of `peaksim {others[0]}` ({found}); `peaksim {kind}` "
                           f"would mix its files and report.html with them; choose another --out (or leave it out: "
                           f"the default is results/<scenario>/{kind}/)")
    return output_dir(path, name) if create else path
