"""Reading an input file with its size bounded *before* the cost is paid, and only if it is a regular file.

`Path.read_bytes()` on `/dev/zero` never ends and exhausts memory, on a FIFO it blocks until a
writer appears, on a directory it fails with a message about Python rather than the input. Every
file peaksim reads (scenarios, calibrations, shift templates, mapping files, ticket files, the
tables and JSON files of a results folder) goes through `read_limited`:

* the file is opened without blocking (`O_NONBLOCK`: a FIFO opens at once) and checked with
  `fstat` on the opened descriptor (no race between the check and the read): anything but a
  regular file (directory, FIFO, device, socket) is refused;
* at most `limit + 1` bytes are read, so a file over the limit (or one that grows while being
  read) is refused without reading the rest.

Errors are raised through the caller's `error(message)` factory, so each reader keeps its own
error type (`ScenarioError`, `TicketError`, `PeaksimError`) and message style.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Callable

from .errors import PeaksimError

MB = 1_000_000
_CHUNK = 1 << 20


def kind_of(mode: int) -> str:
    """What a file mode describes, in the words of an error message."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    return "not a regular file"


def read_limited(path: str | Path, limit: int, what: str = "file",
                 error: Callable[[str], Exception] = PeaksimError) -> bytes:
    """The bytes of regular file `path`, or `error(message)` if it is missing, not a regular file,
    unreadable or larger than `limit` bytes. Messages read `PATH: <problem> (got …); <fix>`."""
    source = str(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(source, flags)
    except FileNotFoundError:
        raise error(f"{source}: file not found (got no file at this path); check the path") from None
    except IsADirectoryError:
        raise error(f"{source}: not a file (got a directory); give the {what} itself") from None
    except OSError as exc:
        raise error(f"{source}: cannot read the file (got {exc.strerror or type(exc).__name__}); "
                    "check the path and permissions") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise error(f"{source}: not a regular file (got {kind_of(info.st_mode)}); give the {what} itself")
        if info.st_size > limit:
            raise error(f"{source}: file too large (got {info.st_size:,} bytes, limit {limit:,}); "
                        f"is this really a {what}?")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(fd, min(_CHUNK, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:  # the file grew while it was read
            raise error(f"{source}: file too large (got more than {limit:,} bytes); is this really a {what}?")
        return b"".join(chunks)
    except OSError as exc:
        raise error(f"{source}: cannot read the file (got {exc.strerror or type(exc).__name__}); "
                    "check the path and permissions") from None
    finally:
        os.close(fd)
