"""Benchmark: wall time per sweep point, serially and with 2 processes (prints figures, asserts nothing).

Uses scenarios/black_friday_week.yaml when it exists; otherwise a stand-in multichannel week
(voice, chat with concurrency 2, async email; a daily profile with an evening peak) built
here, and says so in the output.

    python bench/bench_sweep.py [--replications 4] [--points 4]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.scenario import Scenario, load_scenario  # noqa: E402
from sim.sweep import grid, run_sweep, scale_axis  # noqa: E402


def stand_in_week() -> Scenario:
    slots = np.arange(48) / 2
    shape = np.clip(np.sin((slots - 7) / 15 * np.pi), 0, None) ** 1.5 + 0.05  # 07:00–22:00, evening-heavy
    shape = shape / shape.max()
    profile = lambda peak: [round(float(peak * s), 1) for s in shape]  # noqa: E731
    heads = lambda peak: [int(np.ceil(peak * s)) for s in shape]  # noqa: E731
    return Scenario.model_validate({
        "name": "stand-in black friday week", "start": "2026-11-23T00:00:00-05:00", "duration": "7d",
        "interval": "30min", "seed": 1, "replications": 4,
        "channels": {
            "voice": {"service_level": {"threshold": "30s", "target": 0.8},
                      "handle_time": {"dist": "lognormal", "mean": "6min", "sd": "4min"},
                      "patience": {"dist": "exponential", "mean": "4min"},
                      "arrivals": {"rate_per_hour": profile(450)}},
            "chat": {"service_level": {"threshold": "60s", "target": 0.8},
                     "handle_time": {"dist": "lognormal", "mean": "10min", "sd": "6min"},
                     "patience": {"dist": "exponential", "mean": "6min"}, "concurrency": 2,
                     "concurrency_factor": [1.0, 1.3], "arrivals": {"rate_per_hour": profile(300)}},
            "email": {"kind": "async", "service_level": {"threshold": "4h", "target": 0.9},
                      "handle_time": {"dist": "gamma", "mean": "8min", "sd": "5min"},
                      "arrivals": {"rate_per_hour": 60}},
        },
        "agents": [
            {"name": "voice_team", "skills": ["voice"], "headcount": heads(48), "shrinkage": 0.15},
            {"name": "chat_team", "skills": ["chat"], "headcount": heads(30), "shrinkage": 0.15},
            {"name": "blended", "skills": {"voice": 1, "chat": 2, "email": 3}, "headcount": 12, "shrinkage": 0.15},
        ],
    })


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=4)
    parser.add_argument("--points", type=int, default=4)
    args = parser.parse_args()
    path = ROOT / "scenarios" / "black_friday_week.yaml"
    if path.exists():
        scenario, label = load_scenario(path), str(path.relative_to(ROOT))
    else:
        scenario, label = stand_in_week(), "stand-in week built in bench/bench_sweep.py (black_friday_week.yaml absent)"
    step = 0.1
    axis = scale_axis(f"0.9:{0.9 + step * (args.points - 1):.2f}:{step}")
    print(f"scenario: {label}")
    print(f"  machine: {os.cpu_count()} CPUs, load average before start {os.getloadavg()[0]:.2f} "
          "(other work on the machine lowers the speed-up)")
    print(f"  {scenario.n_intervals} intervals, ~{scenario.expected_contacts():,.0f} contacts per replication; "
          f"{len(grid([axis]))} points x {args.replications} replications (--scale {axis.values})")
    timings = {}
    with tempfile.TemporaryDirectory() as tmp:
        for jobs in (1, 2):
            started = time.perf_counter()
            result = run_sweep(scenario, [axis], Path(tmp) / f"j{jobs}", args.replications, jobs=jobs)
            timings[jobs] = time.perf_counter() - started
            per_point = timings[jobs] / len(axis.values)
            print(f"  jobs={jobs}: {timings[jobs]:6.1f} s total, {per_point:5.2f} s per point "
                  f"({per_point / args.replications:.2f} s per replication)")
        same = (Path(tmp) / "j1" / "sweep.csv").read_bytes() == (Path(tmp) / "j2" / "sweep.csv").read_bytes()
    print(f"  speed-up with 2 processes: {timings[1] / timings[2]:.2f}x (sweep.csv identical: {same})")
    best = result.meta["best_point"]
    print(f"  best point: {best}")


if __name__ == "__main__":
    main()
