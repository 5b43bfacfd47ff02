"""Calibration on the Technion "Anonymous Bank" call log (January 1999), checked against its SOURCE.md."""
import os
from pathlib import Path

import numpy as np
import pytest

from calibrate.calibration import calibrate
from calibrate.fit import fit_duration, fit_patience
from calibrate.profiles import arrival_profile, behaviour_rates, infer_staffing
from calibrate.tickets import load_tickets

DATA = Path(os.environ.get("PEAKSIM_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
JAN = DATA / "technion-anonymous-bank" / "anonymous_bank_1999-01.txt"
pytestmark = pytest.mark.skipif(not JAN.is_file(), reason=f"Technion data not found at {JAN} (set PEAKSIM_DATA)")

# SOURCE.md month summary for January: outcomes of the 31,599 rows
AGENT, HANG, PHANTOM = 27_060, 4_299, 240


@pytest.fixture(scope="module")
def jan():
    return load_tickets(JAN, fmt="technion")


@pytest.fixture(scope="module")
def jan_calibration(jan):
    return calibrate(jan)


def test_row_counts_match_source_md(jan):
    assert jan.rows_read == AGENT + HANG + PHANTOM
    assert jan.rows_used + sum(jan.dropped.values()) == jan.rows_read
    assert jan.dropped["phantom"] == PHANTOM
    c = jan.contacts
    served, abandoned = c["answered_at"].notna(), c["abandoned_at"].notna()
    ivr_hangups = ~served & ~abandoned
    assert (served | abandoned | ivr_hangups).sum() == jan.rows_used
    # every non-phantom drop removes an AGENT or a HANG row, so the kept counts are bracketed
    other_drops = sum(jan.dropped.values()) - PHANTOM
    agent_only = jan.dropped["agent_without_server"] + jan.dropped["agent_without_service"]
    assert AGENT - other_drops <= served.sum() <= AGENT - agent_only
    assert HANG - (other_drops - agent_only) <= (abandoned | ivr_hangups).sum() <= HANG
    assert ivr_hangups.sum() > 1000  # HANG without queueing: kept as arrivals, never offered
    assert c.loc[ivr_hangups, "queued_at"].isna().all()


def test_drops_are_reported_with_reasons_and_examples(jan):
    assert set(jan.dropped) <= {"phantom", "negative_time", "agent_without_server", "agent_without_service",
                                "spans_midnight", "answered_before_queued", "malformed_date"}
    assert jan.dropped["agent_without_server"] == 490  # AGENT rows with server NO_SERVER (SOURCE.md quirk)
    assert 0 < jan.dropped["spans_midnight"] < 100
    for reason in jan.dropped:
        assert jan.drop_examples[reason].startswith(str(JAN) + ":")


def test_times_are_local_israel_time_and_days_present(jan):
    c = jan.contacts
    assert str(c["created_at"].dt.tz) == "Asia/Jerusalem"
    days = set(c["created_at"].dt.day)
    assert 11 not in days and 12 not in days and len(days) == 29  # Jan 11-12 missing (SOURCE.md)
    profile = arrival_profile(c)
    assert profile.days_counted == 29
    rates = profile.mean_day("voice")
    assert len(rates) == 24 and np.argmax(rates) in range(8, 18)
    dow = profile.dow_multipliers("voice")
    assert np.mean(dow) == pytest.approx(1.0)
    assert dow[5] < 0.3 and dow[4] < 0.6  # Saturday nearly closed, Friday short


def test_handle_time_fit_is_plausible(jan):
    values = jan.contacts["handle_time_s"].dropna()
    fit = fit_duration(values)
    assert fit.n > 25_000
    assert fit.mean == pytest.approx(values[values > 0].mean(), rel=0.05)
    assert 150 < fit.mean < 250


def test_patience_fit_is_plausible_and_naive_mean_is_biased(jan):
    c = jan.contacts[jan.contacts["queued_at"].notna()]
    end = c["answered_at"].fillna(c["abandoned_at"])
    fit = fit_patience((end - c["queued_at"]).dt.total_seconds(), c["abandoned_at"].notna())
    assert fit.n_abandoned > 2_500 and fit.n_served_zero_wait > 10_000
    median = fit.dist.median()
    assert 120 < median < 1800  # minutes, not seconds or hours
    assert fit.naive_mean_abandoned_s < 0.5 * median
    assert fit.km_max_abs_diff < 0.05


def test_infer_staffing_is_below_the_distinct_names_bound(jan):
    st = infer_staffing(jan.contacts, interval="60min")
    assert list(st.columns[:2]) == ["interval_start", "agents"]
    assert (st["agents"] <= st["distinct_agents"] + 1e-9).all()
    assert (st["busy_agents"] <= st["agents"] + 1e-9).all()
    local = st["interval_start"]
    workday = local.dt.day_of_week.isin([6, 0, 1, 2, 3]) & local.dt.hour.between(8, 16) & (st["distinct_agents"] > 0)
    median_present, median_distinct = st.loc[workday, "agents"].median(), st.loc[workday, "distinct_agents"].median()
    assert 4 <= median_present <= 12
    assert median_present < median_distinct <= 15  # SOURCE.md: median 7, max 14-15 distinct per hour


def test_redials_are_measured_on_identified_callers(jan):
    rates = behaviour_rates(jan.contacts)
    assert rates.redial_prob.n > 1000 and 0.2 < rates.redial_prob.value < 0.95
    assert rates.bot_containment is None and rates.reopen_rate is None  # no such columns
    assert (rates.redial_delay_s > 0).all() and (rates.redial_delay_s <= 86_400).all()


def test_calibration_yaml_for_january(jan_calibration, tmp_path):
    voice = jan_calibration.channels["voice"]
    assert voice["handle_time"]["dist"] in {"lognormal", "gamma", "weibull", "exponential"}
    assert voice["patience"]["dist"] in {"lognormal", "gamma", "weibull", "exponential"}
    assert len(voice["arrivals"]["rate_per_hour"]) == 24 and len(voice["arrivals"]["day_of_week"]) == 7
    assert voice["reasons"]["regular"]["share"] > 0.6 and "handle_time" in voice["reasons"]["regular"]
    prov = jan_calibration.provenance
    assert prov["rows_read"] == 31_599 and prov["date_range"][0].startswith("1999-01-01")
    assert (tmp_path / "cal.yaml") == jan_calibration.to_yaml(tmp_path / "cal.yaml")
    staffing = jan_calibration.diagnostics["staffing"]
    assert staffing["agents"].max() < 20
