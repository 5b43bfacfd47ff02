"""Verdicts: the answer a planner acts on, one sentence first, computed from a command's saved tables.

Every command prints its verdict before anything else and every report opens with it, so
the terminal and the page say the same thing. A verdict is a pure function of the files a
command wrote (CSV tables and the JSON beside them), so `peaksim report DIR` rebuilds the
same sentence from the same folder, and a test can call it on tables it wrote by hand.

    verdict_for(directory, "run").lines()   # ["voice misses 80% in 30 s on …", "  voice: …", …]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path

OK, BAD, MIXED, NEUTRAL = "ok", "bad", "mixed", "neutral"
KINDS = ("run", "staff", "sweep", "compare", "calibrate", "backtest")


@dataclass
class Verdict:
    """`headline`: the one sentence that decides; `details`: one line per channel, group or point."""

    kind: str
    status: str
    headline: str
    details: list[str] = field(default_factory=list)

    def lines(self, indent: str = "  ") -> list[str]:
        return [self.headline, *(indent + line for line in self.details)]


def verdict_for(directory: Path, kind: str) -> Verdict:
    """The verdict of the results a `kind` command saved in `directory`."""
    if kind not in KINDS:
        raise ValueError(f"unknown verdict kind {kind!r}; use one of {', '.join(KINDS)}")
    return import_module(f".{kind}", __name__).from_directory(Path(directory))


__all__ = ["BAD", "KINDS", "MIXED", "NEUTRAL", "OK", "Verdict", "verdict_for"]
