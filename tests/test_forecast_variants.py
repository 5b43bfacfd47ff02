"""Forecast variants (issue 13): a user events calendar, and a two-year export where growth is estimated.
Truths in tests/forecast_truth.py (`light`), dated by hand."""
from __future__ import annotations

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from calibrate import calibrate, load_tickets
from calibrate.event_calendar import load_events
from calibrate.synth import synth_contacts, write_tickets
from forecast_truth import WHITE_FRIDAY, light
from sim.cli import app
from sim.scenario import load_scenario, parse_scenario


def _tickets(path, *scenarios):
    frames = []
    for k, sc in enumerate(scenarios):
        frame = synth_contacts(parse_scenario(sc))
        frame["customer_id"] = f"Y{k}-" + frame["customer_id"]  # customers of each year apart
        frame["contact_id"] = f"Y{k}-" + frame["contact_id"]
        frames.append(frame)
    write_tickets(pd.concat(frames, ignore_index=True), path)
    return load_tickets(path, tz="Europe/Berlin")


def test_a_user_event_is_an_unnamed_outlier_without_the_calendar_and_a_re_dated_event_with_it(tmp_path):
    data = _tickets(tmp_path / "t.csv", light(2025, white_friday=1.8))
    plain = calibrate(data)
    assert [str(o["date"]) for o in plain.season["outliers"]] == [WHITE_FRIDAY[2025]]
    assert {e["name"] for e in plain.model["events"]} == {"Black Friday"}
    events = tmp_path / "events.yaml"
    events.write_text(yaml.safe_dump({"White Friday": [WHITE_FRIDAY[y] for y in (2025, 2026)]}))
    named = calibrate(data, user_events=load_events(events))
    assert named.season["outliers"] == []
    white = next(e for e in named.model["events"] if e["name"] == "White Friday")
    lo, hi = white["ci"]["voice"]
    assert lo <= 1.8 <= hi and white["source"] == "user"
    named.to_yaml(tmp_path / "cal.yaml")
    result = CliRunner().invoke(app, ["forecast", str(tmp_path / "cal.yaml"), "--start", "2026-11-02",
                                      "--end", "2026-12-07", "--out", str(tmp_path / "f.yaml")])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Expected ") and "fresh contacts over 36 days" in result.output.splitlines()[0]
    dates = {e.name: str(e.date) for e in load_scenario(tmp_path / "f.yaml").events}
    assert dates == {"White Friday": WHITE_FRIDAY[2026], "Black Friday": "2026-11-27"}


def test_two_year_export_estimates_growth_and_the_forecast_uses_it(tmp_path):
    data = _tickets(tmp_path / "t.csv", light(2024, seed=31), light(2025, growth=1.15, seed=32))
    cal = calibrate(data)
    growth = cal.model["channels"]["voice"]["growth"]
    assert growth["lo"] <= 1.15 <= growth["hi"] and growth["hi"] - growth["lo"] < 0.1
    # the baseline is last year's level: 500 × 1.15 fresh calls on an average day
    assert cal.model["channels"]["voice"]["arrivals"]["per_day"] == pytest.approx(575, rel=0.04)
    assert [len(e["occurrences"]) for e in cal.model["events"]] == [2]  # Black Friday 2024 and 2025
    cal.to_yaml(tmp_path / "cal.yaml")
    result = CliRunner().invoke(app, ["forecast", str(tmp_path / "cal.yaml"), "--start", "2026-11-02",
                                      "--end", "2026-11-08", "--out", str(tmp_path / "f.yaml")])
    assert result.exit_code == 0, result.output
    assert load_scenario(tmp_path / "f.yaml").channels["voice"].arrivals.growth == pytest.approx(growth["value"])
    assert f"# from data: growth voice {growth['value']:g}" in (tmp_path / "f.yaml").read_text()
