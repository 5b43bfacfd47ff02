"""The CSAT fit: a synthetic export whose answers are drawn from a known model gives those
coefficients back within their confidence intervals (statsmodels' ordered logit and logit),
and a fitted model reaches a scenario through `calibration:`."""

import math

import numpy as np
import pandas as pd
import pytest
import yaml

from calibrate import load_tickets
from calibrate.csat import fit_csat, issue_table
from calibrate.schema import TicketError
from sim.cli import app
from sim.scenario import load_scenario
from typer.testing import CliRunner

TRUE = {"resolved": 2.0, "extra_contacts": -0.7, "late_first_response": -1.0, "log_wait": -0.3}
CUTPOINTS = [-1.5, -0.4, 0.9, 2.4]
PROMISES = {"voice": 60.0, "email": 4 * 3600.0}


def synthetic_export(n_issues: int, seed: int, binary: bool = False) -> pd.DataFrame:
    """Issues of 1-3 contacts whose last answer is drawn from the ordered logit above.

    Earlier contacts are answered and reopened (they do not resolve); the last is answered (resolved)
    or abandoned / reopened (not resolved). Each customer has a second issue 30 days later (a gap
    longer than the 7-day issue window), so grouping by customer alone would be wrong."""
    rng = np.random.default_rng(seed)
    handle = np.random.default_rng([seed, 1])  # handle times (not a CSAT feature) from a stream of their own
    start = pd.Timestamp("2025-10-01T08:00:00+00:00")
    rows = []
    for i in range(n_issues):
        customer = f"K{i // 2}"
        channel = "voice" if rng.random() < 0.6 else "email"
        mean_wait = 90.0 if channel == "voice" else 3 * 3600.0
        t = start + pd.Timedelta(days=30 * (i % 2), seconds=float(rng.uniform(0, 20 * 86400)))
        k = int(rng.choice([1, 2, 3], p=[0.6, 0.3, 0.1]))
        resolved = rng.random() < 0.7
        total_wait, first_response = 0.0, math.inf
        for j in range(k):
            last = j == k - 1
            wait = float(rng.exponential(mean_wait))
            abandoned = last and not resolved and channel == "voice"
            reopened = not last or (not resolved and channel == "email")
            row = {"contact_id": f"C{i}-{j}", "customer_id": customer, "channel": channel, "created_at": t,
                   "queued_at": t, "answered_at": pd.NaT if abandoned else t + pd.Timedelta(seconds=wait),
                   "abandoned_at": t + pd.Timedelta(seconds=wait) if abandoned else pd.NaT,
                   "handle_time_s": np.nan if abandoned else float(handle.gamma(4.0, 60.0)),
                   "reopened": None if abandoned else reopened,
                   "csat": np.nan}
            if not abandoned and first_response == math.inf:
                first_response = (t - rows[-j]["created_at"] if j else pd.Timedelta(0)).total_seconds() + wait
            total_wait += wait
            rows.append(row)
            t = t + pd.Timedelta(seconds=wait + 240 + float(rng.uniform(600, 7200)))
        late = not first_response <= PROMISES[channel]
        eta = (TRUE["resolved"] * resolved + TRUE["extra_contacts"] * (k - 1) + TRUE["late_first_response"] * late
               + TRUE["log_wait"] * math.log1p(total_wait / 60))
        below = [1 / (1 + math.exp(-(c - eta))) for c in CUTPOINTS] + [1.0]
        score = 1 + int(np.searchsorted(below, rng.random(), side="right"))
        rows[-1]["csat"] = ("yes" if score >= 4 else "no") if binary else score
    return pd.DataFrame(rows)


def write(frame: pd.DataFrame, path):
    text = frame.copy()
    for name in ("created_at", "queued_at", "answered_at", "abandoned_at"):
        text[name] = text[name].map(lambda t: "" if pd.isna(t) else t.isoformat())
    text.to_csv(path, index=False)
    return path


def within(fit, truth: dict, z: float = 3.0):
    """Each true coefficient inside estimate ± z standard errors (z = 3: a 99.7% interval)."""
    table = fit.table.set_index("parameter")
    for name, value in truth.items():
        est, se = table.loc[name, "estimate"], table.loc[name, "se"]
        assert abs(est - value) <= z * se, f"{name}: fitted {est:.3f} ± {se:.3f}, generated with {value}"
        lo, hi = table.loc[name, "ci_lo"], table.loc[name, "ci_hi"]
        assert hi - lo < 1.0, f"{name}: a CI this wide ({lo:.2f}, {hi:.2f}) says nothing"


@pytest.fixture(scope="module")
def scores_file(tmp_path_factory):
    return write(synthetic_export(4000, seed=3), tmp_path_factory.mktemp("csat") / "tickets.csv")


def test_issues_are_grouped_by_customer_within_the_window(scores_file):
    data = load_tickets([str(scores_file)])
    issues = issue_table(data.contacts, PROMISES)
    assert len(issues) == 4000  # two per customer, 30 days apart: not one
    assert issues["csat"].notna().all()
    assert set(issues["contacts"]) == {1, 2, 3}


def test_ordered_logit_recovers_the_generating_coefficients(scores_file):
    data = load_tickets([str(scores_file)])
    fit = fit_csat(data.contacts, PROMISES)
    assert fit.kind == "score" and fit.n == 4000 and not fit.kept
    within(fit, TRUE)
    np.testing.assert_allclose(fit.cutpoints, CUTPOINTS, atol=0.35)


def test_logit_on_yes_no_answers_recovers_them_too(tmp_path):
    path = write(synthetic_export(4000, seed=8, binary=True), tmp_path / "yes_no.csv")
    fit = fit_csat(load_tickets([str(path)]).contacts, PROMISES)
    assert fit.kind == "binary"
    within(fit, {**TRUE, "const": -CUTPOINTS[2]})
    assert fit.cutpoints[2] == pytest.approx(-fit.table.set_index("parameter").loc["const", "estimate"])


