"""Synth → calibrate round trips: the calibration recovers the parameters that generated the tickets."""
import numpy as np
import pandas as pd
import pytest

from calibrate import calibrate, load_tickets
from calibrate.synth import synth_contacts, write_tickets
from calibrate.schema import COLUMNS
from sim.scenario import parse_scenario

DAY = [4.0] * 8 + [90.0] * 10 + [30.0] * 6  # arrivals per hour, 00:00 … 23:00
STAFF = [2] * 8 + [4] * 10 + [2] * 6
TRUE_PATIENCE_MEAN, TRUE_SHAPE = 300.0, 0.8
AHT, SD = 240.0, 180.0


def scenario(seed=3, days=14, **channel):
    voice = {"service_level": {"threshold": "20s", "target": 0.8},
             "handle_time": {"dist": "lognormal", "mean": AHT, "sd": SD},
             "patience": {"dist": "weibull", "shape": TRUE_SHAPE, "mean": TRUE_PATIENCE_MEAN},
             "arrivals": {"rate_per_hour": DAY}}
    voice.update(channel)
    return parse_scenario({
        "name": "synthetic last year", "start": "2025-11-03T00:00:00+01:00", "timezone": "Europe/Berlin",
        "duration": f"{days}d", "interval": "60min", "seed": seed, "replications": 1,
        "channels": {"voice": voice}, "agents": [{"name": "team", "skills": ["voice"], "headcount": STAFF}]})


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory):
    path = tmp_path_factory.mktemp("synth") / "tickets.csv"
    frame = synth_contacts(scenario())
    write_tickets(frame, path)
    data = load_tickets(path, tz="Europe/Berlin")
    return frame, data, calibrate(data)


def test_tickets_are_in_the_generic_schema_and_read_back_without_drops(round_trip):
    frame, data, _ = round_trip
    assert list(frame.columns) == list(COLUMNS)
    assert data.rows_read == data.rows_used == len(frame) and data.dropped == {}
    c = data.contacts
    served, gone = c["answered_at"].notna(), c["abandoned_at"].notna()
    assert not (served & gone).any()
    assert (c.loc[served, "agent_id"].notna()).all() and c.loc[gone, "agent_id"].isna().all()
    assert str(c["created_at"].dt.tz) == "Europe/Berlin"
    assert c["created_at"].is_monotonic_increasing


def test_handle_time_mean_and_sd_are_recovered(round_trip):
    _, _, cal = round_trip
    fit = cal.channels["voice"]["handle_time"]
    assert fit["dist"] == "lognormal"  # the generating family wins by AIC
    assert fit["mean"] == pytest.approx(AHT, rel=0.04)
    assert fit["sd"] == pytest.approx(SD, rel=0.08)


def test_patience_censored_fit_is_unbiased_and_the_naive_mean_is_not(round_trip):
    _, data, cal = round_trip
    fit = cal.results["voice"]["patience"]
    share_abandoned = fit.n_abandoned / fit.n
    assert 0.05 < share_abandoned < 0.5 and fit.n_served > fit.n_abandoned  # most patience is censored
    assert fit.family == "weibull_min"
    assert fit.params[0] == pytest.approx(TRUE_SHAPE, rel=0.1)
    assert fit.mean == pytest.approx(TRUE_PATIENCE_MEAN, rel=0.12)
    # the mean wait of those who abandoned measures only the impatient: far below the truth
    assert fit.naive_mean_abandoned_s < 0.4 * TRUE_PATIENCE_MEAN
    assert abs(fit.naive_mean_abandoned_s - TRUE_PATIENCE_MEAN) > 5 * abs(fit.mean - TRUE_PATIENCE_MEAN)
    assert fit.km_max_abs_diff < 0.03


def test_arrival_profile_is_recovered(round_trip):
    _, _, cal = round_trip
    rates = np.array(cal.channels["voice"]["arrivals"]["rate_per_hour"])
    assert len(rates) == 24
    busy = slice(8, 18)
    assert rates[busy].mean() == pytest.approx(90.0, rel=0.03)
    assert rates[18:].mean() == pytest.approx(30.0, rel=0.06)
    assert rates[:8].mean() == pytest.approx(4.0, rel=0.2)
    assert np.abs(rates - DAY).max() < 4 * np.sqrt(max(DAY) / 14)  # within Poisson noise of 14 days
    dow = cal.channels["voice"]["arrivals"]["day_of_week"]
    assert np.allclose(dow, 1.0, atol=0.08)  # the generator has no weekly shape


def test_synth_is_reproducible_and_parquet_round_trips(tmp_path):
    sc = scenario(days=2)
    a, b = synth_contacts(sc, 0), synth_contacts(sc, 0)
    pd.testing.assert_frame_equal(a, b)
    assert not synth_contacts(sc, 1)["created_at"].equals(a["created_at"])
    write_tickets(a, tmp_path / "t.parquet")
    back = load_tickets(tmp_path / "t.parquet")
    assert back.rows_used == len(a)
    waits = (back.contacts["answered_at"] - back.contacts["queued_at"]).dt.total_seconds().dropna()
    assert (waits >= 0).all()


