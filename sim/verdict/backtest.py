"""The backtest verdict: peaksim's error beside Erlang A's and beside the least any model could make."""

from __future__ import annotations

from pathlib import Path

from ..result_files import read_table
from . import NEUTRAL, OK, Verdict

HINT = "rerun `peaksim backtest --train … --test … --out DIR` to write it again"


def _show(metric: str, value) -> str:
    if value != value or value is None:
        return "–"
    return f"{100 * value:.2f} pp" if metric == "abandon_rate" else f"{value:.1f} s"


def from_directory(directory: Path) -> Verdict:
    summary = read_table(directory, "backtest_summary.csv", HINT, required=["metric", "peaksim_mae", "erlang_a_mae"],
                         numeric=["peaksim_mae", "erlang_a_mae", "noise_floor_mae", "replication_noise_mae"],
                         optional=True)
    if summary is None or summary.empty:
        return Verdict("backtest", NEUTRAL, "No error summary was saved (backtest_summary.csv is missing); "
                       "the per-interval comparison is below.")
    details = []
    for row in summary.to_dict("records"):
        label = "abandonment rate" if row["metric"] == "abandon_rate" else "ASA"
        text = (f"{label}: offered-weighted mean absolute error {_show(row['metric'], row['peaksim_mae'])} (peaksim) "
                f"vs {_show(row['metric'], row['erlang_a_mae'])} (Erlang A)")
        if row.get("replication_noise_mae") == row.get("replication_noise_mae") and "replication_noise_mae" in row:
            text += f"; an exactly right model scores {_show(row['metric'], row['replication_noise_mae'])}"
        details.append(text)
    first = summary[summary["metric"] == "abandon_rate"]
    row = (first if not first.empty else summary).iloc[0]
    ratio = row["peaksim_mae"] / row["erlang_a_mae"] if row["erlang_a_mae"] else float("nan")
    word = "lower than" if ratio < 0.995 else "higher than" if ratio > 1.005 else "the same as"
    label = "abandonment" if row["metric"] == "abandon_rate" else "ASA"
    headline = (f"peaksim's {label} error is {_show(row['metric'], row['peaksim_mae'])}, {word} Erlang A's "
                f"{_show(row['metric'], row['erlang_a_mae'])}" + (f" ({ratio:.2f}×)." if ratio == ratio else "."))
    return Verdict("backtest", OK if ratio < 1 else NEUTRAL, headline, details)
