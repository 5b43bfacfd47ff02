"""Arrival profiles, peak uplift, growth, staffing inference, behaviour rates, and the Calibration file —
tiny exact cases, then one synthetic calibration round trip."""
import os

import numpy as np
import pandas as pd
import pytest
import yaml

from calibrate.calibration import calibrate
from calibrate.profiles import arrival_profile, behaviour_rates, growth, infer_staffing, peak_uplift
from calibrate.schema import COLUMNS, TicketData, empty_column

TZ = "Europe/Berlin"


def contacts(**cols):
    """A contacts frame in the generic schema from a few columns (times as local strings)."""
    n = len(next(iter(cols.values())))
    frame = pd.DataFrame(index=range(n))
    for name in COLUMNS:
        value = cols.get(name)
        if value is None:
            frame[name] = empty_column(name, frame.index, TZ)
        elif name.endswith("_at"):
            frame[name] = pd.to_datetime(pd.Series(value)).dt.tz_localize(TZ)
        else:
            frame[name] = pd.Series(value, dtype="boolean" if name in ("bot_handled", "bot_resolved", "reopened")
                                    else "float" if name == "handle_time_s" else "string")
    return frame


def test_days_are_counted_when_present_and_zeros_count():
    # Mon 25 Nov: 2 voice calls at 9h; Tue 26: 1 at 10h; Wed 27: no data at all; Thu 28: email only
    c = contacts(channel=["voice", "voice", "voice", "email"],
                 created_at=["2024-11-25 09:10", "2024-11-25 09:20", "2024-11-26 10:00", "2024-11-28 12:00"])
    p = arrival_profile(c)
    assert p.days_counted == 3
    r = p.rates.set_index(["channel", "weekday", "interval_of_day"])["rate_per_hour"]
    assert r[("voice", 0, 9)] == 2.0 and r[("voice", 1, 10)] == 1.0
    assert r[("voice", 3, 12)] == 0.0  # Thursday is present: voice had zero calls, and that counts
    assert ("voice", 2, 9) not in r.index  # Wednesday absent: not a zero day
    assert p.dow_multipliers("voice") == pytest.approx([2 / 1, 1 / 1, np.nan, 0.0, np.nan, np.nan, np.nan], nan_ok=True)
    assert p.level["voice"] == pytest.approx(1.0)  # mean of weekday means (2, 1, 0)
    mean_day = p.mean_day("voice")
    assert len(mean_day) == 24 and sum(mean_day) == pytest.approx(p.level["voice"])
    share = p.intraday.set_index(["channel", "weekday", "interval_of_day"])["share"]
    assert share[("voice", 0, 9)] == 1.0 and share.groupby(level=[0, 1]).sum().isin([0.0, 1.0]).all()
    cal = arrival_profile(c, days="calendar")
    assert cal.days_counted == 4 and cal.dow_multipliers("voice")[2] == 0.0


def test_half_hour_intervals_give_rates_per_hour():
    c = contacts(channel=["voice"] * 3, created_at=["2024-11-25 09:10", "2024-11-25 09:20", "2024-11-25 09:40"])
    r = arrival_profile(c, interval="30min").rates.set_index("interval_of_day")["rate_per_hour"]
    assert len(r) == 48 and r[18] == 4.0 and r[19] == 2.0
    with pytest.raises(ValueError, match="'interval' parameter must divide a day"):
        arrival_profile(c, interval="7min")


def _daily(start, days, per_day, channel="voice"):
    stamps = [f"{d.date()} 10:00" for d in pd.date_range(start, periods=days) for _ in range(per_day)]
    return stamps, [channel] * len(stamps)


def test_peak_uplift_and_growth():
    base_t, base_c = _daily("2024-11-04", 14, 10)
    peak_t, peak_c = _daily("2024-11-25", 7, 25)
    c = contacts(channel=base_c + peak_c, created_at=base_t + peak_t)
    up = peak_uplift(c, {"black_friday_week": ("2024-11-25", "2024-12-01")})
    row = up.iloc[0]
    assert (row["peak"], row["channel"], row["days"]) == ("black_friday_week", "voice", 7)
    assert row["uplift"] == pytest.approx(2.5) and row["uplift_raw"] == pytest.approx(2.5)
    g = growth(c, ("2024-11-04", "2024-11-17"), ("2024-11-25", "2024-12-01"))
    assert g.loc[0, "ratio"] == pytest.approx(2.5) and (g.loc[0, "days_a"], g.loc[0, "days_b"]) == (14, 7)


def test_peak_uplift_is_weekday_adjusted():
    # baseline: Mondays 20, other days 10; the peak is a single Monday with 40 → 2x its weekday, 4x overall-ish
    stamps = []
    for d in pd.date_range("2024-11-04", periods=14):
        n = 20 if d.day_of_week == 0 else 10
        stamps += [f"{d.date()} 10:00"] * n
    stamps += ["2024-11-25 10:00"] * 40
    c = contacts(channel=["voice"] * len(stamps), created_at=stamps)
    row = peak_uplift(c, {"cyber_monday": ("2024-11-25", "2024-11-25")}).iloc[0]
    assert row["uplift"] == pytest.approx(2.0)
    assert row["uplift_raw"] == pytest.approx(40 / (160 / 14))
    with pytest.raises(ValueError, match="covers no day with data"):
        peak_uplift(c, {"x": ("2025-01-01", "2025-01-02")})


