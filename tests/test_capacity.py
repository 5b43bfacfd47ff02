"""Capacity revealed by congestion, teams that serve one call type, and the replayed period's own
talk time (issue 16, second attempt). Hand counts on tiny logs; a simulated centre whose schedule
is known; the backtest's channel split by team."""
import numpy as np
import pandas as pd
import pytest

from calibrate.backtest import BacktestError, backtest
from calibrate.backtest_capacity import replay_staffing, talk_time_profile
from calibrate.behaviour_fits import handle_time_by_queue
from calibrate.capacity import GENERALISTS, contacts_per_busy_agent, dedicated_teams, revealed_capacity
from calibrate.schema import TicketData
from calibrate.synth import synth_contacts

from test_backtest import T0
from test_synth import scenario

TZ = "Europe/Berlin"


def log(rows):
    """rows: (queued s, answered s or None, abandoned s or None, talk s, agent, reason) → generic contacts."""
    at = lambda s: pd.Series([T0 + pd.Timedelta(seconds=v) if v is not None else pd.NaT for v in s],  # noqa: E731
                             dtype=f"datetime64[ns, {TZ}]")
    q, a, g, talk, agent, reason = zip(*rows)
    return pd.DataFrame({"queued_at": at(q), "created_at": at(q), "answered_at": at(a), "abandoned_at": at(g),
                         "channel": "voice", "reason": pd.Series(reason, dtype="string"),
                         "handle_time_s": pd.Series([t if x is not None else np.nan for t, x in zip(talk, a)], dtype=float),
                         "agent_id": pd.Series([x if y is not None else None for x, y in zip(agent, a)], dtype="string")})


# Agent A: calls at 0–120 s and 300–360 s (both answered at once); agent B: 60–660 s, then a caller
# who queued at 200 s and waited until B took them at 660 s (talk 60 s). From 200 s to 660 s a
# later-answered caller waits, so A (idle from 120 + 30 s wrap) counts as available only 150–200 s.
# A caller who abandoned (queued 160 s, gone 190 s) must not count: abandonment times are no input.
HAND = [(0, 0, None, 120, "A", "r"), (300, 300, None, 60, "A", "r"), (60, 60, None, 600, "B", "r"),
        (200, 660, None, 60, "B", "r"), (160, None, 190, 0, None, "r")]


def test_revealed_capacity_is_busy_agents_plus_idle_agents_while_nobody_waits():
    cap = revealed_capacity(log(HAND), interval="5min", wrap="30s")
    assert (cap["group"] == GENERALISTS).all() and len(cap) == 3
    # busy seconds per 300 s bin: A 120 + B 240; A 60 + B 300; B 60 + 60
    assert cap["busy_agents"].tolist() == pytest.approx([360 / 300, 360 / 300, 120 / 300])
    assert cap["idle_agents"].tolist() == pytest.approx([50 / 300, 0.0, 0.0])  # A from 150 s to 200 s
    assert cap["agents"].tolist() == pytest.approx([410 / 300, 360 / 300, 120 / 300])
    assert cap["congested_share"].tolist() == pytest.approx([100 / 300, 1.0, 60 / 300])
    # without the wrap, A is available from 120 s: 80 s
    assert revealed_capacity(log(HAND), interval="5min", wrap="0s")["idle_agents"].iloc[0] == pytest.approx(80 / 300)
    # a gap longer than max_gap ends the session: A's idle time is not counted at all
    assert revealed_capacity(log(HAND), interval="5min", max_gap="2min")["idle_agents"].sum() == 0.0
    with pytest.raises(ValueError, match="'wrap' and 'max_gap'"):
        revealed_capacity(log(HAND), wrap="-5s")


def test_contacts_per_busy_agent_is_service_time_over_each_agents_busy_time():
    # A holds two chats 0–100 s and 50–150 s (200 s of service in 150 s busy), B one call 0–100 s
    rows = [(0, 0, None, 100, "A", "r"), (50, 50, None, 100, "A", "r"), (0, 0, None, 100, "B", "r")]
    assert contacts_per_busy_agent(log(rows)) == pytest.approx(300 / 250)
    assert contacts_per_busy_agent(log(HAND)) == pytest.approx(1.0)


