"""The Technion backtest (train January + February 1999, test August) and its variants.

Prints the README's backtest tables: the default replay and one row per changed choice, with
the offered-weighted MAE of hourly abandonment and ASA for peaksim and the per-interval Erlang-A
baseline, the biases, the sampling-noise floor and the model's error against one more
replication of itself. Reads the data from ../shared/data (or PEAKSIM_DATA). About 2 minutes.

    python bench/backtest_variants.py
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from calibrate.backtest import backtest
from calibrate.calibration import calibrate
from calibrate.tickets import load_tickets

BANK = Path(os.environ.get("PEAKSIM_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")) / "technion-anonymous-bank"


def month(*names):
    return load_tickets([BANK / f"anonymous_bank_1999-{m}.txt" for m in names], fmt="technion")


def row(label, result):
    s = result.summary.set_index("metric")
    ab, asa = s.loc["abandon_rate"], s.loc["asa_s"]
    print(f"| {label} | {100 * ab.peaksim_mae:.2f} / {100 * ab.erlang_a_mae:.2f} | "
          f"{ab.peaksim_mae / ab.erlang_a_mae:.2f} | {asa.peaksim_mae:.1f} / {asa.erlang_a_mae:.1f} | "
          f"{100 * ab.peaksim_bias:+.1f} / {100 * ab.erlang_a_bias:+.1f} | {100 * ab.noise_floor_mae:.2f} | "
          f"{100 * ab.replication_noise_mae:.2f} |", flush=True)


def main():
    started = time.perf_counter()
    train, test = month("01", "02"), month("08")
    cal = calibrate(train)
    print("| variant | abandonment MAE peaksim / Erlang A (pp) | ratio | ASA MAE peaksim / Erlang A (s) "
          "| bias peaksim / Erlang A (pp) | sampling floor (pp) | model vs own replication (pp) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    row("default", backtest(train, test, calibration=cal))
    row("Poisson arrivals at the hour's rate (no counts replay)", backtest(train, test, calibration=cal, arrivals="poisson"))
    row("no handle-time profile (one AHT all day)", backtest(train, test, calibration=cal, aht_profile=False))
    row("raw talk time (no availability correction)", backtest(train, test, calibration=cal, availability=1.0))
    row("AIC patience (lognormal) in the replay", backtest(train, test, calibration=cal, patience="aic"))
    row("hourly staffing, rounded to nearest", backtest(train, test, calibration=cal, staffing_step="60min",
                                                        rounding="nearest"))
    row("only hours with ≥ 30 offered", backtest(train, test, calibration=cal, min_offered=30))
    row("30 replications", backtest(train, test, calibration=cal, replications=30))
    row("validation: train January, test February", backtest(month("01"), month("02")))
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
