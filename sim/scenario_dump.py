"""The scenario as plain data that validates back into the same scenario, for writing variants of it."""

from __future__ import annotations

from .scenario import Scenario


def clock_text(seconds: int) -> str:
    """Seconds after midnight as the `HH:MM` (or `HH:MM:SS`) a scenario file takes back."""
    h, rest = divmod(int(seconds), 3600)
    m, sec = divmod(rest, 60)
    return f"{h:02d}:{m:02d}" + (f":{sec:02d}" if sec else "")


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

