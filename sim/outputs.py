"""Writing results: atomically (temp file + rename), inside the chosen output directory only.

A planner's spreadsheet may be reading `summary.csv` while a run finishes; a crash must not
leave half a file. Every writer goes through `atomic_write`.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

import pandas as pd

from .csv_safety import to_csv_text
from .errors import PeaksimError


def atomic_write(path: Path, data: str | bytes) -> None:
    """Write `data` to `path` via a temporary file in the same directory and an atomic rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would hide results from colleagues
    try:
        with os.fdopen(fd, mode, **({} if mode == "wb" else {"encoding": "utf-8", "newline": ""})) as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """`frame` as CSV, text cells neutralised against formula injection (see `sim.csv_safety`)."""
    atomic_write(path, to_csv_text(frame, float_format="%.6g"))


def write_json(obj: dict, path: Path, sort_keys: bool = True) -> None:
    """Standard JSON: an undefined number (NaN, ±inf, e.g. a KPI with no contacts) is written as null."""
    atomic_write(path, json.dumps(_json_numbers(obj), indent=2, sort_keys=sort_keys, default=str,
                                  allow_nan=False) + "\n")


def _json_numbers(value):
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _json_numbers(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_numbers(v) for v in value]
    return value


def output_path(out: str | Path | None, default_name: str) -> Path:
    """The directory to write into: `out`, or results/<scenario-name>/ with a filesystem-safe name (not created)."""
    if out is not None:
        return Path(out)
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in default_name.strip()).strip("._")
    return Path("results") / (safe or "scenario")


def output_dir(out: str | Path | None, default_name: str) -> Path:
    """`output_path`, created. Commands write through `sim.result_folder.ResultFolder` instead (locked, staged)."""
    path = output_path(out, default_name)
    if path.exists() and not path.is_dir():
        raise PeaksimError(f"{path}: output path exists and is not a directory; choose another --out")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PeaksimError(f"{path}: cannot create the output directory ({exc.strerror}); choose another --out") from None
    return path


def confined(directory: Path, name: str) -> Path:
    """`directory/name` for a file name derived from user text (scenario, channel or group names).

    Separators, `..`, leading dots and control characters are replaced, so the path cannot leave
    `directory` (checked again after resolving, in case of symlinks); an empty result is refused.
    """
    safe = "".join(ch if (ch.isalnum() or ch in "-_. ") and ch.isprintable() else "_" for ch in str(name))
    safe = safe.strip().lstrip(".").replace("..", "_")[:120]
    if not safe:
        raise PeaksimError(f"cannot make a file name from {name!r} (got nothing usable); rename it with letters or digits")
    path = Path(directory) / safe
    base = Path(directory).resolve()
    if base != path.resolve().parent and base not in path.resolve().parents:
        raise PeaksimError(f"{path}: would be written outside {directory} (got {name!r}); rename it")
    return path


def write_run(result, out: Path, command: list[str] | None = None) -> list[Path]:
    """summary.csv, intervals.csv, groups.csv, replications.csv, origins.csv, reasons.csv and run.json."""
    files = {
        "summary.csv": result.summary,
        "intervals.csv": result.intervals,
        "groups.csv": result.groups,
        "replications.csv": result.replications,
        "origins.csv": result.origins,
        "reasons.csv": result.reasons,
    }
    written = []
    for name, frame in files.items():
        write_csv(frame, out / name)
        written.append(out / name)
    meta = dict(result.meta)
    if command is not None:
        meta["command"] = command
    meta["scenario_definition"] = json.loads(result.scenario.model_dump_json())
    # keys in order: channel order is part of the scenario (it keys the random streams), so a
    # sorted dump would not reproduce the run
    write_json({k: meta[k] for k in sorted(meta)}, out / "run.json", sort_keys=False)
    written.append(out / "run.json")
    return written


def write_unfinished_run(scenario, exc: BaseException, out: Path, command: list[str] | None = None,
                         shown: Path | None = None) -> str | None:
    """After Ctrl-C or a failure: write the finished replications (if any) and a run.json saying why.

    With k finished replications the usual files hold replications 0..k-1 (what `--replications k`
    would give) and run.json has `"status": "interrupted"` or `"failed"` with the reason; with none,
    nothing is touched, so an earlier complete run in the directory is not mixed with this one.
    Returns a one-line note for the console (naming `shown`, default `out`), or None.
    """
    from .errors import PeaksimError

    partial = getattr(exc, "peaksim_partial", None)
    if partial is None:
        return None
    status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
    partial.meta["status"] = status
    if status == "failed":
        reason = "; ".join(exc.lines) if isinstance(exc, PeaksimError) else f"{type(exc).__name__}: {exc}"
        partial.meta["error"] = " ".join(reason.split())[:2000]
    try:
        write_run(partial, out, command=command)
    except Exception:  # the disk may be the problem: never hide the original error
        return None
    done, requested = partial.meta["replications"], partial.meta.get("replications_requested")
    return (f"{status}: wrote the {done} finished of {requested} replications to {shown or out}/ "
            f"(run.json status: {status}); rerun to complete")
