"""Issue 12, class 4: results can be neither lost nor mixed.

Independent truths: the bytes of a folder before and after a failed command (unchanged), the
files an uninterrupted run writes (a later run's folder holds exactly those, plus the planner's
own files), the process table (no worker outlives a terminated command), and the lock holder's pid.
"""

from __future__ import annotations

import copy
import errno
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import sim.outputs
import sim.result_folder
import sim.runner
from sim.cli import app
from sim.result_folder import ResultFolder

from conftest import ROOT, TINY_SCENARIO, write_yaml

RUN_FILES = {"summary.csv", "intervals.csv", "groups.csv", "replications.csv", "origins.csv", "reasons.csv",
             "run.json"}


def small(**top) -> dict:
    return {**copy.deepcopy(TINY_SCENARIO), "duration": "1h", "replications": 2, **top}


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def snapshot(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def one_line(res) -> str:
    assert res.exit_code == 2, (res.exit_code, res.output)
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in res.output, res.output
    return lines[0]


# --- only regular files, only inside the folder ------------------------------------------------------------
def test_out_onto_a_symlink_device_fifo_or_file_is_refused(tmp_path):
    path = write_yaml(tmp_path, small())
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    plain = tmp_path / "plain.txt"
    plain.write_text("keep me")
    for out, got in ((link, "symbolic link"), (Path("/dev/null"), "a device"), (fifo, "a named pipe (FIFO)"),
                     (plain, "a regular file")):
        line = one_line(invoke("run", path, "-o", out, "--no-report"))
        assert line.startswith(f"{out}: ") and got in line, line
    assert list(real.iterdir()) == [] and plain.read_text() == "keep me" and Path("/dev/null").is_char_device()


@pytest.mark.parametrize("kind", ["symlink", "fifo", "dir"])
def test_a_result_file_that_is_not_a_regular_file_is_never_written_through(tmp_path, kind):
    path = write_yaml(tmp_path, small())
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    if kind == "symlink":
        (out / "summary.csv").symlink_to(victim)
    elif kind == "fifo":
        os.mkfifo(out / "summary.csv")
    else:
        (out / "summary.csv").mkdir()
    line = one_line(invoke("run", path, "-o", out, "--no-report"))
    assert line.startswith(f"{out / 'summary.csv'}: exists and is not a regular file"), line
    assert victim.read_text() == "precious" and sorted(p.name for p in out.iterdir()) == ["summary.csv"]


@pytest.mark.parametrize("target", ["/dev/null", "link.csv", "fifo.csv"])
def test_synth_never_replaces_a_device_fifo_or_link(tmp_path, target):
    path = write_yaml(tmp_path, small())
    victim = tmp_path / "victim.csv"
    victim.write_text("precious")
    if target == "link.csv":
        (tmp_path / target).symlink_to(victim)
    elif target == "fifo.csv":
        os.mkfifo(tmp_path / target)
    out = Path(target) if target.startswith("/") else tmp_path / target
    line = one_line(invoke("synth", path, "-o", out))
    assert "not a regular file" in line, line
    assert victim.read_text() == "precious" and Path("/dev/null").is_char_device()


# --- one complete result set ---------------------------------------------------------------------------------------
def test_a_rerun_replaces_the_result_set_and_keeps_the_planners_own_files(tmp_path):
    path = write_yaml(tmp_path, small())
    out = tmp_path / "out"
    assert invoke("run", path, "-o", out, "--no-report").exit_code == 0
    (out / "report.html").write_text("the report of this first run")
    (out / "notes.txt").write_text("my notes")
    assert invoke("run", path, "-o", out, "--no-report", "--seed", "8").exit_code == 0
    assert {p.name for p in out.iterdir()} == RUN_FILES | {"notes.txt"}  # the old report.html went with its run
    assert (out / "notes.txt").read_text() == "my notes"
    assert json.loads((out / "run.json").read_text())["seed"] == 8
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no lock or staging left


def test_a_full_disk_while_writing_leaves_the_previous_run_untouched(tmp_path, monkeypatch):
    path = write_yaml(tmp_path, small())
    out = tmp_path / "out"
    assert invoke("run", path, "-o", out, "--no-report").exit_code == 0
    before = snapshot(out)
    written = []
    real = sim.outputs.atomic_write

    def fill_up(target, data):
        written.append(Path(target).name)
        if len(written) == 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(target))
        real(target, data)
    monkeypatch.setattr(sim.outputs, "atomic_write", fill_up)
    line = one_line(invoke("run", path, "-o", out, "--no-report", "--seed", "9"))
    assert line.startswith(f"{out}: cannot write the results (got No space left on device") and "unchanged" in line
    assert snapshot(out) == before and len(written) == 3
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_read_only_output_is_found_before_any_replication(tmp_path, monkeypatch):
    path = write_yaml(tmp_path, small())
    ran = []
    monkeypatch.setattr(sim.runner, "run_replication", lambda *a: ran.append(a))

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", kwargs.get("dir"))
    monkeypatch.setattr(sim.result_folder.tempfile, "mkdtemp", read_only)
    line = one_line(invoke("run", path, "-o", tmp_path / "out", "--no-report"))
    assert line.startswith(f"{tmp_path / 'out'}: cannot write the results (got Read-only file system"), line
    assert ran == []


