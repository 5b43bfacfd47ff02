"""The five model defects of issue 11, each against an independent truth: a hand count on the
per-contact records, a closed form, or the small reference simulation in tests/reference_queue.py.

1. contacts created during a run get the handle-time multiplier of their own arrival interval;
2. opening hours off the reporting grid: arrivals follow the exact times, partly open intervals
   get their open share (replayed counts too), and abandonment matches the reference simulation;
3. `per_day` / `per_week` count the contacts that arrive while a sync channel is open;
4. `groups.csv` `agents` is the schedule, `agents_present` adds agents finishing a contact;
5. capacity warnings quote the quantities that raised them, and say what patience does.
"""

import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

import reference_queue
from conftest import write_yaml
from sim.arrivals import channel_rates
from sim.calendar import interval_grid
from sim.checks import scenario_warnings, unstable_table
from sim.cli import app
from sim.erlang import erlang_a, erlang_c_agents
from sim.metrics import Outcomes
from sim.records import ORIGINS
from sim.replication import simulate
from sim.runner import run_scenario
from sim.scenario import load_scenario, parse_scenario
from sim.staffing import channel_queues, erlang_agents, Targets

FIXED = lambda s: {"dist": "deterministic", "value": s}  # noqa: E731
EXP = lambda s: {"dist": "exponential", "mean": s}  # noqa: E731
HOUR = 3600.0


def voice(**extra):
    channel = {"service_level": {"threshold": "20s", "target": 0.8}, "handle_time": EXP(300),
               "patience": EXP(180), "arrivals": {"rate_per_hour": 60}}
    channel.update(extra)
    return channel


def scenario(channels, agents, days=1, interval="60min", **top):
    data = {"name": "correctness", "start": "2026-11-02T00:00:00", "timezone": "Europe/Berlin",
            "duration": f"{days}d", "interval": interval, "seed": 11, "replications": 1,
            "channels": channels, "agents": agents}
    data.update(top)
    return data


def local_hour(t):
    """Wall-clock hour of seconds from the start (2 Nov 2026 00:00, no DST change in these horizons)."""
    return (np.asarray(t) % 86400) / HOUR


# --- 1. the handle-time multiplier of contacts created during the run -------------------------------

PROFILE = [0.5 + 0.1 * h for h in range(24)]  # a different multiplier in every hour of the day


