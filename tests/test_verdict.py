"""Verdicts computed from hand-made tables whose answers are counted by hand: which day, which hours,
by how many points, and whether load, capacity or opening hours drive it; hires against the plan;
why a sweep has no recommended point; which channels a change made better or worse."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.readable import DAYS, HOURS, MINUTES, SECONDS, days_text, duration, threshold_text, unit_for
from sim.verdict.compare import compare_verdict
from sim.verdict.run import run_verdict
from sim.verdict.staff import hires, staff_verdict
from sim.verdict.sweep import sweep_verdict

DAYS3 = ["2026-11-23", "2026-11-24", "2026-11-25"]  # Mon, Tue, Wed


def run_tables(levels: dict, offered: dict, agents: dict | None = None, hours=(8, 9, 10, 11), kind="sync",
               open_hours=None, target=0.8, threshold=20.0):
    """One channel over three days of four one-hour intervals; `levels`/`offered`/`agents` map
    (day index, hour) to a value, defaulting to 0.9 / 10 / 5."""
    rows, groups = [], []
    for d, day in enumerate(DAYS3):
        for h in hours:
            start = pd.Timestamp(f"{day} {h:02d}:00")
            sl = levels.get((d, h), 0.9)
            rows.append({"interval_start": start, "channel": "voice", "offered": offered.get((d, h), 10.0),
                         "handled": offered.get((d, h), 10.0), "abandoned": 0.0, "service_level": sl,
                         "backlog": 0.0})
            groups.append({"interval_start": start, "group": "team", "agents": (agents or {}).get((d, h), 5.0)})
    channel = {"kind": kind, "service_level": {"threshold": threshold, "target": target}}
    if open_hours:
        channel["open"] = {"start": open_hours[0] * 3600, "end": open_hours[1] * 3600,
                           "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}
    meta = {"scenario_definition": {"interval": 3600.0, "channels": {"voice": channel},
                                    "agents": [{"name": "team", "skills": {"voice": 1}}]}}
    intervals = pd.DataFrame(rows)
    weights = intervals["offered"]
    summary = pd.DataFrame([{"channel": "voice",
                             "service_level": float((intervals["service_level"] * weights).sum() / weights.sum())}])
    return summary, intervals, meta, pd.DataFrame(groups)


def test_a_peak_day_is_named_with_its_hours_depth_and_load():
    # Tuesday 09:00 and 10:00: 30 contacts at 50% instead of 10 at 90% → the day's SL is
    # (9 + 15 + 15 + 9) / 80 = 60%, 20 points short; those hours carry 60 contacts against 20 on good days
    verdict = run_verdict(*run_tables({(1, 9): 0.5, (1, 10): 0.5}, {(1, 9): 30.0, (1, 10): 30.0}))
    assert verdict.status == "bad"
    assert verdict.headline == ("voice misses target on Tue 24 Nov; worst: voice 60% against 80% in 20 s on "
                                "Tue 24 Nov 09:00–11:00 (−20 pp), driven by load. Every channel holds its target on "
                                "the other 2 days.")
    assert "on 1 of 3 days" in verdict.details[0] and "load: 3.0× the contacts" in verdict.details[0]


def test_fewer_agents_at_usual_load_is_capacity():
    # same 10 contacts, but 3 agents instead of 5 at 09:00–10:00 on Tuesday: 40% fewer
    verdict = run_verdict(*run_tables({(1, 9): 0.4, (1, 10): 0.4}, {}, {(1, 9): 3.0, (1, 10): 3.0}))
    assert "driven by capacity." in verdict.headline
    assert "capacity: 40% fewer agents on shift" in verdict.details[0]


def test_async_misses_from_closed_hours_are_opening_hours_not_agents():
    # open 09:00–11:00; contacts arriving at 08:00 and 11:00 (closed) all miss, the open hours all meet:
    # every day is at 50%, and every missed contact arrived while the channel was closed
    levels = {(d, h): (1.0 if h in (9, 10) else 0.0) for d in range(3) for h in (8, 9, 10, 11)}
    verdict = run_verdict(*run_tables(levels, {}, kind="async", open_hours=(9, 11), target=0.9, threshold=3600.0))
    assert "driven by opening hours" in verdict.headline
    assert "opening hours: 100% of the contacts in its missed intervals arrive while voice is closed" in \
        verdict.details[0]


def test_a_run_that_holds_everywhere_says_so():
    verdict = run_verdict(*run_tables({(2, 11): 0.82}, {}))
    assert verdict.status == "ok"
    # Wednesday: (0.9 × 3 + 0.82) / 4 = 0.88, the lowest day
    assert verdict.headline == ("Every channel holds its target on every day (closest: voice 88% against 80% in "
                                "20 s on Wed 25 Nov).")


# --- staff ----------------------------------------------------------------------------------------
def test_hires_are_the_largest_gap_to_the_current_plan_per_group():
    starts = pd.date_range("2026-11-27 10:00", periods=4, freq="30min")
    staffing = pd.DataFrame(
        [{"interval_start": t, "group": "chat", "agents_sim": s, "agents_erlang_c": s + 1, "agents_erlang_a": s,
          "agents_current": 3} for t, s in zip(starts, [2, 4, 6, 3])]
        + [{"interval_start": t, "group": "phones", "agents_sim": 1, "agents_erlang_c": 1, "agents_erlang_a": 1,
            "agents_current": 2} for t in starts])
    table = hires(staffing).set_index("group")
    # chat: gaps −1, +1, +3, 0 → 3 more at 11:00; short (1 + 3) × 0.5 h = 2 agent-hours, spare 0.5
    assert table.loc["chat", "hires"] == 3 and table.loc["chat", "hires_at"] == starts[2]
    assert table.loc["chat", "short_hours"] == pytest.approx(2.0) and table.loc["chat", "spare_hours"] == 0.5
    assert table.loc["phones", "hires"] == 0 and table.loc["phones", "spare_hours"] == pytest.approx(2.0)
    meta = {"agent_hours": {"sim": 9.5, "erlang_c": 11.5, "erlang_a": 9.5},
            "share_of_intervals_meeting_target": {"sim": 0.75, "erlang_c": 1.0, "erlang_a": 0.5}}
    verdict = staff_verdict(staffing, meta)
    assert verdict.headline == ("Simulation staffing needs 10 agent-hours and meets target in 75% of intervals "
                                "(Erlang C 12 h, 100%; Erlang A 10 h, 50%); against the current plan it needs 3 more "
                                "agents at the busiest gaps (chat +3).")
    assert any(line.startswith("chat: up to 6 on shift (Fri 27 Nov 11:00; Erlang C 7, Erlang A 6)")
               for line in verdict.details)


# --- sweep ----------------------------------------------------------------------------------------
def sweep_tables(voice_sl, chat_sl, voice_groups=("phones",)):
    rows = []
    for point, (agents, v, c) in enumerate(zip([4, 6, 8, 10], voice_sl, chat_sl)):
        for channel, sl in (("voice", v), ("chat", c)):
            rows.append({"point": point, "param_agents_chat_team": agents, "channel": channel, "target_sl": 0.8,
                         "service_level": sl, "meets_target": sl >= 0.8, "agent_hours": 100.0 + 10 * agents,
                         "cost": 25 * (100.0 + 10 * agents)})
    definition = {"channels": {"voice": {"service_level": {"threshold": 20.0, "target": 0.8}},
                               "chat": {"service_level": {"threshold": 60.0, "target": 0.8}}},
                  "agents": [{"name": g, "skills": {"voice": 1}} for g in voice_groups if g != "chat_team"]
                  + [{"name": "chat_team", "skills": {"chat": 1, **({"voice": 2} if "chat_team" in voice_groups
                                                                   else {})}}]}
    meta = {"axes": {"agents_chat_team": [4, 6, 8, 10]}, "best_point": None, "scenario_definition": definition}
    return pd.DataFrame(rows), meta


def test_a_channel_no_swept_group_serves_is_named_instead_of_widen_the_range():
    table, meta = sweep_tables([0.6] * 4, [0.5, 0.7, 0.85, 0.9])
    verdict = sweep_verdict(table, meta)
    assert verdict.headline == "No point meets every target: voice misses at every point and no swept group serves it."
    assert "widen" not in verdict.headline
    assert any("phones is not swept" in line and "--agents phones=" in line for line in verdict.details)


def test_a_swept_channel_still_rising_at_the_top_asks_to_widen_the_range():
    table, meta = sweep_tables([0.5, 0.6, 0.7, 0.75], [0.9] * 4, voice_groups=("chat_team",))
    verdict = sweep_verdict(table, meta)
    assert "voice is still short at the top of the range (widen it upwards)" in verdict.headline
    assert any("+5.0 pp on the last step" in line for line in verdict.details)


def test_a_flat_swept_channel_is_held_back_by_something_else():
    table, meta = sweep_tables([0.6, 0.6, 0.6, 0.601], [0.9] * 4, voice_groups=("chat_team",))
    assert "the swept agents barely move it" in sweep_verdict(table, meta).headline


def test_the_recommended_point_is_the_cheapest_meeting_every_target():
    table, meta = sweep_tables([0.85] * 4, [0.5, 0.7, 0.85, 0.9])
    meta["best_point"] = {"point": 2}
    verdict = sweep_verdict(table, meta)
    assert verdict.headline == ("Recommended: point 2 (chat_team 8 at peak), the smallest staffing meeting every "
                                "target: 180 paid agent-hours, cost 4,500.")
    assert any(line.startswith("The next cheaper point (1: chat_team 6 at peak) misses on chat (70.0%)")
               for line in verdict.details)


# --- compare --------------------------------------------------------------------------------------
def test_compare_verdict_per_channel_from_the_paired_intervals():
    rows = [("voice", "service_level", -0.10, -0.12, -0.08), ("voice", "asa_s", 30.0, 20.0, 40.0),
            ("chat", "service_level", 0.01, -0.01, 0.03), ("chat", "asa_s", -20.0, -30.0, -10.0),
            ("email", "service_level", 0.001, -0.01, 0.012), ("email", "asa_s", 3600.0, -7200.0, 14400.0)]
    table = pd.DataFrame([{"channel": c, "kpi": k, "a": 0.5, "b": 0.5, "diff": d, "diff_lo": lo, "diff_hi": hi,
                           "method": "paired"} for c, k, d, lo, hi in rows])
    meta = {"a": {"label": "base"}, "b": {"label": "less bot"}, "method": "paired",
            "scenario_definitions": {"a": {"channels": {"email": {"service_level": {"threshold": 86400.0}}}}}}
    verdict = compare_verdict(table, meta)
    assert verdict.headline == ("B (less bot) against A (base): worse on voice; better on chat; no clear change on "
                                "email (95% paired CIs).")
    assert "service level −10.0 pp [−12.0 pp, −8.0 pp]" in verdict.details[0]
    assert "ASA +1:00 h [−2:00 h, +4:00 h]" in verdict.details[2]  # email's waits in hours, not seconds


# --- readable units -------------------------------------------------------------------------------
@pytest.mark.parametrize("seconds, unit, text", [
    (45.0, None, "45.0 s"), (241.3, None, "241 s"), (700.0, None, "11.7 min"), (18_530.7, None, "5:09 h"),
    (185_909.6, None, "51:38 h"), (1_000_000.0, None, "11.6 d"), (90.0, MINUTES, "1.5 min"),
    (30.0, HOURS, "0:01 h"), (43_200.0, DAYS, "0.5 d"), (15_000.0, SECONDS, "4:10 h"),
])
def test_durations_read_as_people_write_them(seconds, unit, text):
    assert duration(seconds, unit) == text


def test_units_follow_the_threshold_and_move_up_for_long_waits():
    assert unit_for(20) is SECONDS and unit_for(900) is MINUTES and unit_for(4 * 3600) is HOURS
    assert unit_for(3 * 86400) is DAYS and unit_for(30, [15_000]) is HOURS  # a 30 s target with 4-hour waits
    assert [threshold_text(t) for t in (20, 60, 5400, 3600, 86400)] == ["20 s", "1 min", "90 min", "1 h", "1 d"]
    import datetime as dt
    days = [dt.date(2026, 11, d) for d in (25, 26, 27, 30)] + [dt.date(2026, 12, 1)]
    assert days_text(days) == "Wed 25 – Fri 27 Nov, Mon 30 Nov – Tue 1 Dec"


def _season_folder(path, weeks: int, found: bool):
    """A calibration folder's season tables, written by hand: `weeks` weeks of days, Friday of the
    last week a Black Friday that was or was not found above the baseline."""
    import datetime as dt

    path.mkdir()
    days = [dt.date(2026, 11, 30) - dt.timedelta(days=7 * weeks) + dt.timedelta(days=k) for k in range(7 * weeks)]
    peak = days[-3]  # the last Friday
    rows = [{"channel": ch, "date": d.isoformat(), "weekday": d.weekday(), "fresh": 100,
             "status": "Black Friday" if found and d == peak else "ordinary"} for ch in ("voice", "chat") for d in days]
    pd.DataFrame(rows).to_csv(path / "season_daily.csv", index=False)
    events = [{"event": "Black Friday", "channel": ch, "first": peak.isoformat(), "last": peak.isoformat(),
               "multiplier": m, "multiplier_lo": m - 0.2, "multiplier_hi": m + 0.2}
              for ch, m in (("voice", 2.5), ("chat", 2.1))] if found else []
    pd.DataFrame(events, columns=["event", "channel", "first", "last", "multiplier", "multiplier_lo",
                                  "multiplier_hi"]).to_csv(path / "season_events.csv", index=False)
    missed = [] if found else [{"name": "Black Friday", "first": peak.isoformat(), "last": peak.isoformat(),
                                "source": "retail", "largest_abs_z": 0.5}]
    pd.DataFrame(missed, columns=["name", "first", "last", "source", "largest_abs_z"]).to_csv(
        path / "season_not_found.csv", index=False)
    return path


def test_calibration_verdict_names_the_peaks_found_with_their_multipliers(tmp_path):
    from sim.verdict.calibrate import from_directory

    verdict = from_directory(_season_folder(tmp_path / "cal", weeks=6, found=True))
    assert "Season: Black Friday found" in verdict.headline
    assert verdict.details[0].startswith("Black Friday (2026-11-27): voice ×2.50 [2.30, 2.70], chat ×2.10")
    assert not any("warning" in line for line in verdict.details)


def test_calibration_verdict_warns_when_a_peak_is_missed_in_a_short_export(tmp_path):
    """Two weeks: the Friday baseline is one or two days, so the peak cannot stand out of it."""
    from sim.verdict.calibrate import from_directory

    verdict = from_directory(_season_folder(tmp_path / "short", weeks=2, found=False))
    assert "no peak found (1 calendar event in the export but not above its baseline)" in verdict.headline
    assert verdict.status != "ok"
    assert any("Black Friday (2026-11-27, largest |z| 0.5)" in line for line in verdict.details)
    warning = next(line for line in verdict.details if line.startswith("warning"))
    assert "2 ordinary Mondays (of 14 days)" in warning and "at least 4 ordinary weeks" in warning
    # three ordinary weeks of every weekday are enough not to warn
    assert not any(line.startswith("warning") for line in
                   from_directory(_season_folder(tmp_path / "three", weeks=3, found=False)).details)
