"""Docs figure: staffing and achieved service level per method on scenarios/time_varying_check.yaml.

Writes docs/staffing_time_varying.png and prints the numbers quoted in the README (Staffing).
Needs matplotlib (a docs-only tool, not a peaksim dependency): pip install matplotlib

    python bench/staffing_chart.py [--replications 60]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from sim.arrivals import channel_rates  # noqa: E402
from sim.calendar import interval_grid  # noqa: E402
from sim.scenario import load_scenario  # noqa: E402
from sim.staffing import run_staff  # noqa: E402

LABELS = {"sim": "simulation (ISA)", "erlang_c": "Erlang C per interval", "erlang_a": "Erlang A per interval"}
COLOURS = {"sim": "#1f77b4", "erlang_c": "#d62728", "erlang_a": "#ff7f0e"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--replications", type=int, default=60)
    args = parser.parse_args()
    sc = load_scenario(ROOT / "scenarios" / "time_varying_check.yaml")
    result = run_staff(sc, replications=args.replications, check_replications=args.replications)
    grid = interval_grid(sc)
    times = pd.DatetimeIndex(grid["interval_start"]).tz_localize(None)
    rate = channel_rates(sc, grid)["voice"]

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7), sharex=True, gridspec_kw={"height_ratios": [1, 1.2]})
    for method in ("sim", "erlang_c", "erlang_a"):
        top.step(times, result.plans[method][0], where="post", color=COLOURS[method], label=LABELS[method])
    twin = top.twinx()
    twin.fill_between(times, rate, step="post", color="grey", alpha=0.15, label="arrivals per hour")
    twin.set_ylabel("arrivals per hour")
    top.set_ylabel("agents on shift")
    top.legend(loc="upper left", fontsize=8)
    top.set_title(f"{sc.name}: staffing per 15-min interval (AHT 30 min, patience 30 min)")

    sl = result.service
    for method in ("sim", "erlang_c", "erlang_a"):
        part = sl[sl["method"] == method]
        t = pd.DatetimeIndex(pd.to_datetime(part["interval_start"], utc=True)).tz_convert(sc.zone).tz_localize(None)
        bottom.plot(t, part["service_level"], color=COLOURS[method], marker="o", ms=3, label=LABELS[method])
        bottom.fill_between(t, part["service_level_lo"], part["service_level_hi"], color=COLOURS[method], alpha=0.12)
    target = sc.channels["voice"].service_level
    bottom.axhline(target.target, color="black", ls="--", lw=1, label=f"target {target.target:.0%} in {target.threshold:g}s")
    bottom.set_ylabel("service level (fresh seeds, 95% CI)")
    bottom.set_ylim(0.4, 1.02)
    bottom.legend(loc="lower left", fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    out = ROOT / "docs" / "staffing_time_varying.png"
    fig.savefig(out, dpi=110)
    print(f"wrote {out.relative_to(ROOT)}")
    meta = result.meta
    for method in ("sim", "erlang_c", "erlang_a"):
        print(f"{LABELS[method]:24s} agent-hours {meta['agent_hours'][method]:7.1f}  "
              f"mean >= target {meta['share_of_intervals_meeting_target'][method]:.0%}  "
              f"not significantly below {meta['share_of_intervals_not_significantly_below_target'][method]:.0%}")
    after = sl[(sl["interval_start"] >= "2026-11-27T10:30") & (sl["interval_start"] < "2026-11-27T12:30")]
    print("after the peak (10:30-12:30), mean SL:", after.groupby("method")["service_level"].mean().round(3).to_dict(),
          " min SL:", after.groupby("method")["service_level"].min().round(3).to_dict())
    print("iterations:", meta["iterations"])


if __name__ == "__main__":
    main()
