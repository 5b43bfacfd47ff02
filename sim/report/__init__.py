"""Self-contained Plotly HTML reports built from the tables a command saved.

`build_report(directory)` looks at which files are present to tell what produced them (a
run, a sweep, a staffing search, a calibration, a backtest or a comparison), reads only
those saved CSV/JSON tables, plots them, and writes `directory/report.html` atomically.
Each kind lives in its own module with a `build(directory) -> Page` function.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

from ..errors import PeaksimError
from ..outputs import atomic_write

# kind → the file whose presence identifies it; checked in this order (the first match wins,
# so a comparison or sweep folder that also holds run tables is reported as what it is, and a
# calibration, whose diagnostics include a staffing.csv inferred from the tickets, as a calibration).
SIGNATURES = [
    ("compare", "compare.csv"),
    ("sweep", "sweep.csv"),
    ("calibrate", "fits.csv"),
    ("staff", "staffing.csv"),
    ("backtest", "backtest_intervals.csv"),
    ("run", "summary.csv"),
]
KINDS = [kind for kind, _ in SIGNATURES]
REPORT_NAME = "report.html"


def detect_kind(directory: Path) -> str:
    """The report kind for a results folder, from the files in it."""
    directory = Path(directory)
    if not directory.is_dir():
        raise PeaksimError(f"{directory}: no such directory; pass the output folder of a peaksim command")
    for kind, name in SIGNATURES:
        if (directory / name).is_file():
            return kind
    expected = ", ".join(f"{name} ({kind})" for kind, name in SIGNATURES)
    raise PeaksimError(f"{directory}: no peaksim results found (looked for {expected}); "
                       "pass the folder written by `peaksim run`, `sweep`, `staff`, `calibrate`, `backtest` or `compare`")


def render_report(directory: Path, kind: str | None = None) -> str:
    """The report's HTML text (without writing it)."""
    directory = Path(directory)
    kind = kind or detect_kind(directory)
    if kind not in KINDS:
        raise PeaksimError(f"unknown report kind (got {kind!r}); use one of {', '.join(KINDS)}")
    if not directory.is_dir():
        raise PeaksimError(f"{directory}: no such directory; pass the output folder of a peaksim command")
    module = import_module(f".{kind}", __name__)
    return module.build(directory).html()


def build_report(directory: Path, kind: str | None = None) -> Path:
    """Write `directory/report.html` for the results in `directory`; returns its path."""
    directory = Path(directory)
    text = render_report(directory, kind)
    path = directory / REPORT_NAME
    atomic_write(path, text)
    return path


__all__ = ["KINDS", "REPORT_NAME", "build_report", "detect_kind", "render_report"]
