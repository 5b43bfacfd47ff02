"""A small true centre for the forecast round trips (tests/test_forecast_*.py), written apart from
peaksim's forecast code: the truth's own events are dated by hand per year, not by the calendar
module under test.

Three channels (voice and chat sync, email async), a chat bot with false containment that sends
customers back to the phone, redials that switch channel, email chasers, three reasons with their
own handle time, bot success and reopens, and Singles Day, Black Friday and Cyber Monday with
ramps (Black Friday with its own evening-heavy voice shape and a returns-heavy chat mix).
"""
from __future__ import annotations

import copy
import datetime as dt

HOURS = 24
VOICE_SHAPE = [0] * 8 + [0.6, 0.9, 1.0, 1.0, 0.9, 0.8, 0.9, 1.0, 1.0, 0.9, 0.7, 0.5] + [0] * 4
CHAT_SHAPE = [0] * 8 + [0.4, 0.6, 0.8, 0.9, 0.9, 0.8, 0.8, 0.9, 1.0, 1.0, 1.0, 0.9, 0.7, 0.5] + [0] * 2
EMAIL_SHAPE = [0.2] * 7 + [0.6, 1.0, 1.0, 1.0, 0.9, 0.9, 0.9, 0.9, 0.8, 0.8, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2]
BF_VOICE_SHAPE = [0] * 8 + [0.4, 0.6, 0.7, 0.8, 0.8, 0.8, 0.9, 1.0, 1.2, 1.4, 1.5, 1.5] + [0] * 4

# the truth's event dates, by hand (Black Friday: day after the 4th Thursday of November)
DATES = {2024: {"Singles Day": "2024-11-11", "Black Friday": "2024-11-29", "Cyber Monday": "2024-12-02"},
         2025: {"Singles Day": "2025-11-11", "Black Friday": "2025-11-28", "Cyber Monday": "2025-12-01"},
         2026: {"Singles Day": "2026-11-11", "Black Friday": "2026-11-27", "Cyber Monday": "2026-11-30"}}
STARTS = {2024: "2024-11-04", 2025: "2025-11-03", 2026: "2026-11-02"}  # Mondays 364 days apart
DAYS = 36


