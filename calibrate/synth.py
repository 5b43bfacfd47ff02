"""Synthetic "last year" tickets: a scenario's simulated contacts written in the generic schema.

Why: demos and tests need ticket data whose true parameters are known. Simulating a scenario
and exporting each contact as a helpdesk would (created, queued, answered or abandoned, handle
time, agent) gives exactly that, with the censoring real exports have: a served customer's
patience is never written down, only their wait. Calibrating the file must then recover the
scenario's handle-time, patience, arrival, bot and reopen parameters (``tests/test_synth.py``).

Mapping from the model's records (:mod:`sim.records`) to the generic columns
(:mod:`calibrate.schema`):

=============== ==========================================================================
contact_id      ``C<replication>-<row>``
customer_id     ``K<customer>``
channel         the scenario's channel name
created_at      arrival; ``queued_at`` = queue entry (the model has no IVR, so equal)
answered_at     when an agent took it; ``handle_time_s`` = service end − answer
abandoned_at    the deadline, for contacts that abandoned (queue entry + patience)
agent_id        ``<group>-<agent id>``
reason          the contact's reason (empty for the scenario's general reason)
bot_handled     on channels with a bot: whether the contact met it (else empty)
bot_resolved    of those: whether the bot (apparently) resolved it
resolved_at     async channels only: service end
reopened        handled contacts: whether a reopen of it arrived within the horizon
csat            on the first contact of each closed issue: a score 1-5 (or yes/no) drawn from the
                scenario's CSAT model with the issue's modelled features (``csat=`` below)
=============== ==========================================================================

Peak levers (docs/levers.md): contacts prevented by proactive notifications are not written (they
never arrived, as in a real export), nor are callbacks; a balked caller has neither queue entry nor
answer, and a caller who accepted a callback neither answer nor abandonment.

Contacts still waiting at the horizon have neither answer nor abandonment (as in a real export
taken mid-queue); a contact still in service has no handle time. Times are local to the
scenario's zone, written with their UTC offset, to the millisecond.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from calibrate.schema import COLUMNS

__all__ = ["synth_contacts", "write_tickets"]


CSAT_KINDS = ("auto", "score", "yes-no", "none")
SOURCE_CSAT = 9  # random source of the survey answers (sim/replication.py numbers the model's 0-8)


def synth_contacts(scenario, replication: int = 0, csat: str = "auto") -> pd.DataFrame:
    """Simulate one replication of ``scenario`` (a :class:`sim.scenario.Scenario`) and return its
    contacts in the generic schema, ordered by creation time.

    ``csat``: survey answers drawn from the scenario's CSAT model for every closed issue, on its first
    contact: ``"score"`` (1-5, ordered logit), ``"yes-no"`` (satisfied = 4 or 5), ``"none"``, or
    ``"auto"`` (scores when the scenario has a ``satisfaction:`` block, else none)."""
    from sim.metrics import Outcomes
    from sim.replication import simulate

    if replication < 0:
        raise ValueError(f"The 'replication' parameter of synth_contacts must be ≥ 0. Got {replication!r} instead.")
    if csat not in CSAT_KINDS:
        raise ValueError(f"The 'csat' parameter of synth_contacts must be one of {CSAT_KINDS}. Got {csat!r} instead.")
    rec = simulate(scenario, replication)
    o, c = Outcomes(rec), rec.contacts
    if o.kept is not None:  # peak levers: prevented contacts never arrived and callbacks are no tickets of their own
        c = {name: column[o.kept] for name, column in c.items()}
    start = pd.Timestamp(scenario.start_local)
    start = start.tz_convert(scenario.zone) if start.tz is not None else start.tz_localize(scenario.zone)

    def at(seconds, mask=None):
        values = np.asarray(seconds, dtype=float)
        if mask is not None:
            values = np.where(mask, values, np.nan)
        times = start + pd.to_timedelta(values, unit="s")
        # rounded in UTC: rounding local times fails on the repeated hour of an autumn DST change
        return pd.Series(times.tz_convert("UTC").round("ms").tz_convert(start.tz))

    names = np.array(list(scenario.channels))
    kinds = np.array([ch.kind for ch in scenario.channels.values()])
    groups = np.array([g.name for g in scenario.agents] + [""])
    finished = o.handled & ~np.isnan(c["end"])
    is_async = kinds[c["channel"]] == "async"
    agent = np.where(o.handled, np.char.add(np.char.add(groups[c["group"]].astype(str), "-"),
                                            c["agent"].astype(str)), "")
    frame = pd.DataFrame({
        "contact_id": [f"C{replication}-{i}" for i in range(len(o.arrival))],
        "customer_id": np.char.add("K", c["customer"].astype(str)),
        "channel": names[c["channel"]],
        "reason": _reasons(scenario, c["reason"]),
        "created_at": at(o.arrival),
        "queued_at": at(o.queued),
        "answered_at": at(c["answered"], o.handled),
        "abandoned_at": at(c["deadline"], o.abandoned),
        "handle_time_s": np.round(np.where(finished, c["end"] - c["answered"], np.nan), 3),
        "agent_id": pd.Series(agent).replace("", pd.NA),
        **_bot_columns(scenario, c),
        "resolved_at": at(c["end"], finished & is_async),
        "reopened": _reopened(o, c, finished),
        "csat": _answers(scenario, replication, rec, o, csat),
    })
    frame = frame.sort_values("created_at", kind="stable", ignore_index=True)
    return frame[list(COLUMNS)]


def _answers(scenario, replication: int, rec, o, kind: str) -> np.ndarray:
    """Per contact: a survey answer on the first contact of each closed issue (NaN elsewhere), drawn
    from the scenario's CSAT model with the issue's modelled features (sim/journeys.py)."""
    from sim.journeys import Issues
    from sim.replication import stream
    from sim.satisfaction import DEFAULT, score_probabilities

    out = np.full(len(o.arrival), np.nan)
    if kind == "none" or (kind == "auto" and scenario.satisfaction is None):
        return out
    contacts = {**rec.contacts, "end": rec.contacts["end"].copy()}  # Issues overwrites `end` in place
    issues = Issues(contacts, o, scenario, keep_eta=True)
    closed = ~issues.open_end
    probabilities = score_probabilities(scenario.satisfaction or DEFAULT, issues.eta[closed])
    u = stream(scenario.seed, replication, SOURCE_CSAT).random(int(closed.sum()))
    scores = 1 + (u[:, None] >= np.cumsum(probabilities, axis=1)[:, :4]).sum(axis=1)
    out[np.flatnonzero(closed)] = (scores >= 4) if kind == "yes-no" else scores
    return out


def _reasons(scenario, index: np.ndarray) -> pd.Series:
    """Reason names in the order the model numbers them (the general reason first, written empty)."""
    from sim.contacts import GENERAL

    names = [GENERAL] + [r for r in (scenario.reasons or {}) if r != GENERAL]
    labels = np.array([pd.NA] + names[1:], dtype=object)
    return pd.Series(labels[np.asarray(index, dtype=np.int64)], dtype="string")


def _bot_columns(scenario, c) -> dict[str, pd.Series]:
    """``bot_handled`` / ``bot_resolved`` where the channel has a bot, empty elsewhere."""
    from sim.contacts import BOT, CONTAINED

    has_bot = np.array([ch.bot is not None for ch in scenario.channels.values()])[c["channel"]]
    met = (c["flags"] & BOT) != 0
    resolved = (c["flags"] & CONTAINED) != 0
    return {"bot_handled": pd.Series(pd.array(met, dtype="boolean")).where(has_bot, pd.NA),
            "bot_resolved": pd.Series(pd.array(resolved, dtype="boolean")).where(has_bot & met, pd.NA)}


def _reopened(o, c, finished: np.ndarray) -> pd.Series:
    """For each finished contact, whether a reopen of it arrived before the horizon: the reopen
    belongs to the same customer's latest contact that had ended by the reopen's arrival."""
    from sim.records import ORIGINS

    out = pd.Series(pd.array(np.where(finished, False, pd.NA), dtype="boolean"))
    reopens = np.flatnonzero(o.origin == ORIGINS.index("reopen"))
    if reopens.size == 0 or not finished.any():
        return out
    done = np.flatnonzero(finished)
    ended = pd.DataFrame({"customer": c["customer"][done], "end": c["end"][done], "row": done}).sort_values("end")
    asked = pd.DataFrame({"customer": c["customer"][reopens], "at": o.arrival[reopens]}).sort_values("at")
    match = pd.merge_asof(asked, ended, left_on="at", right_on="end", by="customer", direction="backward")
    out.iloc[match["row"].dropna().astype(np.int64).to_numpy()] = True
    return out


def write_tickets(frame: pd.DataFrame, path) -> Path:
    """Write tickets as CSV (ISO times with offsets) or Parquet (by extension), atomically."""
    from sim.csv_safety import to_csv_text
    from sim.outputs import atomic_write

    path = Path(path)
    if path.suffix.lower() in (".parquet", ".pq"):
        import io

        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        atomic_write(path, buffer.getvalue())
        return path
    text = frame.copy()
    for name in ("created_at", "queued_at", "answered_at", "abandoned_at", "resolved_at"):
        text[name] = text[name].map(lambda t: "" if pd.isna(t) else t.isoformat(timespec="milliseconds"))
    atomic_write(path, to_csv_text(text))  # names starting with = + - @ neutralised (sim.csv_safety)
    return path
