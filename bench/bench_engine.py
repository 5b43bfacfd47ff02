"""Engine benchmark: M/M/50+M (λ=950/h, AHT 180 s, mean patience 180 s, ~1M contacts).

Runs the same workload through `peaksim run` (one replication, CLI in a child process) and
through a plain idiomatic SimPy model (one process per customer, `simpy.Resource`,
an `AnyOf` race between service and patience), each in its own child process so wall time
and peak memory (max RSS) are measured the same way, in the same run. Prints contacts/s,
the speed ratio and both peak memories. The two run in turn, `--rounds` times (default 3): the
figures are medians, and the speed-up is the median of each round's ratio, so one slow run on a
noisy machine does not decide it. One warm-up round runs first, uncounted: on a cold file cache
the first start of peaksim spends seconds reading its libraries from disk (seen: 7–17 s of wall
time for the same 3.6 s of CPU).

    python bench/bench_engine.py            # 1M contacts (≈ 1052 h), 3 rounds
    python bench/bench_engine.py --contacts 200000 --rounds 1
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

LAMBDA_H, AHT_S, PATIENCE_S, AGENTS = 950.0, 180.0, 180.0, 50

IDIOMATIC = textwrap.dedent("""
    import sys, numpy as np, simpy
    lam, aht, patience, agents, horizon = map(float, sys.argv[1:6])
    rng = np.random.default_rng(1)
    env = simpy.Environment()
    desk = simpy.Resource(env, capacity=int(agents))
    waits, served, abandoned = [], 0, 0

    def customer(env):
        global served, abandoned
        arrive = env.now
        with desk.request() as req:
            result = yield req | env.timeout(rng.exponential(patience))
            if req in result:
                waits.append(env.now - arrive)
                served += 1
                yield env.timeout(rng.exponential(aht))
            else:
                abandoned += 1

    def source(env):
        while True:
            yield env.timeout(rng.exponential(3600.0 / lam))
            env.process(customer(env))

    env.process(source(env))
    env.run(until=horizon)
    print(served + abandoned, abandoned / max(served + abandoned, 1))
""")


PEAK_RSS = (
    "import atexit, resource, sys\n"
    "atexit.register(lambda: sys.stderr.write('@@peak_rss_kb %d\\n' % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))\n"
)


def scenario_yaml(contacts: int) -> str:
    """The M/M/50+M workload as a scenario file with about `contacts` contacts (shared by the benches)."""
    hours = contacts / LAMBDA_H
    return textwrap.dedent(f"""
        name: bench M/M/50+M
        start: 2026-01-05T00:00:00+00:00
        duration: {hours:.4f}h
        interval: 60min
        seed: 1
        replications: 1
        channels:
          voice:
            service_level: {{threshold: 20s, target: 0.8}}
            handle_time: {{dist: exponential, mean: {AHT_S}s}}
            patience: {{dist: exponential, mean: {PATIENCE_S}s}}
            arrivals: {{rate_per_hour: {LAMBDA_H}}}
        agents:
          - name: team
            skills: [voice]
            headcount: {AGENTS}
    """)


def child(code: str, argv: list[str]) -> tuple[float, float, float, str]:
    """Run Python `code` in a child; return wall s, CPU s, its own peak RSS (MB) and stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", PEAK_RSS + code, *argv], capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark child failed:\n{proc.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak_kb = int(proc.stderr.rsplit("@@peak_rss_kb", 1)[1].split()[0])
    return wall, cpu, peak_kb / 1024, proc.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3, help="runs of each, in turn; medians are printed")
    parser.add_argument("--warmup", type=int, default=1, help="uncounted rounds first (file cache, imports)")
    args = parser.parse_args()
    hours = args.contacts / LAMBDA_H
    peak_runs, ref_runs = [], []
    with tempfile.TemporaryDirectory() as tmp:
        scenario = Path(tmp) / "mm50m.yaml"
        scenario.write_text(scenario_yaml(args.contacts))
        cli = "import sys; from sim.cli import main; sys.argv[0] = 'peaksim'; main()"
        for round_ in range(max(args.warmup, 0) + max(args.rounds, 1)):
            out = Path(tmp) / f"out{round_}"
            peak = child(cli, ["run", str(scenario), "--out", str(out), "--no-report"])[:3]
            n_peak = json.loads((out / "run.json").read_text())["contacts_simulated"]
            *ref, stdout = child(IDIOMATIC, [str(LAMBDA_H), str(AHT_S), str(PATIENCE_S), str(AGENTS),
                                             str(hours * 3600)])
            n_ref = int(stdout.split()[0])
            if round_ >= args.warmup:
                peak_runs.append(peak)
                ref_runs.append(tuple(ref))
    med = statistics.median
    t_peak, c_peak, m_peak = (med(run[i] for run in peak_runs) for i in range(3))
    t_ref, c_ref, m_ref = (med(run[i] for run in ref_runs) for i in range(3))
    wall_ratio = med(r[0] / p[0] for p, r in zip(peak_runs, ref_runs))
    cpu_ratio = med(r[1] / p[1] for p, r in zip(peak_runs, ref_runs))
    print(f"workload: M/M/{AGENTS}+M, λ={LAMBDA_H:g}/h, AHT {AHT_S:g} s, patience {PATIENCE_S:g} s, {hours:,.0f} h; "
          f"medians of {len(peak_runs)} rounds after {args.warmup} warm-up")
    print(f"{'':26}{'contacts':>11}{'wall s':>9}{'CPU s':>8}{'contacts/s':>12}{'peak RSS MB':>13}")
    for label, n, wall, cpu, peak in (("peaksim run (whole CLI)", n_peak, t_peak, c_peak, m_peak),
                                      ("idiomatic SimPy", n_ref, t_ref, c_ref, m_ref)):
        print(f"{label:26}{n:>11,}{wall:>9.2f}{cpu:>8.2f}{n / wall:>12,.0f}{peak:>13.0f}")
    print(f"speed-up (wall): {wall_ratio:.1f}x   speed-up (CPU): {cpu_ratio:.1f}x   "
          "(targets: ≥ 5x, peaksim peak memory ≤ 200 MB)")
    if len(peak_runs) > 1:
        print("wall s per round: peaksim " + ", ".join(f"{p[0]:.2f}" for p in peak_runs)
              + "; idiomatic " + ", ".join(f"{r[0]:.2f}" for r in ref_runs))


if __name__ == "__main__":
    main()