def test_a_folder_with_subfolders_is_updated_file_by_file_with_the_status_file_last(tmp_path):
    path = write_yaml(tmp_path, small())
    out = tmp_path / "out"
    (out / "archive").mkdir(parents=True)
    (out / "archive" / "old.csv").write_text("kept")
    (out / "report.html").write_text("stale report of another run")
    assert invoke("run", path, "-o", out, "--no-report").exit_code == 0
    assert {p.name for p in out.iterdir()} == RUN_FILES | {"archive"}
    assert (out / "archive" / "old.csv").read_text() == "kept"


# --- one writer per folder -------------------------------------------------------------------------------------------
def test_a_folder_in_use_is_refused_naming_the_pid(tmp_path):
    path = write_yaml(tmp_path, small())
    out = tmp_path / "out"
    assert invoke("run", path, "-o", out, "--no-report").exit_code == 0
    before = snapshot(out)
    with ResultFolder(out):
        line = one_line(invoke("run", path, "-o", out, "--no-report", "--seed", "4"))
        assert line == (f"{out}: another peaksim command (pid {os.getpid()}) is writing into this folder; "
                        "wait for it to finish or choose another --out")
        assert one_line(invoke("report", out)).startswith(f"{out}: another peaksim command")
        assert snapshot(out) == before
    assert invoke("run", path, "-o", out, "--no-report").exit_code == 0  # released


def test_two_runs_into_one_folder_at_once_never_mix(tmp_path):
    data = small(replications=3, duration="4h")
    paths = [write_yaml(tmp_path, {**data, "seed": seed}, f"s{seed}.yaml") for seed in (1, 2)]
    out = tmp_path / "out"
    procs = [subprocess.Popen([sys.executable, "-m", "sim.cli", "run", str(p), "-o", str(out), "--no-report"],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for p in paths]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes in ([0, 0], [0, 2]), results  # the second either waited for nothing (ran after) or was refused
    if codes == [0, 2]:
        assert any("another peaksim command" in err for code, err in results if code == 2)
    meta = json.loads((out / "run.json").read_text())
    replications = pd.read_csv(out / "replications.csv")
    # the folder holds one complete run: its tables are those of the seed run.json names
    from sim.runner import run_scenario
    from sim.scenario import parse_scenario
    expected = run_scenario(parse_scenario({**data, "seed": meta["seed"]})).replications
    assert replications["arrived"].tolist() == expected["arrived"].tolist()
    assert {p.name for p in out.iterdir()} == RUN_FILES


# --- SIGTERM -----------------------------------------------------------------------------------------------------------
def _children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_sigterm_writes_finished_replications_and_leaves_no_worker(tmp_path):
    data = small(replications=300, duration="24h")
    data["channels"]["voice"]["arrivals"] = {"rate_per_hour": 200}
    data["agents"][0]["headcount"] = 12
    path, out = write_yaml(tmp_path, data), tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "sim.cli", "run", str(path), "-o", str(out), "--no-report",
                             "-j", "2"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    workers: list[int] = []
    while time.monotonic() < deadline and len(workers) < 2:
        workers = _children_of(proc.pid)
        time.sleep(0.1)
    assert workers, "the pool never started"
    time.sleep(2)  # let some replications finish
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert "terminated (SIGTERM)" in err and "Traceback" not in err
    time.sleep(0.5)
    assert [w for w in workers if _alive(w)] == []  # no orphaned pool worker
    meta = json.loads((out / "run.json").read_text())
    assert meta["status"] == "interrupted" and 1 <= meta["replications"] < 300
    assert len(pd.read_csv(out / "replications.csv")) == meta["replications"]


# --- sweeps: --resume needs sweep.json, and every kept row is checked ------------------------------------------
@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory):
    base = tmp_path_factory.mktemp("sweep")
    path = write_yaml(base, small())
    out = base / "sw"
    assert invoke("sweep", path, "--agents", "team=5:7:1", "-o", out).exit_code == 0
    return path, out


