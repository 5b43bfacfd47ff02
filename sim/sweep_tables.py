"""What a finished sweep concludes: the cheapest point meeting every target, what one more agent buys, the warnings."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .scenario import Scenario
from .sweep_grid import Axis


def point_warnings(scenarios: list[Scenario], table: pd.DataFrame, replications: int) -> dict[str, list[dict]]:
    """Per point with any: the warnings a run of it would give (``{kind, message, …}``: unstable
    intervals, warm-up, too few replications for the CI), from its scenario and its sweep rows."""
    from .checks import scenario_warnings

    out = {}
    for k, sc in enumerate(scenarios):
        warnings = scenario_warnings(sc, table[table["point"] == k], replications)
        if warnings:
            out[str(k)] = warnings
    return out


def warning_summary(point_warnings: dict) -> list[str]:
    """One line per kind of warning with the points that have it (e.g. for a report's warning box)."""
    points: dict[str, list[str]] = {}
    for k, warnings in point_warnings.items():
        for w in warnings if isinstance(warnings, list) else [warnings]:
            kind = w.get("kind", "warning") if isinstance(w, dict) else "warning"
            if k not in points.setdefault(kind, []):
                points[kind].append(k)
    labels = {"unstable_intervals": "offered load ≥ staffing capacity in some intervals (queues grow)",
              "too_few_replications": "service-level CI wider than ±0.05 (more replications needed)",
              "warmup_too_short": "warm-up too short"}
    return [f"{labels.get(kind, kind.replace('_', ' '))}: point{'s' if len(ks) > 1 else ''} {', '.join(ks)}"
            for kind, ks in points.items()]


def best_point(table: pd.DataFrame, axes: list[Axis]) -> dict | None:
    """The cheapest point at which every channel meets its service-level target and outcome targets (ties: lowest point)."""
    ok = table.groupby("point")["meets_target"].all()
    ok = ok[ok]
    if ok.empty:
        return None
    rows = table[table["point"].isin(ok.index)]
    cost = rows.groupby("point")["agent_hours"].first().sort_index()
    point = int(cost.idxmin())
    first = rows[rows["point"] == point].iloc[0]
    return {"point": point, **{a.name: _plain(first[a.column]) for a in axes},
            "agent_hours": float(first["agent_hours"]), "cost": float(first["cost"])}


def _finite(value: float) -> float | None:
    return round(value, 4) if math.isfinite(value) else None


def _plain(value):
    return int(value) if float(value).is_integer() else float(value)


def marginal_values(table: pd.DataFrame, axes: list[Axis], scenario: Scenario, best: dict | None,
                    peaks: list[dict] | None = None) -> list[dict]:
    """Per axis: KPI change per extra agent at the peak when stepping from the reference point to the next value.

    The reference is the best point, or (if no point meets every target) the point closest to
    meeting them (largest worst-channel service level minus target). "One more agent" is one more
    at the busiest time (the sum over groups of the change in their peak on shift, `peaks` per
    point); without `peaks` it is one more on shift on average over the horizon.
    `extra_agents_on_shift` is that average, `extra_agent_hours` the paid hours the step adds.
    """
    if best is not None:
        ref = best["point"]
    else:
        gap = (table["service_level"] - table["target_sl"]).groupby(table["point"]).min()
        ref = int(gap.idxmax()) if gap.notna().any() else int(table["point"].min())
    ref_rows = table[table["point"] == ref].set_index("channel")
    ref_params = {a.column: ref_rows.iloc[0][a.column] for a in axes}
    hours = scenario.horizon_s / 3600.0
    out = []
    for axis in axes:
        values = list(axis.values)
        at = values.index(_plain(ref_params[axis.column])) if _plain(ref_params[axis.column]) in values else None
        if at is None or at + 1 >= len(values):
            out.append({"axis": axis.name, "from_point": ref, "note": "no larger value on this axis"})
            continue
        others = np.ones(len(table), dtype=bool)
        for a in axes:
            want = values[at + 1] if a is axis else ref_params[a.column]
            others &= np.isclose(table[a.column].to_numpy(dtype=float), float(want))
        nxt = table[others].set_index("channel")
        extra_hours = float(nxt["agent_hours"].iloc[0] - ref_rows["agent_hours"].iloc[0])
        extra_agents = extra_hours / hours
        to = int(nxt["point"].iloc[0])
        at_peak = (sum(peaks[to].values()) - sum(peaks[ref].values())) if peaks is not None else extra_agents
        if extra_agents <= 0 or at_peak <= 0:
            out.append({"axis": axis.name, "from_point": ref, "note": "the next value adds no agents"})
            continue
        per_channel = {}
        for channel in ref_rows.index:
            kpis = ["service_level", "abandon_rate", "asa_s", *[k for k in ("fcr", "csat") if k in table.columns]]
            d = nxt.loc[channel, kpis].astype(float) - ref_rows.loc[channel, kpis].astype(float)
            if not np.isfinite(d).any():
                continue  # no contacts left the queue at either point: nothing to compare
            per_channel[channel] = {  # None where a KPI is undefined at either point (e.g. ASA with none answered)
                "service_level_pp": _finite(100 * float(d["service_level"]) / at_peak),
                "abandon_rate_pp": _finite(100 * float(d["abandon_rate"]) / at_peak),
                "asa_s": _finite(float(d["asa_s"]) / at_peak),
                **{f"{k}_pp": _finite(100 * float(d[k]) / at_peak) for k in ("fcr", "csat") if k in d.index},
            }
        if not per_channel:
            out.append({"axis": axis.name, "from_point": ref, "note": "no channel has contacts to compare"})
            continue
        out.append({"axis": axis.name, "from_point": ref, "to_point": to,
                    "extra_agents_at_peak": round(float(at_peak), 4),
                    "extra_agents_on_shift": round(float(extra_agents), 4),
                    "extra_agent_hours": round(extra_hours, 2),
                    "extra_cost": round(float(nxt["cost"].iloc[0] - ref_rows["cost"].iloc[0]), 2),
                    "per_agent": per_channel})
    return out
