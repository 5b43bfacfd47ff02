"""SIGTERM handled as Ctrl-C is: finished work is written, workers are shut down, the exit is clean.

A CI job that is cancelled, `timeout`, a container stopping and a cluster scheduler all send
SIGTERM, whose default action kills the process on the spot: finished replications are lost and
pool workers are left running. Within `terminate_as_interrupt()`, SIGTERM raises `Terminated`, a
`KeyboardInterrupt`, so every path that handles Ctrl-C (writing the finished replications of a
run, keeping a sweep's finished points, terminating pool workers) handles it too.
"""

from __future__ import annotations

import contextlib
import signal
import threading

EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_TERMINATED = 143  # 128 + SIGTERM


class Terminated(KeyboardInterrupt):
    """SIGTERM received: stop as after Ctrl-C."""


def _raise_terminated(signum, frame) -> None:
    raise Terminated()


@contextlib.contextmanager
def terminate_as_interrupt():
    """Turn SIGTERM into `Terminated` for the duration (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def exit_status(exc: KeyboardInterrupt) -> int:
    return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
