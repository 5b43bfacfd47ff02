"""`peaksim synth` / `calibrate` / `backtest` on the command line, `calibration:` in scenarios, and
one-line errors for bad ticket files."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from sim.cli import app
from sim.errors import ScenarioError
from sim.runner import run_scenario
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("PEAKSIM_DATA", ROOT.parent / "shared" / "data"))
UCI = DATA / "uci-incident-management" / "incident_event_log.zip"

SCENARIO = """\
name: synthetic last year
start: 2025-11-03T00:00:00+01:00
timezone: Europe/Berlin
duration: 7d
interval: 60min
seed: 4
channels:
  voice:
    service_level: {threshold: 20s, target: 0.8}
    handle_time: {dist: gamma, mean: 200s, sd: 150s}
    patience: {dist: exponential, mean: 240s}
    arrivals: {rate_per_hour: [3, 3, 3, 3, 3, 3, 3, 3, 80, 80, 80, 80, 80, 80, 80, 80, 80, 80, 20, 20, 20, 20, 20, 20]}
agents:
  - name: team
    skills: [voice]
    headcount: [1, 1, 1, 1, 1, 1, 1, 1, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 2, 2, 2, 2, 2, 2]
"""
REPORT_TABLES = {
    "fits.csv": ["channel", "quantity", "dist", "aic", "ks_stat", "ks_pvalue", "chosen"],
    "handle_time_qq.csv": ["channel", "empirical_s", "fitted_s"],
    "handle_time_hist.csv": ["channel", "bin_left_s", "bin_right_s", "density", "fitted_pdf"],
    "patience_km.csv": ["channel", "t_s", "km_survival", "fitted_survival"],
    "arrival_profile.csv": ["channel", "weekday", "interval_of_day", "observed_rate_per_hour", "fitted_rate_per_hour"],
}


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory):
    """synth → tickets.csv → calibrate → calibration.yaml, through the CLI."""
    tmp = tmp_path_factory.mktemp("cal")
    (tmp / "last_year.yaml").write_text(SCENARIO)
    res = invoke("synth", tmp / "last_year.yaml", "--out", tmp / "tickets.csv")
    assert res.exit_code == 0, res.output
    res = invoke("calibrate", tmp / "tickets.csv", "--tz", "Europe/Berlin", "--out", tmp / "cal", "--no-report")
    assert res.exit_code == 0, res.output
    return tmp, res


def test_calibrate_writes_yaml_meta_and_the_report_tables(calibrated):
    tmp, res = calibrated
    out = tmp / "cal"
    cal = yaml.safe_load((out / "calibration.yaml").read_text())
    voice = cal["channels"]["voice"]
    assert voice["handle_time"]["mean"] == pytest.approx(200, rel=0.06)
    assert voice["patience"]["dist"] in {"exponential", "weibull", "gamma"}
    assert cal["provenance"]["files"][0]["sha256"] and cal["provenance"]["rows_used"] > 5000
    for name, columns in REPORT_TABLES.items():
        frame = pd.read_csv(out / name)
        assert list(frame.columns) == columns, name
        assert len(frame) > 0 and set(frame["channel"]) == {"voice"}
    fits = pd.read_csv(out / "fits.csv")
    assert fits.groupby("quantity")["chosen"].sum().to_dict() == {"handle_time": 1, "patience": 1}
    profile = pd.read_csv(out / "arrival_profile.csv")
    assert len(profile) == 7 * 24
    assert (out / "calibrate.json").is_file()
    assert "voice" in res.output and "naive abandoned mean" in res.output


def write_scenario(folder: Path, text: str) -> Path:
    path = folder / "planned.yaml"
    path.write_text(text)
    return path


PLANNED = """\
name: this year
start: 2026-11-23T00:00:00+01:00
duration: 24h
interval: 30min
calibration: cal/calibration.yaml
replications: 2
channels:
  voice:
    service_level: {threshold: 20s, target: 0.8}
    patience: {dist: exponential, mean: 100s}
agents:
  - name: team
    skills: [voice]
    headcount: 5
