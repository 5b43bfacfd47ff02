"""Run independent tasks serially, in a local process pool, or on a Dask cluster.

Every task is a pure function of its arguments (scenario, staffing point, replication) with
its own seeds, so results do not depend on which executor runs it or in what order; callers
receive results keyed by task position.

Stopping is part of the contract: when the caller stops early (Ctrl-C, SIGTERM, an error in a
task or in the caller), pool workers are terminated at once rather than left to finish their
current task, and Dask futures are cancelled, so no worker process outlives the command.
A Dask scheduler address is checked before connecting, and the connection (including the
handshake, which a non-Dask service never answers) is bounded by `CONNECT_TIMEOUT_S`.
"""

from __future__ import annotations

import os
import signal
import threading
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Callable, Iterable, Iterator
from urllib.parse import urlsplit

from .errors import PeaksimError

CONNECT_TIMEOUT_S = 10.0  # how long to wait for a Dask scheduler before giving up
SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def cap_jobs(jobs: int) -> tuple[int, str | None]:
    """`jobs` capped at the usable CPUs, with a note when capped (more processes than CPUs only add memory)."""
    cpus = usable_cpus()
    if jobs <= cpus:
        return jobs, None
    return cpus, (f"note: --jobs {jobs} is more than the {cpus} CPU{'s' if cpus > 1 else ''} available; "
                  f"using {cpus} worker process{'es' if cpus > 1 else ''} (results are the same)")


def _quiet_worker() -> None:
    """Pool workers leave Ctrl-C and SIGTERM to the parent, which terminates them (no tracebacks from each)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Terminate the workers now (their current tasks are abandoned; nothing further starts).

    A worker killed while sending its result leaves half a message in the result pipe, and the
    pool's manager thread would wait for the rest forever (and the interpreter with it, at exit):
    once the workers are gone, the parent's own copy of the pipe's write end is closed too, so that
    read ends with EOF and the manager thread winds down.
    """
    # no future is cancelled here: the pool's manager thread marks every unfinished one broken once the
    # workers are gone, and setting that on a cancelled future raises in its thread (a traceback on stderr)
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(5)
        if process.is_alive():
            process.kill()
            process.join(5)
    queue = getattr(pool, "_result_queue", None)
    writer = getattr(queue, "_writer", None)
    if writer is not None:
        try:
            writer.close()
        except OSError:
            pass
    pool.shutdown(wait=False)
    manager = getattr(pool, "_executor_manager_thread", None)
    if manager is not None:
        manager.join(10)


def run_tasks(fn: Callable, tasks: list[tuple], jobs: int = 1, scheduler: str | None = None
              ) -> Iterator[tuple[int, object]]:
    """Yield (task_index, result) as tasks finish."""
    if scheduler:
        yield from _dask(fn, tasks, scheduler)
    elif jobs > 1 and len(tasks) > 1:
        pool = ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), initializer=_quiet_worker)
        futures: dict = {}
        try:
            futures = {pool.submit(fn, *args): k for k, args in enumerate(tasks)}
            for future in as_completed(futures):
                yield futures[future], future.result()
        except BaseException:  # Ctrl-C, SIGTERM, a failed task, or the caller stopped reading
            _stop(pool)
            raise
        pool.shutdown(wait=True)
    else:
        for k, args in enumerate(tasks):
            yield k, fn(*args)


def check_scheduler_address(address: str) -> str:
    """A Dask scheduler address `scheme://host:port` (a bare `host:port` means tcp), or a one-line error."""
    text = str(address).strip()
    fix = "give the scheduler's address such as tcp://host:8786 (as printed by `dask scheduler`)"
    if "://" not in text:
        text = f"tcp://{text}"
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise PeaksimError(f"--scheduler: not a network address (got {address!r}); {fix}") from None
    scheme = parts.scheme.lower()
    if scheme == "inproc":
        raise PeaksimError(f"--scheduler: an in-process address only works inside the Python process that "
                           f"created it (got {address!r}); {fix}")
    if scheme in ("http", "https"):
        raise PeaksimError(f"--scheduler: {scheme}:// is the dashboard's web address, not the scheduler's "
                           f"(got {address!r}); {fix}")
    if scheme not in SCHEMES:
        raise PeaksimError(f"--scheduler: unknown scheme {scheme!r} (got {address!r}); use one of "
                           f"{', '.join(s + '://' for s in SCHEMES)}; {fix}")
    if not parts.hostname or port is None or parts.path not in ("", "/") or parts.query:
        raise PeaksimError(f"--scheduler: needs a host and a port (got {address!r}); {fix}")
    return text


def connect(scheduler: str, timeout_s: float = CONNECT_TIMEOUT_S):
    """A Dask Client for `scheduler`, or a one-line error within about `timeout_s`.

    Client's own timeout covers opening the connection but not a service that accepts it and
    never answers (a web server, a database): the connection is made in a helper thread that is
    abandoned after the deadline.
    """
    try:
        from distributed import Client
    except ImportError:
        raise PeaksimError("--scheduler needs Dask: pip install 'peaksim[dask]'") from None
    address = check_scheduler_address(scheduler)
    box: dict = {}

    def attempt() -> None:
        try:
            box["client"] = Client(address, timeout=f"{timeout_s:g}s")
        except BaseException as exc:  # reported by the caller's thread
            box["error"] = exc

    helper = threading.Thread(target=attempt, name="peaksim-dask-connect", daemon=True)
    helper.start()
    helper.join(timeout_s + 2.0)
    if helper.is_alive() or ("client" not in box and "error" not in box):
        raise PeaksimError(f"cannot reach the Dask scheduler at {address} (no answer within {timeout_s:g} s: "
                           "something listens there but does not speak Dask's protocol, or the network is slow); "
                           "start one with `dask scheduler` or check the address")
    if "error" in box:
        exc = box["error"]
        detail = " ".join(str(exc).split())[:160] or type(exc).__name__
        raise PeaksimError(f"cannot reach the Dask scheduler at {address} ({detail}); "
                           "start one with `dask scheduler` or check the address") from None
    return box["client"]


def _dask(fn: Callable, tasks: list[tuple], scheduler) -> Iterable[tuple[int, object]]:
    try:
        from distributed import as_completed as dask_completed
    except ImportError:
        raise PeaksimError("--scheduler needs Dask: pip install 'peaksim[dask]'") from None
    own = isinstance(scheduler, str)
    client = connect(scheduler) if own else scheduler
    futures = []
    try:
        futures = [client.submit(fn, *args, pure=False) for args in tasks]
        index = {f.key: k for k, f in enumerate(futures)}
        for future in dask_completed(futures):
            yield index[future.key], future.result()
    except BaseException:
        try:
            client.cancel(futures)
        except Exception:  # the cluster may be gone: never hide the original error
            pass
        raise
    finally:
        if own:
            client.close()
