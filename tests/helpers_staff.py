"""Small scenarios shared by the staffing, sweep and executor tests."""

from sim.scenario import Scenario


def stationary(rate=200.0, headcount=11, duration="6h", patience=300.0, seed=7, replications=5, interval="60min",
               warmup="1h"):
    channel = {"service_level": {"threshold": "20s", "target": 0.8},
               "handle_time": {"dist": "exponential", "mean": "180s"},
               "arrivals": {"rate_per_hour": rate}}
    if patience is not None:
        channel["patience"] = {"dist": "exponential", "mean": patience}
    return Scenario.model_validate({
        "name": "stationary", "start": "2026-01-05T00:00:00+01:00", "duration": duration, "interval": interval,
        "warmup": warmup, "seed": seed, "replications": replications, "channels": {"voice": channel},
        "agents": [{"name": "team", "skills": ["voice"], "headcount": headcount}],
    })


def two_channels(seed=5, replications=3):
    """Voice and chat (concurrency 2), a voice team, a chat team and a blended group."""
    return Scenario.model_validate({
        "name": "two channels", "start": "2026-11-27T08:00:00-05:00", "duration": "4h", "interval": "30min",
        "seed": seed, "replications": replications,
        "channels": {
            "voice": {"service_level": {"threshold": "30s", "target": 0.8},
                      "handle_time": {"dist": "exponential", "mean": "4min"},
                      "patience": {"dist": "exponential", "mean": "3min"},
                      "arrivals": {"rate_per_hour": 120}},
            "chat": {"service_level": {"threshold": "60s", "target": 0.7},
                     "handle_time": {"dist": "lognormal", "mean": "8min", "sd": "4min"},
                     "patience": {"dist": "exponential", "mean": "5min"},
                     "concurrency": 2, "concurrency_factor": [1.0, 1.3],
                     "arrivals": {"rate_per_hour": 90}},
        },
        "agents": [
            {"name": "voice_team", "skills": ["voice"], "headcount": 8},
            {"name": "chat_team", "skills": ["chat"], "headcount": 6, "shrinkage": 0.1},
            {"name": "blended", "skills": {"voice": 1, "chat": 2}, "headcount": 2},
        ],
    })


def sync_and_async(seed=3, replications=6):
    """Voice and 4-hour messages (open 08:00–20:00, sent around the clock); the blended group answers
    messages only when no call waits, so the messages' requirement must not drown in the calls'."""
    day = [1.0] * 16 + [4.0] * 24 + [2.0] * 8  # per 30 min from 00:00
    return Scenario.model_validate({
        "name": "sync and async", "start": "2026-11-27T00:00:00+01:00", "duration": "2d", "interval": "30min",
        "seed": seed, "replications": replications,
        "channels": {
            "voice": {"service_level": {"threshold": "30s", "target": 0.8},
                      "handle_time": {"dist": "exponential", "mean": "4min"},
                      "patience": {"dist": "exponential", "mean": "3min"},
                      "open": {"start": "08:00", "end": "20:00"},
                      "arrivals": {"rate_per_hour": [30 * x for x in day]}},
            "messages": {"kind": "async", "service_level": {"threshold": "4h", "target": 0.9},
                         "handle_time": {"dist": "gamma", "mean": "6min", "sd": "3min"},
                         "open": {"start": "08:00", "end": "20:00"},
                         "arrivals": {"rate_per_hour": [15 * x for x in day]}},
        },
        "agents": [
            {"name": "phone", "skills": ["voice"], "headcount": 8},
            {"name": "blended", "skills": {"voice": 1, "messages": 2}, "headcount": 6},
        ],
    })