def test_async_channel_writes_resolution_times():
    sc = parse_scenario({
        "name": "email", "start": "2025-11-03T00:00:00+00:00", "duration": "2d", "interval": "60min", "seed": 1,
        "channels": {"email": {"kind": "async", "service_level": {"threshold": "4h", "target": 0.8},
                               "handle_time": {"dist": "exponential", "mean": "6min"},
                               "arrivals": {"rate_per_hour": 20}}},
        "agents": [{"name": "back", "skills": ["email"], "headcount": 2}]})
    frame = synth_contacts(sc)
    done = frame["handle_time_s"].notna()
    assert done.mean() > 0.9 and frame["abandoned_at"].isna().all()
    assert (frame.loc[done, "resolved_at"] >= frame.loc[done, "answered_at"]).all()
    assert frame.loc[~done, "resolved_at"].isna().all()


def test_handle_time_profile_is_recovered_and_reaches_a_referencing_scenario(tmp_path):
    """Calls 40% shorter before noon and 40% longer after: the calibration's hour-of-day
    multipliers recover 0.6 and 1.4 relative to the overall mean, each within 3.5 standard
    errors of its hour's mean (sd/mean of the handle time is 0.75, so ±3.5·0.75/√n), hours with
    fewer than 50 handled calls stay at 1, and a scenario referencing the calibration runs with it."""
    from sim.scenario import load_scenario

    truth = [0.6] * 12 + [1.4] * 12
    frame = synth_contacts(scenario(seed=4, handle_time_profile=truth))
    write_tickets(frame, tmp_path / "t.csv")
    cal = calibrate(load_tickets(tmp_path / "t.csv", tz="Europe/Berlin"))
    got = np.array(cal.channels["voice"]["handle_time_profile"])
    n = cal.diagnostics["handle_time_profile"]["n"].to_numpy()
    mean_all = frame.loc[frame["answered_at"].notna(), "handle_time_s"].mean()
    expected = np.array(truth) * AHT / mean_all  # each hour's mean over the overall mean
    fitted = n >= 50
    assert fitted[8:].all()  # the busy hours have hundreds of calls
    tolerance = 3.5 * (SD / AHT) / np.sqrt(np.maximum(n, 1)) + 0.01
    assert np.all(np.abs(got[fitted] / expected[fitted] - 1) < tolerance[fitted]), got
    assert np.all(got[~fitted] == 1.0)
    cal.to_yaml(tmp_path / "cal.yaml")
    (tmp_path / "s.yaml").write_text(
        "name: uses calibration\nstart: 2026-11-02T00:00:00+01:00\nduration: 1d\ninterval: 30min\n"
        "calibration: cal.yaml\nchannels:\n  voice:\n    service_level: {threshold: 20s, target: 0.8}\n"
        "agents:\n  - {name: team, skills: [voice], headcount: 5}\n")
    sc = load_scenario(tmp_path / "s.yaml")
    assert sc.channels["voice"].handle_time_profile == [float(m) for m in got for _ in range(2)]


def test_bot_containment_reasons_and_reopens_survive_the_round_trip(tmp_path):
    """A chat with a bot (containment 0.3) and two reasons (returns: first-contact resolution
    0.8, reopening after ~1 h): the synthetic export carries reason, bot and reopen columns, and
    the calibration recovers containment and the reopen rate within 3.5 binomial standard
    errors (reopens of the last hours fall past the horizon: a 2-week horizon and a 1-hour delay
    keep that censoring under 0.5% of contacts)."""
    sc = parse_scenario({
        "name": "bot and reopens", "start": "2025-11-03T00:00:00+01:00", "timezone": "Europe/Berlin",
        "duration": "14d", "interval": "60min", "seed": 8, "replications": 1,
        "reasons": {"returns": {"fcr": 0.8, "reopen_delay": {"dist": "exponential", "mean": "1h"}},
                    "order_status": {}},
        "channels": {"chat": {
            "service_level": {"threshold": "60s", "target": 0.8},
            "handle_time": {"dist": "gamma", "mean": "5min", "sd": "3min"},
            "patience": {"dist": "exponential", "mean": "10min"},
            "reasons": {"returns": 0.5, "order_status": 0.5},
            "bot": {"containment": 0.3, "session": {"dist": "exponential", "mean": "1min"}},
            "arrivals": {"rate_per_hour": 40}}},
        "agents": [{"name": "team", "skills": ["chat"], "headcount": 5}]}, "<test>")
    frame = synth_contacts(sc)
    assert set(frame["reason"].dropna()) == {"returns", "order_status"}
    assert frame["bot_handled"].fillna(False).all()  # every chat meets the bot first
    write_tickets(frame, tmp_path / "t.csv")
    cal = calibrate(load_tickets(tmp_path / "t.csv", tz="Europe/Berlin"))
    behaviour = cal.results["chat"]["behaviour"]
    fresh = (frame["reason"].notna()) & frame["bot_handled"].fillna(False)
    contain = behaviour.bot_containment
    se = np.sqrt(0.3 * 0.7 / contain.n)
    assert contain.n >= 0.9 * fresh.sum() and abs(contain.value - 0.3) < 3.5 * se
    # reopens: 20% of handled 'returns' contacts, none of 'order_status' (half the handled contacts)
    reopen = behaviour.reopen_rate
    handled = frame["handle_time_s"].notna()
    share_returns = (frame.loc[handled, "reason"] == "returns").mean()
    expected = 0.2 * share_returns
    assert abs(reopen.value - expected) < 3.5 * np.sqrt(expected * (1 - expected) / reopen.n) + 0.005
    assert cal.channels["chat"]["reasons"]["returns"]["share"] == pytest.approx(
        (frame["reason"] == "returns").mean(), abs=1e-9)