def test_dedicated_teams_are_agents_serving_one_minority_type():
    rows = ([(i * 60, i * 60, None, 30, "X", "internet") for i in range(40)]
            + [(i * 60, i * 60, None, 30, "Y", "regular" if i < 30 else "internet") for i in range(40)]
            + [(i * 60, i * 60, None, 30, "Z", "regular") for i in range(50)]
            + [(i * 60, i * 60, None, 30, "W", "internet") for i in range(10)])
    teams = dedicated_teams(log(rows)).set_index("agent_id")
    assert teams.loc["X", "team"] == "internet" and teams.loc["X", "share"] == 1.0
    assert teams.loc["Y", "team"] == "" and teams.loc["Y", "share"] == 0.75  # mostly regular: a generalist
    assert teams.loc["Z", "team"] == ""  # regular is the majority type: everyone serves it
    assert teams.loc["W", "team"] == ""  # 10 calls are too few to tell
    assert teams.loc["W", "calls"] == 10
    with pytest.raises(ValueError, match="'min_share'"):
        dedicated_teams(log(rows), min_share=0.4)


def test_a_team_is_blocked_only_by_its_own_callers():
    # T serves internet only: idle 30–300 s while a regular caller waits (100–250 s) → available then;
    # generalist G, idle in the same gap, is not available while that caller waits
    rows = [(0, 0, None, 30, "T", "internet"), (300, 300, None, 30, "T", "internet"),
            (0, 0, None, 30, "G", "regular"), (300, 300, None, 30, "G", "regular"),
            (100, 250, None, 30, "H", "regular")]
    teams = pd.DataFrame({"agent_id": ["T", "G", "H"], "team": ["internet", "", ""]})
    cap = revealed_capacity(log(rows), interval="5min", wrap="0s", teams=teams).set_index(["group", "interval_start"])
    first = T0.floor("5min")
    assert cap.loc[("internet", first), "idle_agents"] == pytest.approx(270 / 300)
    # G: idle 30–300 s except 100–250 s; H: busy 250–280 s
    assert cap.loc[(GENERALISTS, first), "idle_agents"] == pytest.approx((70 + 50) / 300)


def test_revealed_capacity_recovers_a_simulated_centres_schedule():
    """A simulated centre's agents serve whenever someone waits and stay on shift while idle: the
    capacity revealed from its tickets is its schedule (the independent truth: the scenario's
    headcount, tests/test_synth.py STAFF), exactly while callers wait."""
    frame = synth_contacts(scenario(seed=4, days=3))
    staff_of = lambda starts: np.array([2] * 8 + [4] * 10 + [2] * 6)[pd.DatetimeIndex(starts).hour]  # noqa: E731
    fine = revealed_capacity(frame, interval="5min", wrap="0s", max_gap="2h")
    # fully congested 5-minute bins, except after 18:00, when agents going off shift finish their calls
    full = (fine["congested_share"].to_numpy() > 0.999) & (pd.DatetimeIndex(fine["interval_start"]).hour != 18)
    assert full.sum() > 50
    assert fine["agents"].to_numpy()[full] == pytest.approx(staff_of(fine["interval_start"])[full], abs=1e-3)
    hourly = revealed_capacity(frame, interval="60min", wrap="0s", max_gap="2h")
    staff, hour = staff_of(hourly["interval_start"]), pd.DatetimeIndex(hourly["interval_start"]).hour
    # nobody counted who was not on shift, or finishing a call after 18:00
    assert (hourly["agents"].to_numpy()[hour != 18] <= staff[hour != 18] + 1e-3).all()
    # away from the first and last hours and the shift changes at 08:00 and 18:00 (an agent idle after
    # their last call before going off shift is invisible: seconds of it)
    steady = ~np.isin(hour, [8, 18]) & (np.arange(len(hourly)) > 0) & (np.arange(len(hourly)) < len(hourly) - 1)
    assert hourly["agents"].to_numpy()[steady] == pytest.approx(staff[steady], abs=0.01)


