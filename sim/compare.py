"""Two runs side by side: the difference B − A per channel and KPI, with a 95% confidence interval.

Each run's `replications.csv` holds one row per replication and channel, so the KPI of a run
is a sample of independent replication means. When both runs used the same seed and the same
replications (common random numbers: replication r of A and of B served the same customers),
the difference gets a **paired** t interval over the per-replication differences, which removes
the noise the two runs share and is the sharp answer to "what did this change do". Otherwise it
gets a Welch t interval (unequal variances, Welch–Satterthwaite degrees of freedom).

The means and CIs of A and B themselves are taken from each run's `summary.csv`, so they are
the very numbers its own report shows.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from .errors import PeaksimError
from .result_files import read_json, read_table
from .outputs import write_csv, write_json

# KPI → direction in which it is better (+1 higher, −1 lower, 0 neither); order is report order.
KPIS = {
    "service_level": +1, "abandon_rate": -1, "asa_s": -1, "wait_p50_s": -1, "wait_p90_s": -1, "frt_s": -1,
    "arrived": 0, "offered": 0, "handled": 0, "abandoned": -1, "waiting_end": -1,
    "bot_contained": 0, "bot_escalated": 0, "false_containment": -1, "unique_customers": 0,
    # peak levers (docs/levers.md)
    "prevented": 0, "balked": -1, "callbacks_offered": 0, "callbacks_accepted": 0, "callbacks_declined": 0,
    "callbacks_completed": 0, "callbacks_pending": -1, "callbacks_within_promise": +1, "callback_wait_s": -1,
    "callback_promise_met": +1, "overflowed": 0,
    # customer outcomes (sim/journeys.py), per channel of the first contact
    "fcr": +1, "csat": +1, "unresolved_share": -1, "resolution_time_mean_s": -1, "resolution_time_p50_s": -1,
    "resolution_time_p90_s": -1, "contacts_per_issue": -1, "channels_per_issue": -1, "revenue_at_risk": -1,
    "issues": 0, "issues_resolved": +1,
}
HINT = "pass two folders written by `peaksim run ... --out DIR`"


def _read(directory: Path, name: str, required: list[str]) -> pd.DataFrame:
    frame = read_table(directory, name, HINT, required)
    frame["channel"] = frame["channel"].astype(str)
    return frame


def _meta(directory: Path) -> dict:
    return read_json(directory, "run.json", HINT)


def welch_interval(a: np.ndarray, b: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean of b − mean of a with a Welch t interval; NaN bounds when either side has < 2 values."""
    a = a[~np.isnan(a)]
    b = b[~np.isnan(b)]
    if a.size == 0 or b.size == 0:
        return math.nan, math.nan, math.nan
    diff = float(b.mean() - a.mean())
    if a.size < 2 or b.size < 2:
        return diff, math.nan, math.nan
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    se = math.sqrt(va + vb)
    if se == 0:
        return diff, diff, diff
    dof = (va + vb) ** 2 / (va ** 2 / (a.size - 1) + vb ** 2 / (b.size - 1))
    half = float(stats.t.ppf(0.5 + level / 2, dof)) * se
    return diff, diff - half, diff + half