def truth(year: int = 2025, growth: float = 1.0, seed: int = 7, replications: int = 1) -> dict:
    """The true scenario for the weeks around Black Friday of ``year``, volumes × ``growth``."""
    d = DATES[year]
    bf = d["Black Friday"]
    return copy.deepcopy({
        "name": f"truth {year}", "start": f"{STARTS[year]}T00:00:00", "timezone": "Europe/Berlin",
        "duration": f"{DAYS}d", "interval": "60min", "seed": seed, "replications": replications,
        "reasons": {
            "order_status": {"handle_factor": 0.8, "bot_containment": 0.55, "fcr": 0.9,
                             "reopen_delay": {"dist": "exponential", "mean": "1d"}},
            "returns": {"handle_factor": 1.3, "bot_containment": 0.2, "fcr": 0.85,
                        "reopen_delay": {"dist": "exponential", "mean": "1.5d"}, "reopen_channel": {"voice": 0.5}},
            "other": {},
        },
        "events": [
            {"name": "Singles Day", "date": d["Singles Day"], "multiplier": 1.6, "ramp_after": 1},
            {"name": "Black Friday", "date": bf, "multiplier": 2.4, "ramp_before": 2, "ramp_after": 1,
             "intraday": {"voice": BF_VOICE_SHAPE},
             "reason_mix": {"chat": {"order_status": 0.3, "returns": 0.6, "other": 0.1}}},
            {"name": "Cyber Monday", "date": d["Cyber Monday"], "multiplier": 1.9, "ramp_after": 1},
        ],
        "channels": {
            "voice": {
                "service_level": {"threshold": "30s", "target": 0.8},
                "handle_time": {"dist": "lognormal", "mean": "5min", "sd": "3min"},
                "patience": {"dist": "exponential", "mean": "3min"},
                "open": {"start": "08:00", "end": "20:00"},
                "reasons": {"order_status": 0.5, "returns": 0.3, "other": 0.2},
                "arrivals": {"per_day": 420 * growth, "day_of_week": [1.2, 1.05, 1.0, 1.0, 1.0, 0.9, 0.85],
                             "intraday": VOICE_SHAPE},
                "behaviour": {"redial": {"probability": 0.5, "delay": {"dist": "exponential", "mean": "15min"},
                                         "switch": {"chat": 0.3}}},
            },
            "chat": {
                "service_level": {"threshold": "60s", "target": 0.8},
                "handle_time": {"dist": "lognormal", "mean": "7min", "sd": "4min"},
                "patience": {"dist": "exponential", "mean": "4min"},
                "open": {"start": "08:00", "end": "22:00"},
                "reasons": {"order_status": 0.5, "returns": 0.2, "other": 0.3},
                "bot": {"containment": 0.35, "session": {"dist": "lognormal", "mean": "2min", "sd": "1min"},
                        "false_containment": 0.2, "return_delay": {"dist": "exponential", "mean": "3h"},
                        "return_channel": {"voice": 0.5}},
                "arrivals": {"per_day": 380 * growth, "day_of_week": [1.1, 1.0, 1.0, 1.0, 1.0, 0.95, 0.95],
                             "intraday": CHAT_SHAPE},
                "behaviour": {"redial": {"probability": 0.3, "delay": {"dist": "exponential", "mean": "10min"}}},
            },
            "email": {
                "kind": "async",
                "service_level": {"threshold": "8h", "target": 0.8},
                "handle_time": {"dist": "gamma", "mean": "6min", "sd": "3min"},
                "reasons": {"order_status": 0.4, "returns": 0.4, "other": 0.2},
                "arrivals": {"per_day": 220 * growth, "intraday": EMAIL_SHAPE, "dispersion": {"cv": 0.06}},
                "behaviour": {"chaser": {"after": "12h", "probability": 0.3, "channel": {"voice": 0.3}}},
            },
        },
        "agents": [
            {"name": "phone", "skills": ["voice"],
             "shifts": [{"start": "08:00", "end": "14:00", "agents": 8}, {"start": "14:00", "end": "20:00", "agents": 8},
                        {"start": "10:00", "end": "20:00", "agents": 6, "dates": [bf, d["Cyber Monday"]]}]},
            {"name": "chat", "skills": {"chat": 1, "email": 2},
             "shifts": [{"start": "08:00", "end": "15:00", "agents": 7}, {"start": "15:00", "end": "22:00", "agents": 7},
                        {"start": "10:00", "end": "20:00", "agents": 5, "dates": [bf, d["Cyber Monday"]]}]},
            {"name": "back", "skills": ["email"], "shifts": [{"start": "08:00", "end": "17:00", "agents": 2}]},
        ],
    })


def window(year: int) -> tuple[dt.date, dt.date]:
    start = dt.date.fromisoformat(STARTS[year])
    return start, start + dt.timedelta(days=DAYS - 1)


WHITE_FRIDAY = {2024: "2024-11-22", 2025: "2025-11-21", 2026: "2026-11-20"}  # a user event, by hand


def light(year: int = 2025, growth: float = 1.0, seed: int = 21, white_friday: float | None = None) -> dict:
    """One sync channel with redials, Black Friday, and optionally a 'White Friday' campaign."""
    events = [{"name": "Black Friday", "date": DATES[year]["Black Friday"], "multiplier": 2.0}]
    if white_friday:
        events.append({"name": "White Friday", "date": WHITE_FRIDAY[year], "multiplier": white_friday})
    return {
        "name": f"light {year}", "start": f"{STARTS[year]}T00:00:00", "timezone": "Europe/Berlin",
        "duration": f"{DAYS}d", "interval": "60min", "seed": seed, "replications": 1, "events": events,
        "channels": {"voice": {
            "service_level": {"threshold": "30s", "target": 0.8},
            "handle_time": {"dist": "exponential", "mean": "4min"},
            "patience": {"dist": "exponential", "mean": "3min"},
            "open": {"start": "08:00", "end": "20:00"},
            "arrivals": {"per_day": 500 * growth, "intraday": VOICE_SHAPE},
            "behaviour": {"redial": {"probability": 0.4, "delay": {"dist": "exponential", "mean": "10min"}}}}},
        "agents": [{"name": "phone", "skills": ["voice"], "headcount": [0] * 8 + [9] * 12 + [0] * 4}],
    }
