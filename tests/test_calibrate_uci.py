"""Calibration on the UCI ServiceNow incident event log (an async ticket process), read from the zip."""
import os
from pathlib import Path

import numpy as np
import pytest

from calibrate.calibration import calibrate
from calibrate.fit import fit_duration
from calibrate.profiles import arrival_profile
from calibrate.tickets import load_tickets

DATA = Path(os.environ.get("PEAKSIM_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
ZIP = DATA / "uci-incident-management" / "incident_event_log.zip"
pytestmark = pytest.mark.skipif(not ZIP.is_file(), reason=f"UCI data not found at {ZIP} (set PEAKSIM_DATA)")


@pytest.fixture(scope="module")
def uci():
    return load_tickets(ZIP, fmt="uci")


def test_one_row_per_incident_from_the_last_event(uci):
    assert uci.notes["events_read"] == 141_712  # SOURCE.md
    assert uci.rows_read == uci.rows_used == 24_918  # distinct incidents, none unusable
    assert uci.files[0][1] == "6294e29a311647306bfdfc85783f7df66517c197b9cd49aa5ee36ba9c525d1d6"
    c = uci.contacts
    assert c["contact_id"].is_unique
    assert set(c["channel"]) == {"phone", "self_service", "email", "ivr", "direct_opening"}
    assert (c["channel"] == "phone").mean() > 0.95
    # an async ticket process: no queue, no agent answer, but resolution and reopen information
    assert c[["queued_at", "answered_at", "abandoned_at", "handle_time_s"]].isna().all().all()
    assert c["resolved_at"].notna().mean() > 0.9
    assert 0 < c["reopened"].mean() < 0.05
    assert c["created_at"].min().isoformat().startswith("2016-02-29")


def test_arrival_profile_has_a_weekday_office_pattern(uci):
    profile = arrival_profile(uci.contacts)
    rates = np.array(profile.mean_day("phone"))
    assert len(rates) == 24
    assert rates[9:16].mean() > 5 * rates[0:5].mean()  # office hours vs night
    dow = profile.dow_multipliers("phone")
    assert min(dow[:5]) > max(dow[5:])  # Mon-Fri above Sat/Sun
    assert np.mean(dow) == pytest.approx(1.0)


def test_resolution_time_fit_works(uci):
    c = uci.contacts
    seconds = (c["resolved_at"] - c["created_at"]).dt.total_seconds()
    fit = fit_duration(seconds)
    assert fit.n > 20_000 and fit.n_excluded == seconds.isna().sum() + (seconds <= 0).sum()
    assert fit.to_scenario()["dist"] in {"lognormal", "gamma", "weibull", "exponential"}
    # heavy-tailed: the fitted median lies within a factor 2 of the empirical one
    assert 0.5 < fit.dist.median() / seconds[seconds > 0].median() < 2


def test_calibration_has_resolution_time_and_no_patience(uci):
    cal = calibrate(uci)
    phone = cal.channels["phone"]
    assert "resolution_time" in phone and "patience" not in phone and "handle_time" not in phone
    assert phone["behaviour"]["reopen_rate_n"] > 20_000
    assert any(s.startswith("direct_opening: resolution_time: too little data") for s in cal.skipped)
    assert set(cal.diagnostics["resolution_time_qq"]["channel"]) >= {"phone", "self_service"}
