"""End to end: last year's synthetic tickets → calibrate → `peaksim forecast` → run, against the truth
moved one year (tests/forecast_truth.py, whose dates are written by hand).

The truth is simulated for 36 days around Singles Day, Black Friday and Cyber Monday 2025; the
forecast covers the same weeks of 2026 with growth 1.1 on the true 2026 plan (`--base`). Targets
per channel (issue 13): total volume within 5%, Black Friday volume within 10%, service level within
0.06 and abandonment within 0.03. Behaviour rates are checked against the truth within their
binomial 95% intervals, and the origins against the simulator's own labels.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from calibrate import calibrate, load_tickets
from calibrate.origins import channel_kinds, classify
from calibrate.synth import synth_contacts, write_tickets
from forecast_truth import DATES, truth, window
from sim.cli import app
from sim.runner import run_scenario
from sim.scenario import load_scenario, parse_scenario

REPS = 4


@pytest.fixture(scope="module")
def last_year(tmp_path_factory):
    folder = tmp_path_factory.mktemp("forecast")
    frame = synth_contacts(parse_scenario(truth(2025)))
    write_tickets(frame, folder / "tickets.csv")
    data = load_tickets(folder / "tickets.csv", tz="Europe/Berlin")
    cal = calibrate(data)
    cal.to_yaml(folder / "calibration.yaml")
    return folder, data, cal


def _forecast(folder, *args):
    result = CliRunner().invoke(app, ["forecast", str(folder / "calibration.yaml"), *args])
    assert result.exit_code == 0, result.output
    return result


def _kpis(path) -> pd.DataFrame:
    result = run_scenario(load_scenario(path), replications=REPS)
    summary = result.summary.set_index("channel")
    intervals = result.intervals
    day = pd.to_datetime(intervals["interval_start"].astype(str), utc=True).dt.tz_convert("Europe/Berlin").dt.date
    bf = dt.date.fromisoformat(DATES[2026]["Black Friday"])
    black_friday = intervals[day == bf].groupby("channel")["arrived"].sum()
    return summary[["arrived", "service_level", "abandon_rate"]].assign(black_friday=black_friday)


def test_forecast_of_next_year_meets_the_issue_targets(last_year):
    folder, _, _ = last_year
    plan = folder / "plan2026.yaml"
    plan.write_text(yaml.safe_dump(truth(2026, growth=1.1, replications=REPS), sort_keys=False))
    start, end = window(2026)
    _forecast(folder, "--start", str(start), "--end", str(end), "--growth", "1.1", "--base", str(plan),
              "--out", str(folder / "forecast.yaml"))
    text = (folder / "forecast.yaml").read_text()
    assert text.startswith("# peaksim forecast 2026-11-02 to 2026-12-07 from calibration")
    assert "# from the planner: growth voice 1.1" in text
    written = yaml.safe_load(text)
    events = {e["name"]: e["date"] for e in written["events"]}
    assert events == DATES[2026]  # re-dated by name: Black Friday 2025-11-28 → 2026-11-27
    truth_kpis, forecast_kpis = _kpis(plan), _kpis(folder / "forecast.yaml")
    for channel in ("voice", "chat", "email"):
        t, f = truth_kpis.loc[channel], forecast_kpis.loc[channel]
        assert abs(f["arrived"] / t["arrived"] - 1) < 0.05, (channel, f["arrived"], t["arrived"])
        assert abs(f["black_friday"] / t["black_friday"] - 1) < 0.10, (channel, f["black_friday"], t["black_friday"])
        assert abs(f["service_level"] - t["service_level"]) < 0.06, channel
        assert abs(f["abandon_rate"] - t["abandon_rate"]) < 0.03, channel


def test_origins_match_the_simulators_own_labels():
    """The classification from customer ids and times agrees with how the simulator created each contact."""
    from sim.metrics import Outcomes
    from sim.records import ORIGINS
    from sim.replication import simulate

    sc = parse_scenario(truth(2025, seed=5))
    frame = synth_contacts(sc)
    rec = simulate(sc, 0)
    labels = np.array(ORIGINS)[Outcomes(rec).origin]
    order = np.argsort(Outcomes(rec).arrival, kind="stable")  # synth sorts by creation time
    contacts = frame.copy()
    found = classify(contacts, channel_kinds(contacts))["origin"].to_numpy()
    assert (found == labels[order]).mean() > 0.995
    for origin in ("redial", "reopen", "bot_bounce"):
        mine = labels[order] == origin
        assert mine.sum() > 50 and (found[mine] == origin).mean() > 0.97, origin


def _within_binomial(value, truth_value, n):
    half = 1.96 * np.sqrt(truth_value * (1 - truth_value) / n) + 0.01  # + the closed-hours correction's error
    return abs(value - truth_value) <= half


def test_behaviour_rates_recover_the_truth(last_year):
    _, _, cal = last_year
    model = cal.model
    rates = cal.diagnostics["behaviour_rates"]
    n = lambda channel, behaviour, parameter: int(rates.loc[(rates["channel"] == channel) & (rates["behaviour"] == behaviour)  # noqa: E731
                                                           & (rates["parameter"] == parameter), "n"].iloc[0])
    voice, chat = model["channels"]["voice"], model["channels"]["chat"]
    assert _within_binomial(voice["behaviour"]["redial"]["probability"], 0.5, n("voice", "redial", "probability"))
    assert _within_binomial(chat["behaviour"]["redial"]["probability"], 0.3, n("chat", "redial", "probability"))
    assert voice["behaviour"]["redial"]["switch"]["chat"] == pytest.approx(0.3, abs=0.1)
    assert _within_binomial(chat["bot"]["false_containment"], 0.2, n("chat", "bot", "false_containment"))
    assert chat["bot"]["session"]["mean"] == pytest.approx(120, rel=0.05)
    reasons = model["reasons"]
    for reason, fcr in (("order_status", 0.9), ("returns", 0.85)):
        among = int(rates.loc[(rates["reason"] == reason) & (rates["behaviour"] == "reopen"), "n"].iloc[0])
        assert _within_binomial(1 - reasons[reason]["fcr"], 1 - fcr, among), reason
    assert reasons["other"]["fcr"] == 1.0
    assert reasons["returns"]["handle_factor"] == pytest.approx(1.3, rel=0.05)
    assert reasons["order_status"]["bot_containment"] == pytest.approx(0.55, abs=0.03)


def test_season_finds_the_events_their_ramps_and_nothing_else(last_year):
    _, _, cal = last_year
    events = {e["name"]: e for e in cal.model["events"]}
    assert set(events) == {"Singles Day", "Black Friday", "Cyber Monday"}
    assert (events["Singles Day"]["ramp_before"], events["Singles Day"]["ramp_after"]) == (0, 1)
    assert (events["Black Friday"]["ramp_before"], events["Black Friday"]["ramp_after"]) == (2, 1)
    assert (events["Cyber Monday"]["ramp_before"], events["Cyber Monday"]["ramp_after"]) == (0, 1)
    # nine intervals checked together: Bonferroni (z 2.77 for family-wise 95%); the estimated CI, or the
    # truth's own spread of one day's multiplier where that is wider (email's true dispersion cv 0.06 is
    # poorly identified from 36 days): m·sqrt(cv² + 1/volume + baseline error of 4 ordinary days)
    daily = cal.diagnostics["season_daily"]
    for name, truth_multiplier in (("Singles Day", 1.6), ("Black Friday", 2.4), ("Cyber Monday", 1.9)):
        for channel, true_cv in (("voice", 0.0), ("chat", 0.0), ("email", 0.06)):
            lo, hi = events[name]["ci"][channel]
            m = events[name]["multipliers"][channel]
            row = daily[(daily["channel"] == channel) & (daily["status"] == name)].iloc[0]
            spread = m * np.sqrt(true_cv ** 2 + 1 / row["fresh"] + (true_cv ** 2 + 1 / row["baseline"]) / 4)
            half = 2.77 * max((hi - lo) / 2 / 1.96, spread)
            assert abs(m - truth_multiplier) <= half, (name, channel, m, lo, hi)
    assert set(events["Black Friday"].get("intraday", {})) == {"voice"}  # the truth's own evening-heavy shape
    assert set(events["Black Friday"].get("reason_mix", {})) == {"chat"}
    assert events["Black Friday"]["reason_mix"]["chat"]["returns"] == pytest.approx(0.6, abs=0.05)
    assert cal.season["outliers"] == []
    voice = cal.model["channels"]["voice"]
    assert voice["open"] == {"start": "08:00", "end": "20:00", "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}


def test_forecast_without_a_plan_runs_with_inferred_groups_and_flagged_defaults(last_year):
    folder, _, cal = last_year
    _forecast(folder, "--start", "2026-11-23", "--end", "2026-11-29", "--out", str(folder / "alone.yaml"))
    text = (folder / "alone.yaml").read_text()
    assert "# DEFAULT target: set your own" in text and "agents:  # DEFAULT" in text
    assert "DEFAULT: growth voice 1 (no growth given: 1)" in text
    sc = load_scenario(folder / "alone.yaml")
    skills = {g.name: sorted(g.skills) for g in sc.agents}
    assert skills == {"voice": ["voice"], "chat_email": ["chat", "email"], "email": ["email"]}
    result = run_scenario(sc, replications=1)
    assert set(result.summary["channel"]) == {"voice", "chat", "email"}


@pytest.mark.parametrize("args, message", [
    (["--start", "2026-11-30", "--end", "2026-11-02"], "--end: must be on or after --start"),
    (["--start", "2026-13-01", "--end", "2026-12-02"], "--start: not a date"),
    (["--start", "2026-11-02", "--end", "2026-11-08", "--growth", "fast"], "--growth: must be a positive number"),
    (["--start", "2026-11-02", "--end", "2026-11-08", "--growth", "fax=1.2"], "--growth: no channel 'fax'"),
    (["--start", "2026-11-02", "--end", "2026-11-08", "--growth", "1.1", "--growth", "voice=1.2"], "not both"),
])
def test_bad_forecast_options_are_one_line_and_exit_2(last_year, args, message):
    folder, _, _ = last_year
    result = CliRunner().invoke(app, ["forecast", str(folder / "calibration.yaml"), *args, "--out", str(folder / "x.yaml")])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_a_calibration_without_model_inputs_is_refused(tmp_path):
    path = tmp_path / "old.yaml"
    path.write_text("channels: {voice: {handle_time: {dist: exponential, mean: 60}}}\n")
    result = CliRunner().invoke(app, ["forecast", str(path), "--start", "2026-11-02", "--end", "2026-11-08",
                                      "--out", str(tmp_path / "f.yaml")])
    assert result.exit_code == 2 and f"{path}: model: missing" in result.output


def test_base_semantics_keep_plan_keys_and_name_channels_only_one_side_knows(last_year):
    """--base: agents, service levels, the plan's own opening hours and unlearned keys stay; a learned
    channel the plan lacks is left out, a planned channel the data lacks is kept; other top-level keys stay."""
    folder, _, _ = last_year
    plan = truth(2026, replications=2)
    del plan["channels"]["email"]
    plan["agents"] = [g for g in plan["agents"] if g["name"] != "back"]
    plan["agents"][1]["skills"] = ["chat", "social"]
    plan["channels"]["social"] = {"kind": "async", "service_level": {"threshold": "2h", "target": 0.9},
                                  "handle_time": {"dist": "exponential", "mean": "5min"}, "arrivals": {"per_day": 50}}
    plan["channels"]["voice"]["open"] = {"start": "09:00", "end": "19:00"}
    plan["channels"]["chat"]["concurrency"] = 2
    plan["warmup"] = "1h"
    plan["reasons"]["returns"]["automation"] = {"auto_resolve": 0.1}
    plan["events"].append({"name": "staff party", "date": "2026-11-19", "multiplier": 0.5})
    (folder / "odd.yaml").write_text(yaml.safe_dump(plan, sort_keys=False))
    _forecast(folder, "--start", "2026-11-16", "--end", "2026-11-22", "--base", str(folder / "odd.yaml"),
              "--out", str(folder / "odd_forecast.yaml"))
    text = (folder / "odd_forecast.yaml").read_text()
    assert "# note: channel social: not in the calibration, kept as planned" in text
    assert "# note: learned channels not in the plan, left out: email" in text
    sc = load_scenario(folder / "odd_forecast.yaml")
    assert set(sc.channels) == {"voice", "chat", "social"} and [g.name for g in sc.agents] == ["phone", "chat"]
    assert (sc.channels["voice"].open.start, sc.channels["voice"].open.end) == (9 * 3600, 19 * 3600)
    assert sc.channels["chat"].concurrency == 2 and sc.channels["chat"].service_level.threshold == 60
    assert sc.channels["social"].arrivals.per_day == 50 and sc.warmup == 3600
    assert sc.reasons["returns"].automation.auto_resolve == 0.1 and sc.reasons["returns"].fcr < 1
    assert "staff party" in [e.name for e in sc.events]
    assert sc.channels["voice"].behaviour.redial.switch == {"chat": pytest.approx(0.3, abs=0.1)}
    assert sc.channels["chat"].behaviour.redial.switch is None
