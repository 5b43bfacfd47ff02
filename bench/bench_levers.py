"""Cost of each peak lever when used: the engine workload (M/M/50+M, bench_engine.py) simulated with
one lever switched on at a time, CPU seconds per replication against the plain workload.

    python bench/bench_levers.py                  # 300,000 contacts
    python bench/bench_levers.py --contacts 100000

The levers are sized to act often (most callers wait in this workload), so this is their cost
in a busy queue; unused, they cost nothing (see docs/levers.md, Cost).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]  # this checkout's sim, not an installed one

from bench_engine import scenario_yaml  # noqa: E402

LEVERS = {
    "none": {},
    "priority (2 reasons)": {"reasons": {"vip": {"priority": 1}, "rest": {"priority": 2}},
                             "voice": {"reasons": {"vip": 0.3, "rest": 0.7}}},
    "balking": {"voice": {"balking": {"scale": "5min", "max": 0.3}}},
    "callbacks (expected wait)": {"voice": {"callback": {"threshold": "1min", "accept": 0.4}}},
    "callbacks (waited)": {"voice": {"callback": {"when": "waited", "threshold": "1min", "accept": 0.4}}},
    "overflow (5 helpers)": {"voice": {"overflow": {"after": "1min", "groups": ["help"]}},
                             "agents": [{"name": "help", "skills": ["email"], "headcount": 5}],
                             "email": {"kind": "async", "service_level": {"threshold": "24h", "target": 0.8},
                                       "handle_time": {"dist": "exponential", "mean": "5min"},
                                       "arrivals": {"rate_per_hour": 0}}},
    "proactive (20%)": {"reasons": {"wismo": {"proactive": {"start": "2026-01-05", "deflect": 0.2}}},
                        "voice": {"reasons": {"wismo": 1}}},
}


def variant(base: dict, change: dict) -> dict:
    data = yaml.safe_load(yaml.safe_dump(base))
    if "reasons" in change:
        data["reasons"] = change["reasons"]
    data["channels"]["voice"].update(change.get("voice", {}))
    if "email" in change:
        data["channels"]["email"] = change["email"]
    data["agents"] += change.get("agents", [])
    return data


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    from sim.replication import simulate
    from sim.scenario import parse_scenario

    base = yaml.safe_load(scenario_yaml(args.contacts))
    reference = None
    print(f"{'lever':<28}{'CPU s':>8}{'vs none':>9}")
    for name, change in LEVERS.items():
        scenario = parse_scenario(variant(base, change))
        best = min(_cpu(simulate, scenario) for _ in range(args.repeat))
        reference = reference or best
        print(f"{name:<28}{best:>8.2f}{best / reference:>8.2f}x")


def _cpu(simulate, scenario) -> float:
    start = time.process_time()
    simulate(scenario, 0)
    return time.process_time() - start


if __name__ == "__main__":
    main()
