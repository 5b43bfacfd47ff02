"""Per-contact records → KPI tables: per replication, then mean and 95% CI over replications.

Definitions follow DESIGN.md: contacts are attributed to the interval in which they
arrived; service level = handled within threshold ÷ (handled + abandoned + still waiting at the
horizon for longer than the threshold: those have missed it already, whatever happens next); ASA and wait
percentiles are over handled contacts; occupancy = time with at least one contact ÷ time present
on shift (agents staying on to finish a contact included). Counting is done with numpy on the
columnar records (no per-contact objects), so a million-contact replication is reduced in well
under a second and little extra memory.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .contacts import AUTO, BALKED, CB_ACCEPTED, CB_OFFERED, CONTAINED, ESCALATED, FALSE, PREVENTED
from .metrics_levers import apart_kpis, overflow_work, promises, reason_thresholds
from .records import ORIGINS
from .replication import ReplicationRecords
from .scenario import Scenario

COUNT_KPIS = ["arrived", "bot_contained", "bot_escalated", "false_containment", "auto_resolved", "offered",
              "handled", "abandoned", "waiting_end", "unique_customers"]
# the peak levers (docs/levers.md): zero in a run that does not use them, so every run has the same columns
LEVER_COUNTS = ["prevented", "balked", "callbacks_offered", "callbacks_accepted", "callbacks_declined",
                "callbacks_completed", "callbacks_pending", "callbacks_within_promise", "overflowed"]
LEVER_RATES = ["callback_wait_s", "callback_promise_met"]
COUNT_KPIS = COUNT_KPIS + LEVER_COUNTS
RATE_KPIS = ["abandon_rate", "service_level", "asa_s", "wait_p50_s", "wait_p90_s", "frt_s", "backlog"] + LEVER_RATES
CALLBACK = ORIGINS.index("callback")
ORIGIN_KPIS = ["arrived", "offered", "handled", "abandoned"]
CHANNEL_KPIS = COUNT_KPIS + RATE_KPIS
GROUP_KPIS = ["agents", "agents_present", "occupancy"]
OVERFLOW_GROUP_KPIS = ["overflow_handled", "overflow_work_s"]  # groups.csv, when a channel overflows
# shares: a CI never leaves [0, 1] (fcr, unresolved_share and csat are customer outcomes, sim/journeys.py)
BOUNDED_KPIS = {"abandon_rate", "service_level", "occupancy", "callback_promise_met", "fcr", "unresolved_share", "csat"}


class Outcomes:
    """What happened to each contact, derived once from the records (frugal with memory).

    Rows the peak levers add are set apart first (`kept` = the row indices left, None if none were
    set apart): prevented contacts never arrived and callbacks are agent work with KPIs of their own
    (`prevented`, `callbacks` hold their few columns). A caller pairing these arrays with the records'
    columns selects `kept` rows of those.
    """

    COLUMNS = ("arrival", "queued", "answered", "deadline", "channel", "flags", "customer", "origin", "reason")
    OVERFLOW_COLUMNS = ("group", "end")  # also needed when groups help other channels (overflow)

    def __init__(self, rec: ReplicationRecords):
        c = rec.contacts
        self.kept = self.prevented = self.callbacks = None
        # which flags occur at all: one pass and no temporary, so unused levers cost (almost) nothing here
        self.flag_bits = int(np.bitwise_or.reduce(c["flags"])) if c["flags"].size else 0
        callbacks = bool(c["origin"].size) and int(c["origin"].max()) >= CALLBACK
        if self.flag_bits & PREVENTED or callbacks:  # copies of every column: only when levers add rows
            apart = (c["flags"] & PREVENTED) != 0
            apart |= c["origin"] == CALLBACK
            self.prevented = _rows(c, (c["flags"] & PREVENTED) != 0, ("arrival", "channel", "reason"))
            self.callbacks = _rows(c, c["origin"] == CALLBACK, ("arrival", "queued", "answered", "channel", "reason"))
            self.kept = np.flatnonzero(~apart)
            c = {name: column[self.kept] for name, column in c.items()}
            del apart
        self.arrival, self.queued, self.channel = c["arrival"], c["queued"], c["channel"]
        self.answered = c["answered"]
        self.flags, self.customer, self.origin, self.reason = c["flags"], c["customer"], c["origin"], c["reason"]
        self.handled = ~np.isnan(c["answered"])
        self.offered = c["queued"] <= rec.horizon_s  # NaN (bot-contained, automated, balked) compares False
        # left the queue unanswered: abandoned, or (callbacks) left to be called back
        self.gone = self.offered & ~self.handled & (c["deadline"] <= rec.horizon_s)
        self.abandoned = self.gone
        if self.flags.dtype.itemsize > 1:  # 16-bit flags: callbacks are offered in this run
            self.abandoned = self.gone & ((self.flags & CB_ACCEPTED) == 0)
        # still waiting at the horizon: in the queue, or still in a bot session that will escalate
        self.waiting_end = (self.offered & ~self.handled & ~self.gone) | (c["queued"] > rec.horizon_s)
        # only the deadlines of contacts that left are needed later: the deadline column itself can then be dropped
        self.abandon_time = c["deadline"][self.gone]
        self.horizon_s = rec.horizon_s
        # overflow: answered by a group that lacks the channel as a skill (needs the `group` column)
        self.overflowed = None
        if rec.own_skills is not None and "group" in c:
            group = c["group"].astype(np.int64)
            self.overflowed = self.handled & ~rec.own_skills[np.maximum(group, 0), c["channel"]]

    @property
    def wait(self) -> np.ndarray:
        """Time in queue of contacts that left it (answered, abandoned or gone for a callback), else NaN;
        built on demand (8 bytes a contact)."""
        wait = np.subtract(self.answered, self.queued)
        wait[self.gone] = self.abandon_time - self.queued[self.gone]
        wait[~(self.handled | self.gone)] = np.nan
        return wait

    def left_queue(self, rows: np.ndarray) -> np.ndarray:
        """When the selected contacts left the queue (answered, abandoned or for a callback; inf = still waiting)."""
        left = self.answered[rows]  # a copy (rows is a mask or indices), filled in place
        left[~self.handled[rows]] = np.inf
        if isinstance(rows, np.ndarray) and rows.dtype == bool:  # no column for all selected
            left[self.gone[rows]] = self.abandon_time[rows[self.gone]]
        else:
            abandon_time = np.full(self.gone.size, np.nan)
            abandon_time[self.gone] = self.abandon_time
            left[self.gone[rows]] = abandon_time[rows][self.gone[rows]]
        return left


def _rows(columns: dict[str, np.ndarray], mask: np.ndarray, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    return {name: columns[name][mask] for name in names}


def contact_outcomes(rec: ReplicationRecords) -> pd.DataFrame:
    """One row per contact with outcome flags and wait (seconds): for tests and ticket export."""
    o = Outcomes(rec)
    c = rec.contacts if o.kept is None else {name: column[o.kept] for name, column in rec.contacts.items()}
    return pd.DataFrame({
        "arrival": o.arrival, "queued": o.queued, "left_queue": o.left_queue(slice(None)), "channel": o.channel,
        "origin": c["origin"], "customer": c["customer"], "reason": c["reason"],
        "offered": o.offered, "handled": o.handled, "abandoned": o.abandoned,
        "waiting_end": o.waiting_end, "wait": o.wait,
    })


def _kpis_by_key(o: Outcomes, key: np.ndarray, n_keys: int, thresholds: np.ndarray, is_async: np.ndarray,
                 rows: np.ndarray | None = None, key_thresholds: np.ndarray | None = None) -> pd.DataFrame:
    """KPIs for each integer key (e.g. interval × channel) over the selected rows.

    Pass `key` as a temporary (not held by the caller): it is dropped once used, as are the
    other per-contact temporaries, to keep the reduction's peak memory low. `key_thresholds`
    (one service-level threshold per key, e.g. a reason's own) replaces the channels' `thresholds`.
    """
    pick = (lambda a: a) if rows is None else (lambda a: a[rows])
    key = pick(key)
    handled, abandoned = pick(o.handled), pick(o.abandoned)

    def count(mask):
        return np.bincount(key[mask], minlength=n_keys)[:n_keys].astype(float)

    flags = pick(o.flags)
    out = pd.DataFrame({
        "arrived": np.bincount(key, minlength=n_keys)[:n_keys].astype(float),
        "bot_contained": count((flags & CONTAINED) != 0),
        "bot_escalated": count((flags & ESCALATED) != 0),
        "false_containment": count((flags & FALSE) != 0),
        "auto_resolved": count((flags & AUTO) != 0),
        "offered": count(pick(o.offered)),
        "handled": count(handled),
        "abandoned": count(abandoned),
        "waiting_end": count(pick(o.waiting_end)),
        "unique_customers": distinct_per_key(key, pick(o.customer), n_keys),
    })
    bits = o.flag_bits  # count only flags that occur (no mask over every contact for an unused lever)
    out["balked"] = count((flags & BALKED) != 0) if bits & BALKED else 0.0
    out["callbacks_offered"] = count((flags & CB_OFFERED) != 0) if bits & CB_OFFERED else 0.0
    out["callbacks_accepted"] = count((flags & CB_ACCEPTED) != 0) if bits & CB_ACCEPTED else 0.0
    out["callbacks_declined"] = out["callbacks_offered"] - out["callbacks_accepted"]
    out["overflowed"] = count(pick(o.overflowed)) if o.overflowed is not None else 0.0
    # still waiting at the horizon and already past the threshold: a certain miss (an email backlog
    # must not leave the service level looking perfect); those waiting less are undecided, left out
    waiting = np.flatnonzero(pick(o.waiting_end))  # few: indices, not another per-contact mask
    if key_thresholds is not None:
        late = waiting[o.horizon_s - pick(o.queued)[waiting] > key_thresholds[key[waiting]]]
    else:
        late = waiting[~within(o.horizon_s - pick(o.queued)[waiting], pick(o.channel)[waiting], thresholds)]
    missed_late = np.bincount(key[late], minlength=n_keys)[:n_keys].astype(float)
    handled_key = key[handled]
    del key, flags, waiting, late
    handled_wait = pick(o.answered)[handled]
    handled_wait -= pick(o.queued)[handled]  # = Outcomes.wait of the handled, without a column for all contacts
    if key_thresholds is not None:
        met = handled_wait <= key_thresholds[handled_key]
    else:
        met = within(handled_wait, pick(o.channel)[handled], thresholds)
    within_n = np.bincount(handled_key[met], minlength=n_keys)
    del met
    wait_sum = np.bincount(handled_key, weights=handled_wait, minlength=n_keys)
    del handled, abandoned
    left = (out["handled"] + out["abandoned"]).to_numpy() + missed_late
    handled_n, offered_n = out["handled"].to_numpy(), out["offered"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["abandon_rate"] = np.where(offered_n > 0, out["abandoned"].to_numpy() / offered_n, np.nan)
        out["service_level"] = np.where(left > 0, within_n[:n_keys] / left, np.nan)
        out["asa_s"] = np.where(handled_n > 0, wait_sum[:n_keys] / handled_n, np.nan)
    out["frt_s"] = np.where(is_async, out["asa_s"], np.nan)  # async: time to first agent response
    p50, p90 = grouped_quantiles(handled_key, handled_wait, n_keys, (0.5, 0.9), overwrite=True)
    out["wait_p50_s"], out["wait_p90_s"] = p50, p90
    return out


def within(wait: np.ndarray, channel: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """wait <= its channel's threshold (a service level, a resolution promise), a channel at a time:
    no per-contact threshold column. NaN and inf are never within."""
    if np.all(thresholds == thresholds[0]):
        return wait <= thresholds[0]
    ok = np.zeros(wait.size, dtype=bool)
    for c, threshold in enumerate(thresholds):
        ok |= (channel == c) & (wait <= threshold)
    return ok


def grouped_quantiles(key: np.ndarray, values: np.ndarray, n_keys: int, qs: tuple[float, ...],
                      overwrite: bool = False) -> list[np.ndarray]:
    """The q-quantiles of `values` within each key (linear interpolation, as numpy and pandas); NaN if empty.

    `overwrite=True` lets it reorder `values` in place (saves a copy)."""
    ordered = sorted_by_key(key, values, n_keys, overwrite)
    counts = np.bincount(key, minlength=n_keys)[:n_keys]
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    has = counts > 0
    results = []
    for q in qs:
        position = starts + q * np.maximum(counts - 1, 0)
        lo = np.floor(position).astype(np.int64)
        hi = np.minimum(lo + 1, starts + np.maximum(counts - 1, 0))
        out = np.full(n_keys, np.nan)
        if ordered.size:
            lo_v, hi_v = ordered[np.minimum(lo, ordered.size - 1)], ordered[np.minimum(hi, ordered.size - 1)]
            out[has] = (lo_v + (position - lo) * (hi_v - lo_v))[has]
        results.append(out)
    return results


def sorted_by_key(key: np.ndarray, values: np.ndarray, n_keys: int, overwrite: bool = False) -> np.ndarray:
    """`values` ordered by key, then by value (in place if `overwrite` and the keys are already in order).

    Keys come almost sorted (rows are in arrival order per channel) and fit 16 bits in practice,
    so a stable sort by key is a cheap radix sort; with few keys, sorting each key's run in place
    then beats two full argsorts by ~10x. Equal values are interchangeable, so any order gives the same result.
    """
    small = key.astype(np.int16 if n_keys <= np.iinfo(np.int16).max else np.int32)
    if n_keys * 64 > key.size:  # many small groups: a loop over keys would cost more than it saves
        order = np.argsort(values, kind="stable")
        return values[order[np.argsort(small[order], kind="stable")]]
    if np.all(small[1:] >= small[:-1]):  # already by key (one channel, no redials): no argsort
        ordered = values if overwrite else values.copy()
    else:
        ordered = values[np.argsort(small, kind="stable")]
    del small
    ends = np.cumsum(np.bincount(key, minlength=n_keys)[:n_keys])
    for start, end in zip((ends - np.diff(ends, prepend=0)).tolist(), ends.tolist()):
        if end - start > 1:
            ordered[start:end].sort()
    return ordered


def distinct_per_key(key: np.ndarray, values: np.ndarray, n_keys: int) -> np.ndarray:
    """How many distinct values (e.g. customers) occur within each key."""
    if key.size == 0:
        return np.zeros(n_keys)
    if np.all(values[1:] > values[:-1]):  # increasing, so all distinct (only first-time customers): no sort
        return np.bincount(key, minlength=n_keys)[:n_keys].astype(float)
    width = int(values.max()) + 1
    pairs = np.sort(key.astype(np.int64) * width + values)
    pairs = pairs[np.r_[True, pairs[1:] != pairs[:-1]]]  # a sort is much faster than np.unique's hashing here
    return np.bincount(pairs // width, minlength=n_keys)[:n_keys].astype(float)


def queue_at(times: np.ndarray, queued: np.ndarray, left: np.ndarray) -> np.ndarray:
    """Number of contacts waiting at each of `times` (entered the queue at or before, not yet left)."""
    return _waiting_at(times, np.sort(queued, kind="stable"), np.sort(left, kind="stable"))


def _waiting_at(times: np.ndarray, queued_sorted: np.ndarray, left_sorted: np.ndarray) -> np.ndarray:
    return np.searchsorted(queued_sorted, times, side="right") - np.searchsorted(left_sorted, times, side="right")


def _interval_channel_key(o: Outcomes, scenario: Scenario) -> np.ndarray:
    """interval × channel of each contact's arrival."""
    key = interval_of(o.arrival, scenario.interval, scenario.n_intervals)
    key *= len(scenario.channels)
    key += o.channel
    return key


def interval_of(times: np.ndarray, interval: float, n: int) -> np.ndarray:
    """Interval index (int64) of each time, the last interval taking anything later; one temporary, not three."""
    k = np.floor_divide(times, interval)
    np.minimum(k, n - 1, out=k)
    return k.astype(np.int64)


def _thresholds(scenario: Scenario) -> np.ndarray:
    return np.array([ch.service_level.threshold for ch in scenario.channels.values()])


def _async(scenario: Scenario) -> np.ndarray:
    return np.array([ch.kind == "async" for ch in scenario.channels.values()])


def replication_intervals(rec: ReplicationRecords, scenario: Scenario, o: Outcomes | None = None) -> pd.DataFrame:
    """Per interval × channel KPIs of one replication (all intervals, warm-up included)."""
    o = o or Outcomes(rec)
    n, n_ch = scenario.n_intervals, len(scenario.channels)
    table = _kpis_by_key(o, _interval_channel_key(o, scenario), n * n_ch, _thresholds(scenario),
                         np.tile(_async(scenario), n))
    apart_kpis(table, o, lambda t, c, r: interval_of(t, scenario.interval, n) * n_ch + c, n * n_ch,
                promises(scenario))
    table.insert(0, "channel", np.tile(np.arange(n_ch), n))
    table.insert(0, "interval", np.repeat(np.arange(n), n_ch))
    ends = np.minimum((np.arange(n) + 1) * scenario.interval, scenario.horizon_s)
    backlog = np.zeros((n, n_ch))
    for c in range(n_ch):
        rows = o.offered & (o.channel == c)
        queued = o.queued[rows]
        queued.sort(kind="stable")  # in place; nearly sorted: timsort's case
        left = o.left_queue(rows)
        left.sort(kind="stable")
        backlog[:, c] = _waiting_at(ends, queued, left)
    table["backlog"] = backlog.ravel()
    table.insert(0, "replication", rec.replication)
    return table


def replication_summary(rec: ReplicationRecords, scenario: Scenario, o: Outcomes | None = None) -> pd.DataFrame:
    """Per channel KPIs of one replication over contacts arriving after the warm-up (rounded up to a whole interval)."""
    o = o or Outcomes(rec)
    n_ch = len(scenario.channels)
    rows = o.arrival >= scenario.report_start_s
    rows = None if rows.all() else rows  # no warm-up to drop: no copies of every column
    table = _kpis_by_key(o, o.channel.astype(np.int64), n_ch, _thresholds(scenario), _async(scenario), rows)
    apart_kpis(table, o, lambda t, c, r: c, n_ch, promises(scenario), scenario.report_start_s)
    table.insert(0, "channel", np.arange(n_ch))
    table.insert(0, "replication", rec.replication)
    return table


def replication_origins(rec: ReplicationRecords, scenario: Scenario, o: Outcomes) -> pd.DataFrame:
    """Per interval × channel × origin (fresh, redial, chaser, reopen, bot_bounce): volumes."""
    n, n_ch, n_or = scenario.n_intervals, len(scenario.channels), len(ORIGINS)
    key = interval_of(o.arrival, scenario.interval, n)
    key *= n_ch
    key += o.channel
    key *= n_or
    key += o.origin
    size = n * n_ch * n_or
    table = pd.DataFrame({
        "interval": np.repeat(np.arange(n), n_ch * n_or),
        "channel": np.tile(np.repeat(np.arange(n_ch), n_or), n),
        "origin": np.tile(np.arange(n_or), n * n_ch),
        "arrived": np.bincount(key, minlength=size).astype(float),
        "offered": np.bincount(key[o.offered], minlength=size).astype(float),
        "handled": np.bincount(key[o.handled], minlength=size).astype(float),
        "abandoned": np.bincount(key[o.abandoned], minlength=size).astype(float),
    })
    if o.callbacks is not None:  # set apart from the contact KPIs, but an origin of agent work like the others
        cb = o.callbacks
        key = ((interval_of(cb["arrival"], scenario.interval, n) * n_ch + cb["channel"]) * n_or + CALLBACK)
        answered = ~np.isnan(cb["answered"])
        for column, rows in (("arrived", key), ("offered", key), ("handled", key[answered])):
            table[column] += np.bincount(rows, minlength=size)
    table.insert(0, "replication", rec.replication)
    return table


def replication_reasons(rec: ReplicationRecords, scenario: Scenario, o: Outcomes, n_reasons: int) -> pd.DataFrame:
    """Per channel × contact reason KPIs over contacts arriving after the warm-up (rounded up to a whole interval)."""
    n_ch = len(scenario.channels)
    own_targets = any(r.service_level is not None for r in (scenario.reasons or {}).values())
    if n_reasons == 1 and not own_targets:  # no reasons defined: the per-channel summary is the answer
        table = replication_summary(rec, scenario, o)
        table.insert(2, "reason", 0)
        return table
    rows = o.arrival >= scenario.report_start_s
    key = o.channel.astype(np.int64) * n_reasons + o.reason
    table = _kpis_by_key(o, key, n_ch * n_reasons, _thresholds(scenario), np.repeat(_async(scenario), n_reasons),
                         rows, reason_thresholds(scenario, n_reasons)[0].ravel())
    apart_kpis(table, o, lambda t, c, r: c * n_reasons + r, n_ch * n_reasons, promises(scenario),
                scenario.report_start_s)
    table.insert(0, "reason", np.tile(np.arange(n_reasons), n_ch))
    table.insert(0, "channel", np.repeat(np.arange(n_ch), n_reasons))
    table.insert(0, "replication", rec.replication)
    return table


def spell_seconds(starts: np.ndarray, ends: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Total spell time falling in each [edges[k], edges[k+1]) (vectorised, no loop over spells)."""
    s, e = np.sort(starts), np.sort(ends)
    cs, ce = np.r_[0.0, np.cumsum(s)], np.r_[0.0, np.cumsum(e)]
    ns, ne = np.searchsorted(s, edges, side="right"), np.searchsorted(e, edges, side="right")
    covered = (ns * edges - cs[ns]) - (ne * edges - ce[ne])
    return np.diff(covered)


def replication_groups(rec: ReplicationRecords, scenario: Scenario) -> pd.DataFrame:
    """Per interval × group: agents scheduled (after shrinkage), agents present and occupancy (and, with overflow,
    the overflow work: sim.metrics_levers.overflow_work).

    `agents` is the schedule: when it drops, agents still finishing a contact stay on until they
    are done, but they are no longer scheduled. `agents_present` counts them too (time on shift ÷
    interval length), and occupancy is busy time ÷ that time present, so it never exceeds 1.
    """
    n = scenario.n_intervals
    edges = np.minimum(np.arange(n + 1) * scenario.interval, scenario.horizon_s)
    length = np.diff(edges)
    frames = []
    for g in range(len(scenario.agents)):
        staffed = rec.staffed["group"] == g
        on = spell_seconds(rec.staffed["start"][staffed], rec.staffed["end"][staffed], edges)
        used = rec.busy_seconds[g]
        with np.errstate(invalid="ignore", divide="ignore"):
            occupancy = np.where(on > 0, np.minimum(used / on, 1.0), np.nan)
        present = on / length
        frames.append(pd.DataFrame({
            "interval": np.arange(n), "group": g,
            "agents": present if rec.scheduled is None else rec.scheduled[g],
            "agents_present": present, "occupancy": occupancy, "busy_s": used, "staffed_s": on,
        }))
    table = pd.concat(frames, ignore_index=True)
    if rec.own_skills is not None:
        table["overflow_handled"], table["overflow_work_s"] = overflow_work(rec, scenario)
    table.insert(0, "replication", rec.replication)
    return table




def mean_ci(per_rep: pd.DataFrame, keys: list[str], kpis: list[str], level: float = 0.95) -> pd.DataFrame:
    """Mean over replications with a Student-t confidence interval (`_lo`, `_hi`) per KPI."""
    grouped = per_rep.groupby(keys, sort=True)[kpis]
    mean = grouped.mean()
    m, sd, count = mean.to_numpy(), grouped.std(ddof=1).to_numpy(), grouped.count().to_numpy()
    half = np.full(m.shape, np.nan)
    several = count > 1
    if several.any():  # one replication has no CI: then scipy (~0.2 s to import) is not needed
        from scipy.special import stdtrit  # Student-t quantile

        t = stdtrit(np.maximum(count - 1, 1), 0.5 + level / 2)
        half[several] = (t * sd / np.sqrt(count))[several]
    # numpy on the whole block, not pandas per column: the same arithmetic and clip semantics (NaN stays NaN)
    lo, hi = m - half, m + half
    lo[lo < 0.0] = 0.0
    bounded = np.array([kpi in BOUNDED_KPIS for kpi in kpis])
    hi[(hi > 1.0) & bounded] = 1.0
    columns = {}
    for k, kpi in enumerate(kpis):
        columns[kpi], columns[f"{kpi}_lo"], columns[f"{kpi}_hi"] = m[:, k], lo[:, k], hi[:, k]
    return pd.DataFrame(columns, index=mean.index).reset_index()
