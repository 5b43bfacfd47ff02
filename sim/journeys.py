"""Customer journeys: the per-contact records grouped into issues, and the outcome KPIs of issues.

An **issue** is one customer need. It starts with a fresh contact (or bot session) and every
contact the model creates for it later (redial, chaser, reopen, bot bounce) carries the same
customer id, so an issue is exactly a customer id (fresh contact i has customer id i; the
model appends fresh contacts first, so the first `n` rows are the issues' first contacts).

A contact **resolves** its issue when it is
  * truly contained by the bot (contained, not a false containment), at the end of the session;
  * resolved by automation, at its arrival;
  * answered by an agent and finished before the horizon, and not reopened (the customer's
    reopen decision is marked on the contact, `REOPENED`, even when the reopen would fall after
    the horizon), at the end of its service.
An issue is **resolved** at the first time one of its contacts resolves it. An unresolved issue
is **open at the horizon** (censored) when one of its contacts is still waiting, in a bot
session or in service at the horizon, or its follow-up (redial, reopen, bot bounce) would
arrive after the horizon (`RETURN_LATE`); otherwise the customer **gave up**: abandoned without
retrying, falsely contained by the bot and never back, or came back to a closed channel.

Hooks for new journey events (callbacks, balking, …): a contact created later for the same need
must carry the issue's customer id; a new flag that resolves an issue goes into `resolve_times`,
one that leaves it open at the horizon into `pending`.

Everything is vectorised on the columnar records. Without in-run contacts (no behaviour) every
issue is one contact and nothing is grouped: that keeps the engine benchmark's cost to a few
array passes. Arrays are reused in place and columns dropped as soon as used (peak memory).
The tables of a replication are made from `Issues` in sim/journey_tables.py.
"""

from __future__ import annotations

import numpy as np

from .contacts import AUTO, CONTAINED, FALSE, PREVENTED, REOPENED, RETURN_LATE
from .metrics import Outcomes, grouped_quantiles, within
from .records import ORIGINS
from .satisfaction import DEFAULT, log_wait, lost_probability, satisfied_probability
from .scenario import Scenario

ISSUE_KPIS = ["issues", "issues_resolved", "fcr", "contacts_per_issue", "channels_per_issue",
              "resolution_time_mean_s", "resolution_time_p50_s", "resolution_time_p90_s",
              "unresolved_share", "csat", "revenue_at_risk"]
INTERVAL_ISSUE_KPIS = [*ISSUE_KPIS, "issues_open_end"]  # per interval of creation: censored issues shown
BOUNDED_ISSUE_KPIS = {"fcr", "unresolved_share", "csat"}
CHASER, CALLBACK = ORIGINS.index("chaser"), ORIGINS.index("callback")
INF = np.inf
CHUNK = 1 << 16  # issues per chunk in the reductions (temporaries of about a megabyte)


def journey_columns(scenario: Scenario) -> tuple[str, ...]:
    """Contact columns the journeys need beyond `Outcomes.COLUMNS` (bot_end only with a bot)."""
    bot = any(ch.bot is not None for ch in scenario.channels.values())
    return ("end", "bot_end") if bot else ("end",)


