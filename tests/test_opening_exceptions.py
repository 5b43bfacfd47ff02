"""Opening hours on specific dates (issue 17, item 5): `open.exceptions` with other hours or `closed: true`.

The truth is a hand count from the local calendar: for every contact, the date's hours (an
exception if the date has one, else the weekly rule) must contain its arrival (sync) or its
answer (async). Staffing (Erlang, ISA's open time, the backlog rule) and the per-interval
results follow the same calendar, DST included.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import write_yaml
from sim.backlog import in_reach, open_seconds
from sim.calendar import interval_grid
from sim.cli import app
from sim.opening import channel_calendar
from sim.records import ORIGINS
from sim.replication import build_specs, simulate
from sim.runner import run_scenario
from sim.scenario import parse_scenario
from sim.staffing import Targets, channel_queues, erlang_agents

BERLIN = ZoneInfo("Europe/Berlin")
EXP = lambda s: {"dist": "exponential", "mean": s}  # noqa: E731
WEEKLY = {"start": "09:00", "end": "17:00", "days": ["mon", "tue", "wed", "thu", "fri"],
          "exceptions": [{"dates": ["2026-11-27"], "start": "07:00", "end": "24:00"},  # Black Friday
                         {"dates": ["2026-11-25"], "closed": True},
                         {"dates": ["2026-11-29", "2026-11-28"], "start": "10:00", "end": "16:30"}]}  # the weekend
HOURS = {dt.date(2026, 11, 27): (7, 24), dt.date(2026, 11, 25): None, dt.date(2026, 11, 28): (10, 16.5),
         dt.date(2026, 11, 29): (10, 16.5)}


def hours_on(date):
    """The hand-written truth: the exception's hours, else 09:00–17:00 on weekdays."""
    if date in HOURS:
        return HOURS[date]
    return (9, 17) if date.weekday() < 5 else None


def local(t, start=dt.datetime(2026, 11, 23, tzinfo=BERLIN)):
    """(local date, local hour) of seconds from `start`, added in UTC (aware arithmetic in one zone is wall-clock)."""
    moment = (start.astimezone(dt.timezone.utc) + dt.timedelta(seconds=float(t))).astimezone(BERLIN)
    return moment.date(), moment.hour + moment.minute / 60 + moment.second / 3600 + moment.microsecond / 3.6e9


def open_at(t):
    date, hour = local(t)
    hours = hours_on(date)
    return hours is not None and hours[0] <= hour < hours[1]


def week(**voice_extra):
    voice = {"service_level": {"threshold": "20s", "target": 0.8}, "handle_time": EXP(240), "patience": EXP(120),
             "arrivals": {"per_day": 700}, "open": WEEKLY,
             "behaviour": {"redial": {"probability": 0.7, "delay": EXP(1800)}}}
    voice.update(voice_extra)
    email = {"kind": "async", "service_level": {"threshold": "24h", "target": 0.9}, "handle_time": EXP(300),
             "arrivals": {"per_day": 300}, "open": WEEKLY}
    return {"name": "exceptions", "start": "2026-11-23T00:00:00", "timezone": "Europe/Berlin", "duration": "7d",
            "interval": "30min", "seed": 4, "replications": 2, "channels": {"voice": voice, "email": email},
            "agents": [{"name": "phones", "skills": ["voice"], "headcount": 7},
                       {"name": "mail", "skills": ["email"], "headcount": 2}]}


def test_exception_dates_give_arrivals_exactly_while_open():
    """Every voice contact (fresh or redial) arrives while the date's hours say open; Black Friday
    gets contacts 07:00–09:00 and 17:00–24:00, the closed Wednesday none, the weekend only 10:00–16:30;
    every answer on either channel falls inside the hours (hand truth: `hours_on`)."""
    sc = parse_scenario(week())
    c = simulate(sc, 0).contacts
    voice = c["channel"] == 0
    assert (c["origin"][voice] == ORIGINS.index("redial")).any()
    arrivals = [local(t) for t in c["arrival"][voice]]
    assert all(open_at(t) for t in c["arrival"][voice])
    dates = {d for d, _ in arrivals}
    assert dt.date(2026, 11, 25) not in dates and {dt.date(2026, 11, 28), dt.date(2026, 11, 29)} <= dates
    friday = [h for d, h in arrivals if d == dt.date(2026, 11, 27)]
    assert min(friday) < 9 and max(friday) > 17
    answered = c["answered"][~np.isnan(c["answered"])]
    assert all(open_at(t) for t in answered)
    email_night = (c["channel"] == 1) & ~np.array([open_at(t) for t in c["arrival"]])
    assert email_night.sum() > 100  # async contacts still arrive while closed, and wait for the opening


