"""Each peak-season mechanism, checked as exact relations on the per-contact records.

Distributions are deterministic where the mechanism's timing is under test, so every
relation must hold to the last bit (no statistics here; see test_peak_statistics.py).
"""


import numpy as np
import pytest

from sim.contacts import AUTO, BOT, CONTAINED, ESCALATED, FALSE
from sim.metrics import Outcomes
from sim.records import ORIGINS
from sim.replication import simulate
from sim.scenario import parse_scenario
from sim.schedule import proficiency_changes

FIXED = lambda s: {"dist": "deterministic", "value": s}  # noqa: E731


def base(**channels):
    return {
        "name": "mechanisms", "start": "2026-11-23T00:00:00+01:00", "duration": "12h", "interval": "30min",
        "seed": 5, "replications": 1,
        "channels": channels or {"chat": chat()},
        "agents": [{"name": "team", "skills": list(channels or {"chat": 0}), "headcount": 3}],
    }


def chat(**extra):
    channel = {"service_level": {"threshold": "60s", "target": 0.8}, "handle_time": FIXED(300),
               "patience": FIXED(120), "arrivals": {"rate_per_hour": 40}}
    channel.update(extra)
    return channel


def records(data):
    sc = parse_scenario(data)
    rec = simulate(sc, 0)
    return sc, rec.contacts, Outcomes(rec)


def test_bot_escalation_enters_queue_after_session_with_scaled_patience_and_work():
    data = base(chat=chat(bot={"containment": 0.3, "session": FIXED(45), "escalation_patience_factor": 0.5,
                               "escalation_handle_factor": 1.2}))
    _, c, _ = records(data)
    esc = (c["flags"] & ESCALATED) != 0
    contained = (c["flags"] & CONTAINED) != 0
    assert esc.any() and contained.any() and np.all((c["flags"] & BOT) != 0)
    assert np.array_equal(c["queued"][esc], c["arrival"][esc] + 45)
    assert np.allclose(c["deadline"][esc] - c["queued"][esc], 60)  # patience 120 × 0.5
    assert np.allclose(c["work"][esc], 360)  # 300 × 1.2
    assert np.all(np.isnan(c["queued"][contained])) and np.all(np.isnan(c["answered"][contained]))
    answered = esc & ~np.isnan(c["answered"])
    assert np.all(c["answered"][answered] >= c["queued"][answered])


def test_false_containment_returns_after_delay_on_the_return_channel():
    data = base(chat=chat(bot={"containment": 0.6, "session": FIXED(30), "false_containment": 0.5,
                               "return_delay": FIXED(600), "return_channel": {"voice": 1.0}}),
                voice=chat())
    _, c, _ = records(data)
    false = np.flatnonzero((c["flags"] & FALSE) != 0)
    bounces = np.flatnonzero(c["origin"] == ORIGINS.index("bot_bounce"))
    assert false.size and bounces.size
    by_customer = {int(c["customer"][i]): i for i in bounces}
    for i in false:
        if c["bot_end"][i] + 600 < 12 * 3600:
            j = by_customer[int(c["customer"][i])]
            assert c["arrival"][j] == c["bot_end"][i] + 600 and c["channel"][j] == 1


def test_chaser_created_when_async_contact_unanswered_after_the_wait():
    email = {"kind": "async", "service_level": {"threshold": "4h", "target": 0.9}, "handle_time": FIXED(600),
             "arrivals": {"rate_per_hour": 30},
             "behaviour": {"chaser": {"after": "1h", "probability": 1.0, "channel": {"voice": 1.0},
                                      "max_per_customer": 2}}}
    data = base(email=email, voice=chat())
    data["agents"] = [{"name": "team", "skills": ["email", "voice"], "headcount": 1}]
    _, c, _ = records(data)
    chasers = np.flatnonzero(c["origin"] == ORIGINS.index("chaser"))
    assert chasers.size
    originals = {int(c["customer"][i]): i for i in np.flatnonzero((c["origin"] == 0) & (c["channel"] == 0))}
    for j in chasers:
        i = originals[int(c["customer"][j])]
        assert c["arrival"][j] == c["queued"][i] + 3600 and c["channel"][j] == 1
        assert np.isnan(c["answered"][i]) or c["answered"][i] > c["arrival"][j]


