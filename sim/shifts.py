"""Shift plan: from a per-interval headcount requirement to a roster of shifts, by integer programming.

A planner describes shift *templates* (length, allowed start times, breaks, which days, a cap on
how many agents may work it per day, cost per paid hour). Every allowed start of every template
on every day of the horizon, for every agent group, is an integer variable "agents starting this
shift"; each interval needs at least the required agents on shift. `scipy.optimize.milp` (HiGHS)
minimises the cost of paid hours.

An interval counts an agent only if the shift covers the *whole* interval (breaks included as
gaps), so starts between interval boundaries are conservative. When no mix of templates can
cover an interval (no template works then, or the per-day caps are too tight), a shortfall
variable with a prohibitive price takes up the gap: the plan stays as good as it can be and the
uncovered intervals are reported, never hidden.

Templates file (YAML):

    cost_per_hour: 25
    templates:
      - name: full_time
        length: 8.5h
        breaks: [{after: 4h, length: 30min, paid: false}]
        starts: {from: "06:00", to: "14:00", every: 30min}   # or a list ["07:00", "09:00"]
        days: [mon, tue, wed, thu, fri, sat, sun]
        max_agents: 80                                      # per day, all groups together
      - name: part_time
        length: 4h
        starts: ["10:00", "12:00", "16:00"]
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
from pydantic import BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from scipy.optimize import LinearConstraint, milp
from scipy.sparse import coo_matrix

from .calendar import interval_grid, iso
from .distributions import NonNegativeSeconds, PositiveSeconds, StrictModel
from .errors import PeaksimError, format_validation_error
from .scenario import WEEKDAYS, Scenario, Weekday
from .schedule import scheduled_per_interval
from .scenario_dump import clock_text, scenario_data
from .units import parse_clock
from .yamlsource import load_yaml_with_lines

ClockTime = Annotated[int, BeforeValidator(parse_clock)]
SHORTFALL_PRICE = 1e6  # per missing agent-interval: far above any shift's cost


class _Model(StrictModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Break(_Model):
    after: NonNegativeSeconds = Field(description="from the shift start")
    length: PositiveSeconds
    paid: bool = False


class StartWindow(_Model):
    start: ClockTime = Field(alias="from")
    to: ClockTime
    every: PositiveSeconds = 1800.0

    @model_validator(mode="after")
    def _ordered(self):
        if self.to < self.start:
            raise ValueError("`to` must not be before `from` (start times within one day)")
        return self

    def times(self) -> list[int]:
        out, t = [], self.start
        while t <= self.to:
            out.append(int(t))
            t += self.every
        return out


class Template(_Model):
    name: str = Field(min_length=1)
    length: PositiveSeconds
    starts: StartWindow | Annotated[list[ClockTime], Field(min_length=1)]
    breaks: list[Break] = Field(default_factory=list)
    days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS), min_length=1)
    max_agents: int | None = Field(default=None, ge=0, description="per day, all groups together")
    cost_per_hour: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    groups: list[str] | None = Field(default=None, description="agent groups that may work it (default all)")

    @model_validator(mode="after")
    def _breaks_inside(self):
        if self.length > 24 * 3600:
            raise ValueError("a shift cannot be longer than 24h")
        for b in self.breaks:
            if b.after + b.length > self.length:
                raise ValueError("every break must end before the shift does (`after` + `length` <= shift `length`)")
        return self

    @property
    def start_times(self) -> list[int]:
        return self.starts.times() if isinstance(self.starts, StartWindow) else sorted(set(self.starts))

    @property
    def paid_s(self) -> float:
        return self.length - sum(b.length for b in self.breaks if not b.paid)

    def working(self) -> list[tuple[float, float]]:
        """Working spells relative to the shift start (breaks cut out)."""
        spells, t = [], 0.0
        for b in sorted(self.breaks, key=lambda b: b.after):
            if b.after > t:
                spells.append((t, b.after))
            t = max(t, b.after + b.length)
        if t < self.length:
            spells.append((t, self.length))
        return spells


class Templates(_Model):
    cost_per_hour: float = Field(default=25.0, ge=0, allow_inf_nan=False)
    templates: list[Template] = Field(min_length=1)


def load_templates(path: str | Path, scenario: Scenario) -> Templates:
    path = Path(path)
    data, lines = load_yaml_with_lines(path, "shift templates file")
    try:
        templates = Templates.model_validate(data)
    except ValidationError as exc:
        raise PeaksimError(format_validation_error(exc, str(path), lines, Templates, data)) from None
    names = {g.name for g in scenario.agents}
    for i, t in enumerate(templates.templates):
        unknown = sorted(set(t.groups or []) - names)
        if unknown:
            raise PeaksimError(f"{path}: templates[{i}].groups: no agent group {unknown[0]!r} in the scenario "
                               f"(groups: {', '.join(sorted(names))})")
    return templates


@dataclass
class ShiftPlan:
    shifts: pd.DataFrame  # template, group, start, end, agents, paid_hours, cost
    planned: np.ndarray  # groups × intervals agents on shift (whole intervals)
    shortfall: np.ndarray  # groups × intervals uncovered requirement
    status: str


def _candidates(scenario: Scenario, templates: Templates):
    """Every (group, template, start timestamp) whose working time overlaps the horizon."""
    start = pd.Timestamp(scenario.start_local)
    first = (start - pd.Timedelta(days=1)).date()
    out = []
    for g, group in enumerate(scenario.agents):
        for t, tpl in enumerate(templates.templates):
            if tpl.groups is not None and group.name not in tpl.groups:
                continue
            for d in range(int(scenario.horizon_s // 86400) + 3):
                date = first + dt.timedelta(days=d)
                if WEEKDAYS[date.weekday()] not in tpl.days:
                    continue
                for clock in tpl.start_times:
                    begin = (pd.Timestamp(date) + pd.Timedelta(seconds=clock)).tz_localize(
                        scenario.zone, nonexistent="shift_forward", ambiguous=False)
                    t0 = (begin - start).total_seconds()
                    if t0 + tpl.length > 0 and t0 < scenario.horizon_s:
                        out.append((g, t, date, begin, t0))
    return out


def plan_shifts(scenario: Scenario, required: np.ndarray, templates: Templates, time_limit_s: float = 60.0) -> ShiftPlan:
    """Cheapest roster covering `required` (groups × intervals agents on shift), shortfalls reported."""
    n_groups, n_int = required.shape
    edges = np.arange(n_int + 1) * scenario.interval
    cands = _candidates(scenario, templates)
    rows, cols, cost = [], [], []
    for j, (g, t, _date, _begin, t0) in enumerate(cands):
        tpl = templates.templates[t]
        for a, b in tpl.working():
            lo, hi = t0 + a, t0 + b
            covered = np.nonzero((edges[:-1] >= lo - 1e-6) & (np.minimum(edges[1:], scenario.horizon_s) <= hi + 1e-6))[0]
            rows += list(g * n_int + covered)
            cols += [j] * len(covered)
        rate = tpl.cost_per_hour if tpl.cost_per_hour is not None else templates.cost_per_hour
        cost.append(tpl.paid_s / 3600 * rate)
    n_x, n_u = len(cands), n_groups * n_int
    cover = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_u, n_x)).tocsr()
    cover.data[:] = 1.0  # overlapping working spells never double-count
    a_cover = np.hstack([cover.toarray(), np.eye(n_u)]) if n_u * (n_x + n_u) < 4e7 else None
    if a_cover is None:
        raise PeaksimError("the shift plan is too large for one MILP; plan a shorter horizon or fewer start times")
    constraints = [LinearConstraint(a_cover, lb=required.ravel().astype(float), ub=np.inf)]
    caps = []
    for t, tpl in enumerate(templates.templates):
        if tpl.max_agents is None:
            continue
        for date in sorted({c[2] for c in cands if c[1] == t}):
            row = np.zeros(n_x + n_u)
            row[[j for j, c in enumerate(cands) if c[1] == t and c[2] == date]] = 1.0
            caps.append(row)
            constraints.append(LinearConstraint(row[None, :], lb=-np.inf, ub=tpl.max_agents))
    c = np.r_[np.array(cost), np.full(n_u, SHORTFALL_PRICE)]
    integrality = np.r_[np.ones(n_x), np.zeros(n_u)]
    res = milp(c, integrality=integrality, bounds=(0, np.inf), constraints=constraints,
               options={"time_limit": time_limit_s, "disp": False})
    if res.x is None:
        raise PeaksimError(f"the shift plan could not be solved ({res.message}); raise the time limit or simplify the templates")
    x = np.round(res.x[:n_x]).astype(int)
    shortfall = np.maximum(np.round(res.x[n_x:], 6), 0).reshape(n_groups, n_int)
    planned = (cover @ x).reshape(n_groups, n_int).astype(int)
    records = []
    for j in np.nonzero(x)[0]:
        g, t, _date, begin, _t0 = cands[j]
        tpl = templates.templates[t]
        rate = tpl.cost_per_hour if tpl.cost_per_hour is not None else templates.cost_per_hour
        records.append({"template": tpl.name, "group": scenario.agents[g].name, "start": begin.isoformat(),
                        "end": (begin + pd.Timedelta(seconds=tpl.length)).isoformat(), "agents": int(x[j]),
                        "paid_hours": round(tpl.paid_s / 3600 * x[j], 4),
                        "cost": round(tpl.paid_s / 3600 * x[j] * rate, 2)})
    shifts = pd.DataFrame(records, columns=["template", "group", "start", "end", "agents", "paid_hours", "cost"])
    status = "optimal" if res.status == 0 else f"time limit reached (best plan found, gap {res.mip_gap:.2%})"
    return ShiftPlan(shifts, planned, shortfall, status)


def shifts_scenario(scenario: Scenario, plan: ShiftPlan, templates: Templates) -> tuple[Scenario, str]:
    """The scenario with the plan as `shifts` (one per template, start and weekday; breaks split a shift).

    Scenario shifts repeat on their weekdays; when that cannot reproduce the plan (a horizon
    over a week, a date clash, DST), the plan's per-interval coverage is written instead.
    """
    by_tpl = {t.name: t for t in templates.templates}
    data = scenario_data(scenario)
    agents = []
    for g, group in enumerate(data["agents"]):
        shifts = []
        mine = plan.shifts[plan.shifts["group"] == group["name"]]
        for rec in mine.itertuples(index=False):
            tpl = by_tpl[rec.template]
            begin = pd.Timestamp(rec.start)
            clock = begin.hour * 3600 + begin.minute * 60 + begin.second
            day = WEEKDAYS[begin.weekday()]
            for a, b in tpl.working():
                s0, s1 = int((clock + a) % 86400), int((clock + b) % 86400)
                extra_day = int((clock + a) // 86400)
                if s0 == s1:
                    continue
                shifts.append({"start": clock_text(s0), "end": clock_text(s1), "agents": int(rec.agents),
                               "days": [WEEKDAYS[(WEEKDAYS.index(day) + extra_day) % 7]]})
        agents.append({**group, "headcount": None, "headcount_by_interval": None, "shifts": shifts}
                      if shifts else {**group, "headcount": 0, "headcount_by_interval": None, "shifts": None})
    candidate = Scenario.model_validate({**data, "agents": agents})
    grid = interval_grid(candidate)
    same = all(np.allclose(scheduled_per_interval(grp.model_copy(update={"shrinkage": 0.0}), candidate, grid),
                           plan.planned[g]) for g, grp in enumerate(candidate.agents))
    if same:
        return candidate, "shifts"
    agents = [{**group, "headcount": None, "shifts": None,
               "headcount_by_interval": [int(v) for v in plan.planned[g]]} for g, group in enumerate(data["agents"])]
    return Scenario.model_validate({**data, "agents": agents}), "headcount_by_interval"


def coverage_table(scenario: Scenario, required: np.ndarray, plan: ShiftPlan, intervals: pd.DataFrame) -> pd.DataFrame:
    """Per interval × group: required vs planned, and the re-simulated service level of the group's worst channel.

    `intervals` is the re-simulation's interval table; the worst channel is the one furthest
    below (or least above) its target among the group's skills; `meets_target` is its mean
    service level ≥ target.
    """
    starts = iso(interval_grid(scenario)["interval_start"])
    targets = {n: ch.service_level.target for n, ch in scenario.channels.items()}
    iv = intervals.assign(gap=intervals["service_level"] - intervals["channel"].map(targets))
    rows = []
    for g, group in enumerate(scenario.agents):
        mine = iv[iv["channel"].isin(list(group.skills))]
        worst = mine.sort_values("gap", na_position="last").drop_duplicates("interval_start").set_index("interval_start")
        for k, start in enumerate(starts):
            w = worst.loc[start] if start in worst.index else None
            sl = np.nan if w is None else w["service_level"]
            rows.append({"interval_start": start, "group": group.name, "required": int(required[g, k]),
                         "planned": int(plan.planned[g, k]), "service_level": sl,
                         "service_level_lo": np.nan if w is None else w["service_level_lo"],
                         "service_level_hi": np.nan if w is None else w["service_level_hi"],
                         "meets_target": bool(w is not None and sl == sl and w["gap"] >= 0)})
    return pd.DataFrame(rows)


def uncovered(scenario: Scenario, plan: ShiftPlan) -> list[dict]:
    """Intervals the templates could not cover: group, interval start, missing agents."""
    starts = iso(interval_grid(scenario)["interval_start"])
    return [{"group": scenario.agents[g].name, "interval_start": starts[k], "missing_agents": float(plan.shortfall[g, k])}
            for g, k in np.argwhere(plan.shortfall > 1e-6)]


@dataclass
class ShiftResult:
    plan: ShiftPlan
    scenario: Scenario
    schedule_form: str  # "shifts" or "headcount_by_interval"
    coverage: pd.DataFrame
    meta: dict


def run_shift_plan(scenario: Scenario, required: np.ndarray, templates: Templates, replications: int, seed: int,
                   jobs: int = 1, scheduler=None, progress=None, time_limit_s: float = 60.0) -> ShiftResult:
    """Plan shifts for `required`, build the scenario with them, and re-simulate it with `seed`."""
    from .runner import run_scenario

    plan = plan_shifts(scenario, required, templates, time_limit_s)
    planned_scenario, form = shifts_scenario(scenario, plan, templates)
    result = run_scenario(planned_scenario.model_copy(update={"seed": seed}), replications, jobs, scheduler,
                          progress=(lambda d, t: progress("checking shift plan", d, t)) if progress else None)
    coverage = coverage_table(scenario, required, plan, result.intervals)
    checked = coverage.dropna(subset=["service_level"])
    meta = {
        "status": plan.status, "schedule_form": form,
        "paid_hours": float(plan.shifts["paid_hours"].sum()), "cost": float(plan.shifts["cost"].sum()),
        "required_agent_hours": float(required.sum() * scenario.interval / 3600),
        "planned_agent_hours": float(plan.planned.sum() * scenario.interval / 3600),
        "uncovered_intervals": uncovered(scenario, plan),
        "check_seed": seed, "check_replications": replications,
        "share_of_group_intervals_meeting_target": float(checked["meets_target"].mean()) if len(checked) else None,
    }
    return ShiftResult(plan, planned_scenario, form, coverage, meta)


def write_shift_plan(result: ShiftResult, out: Path) -> list[Path]:
    from .outputs import atomic_write, write_csv
    from .staffing_outputs import scenario_yaml

    paths = [out / "shifts.csv", out / "coverage.csv", out / "shifts_scenario.yaml"]
    write_csv(result.plan.shifts, paths[0])
    write_csv(result.coverage, paths[1])
    atomic_write(paths[2], scenario_yaml(result.scenario, f"{result.scenario.name}: shift plan from `peaksim staff "
                                                          f"--shift-templates` ({result.schedule_form})"))
    return paths