def test_talk_time_profile_is_each_steps_talk_against_the_training_model_shrunk():
    rows = [(0, 10, None, 200, "A", "r"), (60, 60, None, 100, "A", "r"), (1900, 1900, None, 50, "A", "r")]
    c = log(rows)
    m = talk_time_profile(c, T0, 3, 900.0, lambda calls: np.full(len(calls), 100.0), prior_calls=10)
    # step 0: (300 + 10·100) / (12·100); step 1: nothing answered; step 2: (50 + 1000) / (11·100)
    assert m.tolist() == pytest.approx([1300 / 1200, 1.0, 1050 / 1100])
    assert talk_time_profile(c.iloc[:0], T0, 2, 900.0, lambda calls: np.ones(len(calls))).tolist() == [1.0, 1.0]


def test_load_steps_without_availability_are_talk_ratios():
    # answered at 0 s (nobody else waiting), 300 s (the caller queued at 20 s still waits), 400 s, 500 s
    rows = [(0, 0, None, 300, "A", "r"), (10, 300, None, 100, "A", "r"), (20, 400, None, 100, "A", "r"),
            (500, 500, None, 100, "A", "r")]
    t = handle_time_by_queue(log(rows), steps=(0, 1), min_n=1, talk_only=True).set_index("waiting")
    mean = (300 + 100 + 100 + 100) / 4
    assert t.loc[[0, 1], "calls"].tolist() == [3, 1]
    assert t.loc[1, "multiplier"] == pytest.approx(100 / mean, abs=1e-4)
    assert t.loc[0, "multiplier"] == pytest.approx((300 + 100 + 100) / 3 / mean, abs=1e-4)


def as_data(frame):
    return TicketData(contacts=frame, dropped={}, rows_read=len(frame), files=[("synthetic", "-")])


def test_a_teams_call_type_is_replayed_as_its_own_channel_served_by_the_team_and_everyone():
    train = synth_contacts(scenario(seed=1, days=3))
    test = synth_contacts(scenario(seed=2, days=2))
    agents = test["agent_id"].dropna().unique()
    team_agent = sorted(agents)[0]
    reason = np.where(test["agent_id"] == team_agent, "b", "a")  # one agent serves only "b"; unserved calls: "a"
    test = test.assign(reason=pd.Series(reason, index=test.index, dtype="string"))
    r = backtest(as_data(train), as_data(test), replications=1, capacity="revealed", teams=True)
    channels = r.scenario.channels
    assert set(channels) == {"voice", "voice_b"}
    assert sum(sum(ch.arrivals.counts) for ch in channels.values()) == r.meta["offered_total"]
    groups = {g.name: list(g.skills) for g in r.scenario.agents}
    assert groups == {"agents": ["voice", "voice_b"], "team_b": ["voice_b"]}
    assert [t["agent_id"] for t in r.meta["teams"]] == [team_agent]
    assert r.meta["availability"]["availability"] == 1.0  # agents counted only while available: raw talk time
    with pytest.raises(BacktestError, match="'teams' parameter of backtest needs capacity='revealed'"):
        backtest(as_data(train), as_data(test), replications=1, teams=True)
    with pytest.raises(BacktestError, match="'talk_time' parameter"):
        backtest(as_data(train), as_data(test), replications=1, talk_time="august")
    with pytest.raises(BacktestError, match="'wrap' parameter of backtest must be a duration"):
        backtest(as_data(train), as_data(test), replications=1, capacity="revealed", wrap="soon")


def test_replay_staffing_lays_each_group_onto_the_replay_grid():
    c = log(HAND)
    start = T0.floor("15min")
    s = replay_staffing(c, start, 2, 900.0, capacity="revealed", wrap="30s")
    assert [g for g, _, _ in s.groups] == ["agents"] and s.team_types == []
    # 900 s step: busy 120 + 60 (A) + 660 (B) = 840 s, idle 50 s
    assert s.inferred.tolist() == pytest.approx([890 / 900, 0.0])
    with pytest.raises(ValueError, match="'capacity' parameter"):
        replay_staffing(c, start, 2, 900.0, capacity="logins")


@pytest.mark.parametrize("capacity", ["revealed", "sessions"])
def test_a_test_period_without_service_spells_is_refused_in_one_located_line(capacity):
    train = synth_contacts(scenario(seed=1, days=2))
    test = synth_contacts(scenario(seed=2, days=1)).assign(agent_id=pd.Series(pd.NA, dtype="string"))
    with pytest.raises(BacktestError, match=r"^synthetic: agent_id: no service spells on channel 'voice'"):
        backtest(as_data(train), as_data(test), replications=1, capacity=capacity)
