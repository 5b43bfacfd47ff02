"""Customers who come back: the bounds that keep behaviour loops finite, and the messages that name them.

Redials, chasers, reopens and bot bounces each create a new contact from an old one (see
`sim.behaviour`). Three bounds keep that finite whatever the scenario says:

1. **Per customer.** No customer (one fresh contact and everything it causes) gets more than
   `MAX_CONTACTS_PER_CUSTOMER` contacts, whatever their origin: `fcr: 0` no longer reopens
   forever. Redials and chasers keep their own, lower caps (`max_attempts`, `max_per_customer`).
2. **Per replication.** Every contact, fresh or created during the run, counts against
   `MAX_CONTACTS_PER_REPLICATION` (`ContactLog` checks it where each row is added); reaching it
   stops the replication with a one-line error that names the loop, instead of exhausting memory.
3. **At validation.** A cycle that *must* repeat at one instant (every step certain, no time
   passing: bot containment 1, false containment 1, zero session and return delay) is refused
   by `check_zero_delay_loops`, with its location in the file.
"""

from __future__ import annotations

from collections import deque

from .errors import PeaksimError, at
from .records import ORIGINS, ContactLimitReached  # noqa: F401 (ContactLimitReached: raised where rows are added)

MAX_CONTACTS_PER_CUSTOMER = 50  # = the largest `max_attempts` a redial may have


# --- validation: zero-delay loops ---------------------------------------------------------------
def _targets(mix: dict | None, names: list[str], default: int) -> list[int]:
    """Channels a mix {channel: share} can send a contact to (the remainder stays on `default`)."""
    mix = mix or {}
    out = [names.index(n) for n, w in mix.items() if w > 0]
    if sum(mix.values()) < 1 or not out:
        out.append(default)
    return sorted(set(out))


def _reasons_of(scenario, channel) -> list[str]:
    reasons = ["general"] if not channel.reasons else [r for r, w in channel.reasons.items() if w > 0]
    for event in scenario.events or []:
        for name, mix in (event.reason_mix or {}).items():
            if scenario.channels.get(name) is channel:
                reasons += [r for r, w in mix.items() if w > 0]
    return list(dict.fromkeys(reasons))


def _certain_bounce(scenario, c: int, reason: str) -> bool:
    """A contact of `reason` on channel c surely bounces back at once: contained surely, falsely surely,
    with zero session and return delay, and no automation that could resolve it first."""
    channel = list(scenario.channels.values())[c]
    bot = channel.bot
    if bot is None or bot.false_containment < 1 or bot.return_delay is None:
        return False
    model = (scenario.reasons or {}).get(reason)
    containment = model.bot_containment if model is not None and model.bot_containment is not None else bot.containment
    if containment < 1 or bot.session.mean_s > 0 or bot.return_delay.mean_s > 0:
        return False
    auto = model.automation if model is not None else None
    names = list(scenario.channels)
    if auto is not None and auto.auto_resolve > 0 and (auto.channels is None or names[c] in auto.channels):
        return False
    return True


