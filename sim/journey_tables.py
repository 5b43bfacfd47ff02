"""The outcome tables of a replication's issues (sim/journeys.py): per channel of the first contact
(`summary`), per channel × reason (`reasons`) and per interval of creation × channel (`intervals`).

Issues are stored channel by channel in order of creation, so each interval's issues form one run
of rows: the runs give the interval keys without a division per issue, the channel totals are sums
of interval totals, and the resolution-time quantiles partition each run in place.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .journeys import Issues
from .metrics import interval_of
from .scenario import Scenario


def creation_runs(issues: Issues, scenario: Scenario) -> list[tuple[int, int, int]] | None:
    """(interval × channel key, start, stop) of each non-empty interval of creation, from the issues'
    order (channel by channel, by creation time); None if that order does not hold."""
    n_ch, n, width = len(scenario.channels), scenario.n_intervals, scenario.interval
    channel, created = issues.channel, issues.created
    if issues.n == 0:
        return []
    change = np.flatnonzero(channel[1:] != channel[:-1]) + 1
    blocks = np.r_[0, change, issues.n]
    runs = []
    seen = set()
    for a, b in zip(blocks[:-1].tolist(), blocks[1:].tolist()):
        c = int(channel[a])
        block = created[a:b]
        if c in seen or (b - a > 1 and not np.all(block[1:] >= block[:-1])):
            return None
        seen.add(c)
        edges = a + np.searchsorted(block, np.arange(1, n) * width, side="left")
        bounds = np.r_[a, edges, b].tolist()
        runs += [(k * n_ch + c, bounds[k], bounds[k + 1]) for k in range(n) if bounds[k + 1] > bounds[k]]
    return runs


def kpi_frame(sums: dict[str, np.ndarray], quantiles: tuple[np.ndarray, np.ndarray], open_end: bool = False
              ) -> pd.DataFrame:
    """The outcome KPIs from `Issues.totals` and `Issues.quantiles` (shares over issues; CSAT over closed issues)."""
    issues, resolved = sums["issues"], sums["resolved"]
    closed = issues - sums["open"]
    with np.errstate(invalid="ignore", divide="ignore"):
        def share(x, of=issues):
            return np.where(of > 0, x / of, np.nan)

        out = pd.DataFrame({
            "issues": issues, "issues_resolved": resolved, "fcr": share(sums["fcr"]),
            "contacts_per_issue": share(sums["contacts"]), "channels_per_issue": share(sums["channels"]),
            "resolution_time_mean_s": share(sums["resolution"], resolved),
            "resolution_time_p50_s": quantiles[0], "resolution_time_p90_s": quantiles[1],
            "unresolved_share": share(sums["given_up"]), "csat": share(sums["satisfied"], closed),
            "revenue_at_risk": sums["revenue"],
        })
    if open_end:
        out["issues_open_end"] = sums["open"]
    return out


def issue_tables(issues: Issues, scenario: Scenario, n_reasons: int) -> dict[str, pd.DataFrame]:
    """Per-replication outcome tables keyed as the contact KPIs: `summary` (channel of the first
    contact), `reasons` (channel × reason) and `intervals` (interval of creation × channel).

    Issues are stored channel by channel in order of creation, so each interval's issues are one
    run of rows: its key is written once (int32), the channel totals are sums of interval totals
    (the warm-up ends on an interval boundary), and the resolution-time quantiles sort the runs in
    place (reasons, which interleave, copy their values out first). `issues` is spent afterwards."""
    n_ch, n = len(scenario.channels), scenario.n_intervals
    rows = issues.created >= scenario.report_start_s
    if issues.counted is not None:
        rows &= issues.counted
    rows = None if rows.all() else rows
    runs = creation_runs(issues, scenario)
    if runs is not None:
        interval_key = np.empty(issues.n, dtype=np.int32)
        for k, a, b in runs:
            interval_key[a:b] = k

        def by_interval(a, b):
            return interval_key[a:b].astype(np.int64)
    else:
        def by_interval(a, b):
            key = interval_of(issues.created[a:b], scenario.interval, n)
            key *= n_ch
            key += issues.channel[a:b]
            return key

    def by_channel(a, b):
        return issues.channel[a:b].astype(np.int64)

    def by_reason(a, b):
        return issues.channel[a:b].astype(np.int64) * n_reasons + issues.reason[a:b]

    sums = {"intervals": issues.totals(by_interval, n * n_ch, issues.counted)}
    first = int(round(scenario.report_start_s / scenario.interval))
    if runs is not None:  # channel totals = interval totals after the warm-up
        sums["summary"] = {name: v.reshape(n, n_ch)[first:].sum(axis=0) for name, v in sums["intervals"].items()}
    else:
        sums["summary"] = issues.totals(by_channel, n_ch, rows)
    out = {}
    if n_reasons > 1:
        out["reasons"] = kpi_frame(issues.totals(by_reason, n_ch * n_reasons, rows),
                                   issues.quantiles(by_reason, n_ch * n_reasons, rows))
    if runs is None:
        out["summary"] = kpi_frame(sums["summary"], issues.quantiles(by_channel, n_ch, rows))
        out["intervals"] = kpi_frame(sums["intervals"], issues.quantiles(by_interval, n * n_ch), open_end=True)
    else:
        out["intervals"] = kpi_frame(sums["intervals"], issues.quantiles(by_interval, n * n_ch, runs=runs),
                                     open_end=True)
        del interval_key
        by_channel_runs = {}
        for k, a, b in runs:  # each channel's runs after the warm-up are adjacent: one run per channel
            if k // n_ch >= first:
                c = k % n_ch
                start, _ = by_channel_runs.get(c, (a, b))
                by_channel_runs[c] = (start, b)
        out["summary"] = kpi_frame(sums["summary"], issues.quantiles(
            by_channel, n_ch, runs=[(c, a, b) for c, (a, b) in by_channel_runs.items()]))
    if n_reasons == 1:
        out["reasons"] = out["summary"]
    return out