def test_the_calendar_and_the_model_use_the_same_open_times_with_a_dst_change():
    """On 25 October 2026 (the clocks go back at 03:00) an exception 07:00–24:00 is 17 hours of real
    time: the calendar's open seconds, the model's switching times and the volume all follow it;
    the flat per_day of 340 spreads 20 an hour over that day's 17 hours (hand count)."""
    data = week(open={"start": "09:00", "end": "17:00",
                      "exceptions": [{"dates": ["2026-10-25"], "start": "07:00", "end": "24:00"}]},
                arrivals={"per_day": 340}, behaviour=None)
    data.update(start="2026-10-24T00:00:00", duration="3d")
    sc = parse_scenario(data)
    seconds = open_seconds(sc)["voice"].sum() / 3600  # the 72-hour grid ends at 23:00 on the 26th
    cal = channel_calendar(sc, "voice")
    assert cal.open_seconds(0, sc.horizon_s) / 3600 == pytest.approx(8 + 17 + 8)
    spec = build_specs(sc, interval_grid(sc))[0][0]
    assert spec.open_times == cal.changes(sc.horizon_s)
    sunday = [t for t, is_open in spec.open_times if 86400 <= t <= 2 * 86400 + 3600]
    assert [local(t, dt.datetime(2026, 10, 24, tzinfo=BERLIN))[1] for t in sunday] == [7.0, 0.0]
    assert seconds == pytest.approx(33)
    rates = []
    for r in range(3):
        c = simulate(sc, r).contacts
        day = np.array([local(t, dt.datetime(2026, 10, 24, tzinfo=BERLIN))[0] for t in c["arrival"][c["channel"] == 0]])
        rates.append((day == dt.date(2026, 10, 25)).sum())
    assert abs(np.mean(rates) - 340) <= 4 * np.sqrt(340 / 3)


def test_staffing_and_backlog_rules_follow_the_exceptions():
    """Erlang staffs nobody on the closed Wednesday and staffs Black Friday's extra hours; the open
    seconds that the ISA and the backlog rule use are 0 on Wednesday and cover 07:00–24:00 on Friday;
    a 24-hour email sent on the closed Wednesday from 09:30 is in reach (at least an interval of
    Thursday's opening lies before its deadline), one sent before is not."""
    sc = parse_scenario(week())
    queues = channel_queues(sc, np.eye(2))
    agents = erlang_agents(sc, queues, Targets(), 500)["erlang_c"]
    days = agents.reshape(2, 7, 48)
    assert not days[0, 2].any() and not days[1, 2].any()  # Wednesday 25 Nov: closed by exception
    assert days[0, 4, 14:18].all() and days[0, 4, 34:48].all()  # Friday 07:00–09:00 and 17:00–24:00
    assert not days[0, 0, 14:18].any() and not days[0, 0, 34:].any()  # an ordinary Monday
    opened = open_seconds(sc)["email"].reshape(7, 48)
    assert opened[2].sum() == 0 and opened[4].sum() == 17 * 3600 and opened[5].sum() == 6.5 * 3600
    reach = in_reach(sc)["email"].reshape(7, 48)[2]
    assert reach[19:].all() and not reach[:19].any()


def test_closed_date_has_no_contacts_in_the_results():
    """intervals.csv: nothing arrives on the voice line while it is closed on 25 November, and Black
    Friday's 22:00 interval has contacts (the exception opened it)."""
    result = run_scenario(parse_scenario(week()))
    iv = result.intervals[result.intervals["channel"] == "voice"]
    wednesday = iv["interval_start"].str.startswith("2026-11-25")
    assert wednesday.sum() == 48 and (iv.loc[wednesday, "arrived"] == 0).all()
    assert iv.loc[iv["interval_start"] == "2026-11-27T22:00:00+01:00", "arrived"].iloc[0] > 0


@pytest.mark.parametrize("exception, path, text", [
    ({"dates": ["2026-11-27"], "closed": True, "start": "07:00"}, "exceptions[0].start", "closed date has no hours"),
    ({"dates": ["2026-11-27"], "start": "07:00"}, "exceptions[0].end", "needs both `start` and `end`"),
    ({"dates": ["2026-11-27"], "start": "18:00", "end": "07:00"}, "exceptions[0].end", "got 18:00–07:00"),
    ({"dates": [], "closed": True}, "exceptions[0].dates", ""),
    ({"dates": ["2026-11-31"], "closed": True}, "exceptions[0].dates", ""),
    ({"dates": ["2026-11-27"], "closed": True, "hours": "x"}, "exceptions[0].hours", ""),
])
def test_bad_exceptions_are_one_located_line_with_exit_status_2(tmp_path, exception, path, text):
    data = week()
    data["channels"]["voice"]["open"] = {"start": "09:00", "end": "17:00", "exceptions": [exception]}
    res = CliRunner().invoke(app, ["validate", str(write_yaml(tmp_path, data))])
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and f"channels.voice.open.{path}" in lines[0] and text in lines[0], res.stderr
    assert "Traceback" not in res.output


def test_a_date_given_twice_is_refused():
    data = week()
    data["channels"]["voice"]["open"] = {"exceptions": [{"dates": ["2026-11-27"], "closed": True},
                                                        {"dates": ["2026-11-27"], "start": "07:00", "end": "22:00"}]}
    with pytest.raises(Exception, match=r"exceptions\[1\]\.dates: 2026-11-27 is already in exceptions\[0\]"):
        parse_scenario(data)