def test_infer_staffing_exact_small_case():
    # A: 09:00-09:10 and 09:20-09:30 (10-min gap → one session), then 11:00-11:30 (new session)
    # B: 09:30-10:30
    c = contacts(channel=["voice"] * 4, agent_id=["A", "A", "A", "B"],
                 created_at=["2024-11-25 09:00", "2024-11-25 09:20", "2024-11-25 11:00", "2024-11-25 09:30"],
                 answered_at=["2024-11-25 09:00", "2024-11-25 09:20", "2024-11-25 11:00", "2024-11-25 09:30"],
                 handle_time_s=[600.0, 600.0, 1800.0, 3600.0])
    st = infer_staffing(c, interval="60min", max_gap="30min")
    assert st["interval_start"].dt.hour.tolist() == [9, 10, 11]
    assert st["agents"].tolist() == pytest.approx([1.0, 0.5, 0.5])  # A 30 min + B 30 min; B 30; A 30
    assert st["busy_agents"].tolist() == pytest.approx([50 / 60, 0.5, 0.5])
    assert st["distinct_agents"].tolist() == [2, 1, 1]
    short = infer_staffing(c, interval="60min", max_gap="5min")  # the 10-min gap now ends a session
    assert short["agents"].tolist() == pytest.approx([50 / 60, 0.5, 0.5])


def test_behaviour_rates_exact_and_absent_columns():
    c = contacts(
        channel=["voice", "voice", "voice", "voice", "chat", "chat", "chat", "chat"],
        customer_id=["c1", "c1", "c2", "c2", "c3", None, "c4", "c5"],
        created_at=["2024-11-25 10:00", "2024-11-25 10:30", "2024-11-25 10:00", "2024-11-26 16:00",
                    "2024-11-25 10:00", "2024-11-25 10:00", "2024-11-25 10:00", "2024-11-25 10:00"],
        queued_at=["2024-11-25 10:00", None, "2024-11-25 10:00", None, None, None, None, None],
        abandoned_at=["2024-11-25 10:05", None, "2024-11-25 10:05", None, None, None, None, None],
        bot_handled=[None, None, None, None, True, True, True, True],
        bot_resolved=[None, None, None, None, True, True, True, False],
        reopened=[None, None, None, None, False, False, False, True])
    voice = behaviour_rates(c, channel="voice")
    assert (voice.redial_prob.value, voice.redial_prob.count, voice.redial_prob.n) == (0.5, 1, 2)
    assert voice.redial_delay_s.tolist() == [25 * 60.0] and voice.redial_delay_fit is None
    assert voice.bot_containment is None and voice.reopen_rate is None
    chat = behaviour_rates(c, channel="chat")
    assert (chat.bot_containment.value, chat.bot_containment.n) == (0.75, 4)
    assert chat.escalation_share.value == 0.25 and chat.reopen_rate.value == 0.25
    assert chat.redial_prob is None
    assert set(chat.to_dict()) == {"bot_containment", "bot_containment_n", "escalation_share",
                                   "escalation_share_n", "reopen_rate", "reopen_rate_n"}


def synthetic_tickets(seed=42, days=28):
    """Voice (queue, lognormal handle, Weibull patience, redials) and email (resolution) for `days` days."""
    rng = np.random.default_rng(seed)
    rows = []
    for d in range(days):  # from Monday 7 Oct, across the 27 Oct DST change: add calendar days, not 24 h
        day = (pd.Timestamp("2024-10-07") + pd.Timedelta(days=d)).tz_localize(TZ)
        n = rng.poisson(300 if day.day_of_week < 5 else 120)
        created = day + pd.to_timedelta(rng.uniform(8, 20, n) * 3600, unit="s")
        patience = rng.weibull(0.8, n) * 300
        start_wait = rng.exponential(90, n)
        gone = patience < start_wait
        wait = np.minimum(patience, start_wait)
        handle = rng.lognormal(np.log(180), 0.5, n)
        for i in range(n):
            end = created[i] + pd.Timedelta(seconds=float(wait[i]))
            rows.append({"contact_id": f"v{d}-{i}", "customer_id": f"cust{rng.integers(5000)}",
                         "channel": "voice", "reason": "order_status" if i % 3 else "returns",
                         "created_at": created[i], "queued_at": created[i],
                         "answered_at": None if gone[i] else end, "abandoned_at": end if gone[i] else None,
                         "handle_time_s": None if gone[i] else handle[i], "agent_id": None if gone[i] else f"a{i % 12}"})
        m = rng.poisson(80)
        for i in range(m):
            created_e = day + pd.Timedelta(hours=float(rng.uniform(0, 24)))
            rows.append({"contact_id": f"e{d}-{i}", "channel": "email", "created_at": created_e,
                         "resolved_at": created_e + pd.Timedelta(seconds=float(rng.gamma(2, 3 * 3600))),
                         "reopened": bool(rng.random() < 0.05)})
    frame = pd.DataFrame(rows)
    for name in COLUMNS:
        if name not in frame:
            frame[name] = empty_column(name, frame.index, TZ)
    for name in ("created_at", "queued_at", "answered_at", "abandoned_at", "resolved_at"):
        frame[name] = pd.to_datetime(frame[name]).astype(f"datetime64[ns, {TZ}]")
    frame["reopened"] = frame["reopened"].astype("boolean")
    for name in ("contact_id", "customer_id", "channel", "reason", "agent_id"):
        frame[name] = frame[name].astype("string")
    frame = frame[list(COLUMNS)]
    return TicketData(contacts=frame, dropped={"answered_before_created": 3}, rows_read=len(frame) + 3,
                      files=[("synthetic.csv", "0" * 64)])


