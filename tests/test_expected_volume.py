"""The volume `peaksim forecast` leads with, against hand counts of the scenario's own rules:
`per_day` counts a sync channel's contacts while it is open, events multiply their days, ramps
climb linearly, async channels take contacts around the clock."""
from __future__ import annotations

import datetime as dt

import pytest

from sim.expected_volume import expected_daily, volume_headline
from sim.scenario import parse_scenario


def scenario(**extra):
    data = {
        "name": "volume", "start": "2026-11-25T00:00:00", "timezone": "Europe/Berlin", "duration": "4d",
        "interval": "30min", "seed": 1, "replications": 1,
        "channels": {
            "phone": {"service_level": {"threshold": "30s", "target": 0.8},
                      "handle_time": {"dist": "exponential", "mean": "5min"},
                      "patience": {"dist": "exponential", "mean": "3min"},
                      "open": {"start": "09:00", "end": "21:00"},
                      "arrivals": {"per_day": 800}},
            "email": {"kind": "async", "service_level": {"threshold": "1d", "target": 0.9},
                      "handle_time": {"dist": "exponential", "mean": "5min"},
                      "arrivals": {"rate_per_hour": 10}},
        },
        "agents": [{"name": "team", "skills": ["phone", "email"], "headcount": 20}],
    }
    data.update(extra)
    return parse_scenario(data)


def test_expected_contacts_per_day_by_hand():
    events = [{"name": "Black Friday", "date": "2026-11-27", "multiplier": 2.0, "ramp_before": 1}]
    daily = expected_daily(scenario(events=events)).set_index(["date", "channel"])["contacts"]
    days = [dt.date(2026, 11, 25) + dt.timedelta(days=k) for k in range(4)]
    # per_day 800 while open; Wed 1×, Thu the ramp's half-way 1.5×, Fri (Black Friday) 2×, Sat 1×
    assert [daily[(d, "phone")] for d in days] == pytest.approx([800, 1200, 1600, 800])
    # 10 an hour around the clock, the event on every channel
    assert [daily[(d, "email")] for d in days] == pytest.approx([240, 360, 480, 240])


def test_the_headline_names_the_busiest_day_and_its_event():
    events = [{"name": "Black Friday", "date": "2026-11-27", "multiplier": 2.0}]
    text = volume_headline(scenario(events=events))
    # 4 days: phone 800 × (1 + 1 + 2 + 1) = 4,000, email 240 × 5 = 1,200; Friday 2,080 of a median 1,040
    assert text.startswith("Expected 5,200 fresh contacts over 4 days (phone 4,000, email 1,200)")
    assert "busiest day Fri 27 Nov (Black Friday): 2,080, 2.0× the median day" in text


def test_forecast_warns_about_events_that_cannot_touch_its_dates(tmp_path, capsys):
    """A plan from last year keeps last year's event dates: they would silently do nothing."""
    import yaml

    from sim.cli_data import _print_expected_volume

    data = {"name": "last year's plan", "start": "2026-11-25T00:00:00", "timezone": "Europe/Berlin", "duration": "4d",
            "interval": "30min", "seed": 1, "replications": 1,
            "channels": {"email": {"kind": "async", "service_level": {"threshold": "1d", "target": 0.9},
                                   "handle_time": {"dist": "exponential", "mean": "5min"},
                                   "arrivals": {"rate_per_hour": 10}}},
            "agents": [{"name": "team", "skills": ["email"], "headcount": 2}],
            "events": [{"name": "Black Friday", "date": "2025-11-28", "multiplier": 2.0},
                       {"name": "Cyber Monday", "date": "2026-11-30", "multiplier": 1.5, "ramp_before": 2}]}
    path = tmp_path / "f.yaml"
    path.write_text(yaml.safe_dump(data))
    _print_expected_volume(path, dt.date(2026, 11, 25), dt.date(2026, 11, 28))
    captured = capsys.readouterr()
    shown = " ".join((captured.out + " " + captured.err).split())
    assert shown.startswith("Expected ")
    # Black Friday 2025 is outside; Cyber Monday's ramp reaches Sat 28 Nov, so it is not
    assert "events outside the forecast dates have no effect: Black Friday (2025-11-28);" in shown
    assert "Cyber Monday (2026" not in shown
