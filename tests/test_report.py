"""Reports: every kind builds from its saved tables, is self-contained, escapes names, and fails
with a one-line, fixable message on missing or garbled input. (The browser test renders them.)"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from plotly.offline import get_plotlyjs
from scipy import stats
from typer.testing import CliRunner

import report_fixtures as fx
from sim.cli import app
from sim.compare import compare_tables, paired_interval, welch_interval, write_comparison
from sim.errors import PeaksimError
from sim.report import KINDS, build_report, detect_kind, render_report

EXPECTED_FIGURES = {"run": 11, "sweep": 2, "staff": 4, "calibrate": 5, "backtest": 2, "compare": 3}


@pytest.fixture(scope="module")
def dirs(tmp_path_factory) -> dict[str, Path]:
    """One folder per report kind, built once for the module."""
    base = tmp_path_factory.mktemp("reports")
    run_a = fx.run_dir(base / "run")
    fx.add_future_columns(run_a)
    run_b = fx.run_dir(base / "run_b", agents=11)
    return {
        "run": run_a, "run_b": run_b,
        "sweep": fx.sweep_dir(base / "sweep"), "staff": fx.staff_dir(base / "staff"),
        "calibrate": fx.calibrate_dir(base / "calibrate"), "backtest": fx.backtest_dir(base / "backtest"),
        "compare": fx.compare_dir(base / "compare", run_a, run_b),
    }


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_is_detected_and_built(dirs, kind):
    assert detect_kind(dirs[kind]) == kind
    path = build_report(dirs[kind])
    assert path == dirs[kind] / "report.html"
    text = path.read_text(encoding="utf-8")
    assert f'data-report-kind="{kind}"' in text
    assert f'data-figures="{EXPECTED_FIGURES[kind]}"' in text
    assert text.count('class="plotly-graph-div"') == EXPECTED_FIGURES[kind]
    assert not list(dirs[kind].glob(".report.html.*.tmp")), "atomic write left a temporary file"


@pytest.mark.parametrize("kind", KINDS)
def test_self_contained_with_plotly_embedded_once(dirs, kind):
    text = render_report(dirs[kind])
    signature = get_plotlyjs()[:400]
    assert text.count(signature) == 1
    ours = text.replace(get_plotlyjs(), "")
    assert not re.search(r"<script[^>]+src=", ours), "no external scripts"
    assert not re.search(r"""(href|src)=["']https?://""", ours), "nothing fetched from the network"


@pytest.mark.parametrize("kind", KINDS)
def test_names_from_data_are_text_not_markup(dirs, kind):
    text = render_report(dirs[kind])
    assert fx.XSS not in text
    assert "<img src=x" not in text
    # the only scripts are plotly.js and one per figure
    assert text.count("<script") == 1 + EXPECTED_FIGURES[kind]
    if kind != "calibrate":  # the calibration fixture has the probe in tables only
        assert "&lt;script&gt;window.__xss=1;alert(1)&lt;/script&gt;" in text


def test_run_report_shows_header_warnings_cards_and_scenario(dirs):
    text = render_report(dirs["run"])
    meta = json.loads((dirs["run"] / "run.json").read_text())
    assert meta["scenario_sha256"][:16] in text
    assert "seed: <b>3</b>" in text
    assert "Warnings (1)" in text and "has a backlog at the horizon end" in text
    assert "<details><summary>Scenario used" in text
    assert 'class="card ok"' in text or 'class="card bad"' in text


def test_run_report_without_optional_columns_and_files(dirs, tmp_path):
    plain = fx.run_dir(tmp_path / "plain", warnings=[])
    (plain / "groups.csv").unlink()
    text = render_report(plain)
    # service level, waits, voice abandonment, volumes, customer outcomes, async backlog and first
    # response: no bot, origins or agents
    assert 'data-figures="7"' in text
    assert "Warnings" not in text


