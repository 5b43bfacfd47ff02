"""Issue 12, class 2: limits are checked before the cost is paid. A FIFO, `/dev/zero` or a directory
given as an input file is refused without reading it; a sweep range is sized from its arithmetic
before it is built; YAML is parsed once; a wide ticket export is read in linear time; a Dask
address that does not answer in Dask's protocol is given up after the connection timeout.

Commands that could block or run away are run in a helper thread with a generous guard timeout,
so a regression fails the test instead of hanging the suite (the guard is not a performance
claim); a FIFO still blocked after it is opened for writing, which releases the reader.
"""

from __future__ import annotations

import os
import socket
import threading
import tracemalloc

import pytest
import yaml
from typer.testing import CliRunner

import sim.yamlsource
from sim.cli import app
from sim.errors import PeaksimError
from sim.executors import connect
from sim.sweep import MAX_POINTS, MAX_TASKS, agents_axis, check_axes, parse_range, scale_axis
from sim.scenario import load_scenario, parse_scenario

from conftest import TINY_SCENARIO, write_yaml

GUARD_S = 120  # a hang (FIFO read, quadratic loop) fails the test instead of the suite


def guarded(*args, fifo=None):
    """`peaksim ARGS` in-process, in a thread that must finish within GUARD_S."""
    box = {}
    thread = threading.Thread(target=lambda: box.update(res=CliRunner().invoke(app, [str(a) for a in args])),
                              daemon=True)
    thread.start()
    thread.join(GUARD_S)
    if thread.is_alive():
        if fifo is not None:  # release a reader blocked on the FIFO before failing
            with open(fifo, "w"):
                pass
        pytest.fail(f"peaksim {' '.join(map(str, args))} did not finish within {GUARD_S} s")
    return box["res"]


def one_line(res) -> str:
    assert res.exit_code == 2, (res.exit_code, res.output)
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in res.output, res.output
    return lines[0]


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "pipe.yaml"
    os.mkfifo(path)
    return path


# --- non-regular files as inputs --------------------------------------------------------------------
def test_a_fifo_as_scenario_mapping_templates_calibration_or_tickets_is_refused_without_blocking(tmp_path, fifo):
    scenario = write_yaml(tmp_path, TINY_SCENARIO)
    export = tmp_path / "export.csv"
    export.write_text("channel,created_at\nvoice,2025-11-03 10:00:00\n")
    with_cal = write_yaml(tmp_path, {**TINY_SCENARIO, "calibration": str(fifo)}, "with_cal.yaml")
    cases = [
        (["validate", fifo], fifo),
        (["calibrate", export, "--mapping", fifo, "--out", tmp_path / "o"], fifo),
        (["calibrate", fifo, "--out", tmp_path / "o"], fifo),
        (["staff", scenario, "--shift-templates", fifo, "-o", tmp_path / "o"], fifo),
        (["validate", with_cal], fifo),
    ]
    for args, named in cases:
        line = one_line(guarded(*args, fifo=fifo))
        assert line.startswith(f"{named}: ") and "FIFO" in line, (args, line)


@pytest.mark.parametrize("option", ["scenario", "mapping", "templates", "calibration", "tickets", "forecast",
                                    "events"])
def test_dev_zero_is_refused_without_reading_it(tmp_path, option):
    tracemalloc.start()
    scenario = write_yaml(tmp_path, TINY_SCENARIO)
    export = tmp_path / "export.csv"
    export.write_text("channel,created_at\nvoice,2025-11-03 10:00:00\n")
    args = {"scenario": ["validate", "/dev/zero"],
            "mapping": ["calibrate", export, "--mapping", "/dev/zero", "--out", tmp_path / "o"],
            "templates": ["staff", scenario, "--shift-templates", "/dev/zero", "-o", tmp_path / "o"],
            "calibration": ["validate", write_yaml(tmp_path, {**TINY_SCENARIO, "calibration": "/dev/zero"}, "c.yaml")],
            "tickets": ["calibrate", "/dev/zero", "--out", tmp_path / "o"],
            "forecast": ["forecast", "/dev/zero", "--start", "2026-11-01", "--end", "2026-11-30", "-o", tmp_path / "f.yaml"],
            "events": ["forecast", tmp_path / "cal.yaml", "--start", "2026-11-01", "--end", "2026-11-30", "--events",
                       "/dev/zero", "-o", tmp_path / "f.yaml"]}[option]
    res = CliRunner().invoke(app, [str(a) for a in args])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("/dev/zero: not a regular file (got a device)"), res.stderr
    assert peak < 50_000_000  # nothing was read into memory


