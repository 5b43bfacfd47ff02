"""The forecast's parts against hand counts and closed forms: the new scenario forms (weekday
shapes, per-channel event multipliers, an event's own shape), the dispersion estimator, the
retail calendar, the user events file and a user event found, named and re-dated."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from calibrate.event_calendar import black_friday, load_events, occurrences
from calibrate.schema import TicketError
from calibrate.season import _dispersion
from sim.arrivals import channel_rates
from sim.calendar import interval_grid
from sim.errors import ScenarioError
from sim.scenario import parse_scenario


def _scenario(arrivals, events=None, days=7):
    return parse_scenario({
        "name": "t", "start": "2026-11-23T00:00:00+01:00", "duration": f"{days}d", "interval": "60min",
        "channels": {"voice": {"service_level": {"threshold": "20s", "target": 0.8},
                               "handle_time": {"dist": "exponential", "mean": 60}, "arrivals": arrivals},
                     "chat": {"service_level": {"threshold": "20s", "target": 0.8},
                              "handle_time": {"dist": "exponential", "mean": 60}, "arrivals": {"per_day": 240}}},
        "agents": [{"name": "a", "skills": ["voice", "chat"], "headcount": 5}], "events": events})


def test_weekday_shapes_per_channel_multipliers_and_event_shape_give_hand_computed_rates():
    monday = [0.0] * 12 + [1.0] * 12  # Monday: afternoon only; other days flat
    events = [{"name": "BF", "date": "2026-11-27", "multipliers": {"voice": 3.0}, "ramp_before": 1,
               "intraday": {"voice": [1.0] + [0.0] * 23}}]
    sc = _scenario({"per_day": 240, "day_of_week": [2, 1, 1, 1, 1, 1, 0], "intraday_by_weekday": {"mon": monday}},
                   events)
    grid = interval_grid(sc)
    rates = channel_rates(sc, grid)
    voice = rates["voice"].reshape(7, 24)
    level = 240 * 7 / 7  # day_of_week normalised to mean 1: (2+1+1+1+1+1+0)/7 = 1
    assert voice[0, :12].sum() == 0 and voice[0, 12:] == pytest.approx([level * 2 / 12] * 12)  # Monday
    assert voice[1] == pytest.approx([level / 24] * 24)  # Tuesday flat
    assert voice[3].sum() == pytest.approx(level * (1 + (3 - 1) / 2))  # Thursday: ramp day 1 of 1
    assert voice[4, 0] == pytest.approx(level * 3) and voice[4, 1:].sum() == 0  # Friday: all at 00:00
    assert voice[6].sum() == 0  # Sunday weight 0
    assert rates["chat"].reshape(7, 24).sum(axis=1) == pytest.approx([240] * 7)  # BF has no chat multiplier


@pytest.mark.parametrize("arrivals, events, message", [
    ({"per_day": 10, "intraday_by_weekday": {"mon": [1.0] * 5}}, None, "intraday_by_weekday.mon: needs one value"),
    ({"per_day": 10, "intraday_by_weekday": {"mon": [0.0] * 24}}, None, "at least one positive value"),
    ({"per_day": 10, "intraday_by_weekday": {"xyz": [1.0] * 24}}, None, "intraday_by_weekday"),
    ({"per_day": 10}, [{"name": "e", "date": "2026-11-24"}], "give `multiplier`"),
    ({"per_day": 10}, [{"name": "e", "date": "2026-11-24", "multipliers": {"fax": 2}}], "events[0].multipliers.fax"),
    ({"per_day": 10}, [{"name": "e", "date": "2026-11-24", "multiplier": 2, "intraday": {"voice": [1.0] * 3}}],
     "events[0].intraday.voice: needs one value per interval"),
])
def test_bad_new_forms_name_the_field(arrivals, events, message):
    with pytest.raises(ScenarioError, match=None) as info:
        _scenario(arrivals, events)
    assert message in str(info.value)


def test_dispersion_estimator_recovers_a_known_cv_within_its_sampling_error():
    """Days with Poisson(E·gamma(cv)) volume: the estimate of cv² is within 3 standard errors;
    the closed-form variance of the daily ratio is 1/E + cv²(1 + 1/E)."""
    rng = np.random.default_rng(3)
    n, expected, cv = 2000, 300.0, 0.08
    obs = rng.poisson(expected * rng.gamma(1 / cv**2, cv**2, n))[None, :].astype(float)
    estimate = _dispersion(obs, np.full((1, n), expected), np.ones(n, bool))[0]
    ratio_var = 1 / expected + cv**2 * (1 + 1 / expected)
    se_cv2 = ratio_var * np.sqrt(2 / n)
    assert abs(estimate**2 - cv**2) < 3 * se_cv2
    flat = _dispersion(rng.poisson(expected, (1, n)).astype(float), np.full((1, n), expected), np.ones(n, bool))[0]
    assert flat**2 < 3 * (1 / expected) * np.sqrt(2 / n)


def test_retail_calendar_dates_by_hand():
    assert [black_friday(y) for y in (2024, 2025, 2026, 2027)] == [
        dt.date(2024, 11, 29), dt.date(2025, 11, 28), dt.date(2026, 11, 27), dt.date(2027, 11, 26)]
    names = {e.name: e.first for e in occurrences(dt.date(2025, 11, 1), dt.date(2026, 1, 5))}
    assert names["Cyber Monday"] == dt.date(2025, 12, 1) and names["Boxing Day"] == dt.date(2025, 12, 26)
    assert names["New Year"] == dt.date(2026, 1, 1) and "January returns" in names


def test_user_events_file_is_read_and_bad_files_are_one_line(tmp_path):
    good = tmp_path / "events.yaml"
    good.write_text("White Friday: [2025-11-21, 2026-11-20]\nsale:\n  - {date: 2025-03-01, end: 2025-03-05}\n")
    assert load_events(good) == {"White Friday": [(dt.date(2025, 11, 21), dt.date(2025, 11, 21)),
                                                  (dt.date(2026, 11, 20), dt.date(2026, 11, 20))],
                                 "sale": [(dt.date(2025, 3, 1), dt.date(2025, 3, 5))]}
    for text, message in (("x: [2025-13-40]", "a date that does not exist"), ("x: [soon]", "events.x[0]: not a date"), ("- a\n- b", "must map event names"),
                          ("x: [{date: 2025-03-05, end: 2025-03-01}]", "is before `date`")):
        bad = tmp_path / "bad.yaml"
        bad.write_text(text)
        with pytest.raises(TicketError) as info:
            load_events(bad)
        assert message in str(info.value) and str(bad) in str(info.value) and "\n" not in str(info.value)
