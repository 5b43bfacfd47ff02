"""Executors: serial, process pool and Dask give identical results; an unreachable scheduler is one clear error."""

import socket

import pytest
from typer.testing import CliRunner

from helpers_staff import two_channels
from sim import executors
from sim.cli import app
from sim.errors import PeaksimError
from sim.staffing import run_staff
from sim.sweep import agents_axis, run_sweep

distributed = pytest.importorskip("distributed")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sweep_bytes(out, **executor):
    sc = two_channels(replications=3)
    run_sweep(sc, [agents_axis("chat_team=4:6:1", sc)], out, **executor)
    return (out / "sweep.csv").read_bytes()


def test_serial_process_pool_and_dask_sweeps_are_identical(tmp_path):
    serial = sweep_bytes(tmp_path / "serial")
    assert sweep_bytes(tmp_path / "pool", jobs=2) == serial
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            assert sweep_bytes(tmp_path / "client", scheduler=client) == serial
            assert sweep_bytes(tmp_path / "address", scheduler=cluster.scheduler_address) == serial
            # the iterative staffing search too (its tasks return number-in-system counts)
            sc = two_channels(replications=2)
            a = run_staff(sc, 2, 2).staffing
            b = run_staff(sc, 2, 2, scheduler=client).staffing
            assert a.equals(b)


def test_unreachable_scheduler_is_one_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(executors, "CONNECT_TIMEOUT_S", 1.0)
    address = f"tcp://127.0.0.1:{closed_port()}"
    with pytest.raises(PeaksimError, match="cannot reach the Dask scheduler"):
        list(executors.run_tasks(pow, [(2, 3)], scheduler=address))
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "name: s\nstart: 2026-01-05T00:00:00+01:00\nduration: 2h\nchannels:\n  voice:\n"
        "    service_level: {threshold: 20s, target: 0.8}\n    handle_time: {dist: exponential, mean: 180s}\n"
        "    arrivals: {rate_per_hour: 100}\nagents:\n  - name: team\n    skills: [voice]\n    headcount: 6\n")
    res = CliRunner().invoke(app, ["sweep", str(scenario), "--agents", "team=5:6:1", "--scheduler", address,
                                   "-o", str(tmp_path / "o")])
    assert res.exit_code == 2
    message = " ".join(res.output.split())  # one message (the console may wrap it)
    assert message.startswith("cannot reach the Dask scheduler at " + address) and "Traceback" not in res.output
    assert message.count("cannot reach") == 1
