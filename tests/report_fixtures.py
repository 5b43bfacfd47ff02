"""Small result folders for every report kind, written to the file contracts in the reporting issue.

The run folder comes from a real (tiny) simulation; sweep, staff, calibrate and backtest
folders are hand-made tables in the documented shapes, so their reports can be built and
browser-tested before (and independently of) the commands that will write them. Every
fixture carries the XSS probe as a channel, group or scenario name.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

XSS = '<script>window.__xss=1;alert(1)</script><img src=x onerror="window.__xss=2">'
CHANNELS = ["voice", XSS]
TIMES = pd.date_range("2026-11-27T08:00", periods=16, freq="30min").strftime("%Y-%m-%dT%H:%M:%S+01:00")


def _write(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)


def _ci(frame: pd.DataFrame, column: str, half: float | np.ndarray, upper: float | None = None) -> pd.DataFrame:
    lo = (frame[column] - half).clip(lower=0)
    hi = frame[column] + half
    frame[f"{column}_lo"] = lo
    frame[f"{column}_hi"] = hi.clip(upper=upper) if upper is not None else hi
    return frame


def scenario_dict(name: str = XSS, agents: int = 9, replications: int = 3) -> dict:
    """A two-channel scenario (sync voice + async channel named by the XSS probe), 8 hours."""
    return {
        "name": name, "start": "2026-11-27T08:00:00+01:00", "duration": "8h", "interval": "30min",
        "seed": 3, "replications": replications,
        "channels": {
            "voice": {"service_level": {"threshold": "20s", "target": 0.8},
                      "handle_time": {"dist": "exponential", "mean": "180s"},
                      "patience": {"dist": "exponential", "mean": "300s"},
                      "arrivals": {"rate_per_hour": 120}},
            XSS: {"kind": "async", "service_level": {"threshold": "1h", "target": 0.9},
                  "handle_time": {"dist": "exponential", "mean": "300s"},
                  "arrivals": {"rate_per_hour": 30}},
        },
        "agents": [{"name": "voice team", "skills": ["voice"], "headcount": agents},
                   {"name": XSS, "skills": [XSS], "headcount": 3}],
    }


def run_dir(path: Path, agents: int = 9, name: str = XSS, warnings: list[str] | None = None) -> Path:
    """A real run of `scenario_dict` written with `write_run`, plus optional columns/files of later issues."""
    from sim.outputs import write_run
    from sim.runner import run_scenario
    from sim.scenario import parse_scenario

    scenario = parse_scenario(scenario_dict(name, agents))
    result = run_scenario(scenario)
    write_run(result, path, command=["peaksim", "run", "fixture.yaml"])
    meta = json.loads((path / "run.json").read_text())
    meta["warnings"] = warnings if warnings is not None else [f"channel {XSS} has a backlog at the horizon end"]
    (path / "run.json").write_text(json.dumps(meta))
    return path


def add_future_columns(path: Path) -> None:
    """Add the bot/origin/FRT columns and origins.csv that later issues will write."""
    intervals = pd.read_csv(path / "intervals.csv")
    for column, share in (("bot_contained", 0.2), ("bot_escalated", 0.1), ("false_containment", 0.02),
                          ("unique_customers", 0.9)):
        intervals[column] = intervals["arrived"] * share
        _ci(intervals, column, 1.0)
    intervals["frt_s"] = np.where(intervals["channel"] == XSS, 600.0, np.nan)
    _ci(intervals, "frt_s", 60.0)
    _write(intervals, path / "intervals.csv")
    rows = []
    for row in intervals.itertuples(index=False):
        for origin, share in (("fresh", 0.8), ("redial", 0.1), ("chaser", 0.05), ("bot_bounce", 0.05)):
            rows.append({"interval_start": row.interval_start, "channel": row.channel, "origin": origin,
                         "arrived": row.arrived * share, "handled": row.handled * share,
                         "abandoned": row.abandoned * share})
    origins = pd.DataFrame(rows)
    for column in ("arrived", "handled", "abandoned"):
        _ci(origins, column, 1.0)
    _write(origins, path / "origins.csv")


def sweep_dir(path: Path, name: str = XSS) -> Path:
    rows = []
    for point, agents in enumerate(range(6, 13)):
        for channel, target in zip(CHANNELS, (0.8, 0.9)):
            sl = min(0.99, 0.35 + 0.08 * (agents - 6) + (0.1 if channel != "voice" else 0))
            rows.append({"point": point, "param_agents_voice_team": agents, "channel": channel, "target_sl": target,
                         "service_level": sl, "abandon_rate": max(0.0, 0.2 - 0.03 * (agents - 6)),
                         "asa_s": 120 / (agents - 5), "wait_p90_s": 300 / (agents - 5), "offered": 400,
                         "handled": 380, "meets_target": sl >= target, "agent_hours": agents * 8.0,
                         "cost": agents * 8.0 * 31.5})
    frame = pd.DataFrame(rows)
    for column, half, upper in (("service_level", 0.03, 1), ("abandon_rate", 0.01, 1), ("asa_s", 4, None),
                                ("wait_p90_s", 9, None)):
        _ci(frame, column, half, upper)
    _write(frame, path / "sweep.csv")
    best = int(frame[frame.groupby("point")["meets_target"].transform("all")]["point"].min())
    (path / "sweep.json").write_text(json.dumps({
        "scenario": name, "seed": 3, "replications": 5, "peaksim_version": "0.1.0", "scenario_sha256": "ab" * 32,
        "best_point": best,
        "marginal_values": [{"param": "agents_voice_team", "from": a, "to": a + 1, "service_level_gain": 0.08}
                            for a in range(6, 12)],
    }))
    return path


def staff_dir(path: Path, with_shifts: bool = True, name: str = XSS) -> Path:
    groups = ["voice team", XSS]
    base = np.array([4, 5, 7, 9, 10, 10, 9, 8, 8, 9, 10, 9, 7, 6, 5, 4], dtype=float)
    rows = [{"interval_start": t, "group": g, "agents_sim": b + k, "agents_erlang_c": b + k + 1,
             "agents_erlang_a": b + k - 1}
            for k, g in enumerate(groups) for t, b in zip(TIMES, base)]
    _write(pd.DataFrame(rows), path / "staffing.csv")
    rows = []
    for channel, target in zip(CHANNELS, (0.8, 0.9)):
        for method, sl in (("sim", 0.82), ("erlang_c", 0.86), ("erlang_a", 0.8)):
            for k, t in enumerate(TIMES):
                rows.append({"interval_start": t, "channel": channel, "method": method, "target": target,
                             "service_level": sl + 0.01 * np.sin(k), "service_level_lo": sl - 0.04,
                             "service_level_hi": min(1.0, sl + 0.04)})
    _write(pd.DataFrame(rows), path / "staffing_sl.csv")
    if with_shifts:
        _write(pd.DataFrame({"template": ["early", "late", f"night {XSS}"], "start": ["08:00", "12:00", "22:00"],
                             "end": ["16:00", "20:00", "06:00"], "agents": [6, 5, 2],
                             "paid_hours": [48, 40, 16], "cost": [1512, 1260, 504]}), path / "shifts.csv")
        rows = [{"interval_start": t, "group": g, "required": b + k, "planned": b + k + (1 if i % 3 else -1),
                 "service_level": 0.85 if i % 3 else 0.7, "service_level_lo": 0.8 if i % 3 else 0.65,
                 "service_level_hi": 0.9 if i % 3 else 0.75, "meets_target": bool(i % 3)}
                for k, g in enumerate(groups) for i, (t, b) in enumerate(zip(TIMES, base))]
        _write(pd.DataFrame(rows), path / "coverage.csv")
    (path / "staff.json").write_text(json.dumps({"scenario": name, "seed": 3, "replications": 5,
                                                 "peaksim_version": "0.1.0", "scenario_sha256": "cd" * 32}))
    return path


def calibrate_dir(path: Path) -> Path:
    rng = np.random.default_rng(1)
    rows = []
    for channel in CHANNELS:
        for quantity in ("handle_time", "patience"):
            for dist, aic in (("lognormal", 1000.0), ("gamma", 1012.0), ("exponential", 1050.0)):
                rows.append({"channel": channel, "quantity": quantity, "dist": dist, "aic": aic,
                             "ks_stat": 0.02 + aic / 1e5, "ks_pvalue": 0.4 - (aic - 1000) / 200,
                             "chosen": dist == "lognormal"})
    _write(pd.DataFrame(rows), path / "fits.csv")
    q = np.linspace(0.02, 0.98, 30)
    qq = [{"channel": c, "empirical_s": 180 * -np.log(1 - p) * (1 + 0.05 * rng.standard_normal()),
           "fitted_s": 180 * -np.log(1 - p)} for c in CHANNELS for p in q]
    _write(pd.DataFrame(qq), path / "handle_time_qq.csv")
    edges = np.arange(0, 900, 60.0)
    hist = [{"channel": c, "bin_left_s": a, "bin_right_s": a + 60, "density": np.exp(-(a + 30) / 180) / 180
             * (1 + 0.1 * rng.standard_normal()), "fitted_pdf": np.exp(-(a + 30) / 180) / 180}
            for c in CHANNELS for a in edges]
    _write(pd.DataFrame(hist), path / "handle_time_hist.csv")
    t = np.arange(0, 1200, 30.0)
    km = [{"channel": c, "t_s": x, "km_survival": np.exp(-x / 300) * (1 + 0.02 * np.sin(x)),
           "fitted_survival": np.exp(-x / 300)} for c in CHANNELS for x in t]
    _write(pd.DataFrame(km), path / "patience_km.csv")
    prof = [{"channel": c, "weekday": d, "interval_of_day": i, "observed_rate_per_hour": 50 + 40 * np.sin(i / 8)
             + 5 * rng.standard_normal(), "fitted_rate_per_hour": 50 + 40 * np.sin(i / 8)}
            for c in CHANNELS for d in ("mon", "tue") for i in range(16, 40)]
    _write(pd.DataFrame(prof), path / "arrival_profile.csv")
    aht = [{"channel": c, "interval_of_day": i, "n": 100 + i, "mean_handle_time_s": 180 * (1 + 0.1 * np.sin(i / 4)),
            "multiplier": 1 + 0.1 * np.sin(i / 4)} for c in CHANNELS for i in range(24)]
    _write(pd.DataFrame(aht), path / "handle_time_profile.csv")
    (path / "calibration.yaml").write_text(f"channels:\n  voice:\n    handle_time: {{dist: lognormal, mean: 180s}}\n"
                                           f"# {XSS}\n")
    return path


def backtest_dir(path: Path, name: str = XSS) -> Path:
    k = np.arange(len(TIMES))
    frame = pd.DataFrame({
        "interval_start": TIMES, "offered": 100 + 20 * np.sin(k / 3), "agents": 10 + (k % 4),
        "observed_abandon_rate": 0.05 + 0.02 * np.sin(k / 2), "predicted_abandon_rate": 0.052 + 0.018 * np.sin(k / 2),
        "erlang_a_abandon_rate": 0.04 + 0.01 * np.sin(k / 2), "observed_asa_s": 20 + 8 * np.sin(k / 2),
        "predicted_asa_s": 21 + 7 * np.sin(k / 2), "erlang_a_asa_s": 15 + 5 * np.sin(k / 2),
    })
    _write(frame, path / "backtest_intervals.csv")
    _write(pd.DataFrame({"metric": ["abandon_rate", "asa_s"], "peaksim_mae": [0.004, 1.8],
                         "erlang_a_mae": [0.012, 6.1]}), path / "backtest_summary.csv")
    (path / "backtest.json").write_text(json.dumps({"scenario": name, "seed": 3, "peaksim_version": "0.1.0",
                                                    "train": "2025-10-01..2025-11-15", "test": "2025-11-16..2025-11-30"}))
    return path


def compare_dir(path: Path, run_a: Path, run_b: Path) -> Path:
    from sim.compare import write_comparison

    write_comparison(run_a, run_b, path)
    return path
