"""The flagship scenario does what the README's first step says: on the ordinary days of the first
week every channel holds its target; the peak strains it (the days the scenario's events touch)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from conftest import SCENARIOS
from sim.runner import run_scenario
from sim.scenario import load_scenario
from sim.verdict.run import run_verdict

FLAGSHIP = SCENARIOS / "black_friday_fortnight.yaml"


def test_normal_days_hold_target_and_the_peak_strains():
    sc = load_scenario(FLAGSHIP, {"replications": 2})
    # the events' own dates: Black Friday ramps up over the 3 days before 27 Nov, Cyber Monday (30 Nov)
    # ramps down over 2 days after; everything before 24 Nov is ordinary trade
    peak_days = {dt.date(2026, 11, d) for d in range(24, 31)} | {dt.date(2026, 12, 1)}
    ordinary = [dt.date(2026, 11, d) for d in range(16, 24)]
    events = {e.name: e for e in sc.events}
    assert events["Black Friday"].date == dt.date(2026, 11, 27) and events["Black Friday"].ramp_before == 3
    result = run_scenario(sc)
    iv = result.intervals.assign(day=pd.to_datetime(result.intervals["interval_start"].str[:10]).dt.date)
    iv = iv[iv["service_level"].notna() & (iv["offered"] > 0)]
    daily = (iv.assign(w=iv["service_level"] * iv["offered"]).groupby(["channel", "day"])[["w", "offered"]].sum())
    level = (daily["w"] / daily["offered"]).unstack("channel")
    targets = {name: ch.service_level.target for name, ch in sc.channels.items()}
    for channel, target in targets.items():
        assert (level.loc[ordinary, channel] >= target).all(), (channel, level.loc[ordinary, channel])
    for channel in ("voice", "chat"):  # the peak strains the live channels
        assert level.loc[dt.date(2026, 11, 27), channel] < targets[channel] - 0.2
        assert level.loc[dt.date(2026, 11, 30), channel] < targets[channel]
    meta = {"scenario_definition": __import__("json").loads(sc.model_dump_json())}
    summary = result.summary
    intervals = result.intervals.assign(interval_start=pd.to_datetime(result.intervals["interval_start"].str[:19]))
    verdict = run_verdict(summary, intervals, meta)
    missed = {d for line in verdict.details for d in peak_days | set(ordinary) if f"{d:%a} {d.day} {d:%b}" in line}
    assert missed and missed <= peak_days, "the verdict names only days the events touch"
    assert verdict.headline.startswith("voice, chat") and "driven by load" in verdict.headline
