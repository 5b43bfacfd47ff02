"""The scenario as plain data that validates back into the same scenario, for writing variants of it."""

from __future__ import annotations

from .scenario import Scenario
from .units import format_clock as clock_text  # `HH:MM` (or `HH:MM:SS`), which a scenario file takes back


def scenario_data(scenario: Scenario, mode: str = "python") -> dict:
    """The scenario as plain data that validates back into the same scenario (clock times as text)."""
    data = scenario.model_dump(mode=mode)
    for channel in data["channels"].values():
        if channel.get("open"):
            channel["open"] = {**channel["open"], "start": clock_text(channel["open"]["start"]),
                               "end": clock_text(channel["open"]["end"])}
    for group in data["agents"]:
        if group.get("shifts"):
            group["shifts"] = [{**s, "start": clock_text(s["start"]), "end": clock_text(s["end"])}
                               for s in group["shifts"]]
    return data