class Issues:
    """One entry per issue, columnar (creation time, first channel and reason, outcome, KPIs' inputs).

    Built from a replication's contact columns and its `Outcomes`; pops `end` and `bot_end` from
    `contacts` once used. `resolution` is seconds from creation to resolution (NaN if unresolved),
    `satisfied` the modelled P(satisfied) of closed issues (0 while open: they are left out of the
    CSAT by count), `revenue` the expected sales lost (None without `revenue_at_risk` rules).
    """

    def __init__(self, contacts: dict[str, np.ndarray], o: Outcomes, scenario: Scenario, keep_eta: bool = False):
        arrival, flags, origin = contacts["arrival"], contacts["flags"], contacts["origin"]
        if o.kept is not None:  # the levers set rows apart in `o`: the journeys need every row (callbacks too)
            o = RowOutcomes(contacts, o.horizon_s)
        total = arrival.size
        later = np.flatnonzero(origin != 0)
        n = int(later[0]) if later.size else total
        self.n = n
        self.created, self.channel, self.reason = arrival[:n], o.channel[:n], o.reason[:n]
        marked = flags if flags.any() else None  # bot, automation, lever or journey marks (else skip their passes)
        prevented = has_bit(flags[:n], PREVENTED) if marked is not None else None
        # contacts a proactive notification prevented never arrived: no issue (left out of every table)
        self.counted = prevented if prevented is None else ~prevented
        promise = np.array([ch.service_level.threshold for ch in scenario.channels.values()])
        bot_end = contacts.pop("bot_end", None)
        if n == total:  # one contact per issue: only whether its response was late, a chunk at a time
            self.late = np.empty(n, dtype=bool)
            for a in range(0, n, CHUNK):
                b = min(a + CHUNK, n)
                first = first_response(o, arrival, marked, slice(a, b))
                first -= arrival[a:b]
                self.late[a:b] = ~within(first, o.channel[a:b], promise)
            first = None
        else:
            first = first_response(o, arrival, marked)
        end = contacts.pop("end")  # becomes the resolve times, in place (the records let go of it)
        pending = o.waiting_end | (o.handled & np.isnan(end))
        late_return = has_bit(flags, RETURN_LATE) if marked is not None else None
        if late_return is not None:
            pending |= late_return
        del late_return
        rt = resolve_times(end, arrival, marked, bot_end)
        del end, bot_end
        wait = queue_waits(o, origin if n < total else None)
        contacts_n = channels_n = None
        fcr = None
        if n < total:  # issues with several contacts: fold the later contacts into their issue
            customer = contacts["customer"][n:].astype(np.int64)
            if customer.size and (customer.min() < 0 or customer.max() >= n):
                raise ValueError("a contact created during the run carries no issue's customer id (ids must be "
                                 "those of fresh contacts, 0..n-1): give follow-up contacts their customer's id")
            # a callback continues the contact that asked for it: not a contact of its own (contacts,
            # FCR), and an issue whose first contact is answered by its callback is resolved first time
            callback = origin[n:] == CALLBACK
            fcr = rt[:n] < INF  # the first contact (or its callback) resolves, and, below, is the only one
            if callback.any():
                fcr |= np.bincount(customer[callback & (rt[n:] < INF)], minlength=n) > 0
            issue_rt = rt[:n].copy()
            np.minimum.at(issue_rt, customer, rt[n:])
            rt = issue_rt
            np.minimum.at(first, customer, first[n:])
            first = first[:n] - self.created
            self.late = ~within(first, self.channel, promise)
            del first
            waited = wait[:n].copy()
            waited += np.bincount(customer, weights=wait[n:], minlength=n)
            wait = waited
            pending = pending[:n] | (np.bincount(customer[pending[n:]], minlength=n) > 0)
            contacts_n = 1 + np.bincount(customer[~callback], minlength=n).astype(np.int32)
            fcr &= contacts_n == 1
            channels_n = distinct_channels(customer, o.channel[n:], o.channel[:n], len(scenario.channels))
            del customer, callback
        self.resolved = rt < INF
        self.fcr = self.resolved if fcr is None else fcr
        self.contacts, self.channels = contacts_n, channels_n
        self.open_end = ~self.resolved & pending
        self.given_up = ~(self.resolved | pending)
        del pending
        rt -= self.created
        rt[~self.resolved] = np.nan
        self.resolution = rt
        self.revenue = revenue(scenario, self.reason, self.given_up, wait, self.open_end)
        self.satisfied = satisfaction(scenario, self.resolved, contacts_n, self.late, wait, self.open_end,
                                      self if keep_eta else None)
        del self.late  # in P(satisfied) now

    def totals(self, key_of, n_keys: int, rows: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Per key: counts and sums of the selected issues, a chunk of rows at a time.

        `key_of(start, stop)` gives the integer keys of rows start:stop; working in chunks keeps the
        temporaries at a few megabytes (a key and a masked copy per row would cost 16 bytes an issue)."""
        sums = {name: np.zeros(n_keys) for name in
                ("issues", "open", "fcr", "given_up", "contacts", "channels", "satisfied", "revenue", "resolved",
                 "resolution")}
        for a in range(0, self.n, CHUNK):
            b = min(a + CHUNK, self.n)
            key = key_of(a, b)
            chosen = None if rows is None else rows[a:b]

            def add(name, mask=None, weights=None):
                if chosen is not None:
                    mask = chosen if mask is None else mask & chosen
                k = key if mask is None else key[mask]
                w = None if weights is None else (weights if mask is None else weights[mask])
                sums[name] += np.bincount(k, weights=w, minlength=n_keys)[:n_keys]

            add("issues")
            add("open", self.open_end[a:b])
            add("fcr", self.fcr[a:b])
            add("given_up", self.given_up[a:b])
            add("satisfied", weights=self.satisfied[a:b])
            if self.contacts is not None:
                add("contacts", weights=self.contacts[a:b])
                add("channels", weights=self.channels[a:b])
            if self.revenue is not None:
                add("revenue", weights=self.revenue[a:b])
            resolved = self.resolved[a:b]
            add("resolved", resolved)
            add("resolution", resolved, weights=self.resolution[a:b])
        if self.contacts is None:
            sums["contacts"] = sums["channels"] = sums["issues"]
        return sums

    def quantiles(self, key_of, n_keys: int, rows: np.ndarray | None = None,
                  runs: list[tuple[int, int, int]] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Per key: median and p90 (linear interpolation) of the resolution time of the selected resolved issues.

        With `runs` ((key, start, stop): every key's issues are one contiguous run of rows, as for
        intervals of creation and channels) each run is partitioned in place inside `resolution`, no
        copy: call it after `totals` of every table. Otherwise the values are copied out."""
        if runs is None:
            keys, values = [], []
            for a in range(0, self.n, CHUNK):
                b = min(a + CHUNK, self.n)
                mask = self.resolved[a:b] if rows is None else self.resolved[a:b] & rows[a:b]
                keys.append(key_of(a, b)[mask])
                values.append(self.resolution[a:b][mask])
            key, value = np.concatenate(keys), np.concatenate(values)
            return tuple(grouped_quantiles(key, value, n_keys, (0.5, 0.9), overwrite=True))
        p50, p90 = np.full(n_keys, np.nan), np.full(n_keys, np.nan)
        for k, a, b in runs:
            run = self.resolution[a:b]
            m = int(np.count_nonzero(~np.isnan(run)))  # unresolved (NaN) are ordered last by partition
            if m:
                p50[k], p90[k] = _quantiles_in_place(run, m, (0.5, 0.9))
        return p50, p90


def _quantiles_in_place(values: np.ndarray, m: int, qs: tuple[float, ...]) -> list[float]:
    """q-quantiles (linear interpolation, as numpy's default) of the m smallest values (the others NaN),
    by partitioning `values` in place around the order statistics needed: O(n), no copy."""
    positions = [q * (m - 1) for q in qs]
    kth = sorted({i for p in positions for i in (int(p), min(int(p) + 1, m - 1))})
    values.partition(kth)
    return [float(values[int(p)] + (p - int(p)) * (values[min(int(p) + 1, m - 1)] - values[int(p)]))
            for p in positions]


def resolve_times(end: np.ndarray, arrival: np.ndarray, flags: np.ndarray | None,
                  bot_end: np.ndarray | None) -> np.ndarray:
    """Per contact: when it resolves its issue (inf if it does not), written over `end` (returned)."""
    rt = end  # answered and finished; NaN otherwise
    reopened = has_bit(flags, REOPENED) if flags is not None else None
    if reopened is not None:
        rt[reopened] = np.nan
    rt[np.isnan(rt)] = INF
    if flags is not None:
        auto = (flags & AUTO) != 0
        rt[auto] = arrival[auto]
        if bot_end is not None:
            true = (flags & (CONTAINED | FALSE)) == CONTAINED
            rt[true] = bot_end[true]
    return rt


def has_bit(flags: np.ndarray, bit: int) -> np.ndarray | None:
    """Rows with `bit` set, or None when the flags column is too narrow to hold it (8-bit flags: the
    journey marks and callbacks are never set then, sim/replication.py)."""
    if bit > np.iinfo(flags.dtype).max:
        return None
    return (flags & bit) != 0


class RowOutcomes:
    """What `Outcomes` says of each contact, for every row of the records: when the levers set rows apart
    (prevented contacts, callbacks) `Outcomes` covers the others only, the journeys need them all."""

    def __init__(self, c: dict[str, np.ndarray], horizon_s: float):
        self.horizon_s = horizon_s
        self.answered, self.queued, self.channel, self.reason = c["answered"], c["queued"], c["channel"], c["reason"]
        self.handled = ~np.isnan(c["answered"])
        offered = c["queued"] <= horizon_s
        self.gone = offered & ~self.handled & (c["deadline"] <= horizon_s)  # abandoned, or left for a callback
        self.waiting_end = (offered & ~self.handled & ~self.gone) | (c["queued"] > horizon_s)
        self.abandon_time = c["deadline"][self.gone]


def first_response(o: Outcomes, arrival: np.ndarray, flags: np.ndarray | None, rows: slice = slice(None)
                   ) -> np.ndarray:
    """Per contact (of `rows`): when the customer got a first response: an agent's answer, or at arrival
    when automation or the bot (apparently) resolved it (they answer at once); inf if none."""
    first = o.answered[rows].copy()
    first[~o.handled[rows]] = INF
    if flags is not None:
        answered_at_once = (flags[rows] & (AUTO | CONTAINED)) != 0
        first[answered_at_once] = arrival[rows][answered_at_once]
    return first


def queue_waits(o: Outcomes, origin: np.ndarray | None) -> np.ndarray:
    """Per contact: its queue wait (float32 seconds: a CSAT and lost-sale input, not a reported time) if it
    was answered, abandoned or left for a callback, else 0; chasers count 0 (they wait beside the contact
    they chase, the customer does not wait twice). Built a chunk at a time: no float64 temporary per contact."""
    size = o.answered.size
    wait = np.empty(size, dtype=np.float32)
    for a in range(0, size, CHUNK):
        b = min(a + CHUNK, size)
        wait[a:b] = np.subtract(o.answered[a:b], o.queued[a:b])  # NaN unless answered
    gone = np.flatnonzero(o.gone)  # few: abandoned, or waited until asking for a callback
    wait[gone] = o.abandon_time - o.queued[gone]
    np.nan_to_num(wait, copy=False, nan=0.0)
    if origin is not None:
        wait[origin == CHASER] = 0.0
    return wait


def distinct_channels(customer: np.ndarray, channel: np.ndarray, first_channel: np.ndarray, n_ch: int) -> np.ndarray:
    """Per issue: distinct channels among its first contact and the later ones (customer, channel)."""
    other = channel != first_channel[customer]
    pairs = np.unique(customer[other] * n_ch + channel[other])
    return (1 + np.bincount(pairs // n_ch, minlength=first_channel.size)).astype(np.int8)


def satisfaction(scenario: Scenario, resolved: np.ndarray, contacts: np.ndarray | None, late: np.ndarray,
                 wait: np.ndarray, open_end: np.ndarray, keep: Issues | None = None) -> np.ndarray:
    """P(satisfied) of each issue under the scenario's model (0 while open). Reuses `wait` in place;
    `keep` (an Issues) gets the linear predictor as `eta` (for drawing 1-5 scores: calibrate/synth.py)."""
    model = scenario.satisfaction or DEFAULT
    beta = model.coefficients
    eta = log_wait(wait, out=wait)
    eta *= beta.log_wait
    np.add(eta, beta.resolved, out=eta, where=resolved)
    np.add(eta, beta.late_first_response, out=eta, where=late)
    if contacts is not None:
        eta += beta.extra_contacts * (contacts - 1)
    if keep is not None:
        keep.eta = eta.copy()
    p = satisfied_probability(model, eta)
    p[open_end] = 0.0  # open: no verdict yet (counted out of the CSAT's denominator)
    return p


def revenue(scenario: Scenario, reason: np.ndarray, given_up: np.ndarray, wait: np.ndarray,
            open_end: np.ndarray) -> np.ndarray | None:
    """Expected sales lost per issue (0 while open or for reasons without a rule); None without rules."""
    rules = scenario.revenue_at_risk
    if not rules:
        return None
    from .contacts import GENERAL

    names = [GENERAL] + [r for r in (scenario.reasons or {}) if r != GENERAL]
    out = np.zeros(reason.size)
    for r, name in enumerate(names):
        rule = rules.get(name)
        if rule is None:
            continue
        rows = np.flatnonzero(reason == r)
        out[rows] = rule.order_value * lost_probability(rule, given_up[rows], wait[rows])
    out[open_end] = 0.0
    return out
