"""The peak levers through the commands: reproducible with --jobs, shown in the run and compare
reports, compared with paired intervals, and exported by synth without prevented contacts."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from calibrate.synth import synth_contacts
from sim.cli import app
from sim.contacts import PREVENTED
from sim.levers import CALLBACK
from sim.replication import simulate
from sim.scenario import parse_scenario

from conftest import TINY_SCENARIO, write_yaml


def lever_scenario() -> dict:
    data = copy.deepcopy(TINY_SCENARIO)
    data.update(duration="6h", seed=3, reasons={"wismo": {"proactive": {"start": "2026-11-23", "deflect": 0.3}},
                                               "complaint": {"priority": 1}})
    voice = data["channels"]["voice"]
    voice.update(arrivals={"rate_per_hour": 130}, reasons={"wismo": 0.6, "complaint": 0.4},
                 callback={"threshold": "1min", "accept": 0.5, "promise": "1h"},
                 balking={"scale": "5min", "max": 0.3})
    return data


def test_lever_run_is_identical_with_jobs_and_reported(tmp_path):
    path = write_yaml(tmp_path, lever_scenario())
    runner = CliRunner()
    for out, extra in (("serial", []), ("pooled", ["--jobs", "2"])):
        result = runner.invoke(app, ["run", str(path), "--out", str(tmp_path / out), *extra])
        assert result.exit_code == 0, result.output
    for name in ("summary.csv", "intervals.csv", "reasons.csv", "origins.csv", "groups.csv"):
        assert (tmp_path / "serial" / name).read_bytes() == (tmp_path / "pooled" / name).read_bytes(), name
    summary = pd.read_csv(tmp_path / "serial" / "summary.csv").iloc[0]
    assert summary["prevented"] > 0 and summary["balked"] > 0 and summary["callbacks_accepted"] > 0
    html = (tmp_path / "serial" / "report.html").read_text()
    assert "Peak levers" in html and "Reasons against their own targets" not in html  # no reason sets a target


def test_compare_shows_the_levers_beside_abandonment(tmp_path):
    """B has callbacks, A not (same seed): compare.csv holds the callback KPIs with paired intervals,
    and the report has the lever section."""
    data = lever_scenario()
    plain = copy.deepcopy(data)
    del plain["channels"]["voice"]["callback"]
    runner = CliRunner()
    for name, scenario in (("a", plain), ("b", data)):
        result = runner.invoke(app, ["run", str(write_yaml(tmp_path, scenario, f"{name}.yaml")),
                                     "--out", str(tmp_path / name), "--no-report"])
        assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "c")])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "c" / "compare.csv").set_index("kpi")
    accepted = table.loc["callbacks_accepted"]
    assert accepted["a"] == 0 and accepted["b"] > 0 and accepted["method"] == "paired"
    assert accepted["diff_lo"] > 0  # a clear change, not noise
    assert "Peak levers: effect on abandonment and service level" in (tmp_path / "c" / "report.html").read_text()


def test_synth_writes_no_prevented_contact_and_no_callback():
    sc = parse_scenario({**lever_scenario(), "replications": 1})
    c = simulate(sc, 0).contacts
    arrived = ((c["flags"] & PREVENTED) == 0) & (c["origin"] != CALLBACK)
    assert (c["origin"] == CALLBACK).any() and ((c["flags"] & PREVENTED) != 0).any()
    tickets = synth_contacts(sc, 0)
    assert len(tickets) == arrived.sum()
    answered = tickets["answered_at"].notna().sum()
    assert answered == np.count_nonzero(~np.isnan(c["answered"][arrived]))
