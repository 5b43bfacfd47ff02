"""The Technion backtest (train January + February 1999, test August) and its variants.

Prints the backtest tables of docs/validation.md: the plain replay, the replay with the
mechanisms chosen on the training months (``CHOSEN``), and one row per mechanism switched off
(or on, for the plain replay), with the offered-weighted MAE of hourly abandonment and ASA for
peaksim and the per-interval Erlang-A baseline, the biases, the sampling-noise floor, the
model's error against one more replication of itself and the daily abandonment MAE. The same
table for the validation pair (train January, test February), on which the mechanisms were
chosen, comes first. Reads the data from ../shared/data (or PEAKSIM_DATA). About 15 minutes.

    python bench/backtest_variants.py [--quick]    # --quick: the two main rows of each pair
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from calibrate.backtest import backtest, daily_errors
from calibrate.calibration import calibrate
from calibrate.tickets import load_tickets

BANK = Path(os.environ.get("PEAKSIM_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")) / "technion-anonymous-bank"

# chosen on the validation pair (train January, test February); never tuned on August
CHOSEN = {"by_reason": True, "patience_by_hour": True, "load_speedup": True, "idle_lead": "5min",
          "idle_lag": "5min", "availability": "replay"}
OFF = {"by_reason": False, "patience_by_hour": False, "load_speedup": False, "idle_lead": "0s", "idle_lag": "0s",
       "availability": "train"}


def month(*names):
    return load_tickets([BANK / f"anonymous_bank_1999-{m}.txt" for m in names], fmt="technion")


def row(label, result):
    s = result.summary.set_index("metric")
    ab, asa = s.loc["abandon_rate"], s.loc["asa_s"]
    daily = daily_errors(result)
    print(f"| {label} | {100 * ab.peaksim_mae:.2f} / {100 * ab.erlang_a_mae:.2f} | "
          f"{ab.peaksim_mae / ab.erlang_a_mae:.2f} | {100 * ab.replication_noise_mae:.2f} | "
          f"{100 * (ab.peaksim_mae - ab.replication_noise_mae):+.2f} | "
          f"{100 * daily['peaksim']:.2f} / {100 * daily['erlang_a']:.2f} | "
          f"{asa.peaksim_mae:.1f} / {asa.erlang_a_mae:.1f} | "
          f"{100 * ab.peaksim_bias:+.1f} / {100 * ab.erlang_a_bias:+.1f} | {100 * ab.noise_floor_mae:.2f} |", flush=True)


def table(title, train, test, quick):
    cal = calibrate(train)
    print(f"\n{title}\n")
    print("| variant | hourly abandonment MAE peaksim / Erlang A (pp) | ratio | exact-model line (pp) "
          "| peaksim above the line (pp) | daily abandonment MAE peaksim / Erlang A (pp) "
          "| ASA MAE peaksim / Erlang A (s) | bias peaksim / Erlang A (pp) | sampling floor (pp) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    row("plain replay (the mechanisms off)", backtest(train, test, calibration=cal, **OFF))
    row("chosen: all mechanisms on", backtest(train, test, calibration=cal, **CHOSEN))
    if quick:
        return
    single = {"by_reason": ("replay by call type", True), "patience_by_hour": ("patience by hour of day", True),
              "load_speedup": ("handle time by queue length", True),
              "idle_lead": ("idle lead/lag 5 min on inferred sessions", "5min"),
              "availability": ("availability calibrated by replaying the training period", "replay")}
    for key, (label, value) in single.items():
        changes = {key: value, **({"idle_lag": value} if key == "idle_lead" else {})}
        row(f"plain + {label}", backtest(train, test, calibration=cal, **{**OFF, **changes}))
        off = {key: OFF[key], **({"idle_lag": OFF["idle_lag"]} if key == "idle_lead" else {})}
        row(f"chosen − {label}", backtest(train, test, calibration=cal, **{**CHOSEN, **off}))


def main():
    started = time.perf_counter()
    quick = "--quick" in sys.argv
    table("Validation (the mechanisms were chosen here): train January, test February", month("01"), month("02"), quick)
    table("Held out: train January + February, test August", month("01", "02"), month("08"), quick)
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