def test_redial_after_abandoning_switches_channel():
    voice = chat(patience=FIXED(30), arrivals={"rate_per_hour": 120},
                 behaviour={"redial": {"probability": 1.0, "delay": FIXED(300), "switch": {"chat": 1.0}}})
    data = base(voice=voice, chat=chat(arrivals={"rate_per_hour": 1}))
    data["agents"] = [{"name": "team", "skills": ["voice", "chat"], "headcount": 2}]
    _, c, o = records(data)
    redials = np.flatnonzero(c["origin"] == ORIGINS.index("redial"))
    abandoned_voice = np.flatnonzero(o.abandoned & (c["channel"] == 0) & (c["origin"] == 0))
    assert redials.size and abandoned_voice.size
    first_redial = {}
    for j in redials:
        first_redial.setdefault(int(c["customer"][j]), j)
    for i in abandoned_voice:
        if c["deadline"][i] + 300 < 12 * 3600:
            j = first_redial[int(c["customer"][i])]
            assert c["arrival"][j] == c["deadline"][i] + 300 and c["channel"][j] == 1


def test_reopen_follows_unresolved_contacts_with_the_same_reason():
    data = base(chat=chat(reasons={"complaint": 1.0}))
    data["reasons"] = {"complaint": {"fcr": 0.0, "reopen_delay": FIXED(900)}}
    _, c, _ = records(data)
    reopens = np.flatnonzero(c["origin"] == ORIGINS.index("reopen"))
    served = np.flatnonzero(~np.isnan(c["end"]))
    assert reopens.size
    starts = {(int(c["customer"][j]), c["arrival"][j]) for j in reopens}
    for i in served:
        if c["end"][i] + 900 < 12 * 3600:
            assert (int(c["customer"][i]), c["end"][i] + 900) in starts
    assert np.all(c["reason"][reopens] == c["reason"][served[0]])


def test_automation_auto_resolves_and_shortens_from_its_start_date():
    data = base(chat=chat(reasons={"order_status": 0.5, "other": 0.5}))
    data["duration"] = "3d"
    data["reasons"] = {"order_status": {"automation": {"start": "2026-11-24", "auto_resolve": 0.4,
                                                       "handle_time_reduction": 0.5}},
                       "other": {}}
    sc, c, _ = records(data)
    status = c["reason"] == 1 + list(data["reasons"]).index("order_status")
    before = c["arrival"] < 24 * 3600  # 2026-11-24 00:00 local = 24 h after start
    auto = (c["flags"] & AUTO) != 0
    assert not auto[before].any() and auto[status & ~before].any() and not auto[~status].any()
    assert np.all(np.isnan(c["queued"][auto]))
    assert np.allclose(c["work"][status & ~before & ~auto], 150) and np.allclose(c["work"][status & before], 300)


def test_async_work_waits_for_opening_hours_and_carries_over():
    email = {"kind": "async", "service_level": {"threshold": "24h", "target": 0.9}, "handle_time": FIXED(60),
             "arrivals": {"rate_per_hour": 20}, "open": {"start": "08:00", "end": "18:00"}}
    data = base(email=email)
    data["duration"] = "2d"
    _, c, _ = records(data)
    answered = c["answered"][~np.isnan(c["answered"])]
    hour = (answered / 3600) % 24
    assert np.all((hour >= 8) & (hour < 18))
    night = (c["arrival"] % 86400) < 8 * 3600
    assert np.all(c["answered"][night & ~np.isnan(c["answered"])] % 86400 >= 8 * 3600)


