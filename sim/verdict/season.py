"""The season part of the calibration verdict: which peaks the export showed, which it did not, and
whether it was long enough to tell a peak from ordinary trade. A forecast is only as good as this."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..result_files import read_table

FEWEST_ORDINARY = 3  # ordinary days of each weekday a baseline needs before a peak can stand out of it
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WEEKDAY_NAMES = tuple(f"{day}s" for day in WEEKDAYS)
HINT = "rerun `peaksim calibrate FILES --out DIR` to write it again"


def season_lines(directory: Path) -> tuple[str | None, list[str], bool]:
    """(headline part, detail lines, whether the planner should look) from the season tables."""
    events = read_table(directory, "season_events.csv", HINT, optional=True,
                        required=["event", "channel", "first", "multiplier"],
                        numeric=["multiplier", "multiplier_lo", "multiplier_hi"])
    daily = read_table(directory, "season_daily.csv", HINT, optional=True, required=["channel", "weekday", "status"],
                       numeric=["weekday"])
    missed = read_table(directory, "season_not_found.csv", HINT, optional=True, required=["name", "first"],
                        numeric=["largest_abs_z"])
    if events is None and daily is None:
        return None, [], False  # a calibration written before the season was learned
    details, worry = [], False
    found = [] if events is None or events.empty else list(dict.fromkeys(events["event"].astype(str)))
    for name in found:
        rows = events[events["event"].astype(str) == name].sort_values("multiplier", ascending=False)
        when = _dates(rows.iloc[0])
        parts = [f"{r['channel']} ×{r['multiplier']:.2f}" + _ci(r) for _, r in rows.iterrows()]
        details.append(f"{name} ({when}): " + ", ".join(parts))
    not_found = [] if missed is None or missed.empty else [
        f"{r['name']} ({_dates(r)}, largest |z| {r['largest_abs_z']:.1f})" for _, r in missed.iterrows()]
    if not_found:
        details.append("in the export but not above its baseline: " + "; ".join(not_found))
    short = _short_export(daily)
    if short:
        details.append(short)
        worry = True
    if found:
        headline = f"Season: {_names(found)} found"
        if not_found:
            headline += f"; {len(not_found)} more not above the baseline"
    elif not_found:
        headline = f"Season: no peak found ({len(not_found)} calendar event{'s' if len(not_found) > 1 else ''} " \
                   "in the export but not above its baseline)"
        worry = True
    else:
        headline = "Season: no peak event in the export's dates"
    return headline, details, worry


def _short_export(daily: pd.DataFrame | None) -> str | None:
    if daily is None or daily.empty:
        return None
    one = daily[daily["channel"].astype(str) == str(daily["channel"].iloc[0])].dropna(subset=["weekday"])
    ordinary = one[one["status"].astype(str) == "ordinary"]
    counts = ordinary["weekday"].astype(int).value_counts().reindex(range(7), fill_value=0)
    present = one["weekday"].astype(int).unique()
    counts = counts[counts.index.isin(present)]
    if counts.empty or counts.min() >= FEWEST_ORDINARY:
        return None
    weekday = WEEKDAY_NAMES[int(counts.idxmin())] if counts.min() != 1 else WEEKDAYS[int(counts.idxmin())]
    return (f"warning: the export has {int(counts.min())} ordinary {weekday} (of {len(one)} days): a baseline "
            f"from fewer than {FEWEST_ORDINARY} ordinary days of each weekday cannot tell a peak from ordinary "
            "trade, so peaks may go unfound and the baseline may carry them; export at least 4 ordinary weeks "
            "beside the peak (more before it is better)")


def _dates(row) -> str:
    first, last = str(row["first"])[:10], str(row.get("last", row["first"]))[:10]
    return first if first == last or last in ("", "nan") else f"{first} – {last}"


def _ci(row) -> str:
    lo, hi = row.get("multiplier_lo"), row.get("multiplier_hi")
    return f" [{lo:.2f}, {hi:.2f}]" if pd.notna(lo) and pd.notna(hi) else ""


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"
