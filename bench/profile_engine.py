"""Deterministic profiling harness for the engine (use under `valgrind --tool=callgrind`).

Builds the bench_engine M/M/50+M scenario for N contacts and runs one stage, so instruction
counts of the simulation and of the KPI reduction can be compared before/after a change:

    python bench/profile_engine.py --contacts 50000 --stage simulate
    valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out python bench/profile_engine.py --stage all

Each stage runs through `operator.call`, so `--collect-atstart=no --toggle-collect=_operator_call`
counts the stage alone (imports excluded); with --repeat 2 the second run shows the warm cost.
"""

from __future__ import annotations

import argparse
import operator
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]  # this checkout's sim, not an installed one

from bench_engine import scenario_yaml  # noqa: E402



def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--stage", choices=["simulate", "reduce", "all"], default="all")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    import sim
    assert Path(sim.__file__).resolve().parents[1] == ROOT, sim.__file__
    from sim.scenario import load_scenario
    from sim.replication import simulate
    from sim.runner import run_replication
    from sim.metrics import Outcomes, replication_intervals, replication_summary

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.yaml"
        path.write_text(scenario_yaml(args.contacts))
        scenario = load_scenario(path)
    def reduce(rec):
        o = Outcomes(rec)
        replication_intervals(rec, scenario, o)
        replication_summary(rec, scenario, o)

    for _ in range(args.repeat):
        t0 = time.process_time()
        if args.stage == "simulate":
            operator.call(simulate, scenario, 0)
        elif args.stage == "reduce":
            rec = simulate(scenario, 0)
            t0 = time.process_time()
            operator.call(reduce, rec)
            del rec
        else:
            operator.call(run_replication, scenario, 0)
        print(f"{args.stage}: {time.process_time() - t0:.3f} s CPU, "
              f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB", file=sys.stderr)


if __name__ == "__main__":
    main()
