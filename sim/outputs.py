"""Writing results: atomically (temp file + rename), inside the chosen output directory only.

A planner's spreadsheet may be reading `summary.csv` while a run finishes; a crash must not
leave half a file. Every writer goes through `atomic_write`.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pandas as pd

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
    atomic_write(path, frame.to_csv(index=False, float_format="%.6g", lineterminator="\n"))


def write_json(obj: dict, path: Path) -> None:
    atomic_write(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def output_dir(out: str | Path | None, default_name: str) -> Path:
    """The directory to write into: `out`, or results/<scenario-name>/ with a filesystem-safe name."""
    if out is not None:
        path = Path(out)
    else:
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in default_name.strip()).strip("._")
        path = Path("results") / (safe or "scenario")
    if path.exists() and not path.is_dir():
        raise PeaksimError(f"{path}: output path exists and is not a directory; choose another --out")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PeaksimError(f"{path}: cannot create the output directory ({exc.strerror}); choose another --out") from None
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
    write_json(meta, out / "run.json")
    written.append(out / "run.json")
    return written
