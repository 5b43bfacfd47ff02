"""Benchmark: `calibrate` + `forecast` on a ~1-million-contact export, one core (prints figures, asserts nothing).

Issue 13's target: under 2 minutes and 2 GB. The export is synthesised here (the true centre of
tests/forecast_truth.py with volumes × SCALE: three channels, a bot, redials, reopens, three
named events) and written as Parquet; the reference measured in the same run is the time to just
read that file with pandas, so a loaded machine slows both figures alike. Each stage runs in its
own process so its peak memory (max RSS) is its own.

    python bench/bench_forecast.py [--scale 20]
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

STAGES = {
    "read": "import pandas as pd; pd.read_parquet(TICKETS)",
    "calibrate+forecast": (
        "from calibrate import calibrate, load_tickets\n"
        "from calibrate.forecast import forecast_scenario, write_forecast\n"
        "import datetime as dt\n"
        "cal = calibrate(load_tickets(TICKETS, tz='Europe/Berlin'))\n"
        "cal.to_yaml(OUT / 'cal.yaml')\n"
        "sc, header = forecast_scenario(OUT / 'cal.yaml', dt.date(2026, 11, 2), dt.date(2026, 12, 7), {})\n"
        "write_forecast(sc, header, OUT / 'forecast.yaml')\n"),
}


def stage(name: str, tickets: Path, out: Path) -> dict:
    code = (f"import sys, time, json, resource, pathlib; sys.path.insert(0, {str(ROOT)!r}); sys.path.insert(0, {str(ROOT / 'tests')!r})\n"
            f"TICKETS = {str(tickets)!r}; OUT = pathlib.Path({str(out)!r})\n"
            "t = time.perf_counter()\n" + STAGES[name] +
            "\nprint(json.dumps({'seconds': time.perf_counter() - t, "
            "'max_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=20.0, help="volume multiplier on the test centre (20 ≈ 1M contacts)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "tests"))
    from calibrate.synth import synth_contacts, write_tickets
    from forecast_truth import truth
    from sim.scenario import parse_scenario

    data = truth(2025)
    for channel in data["channels"].values():
        channel["arrivals"]["per_day"] *= args.scale
    for group in data["agents"]:
        for shift in group["shifts"]:
            shift["agents"] = int(shift["agents"] * args.scale)
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        started = time.perf_counter()
        frame = synth_contacts(parse_scenario(data))
        write_tickets(frame, folder / "tickets.parquet")
        print(f"export: {len(frame):,} contacts (synthesised and written in {time.perf_counter() - started:.0f} s)")
        for name in STAGES:
            figures = stage(name, folder / "tickets.parquet", folder)
            print(f"{name:>20}: {figures['seconds']:7.1f} s, peak {figures['max_rss_mb']:,.0f} MB")
    print("target: calibrate+forecast < 120 s and < 2048 MB on one core (issue 13); figures are noisy on a shared machine")


if __name__ == "__main__":
    main()