def check_zero_delay_loops(scenario) -> None:
    """Refuse a bot-bounce cycle every customer entering it would repeat forever without time passing."""
    names = list(scenario.channels)
    channels = list(scenario.channels.values())
    reasons = scenario.reasons or {}

    def successors(c: int, reason: str) -> list[tuple[int, str]]:
        out = []
        channel = channels[c]
        if channel.bot is not None and channel.bot.false_containment > 0:
            out += [(d, reason) for d in _targets(channel.bot.return_channel, names, c)]
        model = reasons.get(reason)
        if model is not None and model.fcr < 1:
            out += [(d, reason) for d in _targets(model.reopen_channel, names, c)]
        behaviour = channel.behaviour
        if behaviour is not None and behaviour.redial is not None:
            out += [(d, reason) for d in _targets(behaviour.redial.switch, names, c)]
        if behaviour is not None and behaviour.chaser is not None:
            out += [(d, reason) for d in _targets(behaviour.chaser.channel, names, c)]
        return out

    start = [(c, r) for c, ch in enumerate(channels) for r in _reasons_of(scenario, ch)]
    seen, queue = set(start), deque(start)
    while queue:
        for nxt in successors(*queue.popleft()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    # the largest set of certain bounces whose every destination is again a certain bounce
    doomed = {s for s in seen if _certain_bounce(scenario, *s)}
    changed = True
    while changed:
        bounce = {s: [(d, s[1]) for d in _targets(channels[s[0]].bot.return_channel, names, s[0])] for s in doomed}
        keep = {s for s in doomed if all(d in doomed for d in bounce[s])}
        changed = keep != doomed
        doomed = keep
    if not doomed:
        return
    c, reason = min(doomed)
    bot = channels[c].bot
    back = ", ".join(sorted({names[d] for d in _targets(bot.return_channel, names, c)}))
    model = reasons.get(reason)
    source = (f"reasons.{reason}.bot_containment 1" if model is not None and model.bot_containment is not None
              else "containment 1")
    raise at(f"channels.{names[c]}.bot.false_containment",
             f"every contact the bot contains comes back at once and is contained again ({source}, "
             f"false_containment 1, session and return_delay 0, back to {back}): customers would loop forever "
             "without time passing (got a zero-delay loop); lower false_containment below 1, give return_delay "
             "a positive delay, or send return_channel to a channel without a bot")


def cap_warnings(meta: dict) -> list[dict]:
    """A run in which some customers reached the per-customer cap: their loop was cut short."""
    capped = int(meta.get("contacts_capped") or 0)
    if not capped:
        return []
    n = meta.get("replications", "?")
    return [{"kind": "customer_contact_cap", "contacts": capped,
             "message": f"{capped:,} contacts were not created because their customer already had "
                        f"{MAX_CONTACTS_PER_CUSTOMER} contacts (in {n} replication{'' if n == 1 else 's'}): "
                        "redials, chasers, reopens or bot bounces loop; check fcr, false_containment and the "
                        "redial and chaser probabilities"}]


# --- run time: the per-replication limit -----------------------------------------------------------
def limit_error(scenario, replication: int, limit: int, origin_counts) -> PeaksimError:
    """The one-line error for a replication that reached its contact limit, naming the loop behind it."""
    counts = {name: int(origin_counts[k]) if k < len(origin_counts) else 0 for k, name in enumerate(ORIGINS)}
    made = ", ".join(f"{name} {n:,}" for name, n in counts.items() if n)
    created = {k: v for k, v in counts.items() if k != "fresh"}
    worst = max(created, key=created.get) if any(created.values()) else "fresh"
    return PeaksimError(f"replication {replication}: stopped at {limit:,} contacts, the limit per replication "
                        f"(got {made}); {_cause(scenario, worst)}")


def _cause(scenario, origin: str) -> str:
    channels = scenario.channels
    if origin == "reopen":
        low = sorted(((r.fcr, name) for name, r in (scenario.reasons or {}).items() if r.fcr < 1))
        where = ", ".join(f"reasons.{name}.fcr {fcr:g}" for fcr, name in low[:3])
        return (f"customers loop through reopens ({where}: each handled contact reopens with probability 1 − fcr, "
                f"up to {MAX_CONTACTS_PER_CUSTOMER} contacts per customer); raise fcr or lengthen reopen_delay")
    if origin == "bot_bounce":
        where = ", ".join(f"channels.{n}.bot.false_containment {c.bot.false_containment:g}" for n, c in channels.items()
                          if c.bot is not None and c.bot.false_containment > 0)
        return (f"customers loop through the bot ({where}: falsely contained customers come back, up to "
                f"{MAX_CONTACTS_PER_CUSTOMER} contacts per customer); lower false_containment or lengthen return_delay")
    if origin in ("redial", "chaser"):
        key = "redial" if origin == "redial" else "chaser"
        where = ", ".join(f"channels.{n}.behaviour.{key}" for n, c in channels.items()
                          if c.behaviour is not None and getattr(c.behaviour, key) is not None)
        return (f"{origin}s multiply the contacts ({where}); lower their probability or "
                f"{'max_attempts' if origin == 'redial' else 'max_per_customer'}, or add agents")
    return "the arrival rates give more contacts than the limit; shorten the horizon or lower the rates"