@pytest.fixture
def interrupted_sweep(tmp_path, finished_sweep):
    path, out = finished_sweep
    copy = tmp_path / "sw"
    shutil.copytree(out, copy)
    return path, copy


def test_resume_without_sweep_json_is_refused_not_relabelled(interrupted_sweep):
    path, out = interrupted_sweep
    (out / "sweep.json").unlink()
    before = (out / "sweep.csv").read_bytes()
    line = one_line(invoke("sweep", path, "--agents", "team=5:7:1", "-o", out, "--resume", "--seed", "99"))
    assert line.startswith(f"{out / 'sweep.json'}: missing, so the points in sweep.csv cannot be matched"), line
    assert (out / "sweep.csv").read_bytes() == before


@pytest.mark.parametrize("damage,field", [
    (lambda t: re.sub(r",(True|False),", ",maybe,", t, count=1), "meets_"),  # the first True/False column
    (lambda t: t.replace("\n0,5,", "\n0,five,", 1), "param_agents_team"),
    (lambda t: t.replace("\n1,6,", "\nx,6,", 1), "point"),
    (lambda t: t.replace("\n1,6,", "\n17,6,", 1), "point"),
    (lambda t: t.replace("\n1,6,voice", "\n1,6,vocie", 1), "channel"),
    (lambda t: t.replace("\n1,6,voice,", "\n1,6,voice,", 1).replace("\n2,7,", "\n2,7,extra,", 1), "fields"),
])
def test_a_garbled_sweep_csv_row_is_named_by_its_line_on_resume(interrupted_sweep, damage, field):
    path, out = interrupted_sweep
    text = (out / "sweep.csv").read_text()
    broken = damage(text)
    assert broken != text
    (out / "sweep.csv").write_text(broken)
    line = one_line(invoke("sweep", path, "--agents", "team=5:7:1", "-o", out, "--resume"))
    changed = next(i for i, (a, b) in enumerate(zip(text.splitlines(), broken.splitlines()), 1) if a != b)
    assert line.startswith(f"{out / 'sweep.csv'}:{changed}: "), line
    assert field in line and "--resume" in line


def test_a_non_utf8_or_wrongly_typed_sweep_json_is_one_line(interrupted_sweep):
    path, out = interrupted_sweep
    good = (out / "sweep.json").read_text()
    for text, start in ((b"\xff\xfe garbage", "not valid JSON"), (b"[1, 2]", "expected a JSON object"),
                        (good.replace('"seed": 1', '"seed": "one"').encode(), "seed: must be a whole number")):
        (out / "sweep.json").write_bytes(text)
        line = one_line(invoke("sweep", path, "--agents", "team=5:7:1", "-o", out, "--resume"))
        assert line.startswith(f"{out / 'sweep.json'}: ") and start in line, line
    (out / "sweep.json").write_text(good)
    (out / "sweep.csv").write_bytes(b"\xff" * 10)
    assert "not UTF-8" in one_line(invoke("sweep", path, "--agents", "team=5:7:1", "-o", out, "--resume"))