def test_run_report_from_the_cli_run_command(tmp_path):
    result = CliRunner().invoke(app, ["run", "scenarios/stationary_check.yaml", "-r", "2", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert 'data-report-kind="run"' in (tmp_path / "report.html").read_text()


def test_staff_report_without_shift_plan(tmp_path):
    assert 'data-figures="2"' in render_report(fx.staff_dir(tmp_path, with_shifts=False))


def test_sweep_without_a_feasible_point_says_so(dirs, tmp_path):
    path = fx.sweep_dir(tmp_path)
    meta = json.loads((path / "sweep.json").read_text())
    meta["best_point"] = None
    (path / "sweep.json").write_text(json.dumps(meta))
    assert "No swept point meets every channel" in render_report(path)


# --- input errors ---------------------------------------------------------------------------
def _copy(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for f in src.iterdir():
        if f.is_file():
            (dst / f.name).write_bytes(f.read_bytes())
    return dst


def test_missing_file_names_it_and_says_how_to_fix(dirs, tmp_path):
    path = _copy(dirs["run"], tmp_path / "r")
    (path / "intervals.csv").unlink()
    with pytest.raises(PeaksimError, match=r"intervals\.csv: file not found; rerun `peaksim run"):
        build_report(path)


@pytest.mark.parametrize("garble, match", [
    (b"\x00\x01\x02garbage\xff\xfe", r"summary\.csv: (cannot be read as CSV|missing column)"),
    (b"", r"summary\.csv: the file is empty"),
    (b"channel,arrived\nvoice,1\n", r"summary\.csv: missing column\(s\) service_level"),
    (b"channel,service_level\nvoice,lots\n", r"summary\.csv: column service_level must hold numbers \(got 'lots'\)"),
])
def test_garbled_csv_is_a_one_line_error(dirs, tmp_path, garble, match):
    path = _copy(dirs["run"], tmp_path / "r")
    (path / "summary.csv").write_bytes(garble)
    with pytest.raises(PeaksimError, match=match) as info:
        build_report(path)
    assert len(info.value.lines) == 1


def test_garbled_json_and_times(dirs, tmp_path):
    path = _copy(dirs["run"], tmp_path / "r")
    (path / "run.json").write_text("{not json")
    with pytest.raises(PeaksimError, match=r"run\.json: not valid JSON"):
        build_report(path)
    path = _copy(dirs["run"], tmp_path / "t")
    text = (path / "intervals.csv").read_text().replace("2026-11-27T08:00:00+01:00", "yesterday")
    (path / "intervals.csv").write_text(text)
    with pytest.raises(PeaksimError, match=r"column interval_start must hold ISO times"):
        build_report(path)


def test_unknown_folder_and_kind(tmp_path):
    with pytest.raises(PeaksimError, match="no peaksim results found"):
        build_report(tmp_path)
    with pytest.raises(PeaksimError, match="no such directory"):
        build_report(tmp_path / "nope")
    with pytest.raises(PeaksimError, match="unknown report kind"):
        build_report(tmp_path, "pie")


def test_cli_report_rebuilds_and_reports_errors_in_one_line(dirs, tmp_path):
    runner = CliRunner()
    (dirs["sweep"] / "report.html").unlink(missing_ok=True)
    result = runner.invoke(app, ["report", str(dirs["sweep"])])
    assert result.exit_code == 0, result.output
    assert (dirs["sweep"] / "report.html").is_file()
    result = runner.invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 2
    output = " ".join(result.output.split())  # rich wraps long lines when stderr is not a terminal
    assert "no peaksim results found" in output and "Traceback" not in output


# --- compare --------------------------------------------------------------------------------
def test_welch_interval_matches_scipy():
    rng = np.random.default_rng(4)
    a, b = rng.normal(10, 2, 7), rng.normal(11, 3, 5)
    diff, lo, hi = welch_interval(a, b)
    ci = stats.ttest_ind(b, a, equal_var=False).confidence_interval(0.95)
    assert diff == pytest.approx(b.mean() - a.mean())
    assert (lo, hi) == pytest.approx((ci.low, ci.high))


def test_paired_interval_matches_scipy_and_is_used_for_common_random_numbers(tmp_path):
    rng = np.random.default_rng(3)
    a = rng.normal(10, 2, 8)
    b = a + rng.normal(0.5, 0.3, 8)  # strongly correlated, as runs with the same seeds are
    diff, lo, hi = paired_interval(a, b)
    ci = stats.ttest_rel(b, a).confidence_interval(0.95)
    assert diff == pytest.approx(b.mean() - a.mean()) and (lo, hi) == pytest.approx((ci.low, ci.high))
    welch = welch_interval(a, b)
    assert hi - lo < (welch[2] - welch[1]) / 3  # the shared noise cancels
    # two real runs with the same seed get the paired interval, with different seeds the Welch one
    from sim.outputs import write_run
    from sim.runner import run_scenario
    from sim.scenario import parse_scenario
    base = {"name": "x", "start": "2026-11-23T00:00:00+01:00", "duration": "3h", "interval": "60min", "seed": 4,
            "replications": 3, "channels": {"voice": {"service_level": {"threshold": "20s", "target": 0.8},
                                                      "handle_time": {"dist": "exponential", "mean": "3min"},
                                                      "patience": {"dist": "exponential", "mean": "4min"},
                                                      "arrivals": {"rate_per_hour": 100}}},
            "agents": [{"name": "t", "skills": ["voice"], "headcount": 5}]}
    for name, seed, agents in (("a", 4, 5), ("b", 4, 6), ("c", 5, 6)):
        data = {**base, "seed": seed, "agents": [{**base["agents"][0], "headcount": agents}]}
        write_run(run_scenario(parse_scenario(data)), tmp_path / name)
    assert set(write_comparison(tmp_path / "a", tmp_path / "b", tmp_path / "ab")["method"].split()) >= {"paired"}
    assert "Welch" in write_comparison(tmp_path / "a", tmp_path / "c", tmp_path / "ac")["method"]


def test_welch_interval_edge_cases():
    assert np.isnan(welch_interval(np.array([1.0]), np.array([2.0, 3.0]))[1])
    assert welch_interval(np.array([1.0, 1.0]), np.array([2.0, 2.0])) == (1.0, 1.0, 1.0)
    assert all(np.isnan(welch_interval(np.array([np.nan]), np.array([1.0]))))


def test_compare_table_more_agents_improves_voice(dirs):
    table = compare_tables(dirs["run"], dirs["run_b"])
    sl = table[(table["channel"] == "voice") & (table["kpi"] == "service_level")].iloc[0]
    assert sl["diff"] > 0 and sl["diff"] == pytest.approx(sl["b"] - sl["a"], abs=1e-6)
    assert sl["diff_lo"] <= sl["diff"] <= sl["diff_hi"]
    assert sl["n_a"] == sl["n_b"] == 3
    assert set(table["channel"]) == {"voice", fx.XSS}


def test_compare_cli(dirs, tmp_path):
    out = tmp_path / "cmp"
    result = CliRunner().invoke(app, ["compare", str(dirs["run"]), str(dirs["run_b"]), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert {"compare.csv", "compare.json", "compare_intervals.csv", "report.html"} <= {p.name for p in out.iterdir()}
    result = CliRunner().invoke(app, ["compare", str(dirs["run"]), str(tmp_path / "missing"), "--out", str(out)])
    assert result.exit_code == 2 and "no such directory" in " ".join(result.output.split())


def test_compare_refuses_runs_without_common_channels(dirs, tmp_path):
    other = _copy(dirs["run_b"], tmp_path / "other")
    for name in ("replications.csv", "summary.csv"):
        frame = pd.read_csv(other / name)
        frame["channel"] = frame["channel"].map({"voice": "email", fx.XSS: "chat"})
        frame.to_csv(other / name, index=False)
    with pytest.raises(PeaksimError, match="share no channel"):
        write_comparison(dirs["run"], other, tmp_path / "out")


def test_sweep_report_summarises_point_warnings_by_kind_and_lists_them_escaped(tmp_path):
    path = fx.sweep_dir(tmp_path)
    meta = json.loads((path / "sweep.json").read_text())
    meta["point_warnings"] = {
        "0": [{"kind": "unstable_intervals", "message": "voice: unstable <b>0</b>"},
              {"kind": "too_few_replications", "message": "voice: CI ±0.2"}],
        "3": [{"kind": "too_few_replications", "message": "voice: CI ±0.1"}]}
    (path / "sweep.json").write_text(json.dumps(meta))
    html = render_report(path)
    assert "offered load ≥ staffing capacity in some intervals (queues grow): point 0</li>" in html
    assert "(more replications needed): points 0, 3</li>" in html
    assert "point 0: voice: unstable &lt;b&gt;0&lt;/b&gt;" in html and "<b>0</b>" not in html
