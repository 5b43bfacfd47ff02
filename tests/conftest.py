"""Shared helpers: tiny hand-built models and scenario construction."""

from __future__ import annotations

import copy
import math
import os
from pathlib import Path

import numpy as np
import pytest
import simpy

from sim.model import ChannelSpec, ContactCentre, GroupSpec
from sim.records import ContactLog

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
DATA = Path(os.environ.get("PEAKSIM_DATA", ROOT.parent / "shared" / "data"))


def tiny_centre(contacts, channels, groups, horizon=1000.0, interval=None, setup=None):
    """Run a hand-built centre: contacts = [(arrival, channel, work, patience)], deterministic;
    `setup(centre)`, if given, wires hooks before the run."""
    log = ContactLog()
    arrival = np.array([c[0] for c in contacts], dtype=float)
    order = np.lexsort((arrival, [c[1] for c in contacts]))  # by channel, then time
    arrival = arrival[order]
    rows = [contacts[k] for k in order]
    patience = np.array([c[3] if len(c) > 3 else math.inf for c in rows], dtype=float)
    log.extend(len(rows), arrival=arrival, queued=arrival, deadline=arrival + patience,
               work=np.array([c[2] for c in rows], dtype=float),
               channel=np.array([c[1] for c in rows]), origin=0, customer=np.arange(len(rows)), reason=0, flags=0)
    env = simpy.Environment()
    centre = ContactCentre(env, channels, groups, log, horizon, interval)
    if setup is not None:
        setup(centre)
    blocks = []
    for ch in range(len(channels)):  # one time-ordered block per channel, as the model expects
        rows_ch = [k for k in range(len(rows)) if rows[k][1] == ch]
        if rows_ch:
            assert rows_ch == list(range(rows_ch[0], rows_ch[-1] + 1)), "list contacts grouped by channel"
            blocks.append((rows_ch[0], len(rows_ch)))
    centre.start(blocks)
    env.run(until=horizon)
    centre.close()
    back = np.argsort(order)  # report rows in the order the test listed them
    return centre, {name: values[back] for name, values in log.columns().items()}


def channel(name="voice", concurrency=1, factors=None, open_times=()):
    return ChannelSpec(name, concurrency, tuple(factors or [1.0] * concurrency), tuple(open_times))


def group(name, levels, agents, proficiency=1.0, times=None, counts=None):
    times = np.array([0.0] if times is None else times, dtype=float)
    counts = np.array([agents] if counts is None else counts)
    return GroupSpec(name, tuple(tuple(level) for level in levels), proficiency, times, counts)


TINY_SCENARIO = {
    "name": "tiny",
    "start": "2026-11-23T00:00:00+01:00",
    "duration": "4h",
    "interval": "30min",
    "seed": 1,
    "replications": 3,
    "channels": {
        "voice": {
            "service_level": {"threshold": "20s", "target": 0.8},
            "handle_time": {"dist": "exponential", "mean": "3min"},
            "patience": {"dist": "exponential", "mean": "5min"},
            "arrivals": {"rate_per_hour": 100},
        }
    },
    "agents": [{"name": "team", "skills": ["voice"], "headcount": 6}],
}


@pytest.fixture
def scenario_dict():
    """A small valid scenario as a dict, for tests that tweak one key."""
    return copy.deepcopy(TINY_SCENARIO)


def write_yaml(tmp_path, data, name="s.yaml"):
    """A scenario mapping written as YAML in `tmp_path` (key order kept); returns the path."""
    import yaml

    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path