def test_every_contact_gets_the_multiplier_of_its_own_arrival_hour():
    """Redials, chasers, reopens and bot bounces are created during the run; each must take the
    handle-time multiplier of the hour it arrives in, like a fresh contact (hand count:
    work = 100 s × PROFILE[local hour of arrival], exactly)."""
    data = scenario({
        "voice": voice(handle_time=FIXED(100), patience=FIXED(20), handle_time_profile=PROFILE,
                       arrivals={"rate_per_hour": 40}, reasons={"fix": 1.0},
                       behaviour={"redial": {"probability": 1.0, "delay": FIXED(5000), "max_attempts": 3}}),
        "chat": voice(handle_time=FIXED(100), patience=None, handle_time_profile=PROFILE,
                      arrivals={"rate_per_hour": 20},
                      bot={"containment": 0.5, "session": FIXED(60), "false_containment": 1.0,
                           "return_delay": FIXED(7000)}),
        "email": {"kind": "async", "service_level": {"threshold": "4h", "target": 0.9}, "handle_time": FIXED(100),
                  "handle_time_profile": PROFILE, "arrivals": {"rate_per_hour": 10},
                  "behaviour": {"chaser": {"after": "1h", "probability": 1.0}}},
    }, [{"name": "v", "skills": ["voice"], "headcount": 1}, {"name": "c", "skills": ["chat"], "headcount": 1},
        {"name": "e", "skills": ["email"], "headcount": [0] * 20 + [1] * 4}], days=1)
    data["reasons"] = {"fix": {"fcr": 0.0, "reopen_delay": FIXED(9000)}}
    c = simulate(parse_scenario(data), 0).contacts
    hour = (c["arrival"] // HOUR).astype(int) % 24
    expected = 100.0 * np.array(PROFILE)[hour]
    created = c["origin"] > 0
    for origin in ("redial", "reopen", "bot_bounce", "chaser"):  # every kind of in-run contact occurs
        made = c["origin"] == ORIGINS.index(origin)
        assert made.sum() >= 5, origin
        assert len(set(hour[made])) >= 3, origin  # at several hours, so a constant multiplier cannot pass
    assert np.allclose(c["work"], expected, rtol=1e-12), np.flatnonzero(~np.isclose(c["work"], expected))[:5]
    assert created.sum() > 100


def test_scenarios_differing_only_in_the_midnight_multiplier_agree_later_in_the_day():
    """The issue's symptom: changing only the 00:00 handle-time multiplier must not change what
    happens in hours 03–23 beyond noise (it used to scale every redial of the day). Same seeds,
    so the two runs share their customers; the tolerance is 4 standard errors of the difference
    over replications."""
    def abandonment(midnight):
        profile = [midnight] + [1.0] * 23
        data = scenario({"voice": voice(handle_time_profile=profile, arrivals={"rate_per_hour": 110},
                                        behaviour={"redial": {"probability": 0.8, "delay": EXP(600)}})},
                        [{"name": "v", "skills": ["voice"], "headcount": 9}], days=1, replications=6)
        sc = parse_scenario(data)
        rates = []
        for r in range(6):
            o = Outcomes(simulate(sc, r))
            later = o.offered & (o.arrival >= 3 * HOUR)
            rates.append(o.abandoned[later].sum() / later.sum())
        return np.array(rates)

    low, high = abandonment(1.0), abandonment(3.0)
    diff = high - low
    assert abs(diff.mean()) <= 4 * diff.std(ddof=1) / math.sqrt(diff.size) + 0.01, (low, high)


# --- 2. opening hours off the reporting grid -------------------------------------------------------

OFF_GRID = {"start": "08:30", "end": "17:30"}


def test_arrivals_follow_off_grid_opening_hours_and_partly_open_intervals_get_their_share():
    """08:30–17:30 on a 60-minute grid: no arrival before 08:30 or from 17:30 (hand truth from the
    local clock), and the 08:00 and 17:00 intervals get half an hour's worth (Poisson mean 30 a
    day at 60/h; tolerance 4 standard errors over 30 days)."""
    days = 30
    sc = parse_scenario(scenario({"voice": voice(open=OFF_GRID)}, [{"name": "v", "skills": ["voice"], "headcount": 8}],
                                 days=days))
    c = simulate(sc, 0).contacts
    hours = local_hour(c["arrival"])
    assert np.all((hours >= 8.5) & (hours < 17.5))
    per_hour = np.bincount(hours.astype(int), minlength=24) / days
    se = math.sqrt(60 / days)
    assert abs(per_hour[8] - 30) <= 4 * math.sqrt(30 / days) and abs(per_hour[17] - 30) <= 4 * math.sqrt(30 / days)
    assert abs(per_hour[9:17].mean() - 60) <= 4 * se / math.sqrt(8)
    # the expected rate the baselines see is the rate while open, not diluted by the closed half hour
    assert channel_rates(sc, interval_grid(sc))["voice"][8:18].tolist() == [60.0] * 10


def test_replayed_counts_are_prorated_and_placed_in_the_open_part():
    """A replay on the same hours: an interval open for half of it keeps half its count (hand count:
    10 → 5 at 08:00, 20 → 10 at 17:00), at times inside the open part; whole intervals keep theirs."""
    counts = [0] * 24
    counts[7], counts[8], counts[9], counts[17], counts[18] = 6, 10, 12, 20, 4
    sc = parse_scenario(scenario({"voice": voice(open=OFF_GRID, arrivals={"counts": counts})},
                                 [{"name": "v", "skills": ["voice"], "headcount": 8}], days=1))
    for r in range(3):
        t = simulate(sc, r).contacts["arrival"]
        assert np.bincount(local_hour(t).astype(int), minlength=24)[[7, 8, 9, 17, 18]].tolist() == [0, 5, 12, 10, 0]
        assert np.all((local_hour(t) >= 8.5) & (local_hour(t) < 17.5))


def _day_rates(arrival, abandoned, offered, days):
    day = (np.asarray(arrival) // 86400).astype(int)
    n = np.bincount(day[offered], minlength=days)
    ab = np.bincount(day[offered & abandoned], minlength=days)
    return ab[n > 0] / n[n > 0]


def test_abandonment_with_off_grid_hours_matches_a_reference_simulation():
    """The issue's case: with 08:30–17:30 on 60-minute intervals peaksim's abandonment must match a
    reference simulation written from the rules (tests/reference_queue.py), not the interval-start
    approximation (which sent callers 17:30–18:00 to a closed line, all of them abandoning).
    Days are independent (the line empties every night), so each side's standard error comes from
    its daily rates; tolerance 4 standard errors of the difference."""
    days, reps = 10, 4
    data = scenario({"voice": voice(open=OFF_GRID)}, [{"name": "v", "skills": ["voice"], "headcount": 5}],
                    days=days, replications=reps)
    sc = parse_scenario(data)
    ours = []
    for r in range(reps):
        o = Outcomes(simulate(sc, r))
        ours.append(_day_rates(o.arrival, o.abandoned, o.offered, days))
    ours = np.concatenate(ours)
    rng = np.random.default_rng(2026)
    spells = [(d * 86400 + 8.5 * HOUR, d * 86400 + 17.5 * HOUR) for d in range(days * reps)]
    ref = reference_queue.run(60, spells, 5, 300, 180, days * reps * 86400.0, rng)
    arrival = np.array([c.arrival for c in ref])
    abandoned = np.array([c.answered is None for c in ref])
    theirs = _day_rates(arrival, abandoned, np.ones(arrival.size, dtype=bool), days * reps)
    se = math.sqrt(ours.var(ddof=1) / ours.size + theirs.var(ddof=1) / theirs.size)
    assert abs(ours.mean() - theirs.mean()) <= 4 * se, (ours.mean(), theirs.mean(), se)
    assert 0.05 < theirs.mean() < 0.3  # a case where abandonment matters


def test_partly_open_sync_interval_is_in_reach_and_staffed_for_its_open_part():
    """Its contacts arrive only in the open half hour, so the 08:00 interval is in reach (all its
    arrivals find the line open), and Erlang C staffs it for 60/h, the rate while open (closed form:
    a = 60/h × 300 s = 5 Erlangs → 8 agents for 80% in 20 s)."""
    from sim.backlog import in_reach
    sc = parse_scenario(scenario({"voice": voice(open=OFF_GRID)}, [{"name": "v", "skills": ["voice"], "headcount": 8}]))
    reach = in_reach(sc)["voice"]
    assert reach[8] and reach[17] and not reach[7] and not reach[18]
    agents = erlang_agents(sc, channel_queues(sc, np.ones((1, 1))), Targets(), 500)["erlang_c"][0]
    assert agents[8] == agents[12] == erlang_c_agents(5.0, 300, 20, 0.8) and agents[7] == agents[18] == 0


# --- 3. per_day / per_week on channels with opening hours ------------------------------------------

def _fresh_per_day(data, reps=2):
    sc = parse_scenario(data)
    days = int(sc.horizon_s // 86400)
    out = []
    for r in range(reps):
        c = simulate(sc, r).contacts
        fresh = c["origin"] == 0
        out.append(np.bincount((c["arrival"][fresh] // 86400).astype(int), minlength=days))
    return np.array(out, dtype=float)


def test_per_day_counts_the_contacts_that_arrive_while_open():
    """The issue's case: `per_day: 800` with `open: 09:00–21:00` and no shape gives about 800 contacts
    a day (it gave about 400), all between 09:00 and 21:00; tolerance 4 Poisson standard errors."""
    data = scenario({"voice": voice(open={"start": "09:00", "end": "21:00"}, arrivals={"per_day": 800})},
                    [{"name": "v", "skills": ["voice"], "headcount": 12}], days=7)
    daily = _fresh_per_day(data)
    assert abs(daily.mean() - 800) <= 4 * math.sqrt(800 / daily.size)
    assert all(w["kind"] != "demand_while_closed" for w in scenario_warnings(parse_scenario(data)))


def test_a_shape_with_weight_on_closed_hours_keeps_per_day_and_warns_with_the_volume_lost(tmp_path):
    """A flat 24-hour shape on a 09:00–21:00 line: per_day still arrives in full while open, and
    `validate` and `run` warn that the shape put half of each day there: 400 contacts a day, 2,800
    over the week (hand count)."""
    data = scenario({"voice": voice(open={"start": "09:00", "end": "21:00"},
                                    arrivals={"per_day": 800, "intraday": [1.0] * 24})},
                    [{"name": "v", "skills": ["voice"], "headcount": 12}], days=7)
    daily = _fresh_per_day(data)
    assert abs(daily.mean() - 800) <= 4 * math.sqrt(800 / daily.size)
    warned = [w for w in scenario_warnings(parse_scenario(data)) if w["kind"] == "demand_while_closed"]
    assert len(warned) == 1 and warned[0]["volume_lost"] == pytest.approx(2800)
    assert "50% of the day's weight on closed hours" in warned[0]["message"] and "2,800 contacts" in warned[0]["message"]
    path = write_yaml(tmp_path, data)
    res = CliRunner().invoke(app, ["validate", str(path)])
    assert res.exit_code == 0 and "warning: voice: arrivals.intraday puts 50%" in res.stderr
    res = CliRunner().invoke(app, ["run", str(path), "-o", str(tmp_path / "o"), "--no-report", "-r", "1"])
    assert res.exit_code == 0 and "2,800 contacts over the horizon" in res.stderr
    meta = json.loads((tmp_path / "o" / "run.json").read_text())
    assert [w["volume_lost"] for w in meta["warnings"] if w["kind"] == "demand_while_closed"] == [2800.0]


def test_events_growth_and_weekly_volume_are_spread_over_the_open_time():
    """`per_week: 3500` on a Mon–Fri 09:00–21:00 line with growth 1.2 and a ×2 event on Wednesday:
    700 a weekday × 1.2, 1,680 on Wednesday, none at the weekend (hand count); a `day_of_week`
    weight on the weekend is warned about with the volume it would have had (700 × 1.2 on Saturday,
    700 × 2 × 1.2 on Sunday: 2,520)."""
    open_ = {"start": "09:00", "end": "21:00", "days": ["mon", "tue", "wed", "thu", "fri"]}
    data = scenario({"voice": voice(open=open_, arrivals={"per_week": 3500, "growth": 1.2})},
                    [{"name": "v", "skills": ["voice"], "headcount": 14}], days=7,
                    events=[{"name": "sale", "date": "2026-11-04", "multiplier": 2.0}])
    sc = parse_scenario(data)
    grid = interval_grid(sc)
    expected = (channel_rates(sc, grid)["voice"] / HOUR * sc.interval).reshape(7, 24).sum(axis=1)
    assert np.allclose(expected, [840, 840, 1680, 840, 840, 0, 0])
    daily = _fresh_per_day(data)
    for day, mean in enumerate([840, 840, 1680, 840, 840, 0, 0]):
        assert abs(daily[:, day].mean() - mean) <= 4 * math.sqrt(max(mean, 1) / daily.shape[0])
    data["channels"]["voice"]["arrivals"]["day_of_week"] = [1, 1, 1, 1, 1, 1, 2]
    warned = [w for w in scenario_warnings(parse_scenario(data)) if w["kind"] == "demand_while_closed"]
    assert warned and warned[0]["volume_lost"] == pytest.approx(2520) and "closed days (sat, sun)" in warned[0]["message"]


def test_staffing_checks_and_calibration_agree_with_the_new_volume(tmp_path):
    """The rate the analytic baselines and the load check use is per_day ÷ open hours (800 / 12 h =
    66.7/h while open); a calibration's 24 hourly rates of 10/h on a 09:00–21:00 sync channel give
    per_day 120 (the open 12 hours) and the same 10/h while open."""
    data = scenario({"voice": voice(open={"start": "09:00", "end": "21:00"}, arrivals={"per_day": 800})},
                    [{"name": "v", "skills": ["voice"], "headcount": 12}], days=1)
    sc = parse_scenario(data)
    rate = channel_rates(sc, interval_grid(sc))["voice"]
    assert np.allclose(rate[9:21], 800 / 12) and not rate[:9].any() and not rate[21:].any()
    load = unstable_table(sc).set_index("t_s")["offered_load"]
    assert load[10 * HOUR] == pytest.approx(800 / 12 * 300 / HOUR)
    agents = erlang_agents(sc, channel_queues(sc, np.ones((1, 1))), Targets(), 500)["erlang_c"][0]
    assert agents[10] == erlang_c_agents(800 / 12 * 300 / HOUR, 300, 20, 0.8)
    (tmp_path / "cal.yaml").write_text(json.dumps({"channels": {"voice": {"arrivals": {"rate_per_hour": [10.0] * 24}}}}))
    data["channels"]["voice"].pop("arrivals")
    data["calibration"] = "cal.yaml"
    calibrated = load_scenario(write_yaml(tmp_path, data))
    assert calibrated.channels["voice"].arrivals.per_day == pytest.approx(120)
    assert np.allclose(channel_rates(calibrated, interval_grid(calibrated))["voice"][9:21], 10.0)


# --- 4. groups.csv agents ---------------------------------------------------------------------------

def test_groups_agents_is_the_schedule_and_agents_present_counts_those_finishing():
    """Six agents take a 2-hour contact each at the start; the schedule drops to 2 at 01:00. Hand
    count for 01:00–01:30: 2 agents scheduled, 6 present (the four leaving finish first, ~02:00),
    occupancy 1 over the time present. With 25% shrinkage, 8 on shift are round(8 × 0.75) = 6."""
    data = scenario({"voice": voice(handle_time=FIXED(7200), patience=None, arrivals={"counts": [6, 0, 0, 0, 0, 0]})},
                    [{"name": "v", "skills": ["voice"], "headcount": [6, 6, 2, 2, 2, 2] + [2] * 42}],
                    interval="30min", duration="3h", replications=2)
    result = run_scenario(parse_scenario(data))
    g = result.groups.set_index(result.groups["interval_start"].str[11:16])
    assert g.loc["01:00", "agents"] == 2 and g.loc["01:00", "agents_present"] == pytest.approx(6)
    assert g.loc["00:30", "agents"] == 6 and g.loc["02:30", "agents_present"] == pytest.approx(2)
    assert g.loc["01:00", "occupancy"] == pytest.approx(1.0)
    data["agents"][0].update(headcount=8, shrinkage=0.25)
    data["channels"]["voice"]["arrivals"] = {"rate_per_hour": 1}
    groups = run_scenario(parse_scenario(data)).groups
    assert np.allclose(groups["agents"], 6)


# --- 5. capacity warnings ---------------------------------------------------------------------------

def two_on_one_team(patience=True, team=10):
    chat = voice(handle_time=EXP(240), arrivals={"rate_per_hour": 90})
    v = voice(handle_time=EXP(180), arrivals={"rate_per_hour": 100})
    if not patience:
        chat.pop("patience")
        v.pop("patience")
    return parse_scenario(scenario({"voice": v, "chat": chat}, [{"name": "all", "skills": ["voice", "chat"],
                                                                 "headcount": team}], days=1))


def test_a_channel_flagged_through_its_pool_reports_pooled_load_and_capacity():
    """voice (100/h × 3 min = 5 agents) and chat (90/h × 4 min = 6) share 10 agents: each fits alone,
    together 11 > 10. The warning must quote 11.0 against 10.0, not voice's own 5.0 against 10.0."""
    warned = {w["channel"]: w for w in scenario_warnings(two_on_one_team()) if w["kind"] == "unstable_intervals"}
    assert set(warned) == {"voice", "chat"}
    message = warned["voice"]["message"]
    assert "pooled load 11.0 vs pooled capacity 10.0 agents" in message and "load 5.0" not in message
    assert warned["voice"]["pooled_load"] == pytest.approx(11.0) and warned["voice"]["pooled_capacity"] == 10


def test_with_patience_the_warning_says_customers_abandon_not_that_queues_grow():
    """Patience bounds the queue: the message says customers abandon, with the steady-state floor
    1 − capacity ÷ load (1 − 10/11 = 9%), which the closed form for the pooled M/M/10+M (Erlang A,
    both channels' arrivals with the pooled mean handle time) respects. Without patience, queues grow."""
    warned = [w for w in scenario_warnings(two_on_one_team()) if w["kind"] == "unstable_intervals"]
    for w in warned:
        assert "queues grow" not in w["message"] and "abandon" in w["message"]
        assert w["abandon_at_least"] == pytest.approx(1 - 10 / 11, abs=1e-3)
    lam = (100 + 90) / HOUR
    aht = (100 * 180 + 90 * 240) / (100 + 90)
    assert erlang_a(10, lam, aht, 180, 20).abandon_prob >= 1 - 10 / 11
    plain = [w for w in scenario_warnings(two_on_one_team(patience=False)) if w["kind"] == "unstable_intervals"]
    assert plain and all("queues grow" in w["message"] for w in plain)


def test_own_overload_quotes_own_load_and_async_overload_speaks_of_the_backlog():
    data = scenario({"voice": voice(arrivals={"rate_per_hour": 300}, handle_time=EXP(180)),
                     "email": {"kind": "async", "service_level": {"threshold": "24h", "target": 0.9},
                               "handle_time": EXP(600), "arrivals": {"per_day": 300}}},
                    [{"name": "p", "skills": ["voice"], "headcount": 9}, {"name": "e", "skills": ["email"],
                                                                           "headcount": 1}], days=1)
    warned = {w["channel"]: w for w in scenario_warnings(parse_scenario(data)) if w["kind"] == "unstable_intervals"}
    assert "load 15.0 vs capacity 9.0 agents" in warned["voice"]["message"]
    assert warned["voice"]["abandon_at_least"] == pytest.approx(0.4)  # 1 − 9/15
    assert "backlog grows" in warned["email"]["message"] and "queues grow" not in warned["email"]["message"]
