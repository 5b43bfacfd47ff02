"""Full-Q4 benchmark: one replication of scenarios/q4_full.yaml on one core.

Prints contacts simulated (fresh and created in-run), wall and CPU seconds, contacts per
second and peak memory, next to the M/M/50+M engine workload of the same size measured in
the same run as a reference (what the peak-season features cost per contact).

    python bench/bench_q4.py
"""

from __future__ import annotations

import resource
import time
from pathlib import Path

from sim.replication import simulate
from sim.runner import run_replication
from sim.scenario import load_scenario, parse_scenario

ROOT = Path(__file__).resolve().parents[1]


def measure(scenario) -> tuple[int, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = run_replication(scenario, 0)
    return result.contacts, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    q4 = load_scenario(ROOT / "scenarios" / "q4_full.yaml")
    n, wall, cpu = measure(q4)
    origins = simulate(q4, 0).contacts["origin"]
    created = int((origins > 0).sum())
    hours = n / 950.0
    reference = parse_scenario({
        "name": "reference M/M/50+M", "start": "2026-01-05T00:00:00+00:00", "duration": f"{hours:.3f}h",
        "interval": "60min", "seed": 1, "replications": 1,
        "channels": {"voice": {"service_level": {"threshold": 20, "target": 0.8},
                               "handle_time": {"dist": "exponential", "mean": 180},
                               "patience": {"dist": "exponential", "mean": 180},
                               "arrivals": {"rate_per_hour": 950}}},
        "agents": [{"name": "team", "skills": ["voice"], "headcount": 50}]})
    n_ref, wall_ref, cpu_ref = measure(reference)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'workload':34}{'contacts':>11}{'wall s':>9}{'CPU s':>8}{'contacts/s':>12}")
    print(f"{'q4_full.yaml, 1 replication':34}{n:>11,}{wall:>9.2f}{cpu:>8.2f}{n / wall:>12,.0f}")
    print(f"{'reference M/M/50+M, same size':34}{n_ref:>11,}{wall_ref:>9.2f}{cpu_ref:>8.2f}{n_ref / wall_ref:>12,.0f}")
    print(f"contacts created in-run (redials, chasers, reopens, bot bounces): {created:,} of {n:,}")
    print(f"Q4 replication under 60 s on one core: {'yes' if wall < 60 else 'NO'} ({wall:.1f} s); "
          f"peak RSS of this process {peak:.0f} MB")


if __name__ == "__main__":
    main()