def test_a_directory_as_an_input_file_is_one_line(tmp_path):
    res = CliRunner().invoke(app, ["validate", str(tmp_path)])
    assert res.exit_code == 2 and res.stderr.strip() == (
        f"{tmp_path}: not a regular file (got a directory); give the scenario file itself")
    res = CliRunner().invoke(app, ["calibrate", str(tmp_path), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and res.stderr.strip().startswith(f"{tmp_path}: ") and "directory" in res.stderr


def test_a_file_over_the_size_limit_is_refused_from_its_size(tmp_path, monkeypatch):
    monkeypatch.setattr(sim.yamlsource, "MAX_FILE_BYTES", 1000)
    path = write_yaml(tmp_path, {**TINY_SCENARIO, "name": "x" * 2000})
    with pytest.raises(PeaksimError, match=r"file too large \(got [\d,]+ bytes, limit 1,000\)"):
        load_scenario(path)


# --- sweeps sized before they are built -------------------------------------------------------------------
@pytest.mark.parametrize("spec,count", [("1:1000000000:1", 1_000_000_000), ("0:1e12:0.5", 2_000_000_000_001),
                                        ("1:20000:2", 10_000)])
def test_a_huge_sweep_range_is_refused_from_its_arithmetic_not_built(spec, count):
    sc = parse_scenario(TINY_SCENARIO)
    tracemalloc.start()
    if count > MAX_POINTS:
        with pytest.raises(PeaksimError, match=f"the range has {count:,} values"):
            agents_axis(f"team={spec}", sc)
    else:
        assert len(agents_axis(f"team={spec}", sc).values) == count
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 20_000_000  # a billion-value list would need gigabytes


def test_non_finite_and_huge_ranges_are_refused_as_text():
    for spec in ("1:1e400:1", "1:inf:1", "nan:5:1", "1:5:1e-320"):
        with pytest.raises(PeaksimError, match=r"--scale|must be finite|not a range|values"):
            parse_range(spec, "--scale", integer=False)


def test_points_times_replications_are_bounded_up_front(tmp_path):
    sc = parse_scenario(TINY_SCENARIO)
    axes = [agents_axis("team=1:1000:1", sc)]
    check_axes(axes, MAX_TASKS // 1000)
    with pytest.raises(PeaksimError, match=r"1,000 points × 1,001 replications = 1,001,000 replications"):
        check_axes(axes, MAX_TASKS // 1000 + 1)
    path = write_yaml(tmp_path, TINY_SCENARIO)
    res = CliRunner().invoke(app, ["sweep", str(path), "--agents", "team=1:1000:1", "-r", "5000", "-o",
                                   str(tmp_path / "o")])
    assert res.exit_code == 2 and "5,000,000 replications" in res.stderr and not (tmp_path / "o").exists()
    res = CliRunner().invoke(app, ["sweep", str(path), "--agents", "team=1:200:1", "--scale", "1:2:0.01",
                                   "-o", str(tmp_path / "o")])
    assert res.exit_code == 2 and "the grid has 20,200 points" in res.stderr
    assert scale_axis("0.5:2:0.5").values == (0.5, 1.0, 1.5, 2.0)


# --- YAML parsed once --------------------------------------------------------------------------------------------
def test_a_scenario_is_parsed_once_for_its_data_and_its_line_numbers(tmp_path, monkeypatch):
    calls = []
    real = sim.yamlsource._Loader.get_single_node
    monkeypatch.setattr(sim.yamlsource._Loader, "get_single_node", lambda self: calls.append(1) or real(self))
    for name in ("compose", "safe_load", "load"):
        monkeypatch.setattr(yaml, name, lambda *a, **k: pytest.fail("the YAML was parsed a second time"))
    values = [round(60 + (i * 7919) % 600 / 10, 1) for i in range(5000)]  # a long empirical list

    def scenario_with(values):
        voice = {**TINY_SCENARIO["channels"]["voice"], "handle_time": {"dist": "empirical", "values": values}}
        return write_yaml(tmp_path, {**TINY_SCENARIO, "channels": {"voice": voice}})
    sc = load_scenario(scenario_with(values))
    assert calls == [1] and sc.channels["voice"].handle_time.mean_s == pytest.approx(sum(values) / len(values))
    values[4321] = -5
    path = scenario_with(values)
    rows = path.read_text().splitlines()
    first = next(i for i, row in enumerate(rows) if row.strip() == "values:") + 1  # block style: one item a line
    assert rows[first + 4321].strip() == "- -5"
    with pytest.raises(PeaksimError) as info:
        load_scenario(path)
    assert info.value.lines[0].startswith(f"{path}:{first + 4322}: channels.voice.handle_time.values[4321]: "), info.value


# --- wide ticket exports ----------------------------------------------------------------------------------------
def test_a_100000_column_export_is_read(tmp_path):
    columns = 100_000
    header = ",".join(["channel", "created_at"] + [f"extra{i}" for i in range(columns)])
    rows = [",".join(["voice", f"2025-11-03 10:{m:02d}:00"] + [""] * columns) for m in range(3)]
    path = tmp_path / "wide.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    res = guarded("calibrate", path, "--out", tmp_path / "o", "--no-report")
    assert res.exit_code == 0, res.output
    assert "3 rows read, 3 used" in res.stdout
    twice = tmp_path / "twice.csv"
    twice.write_text(header + ",extra99999\n" + rows[0] + ",\n")
    line = one_line(guarded("calibrate", twice, "--out", tmp_path / "o", "--no-report"))
    assert line.startswith(f"{twice}:1: header: a column name appears more than once (got 'extra99999')"), line


# --- a Dask address that is not a Dask scheduler ------------------------------------------------------------
def test_a_service_that_never_speaks_dask_is_given_up_after_the_timeout():
    pytest.importorskip("distributed", reason="the Dask test needs the [dask] extra (installed with [test])")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held = []
    stop = threading.Event()

    def accept():  # accepts connections and says nothing, like a database or a stuck web server
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue
    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
    try:
        with pytest.raises(PeaksimError, match=r"cannot reach the Dask scheduler at .* \(no answer within 1 s"):
            connect(address, timeout_s=1.0)
        assert held  # it did connect: the handshake is what never came
    finally:
        stop.set()
        thread.join(2)
        for conn in held:
            conn.close()
        server.close()