def paired_interval(a: np.ndarray, b: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean of b − a over paired replications with a t interval; NaN bounds with < 2 complete pairs."""
    keep = ~(np.isnan(a) | np.isnan(b))
    d = b[keep] - a[keep]
    if d.size == 0:
        return math.nan, math.nan, math.nan
    diff = float(d.mean())
    if d.size < 2:
        return diff, math.nan, math.nan
    se = float(d.std(ddof=1)) / math.sqrt(d.size)
    if se == 0:
        return diff, diff, diff
    half = float(stats.t.ppf(0.5 + level / 2, d.size - 1)) * se
    return diff, diff - half, diff + half


def _paired(reps: list[pd.DataFrame], metas: list[dict] | None) -> bool:
    """Same seed and the same replication indices: replication r of A and B served the same customers."""
    if not metas or metas[0].get("seed") is None or metas[0].get("seed") != metas[1].get("seed"):
        return False
    return set(reps[0]["replication"]) == set(reps[1]["replication"])


def compare_tables(dir_a: Path, dir_b: Path, metas: list[dict] | None = None) -> pd.DataFrame:
    """One row per channel × KPI present in both runs: A, B (with their CIs) and B − A with a CI
    (paired when both runs share seed and replications, Welch otherwise; see `method`)."""
    reps = [_read(d, "replications.csv", ["replication", "channel"]) for d in (dir_a, dir_b)]
    paired = _paired(reps, metas)
    summaries = [_read(d, "summary.csv", ["channel"]).set_index("channel") for d in (dir_a, dir_b)]
    channels = [c for c in dict.fromkeys(reps[0]["channel"]) if c in set(reps[1]["channel"])]
    if not channels:
        raise PeaksimError(f"{dir_a} and {dir_b}: the runs share no channel; compare runs of related scenarios")
    kpis = [k for k in KPIS if k in reps[0].columns and k in reps[1].columns]
    rows = []
    for channel in channels:
        samples = [r[r["channel"] == channel].sort_values("replication") for r in reps]
        for kpi in kpis:
            values = [pd.to_numeric(s[kpi], errors="coerce").to_numpy(float) for s in samples]
            interval = paired_interval if paired else welch_interval
            diff, lo, hi = interval(values[0], values[1])
            row = {"channel": channel, "kpi": kpi, "better": KPIS[kpi], "method": "paired" if paired else "welch"}
            for label, summary, vals in zip("ab", summaries, values):
                if channel in summary.index and kpi in summary.columns:
                    row[label] = summary.at[channel, kpi]
                    row[f"{label}_lo"] = summary.at[channel, f"{kpi}_lo"] if f"{kpi}_lo" in summary.columns else math.nan
                    row[f"{label}_hi"] = summary.at[channel, f"{kpi}_hi"] if f"{kpi}_hi" in summary.columns else math.nan
                else:
                    row[label] = float(np.nanmean(vals)) if np.isfinite(vals).any() else math.nan
                    row[f"{label}_lo"] = row[f"{label}_hi"] = math.nan
            row.update({"diff": diff, "diff_lo": lo, "diff_hi": hi,
                        "n_a": int(np.isfinite(values[0]).sum()), "n_b": int(np.isfinite(values[1]).sum())})
            row["significant"] = bool(lo == lo and hi == hi and (lo > 0 or hi < 0))
            rows.append(row)
    return pd.DataFrame(rows)


def interval_tables(dir_a: Path, dir_b: Path, labels: tuple[str, str]) -> pd.DataFrame | None:
    """Both runs' intervals.csv stacked with a `run` column (for side-by-side plots), if both exist."""
    frames = []
    for directory, label in zip((dir_a, dir_b), labels):
        if not (Path(directory) / "intervals.csv").is_file():
            return None
        frame = _read(directory, "intervals.csv", ["interval_start", "channel"])
        frames.append(frame.copy().assign(run=label))  # read column by column: consolidate first
    combined = pd.concat(frames, ignore_index=True)
    return combined[["run", *[c for c in combined.columns if c != "run"]]]


def run_label(meta: dict, directory: Path) -> str:
    return str(meta.get("scenario") or Path(directory).name)


def write_comparison(dir_a: Path, dir_b: Path, out: Path) -> dict:
    """compare.csv, compare_intervals.csv (when both runs have intervals) and compare.json in `out`."""
    dir_a, dir_b = Path(dir_a), Path(dir_b)
    for d in (dir_a, dir_b):
        if not d.is_dir():
            raise PeaksimError(f"{d}: no such directory; {HINT}")
    metas = [_meta(dir_a), _meta(dir_b)]
    labels = [run_label(m, d) for m, d in zip(metas, (dir_a, dir_b))]
    if labels[0] == labels[1]:
        labels = [f"A: {labels[0]}", f"B: {labels[1]}"]
    table = compare_tables(dir_a, dir_b, metas)
    write_csv(table, out / "compare.csv")
    paired = bool(len(table)) and table["method"].iloc[0] == "paired"
    intervals = interval_tables(dir_a, dir_b, (labels[0], labels[1]))
    if intervals is not None:
        write_csv(intervals, out / "compare_intervals.csv")
    keys = ("scenario", "scenario_sha256", "seed", "replications", "peaksim_version", "warnings")
    meta = {
        "a": {"label": labels[0], "directory": str(dir_a), **{k: metas[0].get(k) for k in keys}},
        "b": {"label": labels[1], "directory": str(dir_b), **{k: metas[1].get(k) for k in keys}},
        "method": ("difference B - A of replication means; 95% paired t interval (same seed and replications)"
                   if paired else "difference B - A of replication means; 95% Welch t interval"),
        "scenario_definitions": {"a": metas[0].get("scenario_definition"), "b": metas[1].get("scenario_definition")},
    }
    write_json(meta, out / "compare.json")
    return meta
