"""The calibration verdict: how much of the export was used and which distributions were chosen."""

from __future__ import annotations

from pathlib import Path

from ..result_files import read_json, read_table
from . import MIXED, OK, Verdict
from .season import season_lines

HINT = "rerun `peaksim calibrate FILES --out DIR` to write it again"
LABELS = {"handle_time": "handle time", "patience": "patience (censored)", "resolution_time": "resolution time"}


def skipped_summary(skipped: list[str]) -> str:
    """All skipped fits in one line: `18 fits skipped: patience of email, social, whatsapp and 15 of
    their reasons (too little data: 0 abandonments, need ≥ 50)`."""
    groups: dict[tuple[str, str], list[str]] = {}
    for line in skipped:
        where, _, rest = str(line).partition(": ")
        quantity, _, why = rest.partition(": ")
        groups.setdefault((quantity, why), []).append(where)
    parts = []
    for (quantity, why), wheres in groups.items():
        channels = [w for w in wheres if "/" not in w]
        reasons = [w for w in wheres if "/" in w]
        whom = ", ".join(channels[:6]) + (" …" if len(channels) > 6 else "")
        if reasons:
            whom += f"{' and ' if channels else ''}{len(reasons)} channel/reason subset{'s' if len(reasons) > 1 else ''}"
        parts.append(f"{LABELS.get(quantity, quantity)} of {whom} ({why})")
    return f"{len(skipped)} fit{'s' if len(skipped) != 1 else ''} skipped: {'; '.join(parts)}"


def from_directory(directory: Path) -> Verdict:
    meta = read_json(directory, "calibrate.json", HINT, optional=True) or {}
    fits = read_table(directory, "fits.csv", HINT, required=["channel", "quantity", "dist"], optional=True)
    provenance = meta.get("provenance") or {}
    details = []
    if fits is not None and "chosen" in fits.columns:
        chosen = fits[fits["chosen"].astype(str).str.lower().isin(["true", "1"])]
        for channel, part in chosen.groupby(chosen["channel"].astype(str), sort=True):
            details.append(f"{channel}: " + "; ".join(f"{LABELS.get(q, q)} {d}" for q, d in
                                                      zip(part["quantity"], part["dist"])))
    skipped = meta.get("skipped") or []
    if skipped:
        details.append(skipped_summary(skipped))
    read, used = provenance.get("rows_read"), provenance.get("rows_used")
    channels = len(details) - (1 if skipped else 0)
    headline = f"Calibrated {channels} channel{'s' if channels != 1 else ''}"
    if read is not None and used is not None:
        headline += f" from {used:,} of {read:,} rows"
    headline += " (distributions chosen by AIC; patience fitted with censoring)"
    headline += f"; {len(skipped)} fits skipped (below)." if skipped else "."
    season, season_details, worry = season_lines(directory)
    if season:
        headline += f" {season}."
        details = season_details + details
    return Verdict("calibrate", MIXED if skipped or worry else OK, headline, details)