"""


def test_a_scenario_takes_calibrated_defaults_and_its_own_values_win(calibrated):
    tmp, _ = calibrated
    cal = yaml.safe_load((tmp / "cal" / "calibration.yaml").read_text())["channels"]["voice"]
    sc = load_scenario(write_scenario(tmp, PLANNED))
    voice = sc.channels["voice"]
    assert voice.handle_time.model_dump() == cal["handle_time"]  # from the calibration
    assert voice.patience.model_dump() == {"dist": "exponential", "mean": 100.0}  # the scenario's own
    hourly = cal["arrivals"]["rate_per_hour"]
    # the fitted daily profile becomes the demand form: volume per day × intraday shape (× day of week)
    assert voice.arrivals.intraday == [r for r in hourly for _ in range(2)]  # 24 hourly → 48 half-hours
    assert voice.arrivals.per_day == pytest.approx(sum(hourly))
    assert len(voice.arrivals.day_of_week) == 7
    assert sc.calibration == "cal/calibration.yaml"
    result = run_scenario(sc)
    assert result.summary["arrived"].iloc[0] == pytest.approx(sum(hourly), rel=0.15)
    own_rate = PLANNED.replace("    patience: {dist: exponential, mean: 100s}\n",
                               "    patience: {dist: exponential, mean: 100s}\n    arrivals: {rate_per_hour: 7}\n")
    assert load_scenario(write_scenario(tmp, own_rate)).channels["voice"].arrivals.rate_per_hour == 7


def test_channels_only_the_calibration_knows_are_ignored(calibrated):
    tmp, _ = calibrated
    text = PLANNED.replace("  voice:", "  chat:").replace("skills: [voice]", "skills: [chat]").replace(
        "    patience: {dist: exponential, mean: 100s}\n",
        "    handle_time: {dist: exponential, mean: 5min}\n    arrivals: {rate_per_hour: 10}\n")
    sc = load_scenario(write_scenario(tmp, text))
    assert list(sc.channels) == ["chat"]


def test_calibration_errors_name_the_calibration_file(calibrated, tmp_path):
    tmp, _ = calibrated
    missing = PLANNED.replace("cal/calibration.yaml", "nowhere.yaml")
    with pytest.raises(ScenarioError, match=r"planned.yaml: calibration: file not found .*nowhere.yaml"):
        load_scenario(write_scenario(tmp_path, missing))
    bad = tmp_path / "bad.yaml"
    bad.write_text("channels:\n  voice:\n    handle_time: {dist: lognorm, mean: 3}\n")
    with pytest.raises(ScenarioError, match=r"bad.yaml: channels.voice.handle_time: not a valid distribution"):
        load_scenario(write_scenario(tmp_path, PLANNED.replace("cal/calibration.yaml", "bad.yaml")))
    bad.write_text("just: text\n")
    with pytest.raises(ScenarioError, match=r"bad.yaml: channels: missing"):
        load_scenario(write_scenario(tmp_path, PLANNED.replace("cal/calibration.yaml", "bad.yaml")))
    res = invoke("validate", tmp_path / "planned.yaml")
    assert res.exit_code == 2 and "Traceback" not in res.output


def test_backtest_accepts_several_files_after_one_train_flag(calibrated, tmp_path):
    tmp, _ = calibrated
    for seed in (5, 6):
        (tmp_path / f"s{seed}.yaml").write_text(SCENARIO.replace("seed: 4", f"seed: {seed}").replace("7d", "3d"))
        assert invoke("synth", tmp_path / f"s{seed}.yaml", "--out", tmp_path / f"t{seed}.csv").exit_code == 0
    res = invoke("backtest", "--train", tmp / "tickets.csv", tmp_path / "t5.csv", "--test", tmp_path / "t6.csv",
                 "--interval", "60min", "--tz", "Europe/Berlin", "--out", tmp_path / "bt", "-r", "2", "--no-report")
    assert res.exit_code == 0, res.output
    meta = yaml.safe_load((tmp_path / "bt" / "backtest.json").read_text())
    assert [Path(f["path"]).name for f in meta["train_files"]] == ["tickets.csv", "t5.csv"]
    assert [Path(f["path"]).name for f in meta["test_files"]] == ["t6.csv"]
    iv = pd.read_csv(tmp_path / "bt" / "backtest_intervals.csv")
    assert len(iv) == 72 and iv["interval_start"].iloc[0] == "2025-11-03T00:00:00+01:00"


def one_line_error(res):
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, res.stderr
    return lines[0]


def test_missing_columns_are_one_line_exit_2(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("id,when\n1,2025-11-03 10:00\n")
    line = one_line_error(invoke("calibrate", path, "--out", tmp_path / "o"))
    assert line.startswith(f"{path}: columns: missing required column(s) channel, created_at")


def test_unparseable_times_are_one_line_exit_2(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("channel,created_at\nvoice,2025-11-03 10:00\nvoice,yesterday\n")
    line = one_line_error(invoke("calibrate", path, "--out", tmp_path / "o"))
    assert line.startswith(f"{path}:3: created_at: cannot read this as a date-time (got 'yesterday')")
    line = one_line_error(invoke("backtest", "--train", path, "--test", path, "--out", tmp_path / "o"))
    assert "yesterday" in line


def test_bad_options_and_too_little_data_are_one_line_exit_2(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("channel,created_at\nvoice,2025-11-03 10:00\n")
    assert "--interval" in one_line_error(invoke("calibrate", path, "--interval", "7min", "--out", tmp_path / "o"))
    assert "--format" in one_line_error(invoke("calibrate", path, "--format", "zendesk", "--out", tmp_path / "o"))
    line = one_line_error(invoke("backtest", "--train", path, "--test", path, "--out", tmp_path / "o"))
    assert "no handle_time or patience fit for channel 'voice'" in line


def test_the_installed_entry_point_prints_no_traceback(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("id,when\n1,2025-11-03 10:00\n")
    proc = subprocess.run([sys.executable, "-m", "sim.cli", "calibrate", str(path), "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.skipif(not UCI.is_file(), reason=f"UCI data not found at {UCI} (set PEAKSIM_DATA)")
def test_uci_incident_log_calibrates_an_async_channel(tmp_path):
    """The ServiceNow log has no queue or abandonment: it calibrates an async ticket channel's
    arrival profile and records its resolution time; the scenario supplies the agents' work time."""
    res = invoke("calibrate", UCI, "--format", "uci", "--out", tmp_path / "cal", "--no-report")
    assert res.exit_code == 0, res.output
    cal = yaml.safe_load((tmp_path / "cal" / "calibration.yaml").read_text())
    phone = cal["channels"]["phone"]
    assert "patience" not in phone and "handle_time" not in phone
    resolution = phone["resolution_time"]
    assert resolution["dist"] in {"lognormal", "gamma", "weibull", "exponential"}
    assert 86_400 < resolution.get("mean", resolution.get("scale", 0)) < 60 * 86_400  # days, not minutes
    rates = np.array(phone["arrivals"]["rate_per_hour"])
    assert len(rates) == 24 and rates[9:16].mean() > 5 * rates[0:5].mean()
    scenario = f"""\
name: IT service desk
start: 2026-11-02T00:00:00+00:00
duration: 2d
interval: 60min
calibration: {tmp_path / 'cal' / 'calibration.yaml'}
replications: 2
channels:
  phone:
    kind: async
    service_level: {{threshold: 8h, target: 0.8}}
    handle_time: {{dist: lognormal, mean: 20min, sd: 15min}}
agents:
  - name: desk
    skills: [phone]
    headcount: 2
"""
    sc = load_scenario(write_scenario(tmp_path, scenario))
    phone_sc = sc.channels["phone"]
    assert phone_sc.kind == "async" and phone_sc.patience is None
    assert np.allclose(phone_sc.arrivals.intraday, rates) and phone_sc.arrivals.per_day == pytest.approx(rates.sum())
    result = run_scenario(sc)
    arrived = result.summary.set_index("channel").loc["phone", "arrived"]
    weekday = np.array(phone_sc.arrivals.day_of_week) / np.mean(phone_sc.arrivals.day_of_week)
    assert arrived == pytest.approx(rates.sum() * (weekday[0] + weekday[1]), rel=0.2)  # a Monday and a Tuesday
    assert result.summary.set_index("channel").loc["phone", "abandoned"] == 0