def test_async_blending_sync_first():
    email = {"kind": "async", "service_level": {"threshold": "24h", "target": 0.9}, "handle_time": FIXED(60),
             "arrivals": {"rate_per_hour": 30}}
    data = base(voice=chat(arrivals={"rate_per_hour": 80}, patience=FIXED(10000)), email=email)
    data["agents"] = [{"name": "team", "skills": {"voice": 1, "email": 2}, "headcount": 2}]
    _, c, _ = records(data)
    # whenever an email is answered, no voice contact was waiting
    voice = c["channel"] == 0
    v_queued, v_answered = c["queued"][voice], c["answered"][voice]
    for t in c["answered"][(c["channel"] == 1) & ~np.isnan(c["answered"])]:
        waiting = (v_queued < t) & ((v_answered > t) | np.isnan(v_answered))
        assert not waiting.any()


def test_seasonal_hires_ramp_proficiency_and_serve_slower():
    data = base(chat=chat())
    data["duration"] = "15d"
    data["agents"] = [{"name": "seasonal", "skills": ["chat"], "headcount": 3, "proficiency": 1.5,
                       "ramp": {"hired": "2026-11-23", "weeks": 2, "final": 1.0}}]
    sc = parse_scenario(data)
    changes = proficiency_changes(sc.agents[0], sc)
    assert changes[0] == (0.0, 1.5) and changes[7][1] == pytest.approx(1.25) and changes[-1][1] == 1.0
    c = simulate(sc, 0).contacts
    done = ~np.isnan(c["end"]) & (c["end"] < sc.horizon_s)
    day = (c["answered"][done] // 86400).astype(int)
    duration = c["end"][done] - c["answered"][done]
    expected = np.array([dict((round(t / 86400), v) for t, v in changes).get(d, 1.0) for d in day]) * 300
    assert np.allclose(duration, expected)


def test_event_multiplier_and_ramp_shape_daily_volume():
    data = base(chat=chat(arrivals={"per_day": 2000, "intraday": [1] * 48}))
    data["duration"] = "7d"
    data["events"] = [{"name": "Black Friday", "date": "2026-11-27", "multiplier": 3.0, "ramp_before": 1}]
    from sim.arrivals import channel_rates
    from sim.calendar import interval_grid
    sc = parse_scenario(data)
    grid = interval_grid(sc)
    daily = channel_rates(sc, grid)["chat"].reshape(7, 48).sum(axis=1) / 2
    assert np.allclose(daily, [2000, 2000, 2000, 4000, 6000, 2000, 2000])


def test_overtime_shift_on_given_dates_only():
    data = base(chat=chat())
    data["duration"] = "3d"
    data["agents"] = [{"name": "team", "skills": ["chat"], "shifts": [
        {"start": "08:00", "end": "16:00", "agents": 4},
        {"start": "16:00", "end": "20:00", "agents": 2, "dates": ["2026-11-24"]}]}]
    from sim.calendar import interval_grid
    from sim.schedule import scheduled_per_interval
    sc = parse_scenario(data)
    per = scheduled_per_interval(sc.agents[0], sc, interval_grid(sc)).reshape(3, 48)
    assert per[0, 34] == 0 and per[1, 34] == 2 and per[2, 34] == 0 and per[1, 20] == 4


def test_redials_into_a_closed_sync_channel_are_dropped():
    # open 08:00–10:00 only; every abandoner redials 3 h later, when the line is closed
    voice = chat(patience=FIXED(30), arrivals={"rate_per_hour": 200}, open={"start": "08:00", "end": "10:00"},
                 behaviour={"redial": {"probability": 1.0, "delay": FIXED(3 * 3600)}})
    data = base(voice=voice)
    data["agents"] = [{"name": "team", "skills": ["voice"], "headcount": 1}]
    _, c, o = records(data)
    assert o.abandoned.sum() > 50
    assert not (c["origin"] == ORIGINS.index("redial")).any()


def test_replayed_counts_arrive_exactly_per_interval_and_uniformly_inside():
    """`arrivals: {counts: [...]}` (a backtest's replay) puts exactly that many first contacts in
    each interval, in every replication, the cut-short last interval included; inside an
    interval the times are uniform (the Poisson process conditioned on its count)."""
    counts = [40, 0, 400, 7, 3]
    sc = parse_scenario({
        "name": "replay", "start": "2026-11-27T00:00:00+01:00", "duration": 4 * 1800 + 600, "interval": 1800,
        "replications": 3, "channels": {"voice": {
            "service_level": {"threshold": 20, "target": 0.8},
            "handle_time": {"dist": "exponential", "mean": 60}, "arrivals": {"counts": counts}}},
        "agents": [{"name": "a", "skills": ["voice"], "headcount": 2}]}, "<test>")
    for rep in range(3):
        o = Outcomes(simulate(sc, rep))
        first = o.origin == 0
        assert np.bincount((o.arrival[first] // 1800).astype(int), minlength=5).tolist() == counts
        assert o.arrival[first].max() < 4 * 1800 + 600
    inside = Outcomes(simulate(sc, 0)).arrival
    inside = inside[(inside >= 3600) & (inside < 5400)] - 3600
    from scipy.stats import kstest
    assert kstest(inside / 1800, "uniform").pvalue > 0.01
    # the expected rate that analytic baselines see is count ÷ interval
    from sim.arrivals import channel_rates
    from sim.calendar import interval_grid
    assert channel_rates(sc, interval_grid(sc))["voice"][:2].tolist() == [80.0, 0.0]


def test_handle_time_profile_scales_work_by_arrival_interval():
    """`handle_time_profile` multiplies each contact's handle time by its arrival interval's
    value (a daily profile repeats every day): deterministic 100 s becomes 50 s in the first hour
    of each day and 200 s in the second."""
    profile = [0.5, 2.0] + [1.0] * 22
    sc = parse_scenario({
        "name": "aht", "start": "2026-11-27T00:00:00+01:00", "duration": 2 * 86400, "interval": 3600,
        "replications": 1, "channels": {"voice": {
            "service_level": {"threshold": 20, "target": 0.8}, "handle_time_profile": profile,
            "handle_time": {"dist": "deterministic", "value": 100}, "arrivals": {"rate_per_hour": 20}}},
        "agents": [{"name": "a", "skills": ["voice"], "headcount": 50}]}, "<test>")
    rec = simulate(sc, 0)
    c = rec.contacts
    hour = (c["arrival"] // 3600).astype(int) % 24
    assert set(np.round(c["work"][hour == 0], 9)) == {50.0}
    assert set(np.round(c["work"][hour == 1], 9)) == {200.0}
    assert set(np.round(c["work"][hour >= 2], 9)) == {100.0}
    with pytest.raises(Exception, match="handle_time_profile: needs one multiplier per interval of the day"):
        parse_scenario({**sc.model_dump(mode="json", exclude_none=True),
                        "channels": {"voice": {**sc.channels["voice"].model_dump(mode="json", exclude_none=True),
                                               "handle_time_profile": [1.0, 2.0]}}}, "<test>")


def test_service_level_counts_contacts_still_waiting_past_the_threshold_as_missed():
    """Hand case: three emails in the first half hour, one agent, 2 h each, threshold 30 min,
    horizon 3 h. The first is answered at once (within), the second after ~2 h (missed), the
    third is still waiting at the horizon after more than 2.5 h: it has missed the threshold
    already, so the service level is 1/3, not the 1/2 that leaving it out would report."""
    from sim.runner import run_scenario

    sc = parse_scenario({
        "name": "late backlog", "start": "2026-11-27T00:00:00+01:00", "duration": "3h", "interval": "30min",
        "replications": 1, "channels": {"email": {
            "kind": "async", "service_level": {"threshold": "30min", "target": 0.8},
            "handle_time": {"dist": "deterministic", "value": "2h"}, "arrivals": {"counts": [3, 0, 0, 0, 0, 0]}}},
        "agents": [{"name": "a", "skills": ["email"], "headcount": 1}]}, "<test>")
    row = run_scenario(sc).summary.set_index("channel").loc["email"]
    assert (row["handled"], row["abandoned"], row["waiting_end"]) == (2, 0, 1)
    assert row["service_level"] == pytest.approx(1 / 3)
