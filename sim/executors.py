"""Run independent tasks serially, in a local process pool, or on a Dask cluster.

Every task is a pure function of its arguments (scenario, staffing point, replication) with
its own seeds, so results do not depend on which executor runs it or in what order; callers
receive results keyed by task position.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Callable, Iterable, Iterator

from .errors import PeaksimError

CONNECT_TIMEOUT_S = 10.0  # how long to wait for a Dask scheduler before giving up


def run_tasks(fn: Callable, tasks: list[tuple], jobs: int = 1, scheduler: str | None = None
              ) -> Iterator[tuple[int, object]]:
    """Yield (task_index, result) as tasks finish."""
    if scheduler:
        yield from _dask(fn, tasks, scheduler)
    elif jobs > 1 and len(tasks) > 1:
        with ProcessPoolExecutor(max_workers=min(jobs, len(tasks))) as pool:
            futures = {pool.submit(fn, *args): k for k, args in enumerate(tasks)}
            try:
                for future in as_completed(futures):
                    yield futures[future], future.result()
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
    else:
        for k, args in enumerate(tasks):
            yield k, fn(*args)


def _dask(fn: Callable, tasks: list[tuple], scheduler: str) -> Iterable[tuple[int, object]]:
    try:
        from distributed import Client, as_completed as dask_completed
    except ImportError:
        raise PeaksimError("--scheduler needs Dask: pip install 'peaksim[dask]'") from None
    try:
        client = scheduler if not isinstance(scheduler, str) else Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S:g}s")
    except (OSError, TimeoutError) as exc:
        raise PeaksimError(f"cannot reach the Dask scheduler at {scheduler} ({exc}); "
                           "start one with `dask scheduler` or check the address") from None
    try:
        futures = [client.submit(fn, *args, pure=False) for args in tasks]
        index = {f.key: k for k, f in enumerate(futures)}
        for future in dask_completed(futures):
            yield index[future.key], future.result()
    finally:
        if isinstance(scheduler, str):
            client.close()
