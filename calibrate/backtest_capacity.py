"""Who could serve which calls, when, and how long the calls took: the replayed period's own inputs.

A backtest (:mod:`calibrate.backtest`) feeds the test period's volumes to the model. This module
reads the rest of what the test period's log gives as *inputs* — none of it involves when
abandoned callers hung up — and lays it onto the replay's grid of staffing steps:

* :func:`replay_staffing`: the agents of each group per step, either present in sessions
  (``"sessions"``: :func:`calibrate.profiles.infer_staffing`, with a training availability
  dividing talk time) or available as revealed by congestion (``"revealed"``:
  :func:`calibrate.capacity.revealed_capacity`, raw talk time); with ``teams``, agents who serve
  one call type only form a group of their own and that type becomes a channel of its own
  (:func:`calibrate.capacity.dedicated_teams`);
* :func:`talk_time_profile`: the period's own talk time per step, as a multiplier of what the
  training model expects for the calls answered in that step (an input like the volumes: the
  workload that occurred), shrunk towards the training model where a step has few calls.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from calibrate.capacity import GENERALISTS, dedicated_teams, revealed_capacity
from calibrate.profiles import infer_staffing

__all__ = ["ReplayStaffing", "replay_staffing", "talk_time_profile", "CAPACITY", "TALK_TIME", "team_channel"]

CAPACITY = ("sessions", "revealed")
TALK_TIME = ("train", "test")


@dataclass(frozen=True, eq=False)
class ReplayStaffing:
    """``groups``: (group name, team type or None, fractional agents per step) in scenario order;
    ``inferred``: all groups' agents per step; ``teams``: the team table (``dedicated_teams``) or None."""

    groups: list
    inferred: np.ndarray
    teams: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def team_types(self) -> list:
        return [t for _, t, _ in self.groups if t is not None]


def team_channel(channel: str, reason: str) -> str:
    """The replayed channel of a team's call type."""
    return f"{channel}_{reason}"


def _on_grid(frame: pd.DataFrame, start, n_steps: int, step_s: float) -> np.ndarray:
    out = np.zeros(n_steps)
    if frame.empty:
        return out
    k = ((frame["interval_start"] - start).dt.total_seconds() // step_s).astype(int).to_numpy()
    inside = (k >= 0) & (k < n_steps)
    np.add.at(out, k[inside], frame["agents"].to_numpy(dtype=float)[inside])
    return out


def replay_staffing(contacts: pd.DataFrame, start, n_steps: int, step_s: float, capacity="sessions",
                    max_gap="30min", lead="0s", lag="0s", wrap="10s", teams=False,
                    team_share=0.9) -> ReplayStaffing:
    """The test period's agents per staffing step and group (see the module docstring).

    ``teams`` needs ``capacity="revealed"``: a team's capacity is revealed by its own callers
    waiting. Types served by a team keep the generalists as well (they served them too)."""
    if capacity not in CAPACITY:
        raise ValueError(f"The 'capacity' parameter must be one of {CAPACITY}. Got {capacity!r} instead.")
    step = f"{int(step_s)}s"
    if capacity == "sessions":
        if teams:
            raise ValueError("The 'teams' parameter needs capacity='revealed' (a team's capacity is revealed by "
                             "its own callers waiting). Got capacity='sessions' instead.")
        fine = _on_grid(infer_staffing(contacts, interval=step, max_gap=max_gap, lead=lead, lag=lag),
                        start, n_steps, step_s)
        return ReplayStaffing(groups=[("agents", None, fine)], inferred=fine)
    table = dedicated_teams(contacts, min_share=team_share) if teams else None
    frame = revealed_capacity(contacts, interval=step, wrap=wrap, max_gap=max_gap, teams=table)
    groups = []
    for name in [GENERALISTS] + sorted(set(frame["group"]) - {GENERALISTS}):
        part = frame[frame["group"] == name]
        if name == GENERALISTS or not part.empty:
            groups.append(("agents" if name == GENERALISTS else f"team_{name}", None if name == GENERALISTS else name,
                           _on_grid(part, start, n_steps, step_s)))
    return ReplayStaffing(groups=groups, inferred=sum(g[2] for g in groups), teams=table)


def talk_time_profile(contacts: pd.DataFrame, start, n_steps: int, step_s: float, expected_s, prior_calls=10.0
                      ) -> np.ndarray:
    """Per step (by queue entry): (Σ talk + k·E) ÷ ((n + k)·E), with n answered calls, E their mean
    talk time under the training model (``expected_s(calls)``: one value per answered call) and
    k = ``prior_calls``: the step's realized talk time relative to the training model, 1 where
    nothing was answered."""
    served = contacts[contacts["answered_at"].notna() & contacts["queued_at"].notna()
                      & contacts["handle_time_s"].notna()]
    k = ((served["queued_at"] - start).dt.total_seconds() // step_s).astype(int).to_numpy()
    inside = (k >= 0) & (k < n_steps)
    served, k = served[inside], k[inside]
    if served.empty:
        return np.ones(n_steps)
    n = np.bincount(k, minlength=n_steps).astype(float)
    talk = np.bincount(k, weights=served["handle_time_s"].to_numpy(dtype=float), minlength=n_steps)
    expected = np.bincount(k, weights=np.asarray(expected_s(served), dtype=float), minlength=n_steps)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_expected = np.where(n > 0, expected / n, 1.0)
        out = (talk + prior_calls * mean_expected) / ((n + prior_calls) * mean_expected)
    return np.where(n > 0, out, 1.0)