def test_without_promises_the_late_coefficient_keeps_its_default(scores_file):
    fit = fit_csat(load_tickets([str(scores_file)]).contacts, None)
    assert "late_first_response" in fit.kept and fit.coefficients["late_first_response"] == -0.9


def test_too_few_answers_are_refused(scores_file):
    contacts = load_tickets([str(scores_file)]).contacts.iloc[:60]
    with pytest.raises(ValueError, match="fewer than 50"):
        fit_csat(contacts, PROMISES)


def test_a_bad_answer_names_the_row(tmp_path):
    frame = synthetic_export(20, seed=1)
    frame["csat"] = frame["csat"].astype(object)
    frame.loc[5, "csat"] = 7
    with pytest.raises(TicketError, match=r"tickets.csv:7: csat: not a satisfaction answer \(got '7(\.0)?'\)"):
        load_tickets([str(write(frame, tmp_path / "tickets.csv"))])
    frame.loc[5, "csat"] = "yes"
    with pytest.raises(TicketError, match=r"mixes yes/no answers with 1-5 scores"):
        load_tickets([str(write(frame, tmp_path / "tickets.csv"))])


def test_calibrate_writes_the_model_and_a_scenario_uses_it(tmp_path):
    scores_file = write(synthetic_export(600, seed=5), tmp_path / "tickets.csv")
    out = tmp_path / "cal"
    cmd = ["calibrate", str(scores_file), "--out", str(out), "--no-report", "--promise", "voice=60s",
           "--promise", "email=4h"]
    done = CliRunner().invoke(app, cmd)
    assert done.exit_code == 0, done.output
    assert "CSAT model: ordered logit on 600 rated issues" in done.output
    cal = yaml.safe_load((out / "calibration.yaml").read_text())
    fitted = cal["satisfaction"]["coefficients"]
    table = pd.read_csv(out / "csat_fit.csv").set_index("parameter")
    assert fitted["resolved"] == pytest.approx(table.loc["resolved", "estimate"], rel=1e-5)
    scenario = tmp_path / "s.yaml"
    scenario.write_text(yaml.safe_dump({
        "name": "with fitted csat", "start": "2026-11-23T00:00:00+00:00", "duration": "2h",
        "calibration": str(out / "calibration.yaml"),
        "channels": {"voice": {"service_level": {"threshold": "20s", "target": 0.8},
                               "handle_time": {"dist": "deterministic", "value": 240}}},
        "agents": [{"name": "team", "skills": ["voice"], "headcount": 5}]}))
    sc = load_scenario(scenario)
    assert sc.satisfaction.coefficients.resolved == pytest.approx(fitted["resolved"])
    assert sc.satisfaction.source.startswith("fitted by peaksim calibrate")
    forecast = CliRunner().invoke(app, ["forecast", str(out / "calibration.yaml"), "--start", "2026-11-23",
                                        "--end", "2026-11-24", "--out", str(tmp_path / "f.yaml")])
    assert forecast.exit_code == 0, forecast.output
    assert load_scenario(tmp_path / "f.yaml").satisfaction.coefficients.resolved == pytest.approx(fitted["resolved"])
    bad = CliRunner().invoke(app, [*cmd[:5], "--promise", "fax=1h"])
    assert bad.exit_code == 2 and "--promise fax=1h: no channel 'fax' in the tickets" in bad.output


def test_synth_answers_from_a_scenario_model_are_recovered_by_calibrate(tmp_path):
    """`peaksim synth` draws each closed issue's score from the scenario's model on the features the
    simulation's journeys give it; calibrate rebuilds the issues from the export alone and must find
    the same coefficients (the two sides compute the features independently)."""
    from calibrate.synth import synth_contacts, write_tickets
    from sim.scenario import parse_scenario

    model = {"resolved": 2.2, "extra_contacts": -0.6, "late_first_response": -0.7, "log_wait": -0.25}
    sc = parse_scenario({
        "name": "csat round trip", "start": "2026-11-23T00:00:00+00:00", "duration": "2d", "seed": 2,
        "channels": {
            "voice": {"service_level": {"threshold": "30s", "target": 0.8},
                      "handle_time": {"dist": "exponential", "mean": "4min"},
                      "patience": {"dist": "exponential", "mean": "3min"}, "arrivals": {"rate_per_hour": 120},
                      "reasons": {"question": 1},
                      "behaviour": {"redial": {"probability": 0.5, "delay": {"dist": "exponential", "mean": "10min"}}}},
            "email": {"kind": "async", "service_level": {"threshold": "2h", "target": 0.8},
                      "handle_time": {"dist": "exponential", "mean": "10min"}, "arrivals": {"rate_per_hour": 20}},
        },
        "reasons": {"question": {"fcr": 0.8, "reopen_delay": {"dist": "exponential", "mean": "2h"}}},
        "agents": [{"name": "phone", "skills": ["voice"], "headcount": 8},
                   {"name": "mail", "skills": ["email"], "headcount": 3}],
        "satisfaction": {"coefficients": model, "cutpoints": [-1.2, -0.3, 0.8, 2.2]},
    })
    frame = synth_contacts(sc, 0)
    assert frame["csat"].notna().sum() > 4000
    path = write_tickets(frame, tmp_path / "tickets.csv")
    fit = fit_csat(load_tickets([str(path)]).contacts, {"voice": 30.0, "email": 7200.0})
    assert fit.kind == "score" and not fit.kept
    within(fit, model)
    np.testing.assert_allclose(fit.cutpoints, [-1.2, -0.3, 0.8, 2.2], atol=0.3)