@pytest.fixture(scope="module")
def synthetic_calibration():
    return calibrate(synthetic_tickets())


def test_calibration_fits_each_channel(synthetic_calibration):
    cal = synthetic_calibration
    voice, email = cal.channels["voice"], cal.channels["email"]
    assert voice["handle_time"]["dist"] == "lognormal"
    true_mean = 180 * np.exp(0.5**2 / 2)
    assert voice["handle_time"]["mean"] == pytest.approx(true_mean, rel=0.03)
    assert voice["patience"]["dist"] == "weibull" and voice["patience"]["shape"] == pytest.approx(0.8, abs=0.08)
    assert voice["reasons"]["order_status"]["share"] == pytest.approx(2 / 3, abs=0.02)
    assert voice["reasons"]["returns"]["handle_time"]["dist"] == "lognormal"
    assert "patience" not in email and email["resolution_time"]["dist"] == "gamma"
    assert email["behaviour"]["reopen_rate"] == pytest.approx(0.05, abs=0.015)
    assert voice["arrivals"]["day_of_week"][5] < 0.6 < voice["arrivals"]["day_of_week"][0]
    assert cal.provenance["rows_used"] + 3 == cal.provenance["rows_read"]
    assert cal.provenance["dropped"] == {"answered_before_created": 3}


def test_yaml_round_trip_and_format(synthetic_calibration, tmp_path):
    path = synthetic_calibration.to_yaml(tmp_path / "out" / "calibration.yaml")
    data = yaml.safe_load(path.read_text())
    assert data == synthetic_calibration.to_dict()
    assert list(data) == ["provenance", "channels", "fits", "skipped", "model", "season"]
    prov = data["provenance"]
    assert prov["files"] == [{"path": "synthetic.csv", "sha256": "0" * 64}]
    assert prov["created_by"] == "peaksim" and prov["interval"] == "60min" and len(prov["date_range"]) == 2
    assert set(data["channels"]["voice"]["handle_time"]) == {"dist", "mean", "sd"}
    assert data["fits"]["voice"]["handle_time"][0]["delta_aic"] == 0.0
    assert "{dist: lognormal, mean:" in path.read_text()  # one line per distribution
    assert os.listdir(path.parent) == ["calibration.yaml"]  # no temp files left


def test_yaml_write_is_atomic(synthetic_calibration, tmp_path, monkeypatch):
    path = tmp_path / "calibration.yaml"
    path.write_text("previous: calibration\n")

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        synthetic_calibration.to_yaml(path)
    assert path.read_text() == "previous: calibration\n"
    assert os.listdir(tmp_path) == ["calibration.yaml"]


def test_diagnostics_are_tidy_and_written_as_csv(synthetic_calibration, tmp_path):
    diag = synthetic_calibration.diagnostics
    for name in ("handle_time_qq", "handle_time_density", "patience_survival", "resolution_time_qq"):
        assert "channel" in diag[name].columns, name
    assert set(diag["handle_time_qq"]["channel"]) == {"voice"}
    assert set(diag["fit_candidates"]["quantity"]) == {"handle_time", "patience", "resolution_time"}
    assert {"interval_start", "agents"} <= set(diag["staffing"].columns)
    paths = synthetic_calibration.write_diagnostics(tmp_path / "diag")
    assert {p.name for p in paths} == {f"{name}.csv" for name in diag}
    back = pd.read_csv(tmp_path / "diag" / "patience_survival.csv")
    assert list(back.columns) == list(diag["patience_survival"].columns)


def test_small_reasons_are_skipped_not_fitted():
    td = synthetic_tickets(days=3)
    contacts_ = td.contacts.copy()
    contacts_.loc[contacts_.index[:5], "reason"] = "rare"
    cal = calibrate(TicketData(contacts=contacts_, dropped={}, rows_read=len(contacts_), files=[]))
    assert set(cal.channels["voice"]["reasons"]["rare"]) == {"share", "n"}
    assert any(s.startswith("voice/rare: handle_time: too little data") for s in cal.skipped)