def test_skipped_fits_are_one_summary_line(tmp_path):
    """An async channel has no abandonments, so patience is skipped for it and for each of its reasons:
    one line says so (with the count), the full list stays in calibrate.json."""
    scenario = tmp_path / "s.yaml"
    scenario.write_text("""\
name: mail
start: 2026-11-23T00:00:00+01:00
duration: 2d
interval: 60min
seed: 4
replications: 1
reasons: {returns: {}, orders: {}, other: {}}
channels:
  voice:
    service_level: {threshold: 20s, target: 0.8}
    handle_time: {dist: exponential, mean: 3min}
    patience: {dist: exponential, mean: 2min}
    arrivals: {rate_per_hour: 40}
  email:
    kind: async
    service_level: {threshold: 1d, target: 0.9}
    handle_time: {dist: exponential, mean: 5min}
    reasons: {returns: 0.5, orders: 0.3, other: 0.2}
    arrivals: {rate_per_hour: 30}
agents:
  - {name: phones, skills: [voice], headcount: 2}
  - {name: mail, skills: [email], headcount: 3}
""")
    assert invoke("synth", scenario, "--out", tmp_path / "t.csv").exit_code == 0
    res = invoke("calibrate", tmp_path / "t.csv", "--out", tmp_path / "cal", "--no-report")
    assert res.exit_code == 0, res.output
    skipped = json.loads((tmp_path / "cal" / "calibrate.json").read_text())["skipped"]
    email = [s for s in skipped if s.startswith("email")]
    assert len(email) == 4  # email and its three reasons: patience, no abandonments
    lines = [line for line in res.stderr.splitlines() if line.startswith("skipped")]
    assert len(lines) == 1 and lines[0].startswith(f"skipped: {len(skipped)} fits skipped: ")
    assert "patience (censored) of email" in lines[0] and "(each in calibrate.json `skipped`)" in lines[0]
