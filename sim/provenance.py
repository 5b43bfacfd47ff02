"""What a run needs to be reproduced: package and library versions, platform, command line.

Results depend on the scenario (its hash), the seed, the number of replications and the
versions of the code that drew the random numbers (numpy's generators are stable across
versions, but SimPy's event order and pandas' formatting are part of the result too).
"""

from __future__ import annotations

import functools
import platform
import sys
from importlib import metadata

from . import __version__

LIBRARIES = ("numpy", "simpy", "pandas", "scipy", "pydantic", "PyYAML")


@functools.lru_cache(maxsize=1)
def environment() -> dict:
    """Versions of Python, peaksim and the libraries that shape results."""
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {"peaksim": __version__, "python": platform.python_version(),
            "implementation": sys.implementation.name, "platform": platform.platform(terse=True), **versions}
