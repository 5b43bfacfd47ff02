"""The grid a sweep runs: axes parsed from the --agents / --scale ranges, their points, each point's scenario."""

from __future__ import annotations

import difflib
import itertools
import math
import re
from dataclasses import dataclass

from pydantic import ValidationError

from .errors import PeaksimError, format_validation_error
from .scenario import Scenario
from .scenario_dump import scenario_data
from . import roster

MAX_POINTS = 10_000
MAX_TASKS = 1_000_000  # points × replications: each is one simulated replication


@dataclass(frozen=True)
class Axis:
    """One swept parameter: `scale`, or the constant headcount of one agent group."""

    name: str
    values: tuple[float, ...]
    group: str | None = None

    @property
    def column(self) -> str:
        return f"param_{self.name}"


def parse_range(text: str, option: str, integer: bool) -> tuple[float, ...]:
    """`start:stop:step` (stop included), `a,b,c`, or one value; an empty range is an error."""
    text = text.strip()
    kind = "whole numbers" if integer else "numbers"
    option = option if option.endswith("=") else f"{option} "  # `--agents team=10:40:2`, `--scale 1:2:0.5`
    try:
        if ":" in text:
            parts = [float(p) for p in text.split(":")]
            if len(parts) != 3:
                raise ValueError
            start, stop, step = parts
            if not all(math.isfinite(v) for v in parts):
                raise PeaksimError(f"{option}{text}: start, stop and step must be finite numbers; write start:stop:step")
            if step <= 0:
                raise PeaksimError(f"{option}{text}: the step must be positive (got {step:g}); write start:stop:step")
            count = math.floor((stop - start) / step + 1e-9) + 1  # sized before anything is built
            if count > MAX_POINTS:
                raise PeaksimError(f"{option}{text}: the range has {count:,} values (limit {MAX_POINTS:,} points "
                                   "per sweep); use a coarser step or a narrower range")
            values = [start + k * step for k in range(max(count, 0))]
        else:
            if text.count(",") >= MAX_POINTS:
                raise PeaksimError(f"{option}{text[:40]}…: the list has more than {MAX_POINTS:,} values "
                                   f"(limit {MAX_POINTS:,} points per sweep); give fewer values")
            values = [float(p) for p in text.split(",") if p.strip()]
    except (ValueError, OverflowError):
        raise PeaksimError(f"{option}{text}: not a range; write start:stop:step (e.g. 10:40:2) or a list 10,12,15") from None
    if not values:
        raise PeaksimError(f"{option}{text}: the range is empty (start is above stop); write start:stop:step with start <= stop")
    values = [round(v, 10) for v in values]
    if any(v < 0 or not math.isfinite(v) for v in values):
        raise PeaksimError(f"{option}{text}: values must be non-negative (got {min(values):g})")
    if integer:
        if any(v != int(v) for v in values):
            raise PeaksimError(f"{option}{text}: headcounts must be {kind} (got {next(v for v in values if v != int(v)):g})")
        values = [int(v) for v in values]
    if len(set(values)) != len(values):
        raise PeaksimError(f"{option}{text}: the range repeats a value; give distinct values")
    return tuple(values)


def agents_axis(spec: str, scenario: Scenario) -> Axis:
    """`--agents chat_team=10:40:2` → an axis over that group's constant headcount.

    The range is what follows the *last* `=` (a range never holds one), so a group named
    `tier=1` is swept with `--agents tier=1=10:40:2`."""
    name, sep, rng = spec.rpartition("=")
    name = name.strip()
    if not sep or not name:
        raise PeaksimError(f"--agents {spec}: write GROUP=start:stop:step, e.g. chat_team=10:40:2")
    groups = [g.name for g in scenario.agents]
    if name not in groups:
        guess = difflib.get_close_matches(name, groups, n=1)
        hint = f"did you mean {guess[0]!r}?" if guess else f"groups: {', '.join(groups)}"
        raise PeaksimError(f"--agents {spec}: no agent group {name!r} in the scenario; {hint}")
    return Axis(f"agents_{name}", parse_range(rng, f"--agents {name}=", integer=True), group=name)


def scale_axis(spec: str) -> Axis:
    values = parse_range(spec, "--scale", integer=False)
    if 0 in values:
        raise PeaksimError(f"--scale {spec}: a multiplier of 0 leaves no agents; start the range above 0")
    return Axis("scale", values)


def check_axes(axes: list[Axis], replications: int | None = None) -> None:
    """The axes make a grid of at most MAX_POINTS points and, with `replications` per point, at most
    MAX_TASKS replications: checked from the axes' lengths before any point is built."""
    if not axes:
        raise PeaksimError("nothing to sweep: give --agents GROUP=start:stop:step and/or --scale start:stop:step")
    names = [a.name for a in axes]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup:
        raise PeaksimError(f"{dup} is swept twice; give each group (and --scale) once")
    n = math.prod(len(a.values) for a in axes)
    if n > MAX_POINTS:
        raise PeaksimError(f"the grid has {n:,} points (limit {MAX_POINTS:,}); use coarser steps")
    if replications is not None and n * replications > MAX_TASKS:
        raise PeaksimError(f"the sweep would simulate {n:,} points × {replications:,} replications = "
                           f"{n * replications:,} replications (limit {MAX_TASKS:,}); use fewer points or "
                           "--replications")


def grid(axes: list[Axis]) -> list[dict[str, float]]:
    """Every point of the grid as {axis name: value}, row-major in the axes' order."""
    return [dict(zip([a.name for a in axes], combo)) for combo in itertools.product(*[a.values for a in axes])]


def apply_point(scenario: Scenario, point: dict[str, float], axes: list[Axis]) -> Scenario:
    """The scenario with this point's staffing: set headcounts first, then scale the other groups."""
    data = scenario_data(scenario)
    fixed = {a.group: int(point[a.name]) for a in axes if a.group is not None}
    factor = point.get("scale", 1.0)
    agents = []
    for group, model in zip(data["agents"], scenario.agents):
        if group["name"] in fixed:
            group = roster.at_peak(group, model, scenario, fixed[group["name"]])
        elif factor != 1.0:
            group = roster.scaled(group, factor)
        agents.append(group)
    try:
        return Scenario.model_validate({**data, "agents": agents})
    except ValidationError as exc:  # e.g. a headcount beyond the scenario's limits: the options are at fault
        where = ", ".join(f"{name}={value:g}" for name, value in point.items())
        first = format_validation_error(exc, "", {}, Scenario, {**data, "agents": agents})[0]
        raise PeaksimError(f"sweep point {where}: {re.sub(r'^:[0-9]+: ', '', first)}; narrow --agents or --scale") from None


agent_hours = roster.paid_hours  # paid agent-hours of a point (scheduled, before shrinkage)
scaled_group = roster.scaled
