"""The comparison verdict: per channel, is B better, worse, or not clearly different from A?

A channel's verdict rests on its service level (the target KPI) when its 95% interval for
B − A excludes zero; otherwise on abandonment, then ASA and wait p90, the first of them whose
interval excludes zero. The interval is the paired one when both runs served the same customers
(same seed and replications), which is what makes a few replications conclusive.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..readable import duration, listing, points, unit_for
from ..result_files import read_json, read_table
from . import BAD, MIXED, NEUTRAL, OK, Verdict
from .facts import channel_facts

HINT = "rerun `peaksim compare RUN_A RUN_B --out DIR` to write it again"
ORDER = [("service_level", "service level", +1), ("abandon_rate", "abandonment", -1), ("asa_s", "ASA", -1),
         ("wait_p90_s", "wait p90", -1)]


def from_directory(directory: Path) -> Verdict:
    table = read_table(directory, "compare.csv", HINT, required=["channel", "kpi", "diff"],
                       numeric=["a", "b", "diff", "diff_lo", "diff_hi", "better"])
    return compare_verdict(table, read_json(directory, "compare.json", HINT))


def difference(kpi: str, row: pd.Series, threshold: float | None) -> str:
    """`−12.3 pp [−14.1, −10.5]` or `+48 s [+31 s, +65 s]`."""
    if kpi in ("service_level", "abandon_rate"):
        return f"{points(row['diff'], 1)} [{points(row['diff_lo'], 1)}, {points(row['diff_hi'], 1)}]"
    unit = unit_for(threshold, [row["diff"], row["diff_lo"], row["diff_hi"], row.get("a"), row.get("b")])
    return (f"{duration(row['diff'], unit, signed=True)} [{duration(row['diff_lo'], unit, signed=True)}, "
            f"{duration(row['diff_hi'], unit, signed=True)}]")


def clear(row: pd.Series) -> int:
    """+1 when B is clearly higher, −1 clearly lower, 0 when the interval holds zero or is undefined."""
    lo, hi = row.get("diff_lo"), row.get("diff_hi")
    if lo != lo or hi != hi or lo is None or hi is None:
        return 0
    return 1 if lo > 0 else -1 if hi < 0 else 0


def channel_verdict(channel: str, rows: pd.DataFrame, threshold: float | None) -> tuple[int, str]:
    """(+1 better, −1 worse, 0 no clear change) and the detail line."""
    shown = []
    decided = 0
    for kpi, label, better in ORDER:
        match = rows[rows["kpi"] == kpi]
        if match.empty:
            continue
        row = match.iloc[0]
        shown.append(f"{label} {difference(kpi, row, threshold)}")
        if decided == 0 and clear(row):
            decided = clear(row) * better
    word = {1: "better in B", -1: "worse in B", 0: "no clear change"}[decided]
    return decided, f"{channel}: {word} (B − A, 95% CI): {'; '.join(shown)}"


def compare_verdict(table: pd.DataFrame, meta: dict) -> Verdict:
    a, b = meta.get("a") or {}, meta.get("b") or {}
    label_a, label_b = str(a.get("label", "A")), str(b.get("label", "B"))
    label_a, label_b = label_a.removeprefix("A: "), label_b.removeprefix("B: ")  # same-named runs are labelled A:, B:
    paired = "paired" in str(meta.get("method", "")) or (
        "method" in table.columns and (table["method"].astype(str) == "paired").all())
    facts = channel_facts((meta.get("scenario_definitions") or {}).get("a"))
    verdicts = {}
    details = []
    for channel in dict.fromkeys(table["channel"].astype(str)):
        threshold = facts[channel].threshold_s if channel in facts else None
        decided, line = channel_verdict(channel, table[table["channel"].astype(str) == channel], threshold)
        verdicts[channel] = decided
        details.append(line)
    better = [c for c, v in verdicts.items() if v > 0]
    worse = [c for c, v in verdicts.items() if v < 0]
    same = [c for c, v in verdicts.items() if v == 0]
    parts = []
    if worse:
        parts.append(f"worse on {listing(worse)}")
    if better:
        parts.append(f"better on {listing(better)}")
    if same:
        parts.append(f"no clear change on {listing(same)}")
    kind = "paired" if paired else "Welch"
    headline = f"B ({label_b}) against A ({label_a}): {'; '.join(parts)} (95% {kind} CIs)."
    status = BAD if worse and not better else OK if better and not worse else MIXED if worse else NEUTRAL
    return Verdict("compare", status, headline, details)
