"""Issue 12, class 3: behaviour loops stay inside the contact limits.

Independent truths: with deterministic times a reopen chain is a hand count (a customer whose
chain fits in the horizon gets exactly MAX_CONTACTS_PER_CUSTOMER contacts, then exactly one
further contact is refused); the contact limit counts rows of every origin (a lowered limit stops
the replication at exactly that many rows); a bot cycle that must repeat without time passing is
refused where it is written, while cycles that let customers out are accepted.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from typer.testing import CliRunner

import sim.replication
from sim.cli import app
from sim.errors import PeaksimError, ScenarioError
from sim.loops import MAX_CONTACTS_PER_CUSTOMER
from sim.records import ORIGINS, ContactLimitReached, ContactLog
from sim.replication import simulate
from sim.runner import run_scenario
from sim.scenario import parse_scenario

from conftest import write_yaml

FIXED = lambda s: {"dist": "deterministic", "value": s}  # noqa: E731


def chat_scenario(**channel) -> dict:
    return {
        "name": "loops", "start": "2026-11-23T00:00:00+01:00", "duration": "6h", "interval": "60min",
        "seed": 11, "replications": 1,
        "channels": {"chat": {"service_level": {"threshold": "1min", "target": 0.8},
                              "handle_time": FIXED(10), "arrivals": {"rate_per_hour": 20}, **channel}},
        "agents": [{"name": "team", "skills": ["chat"], "headcount": 30}],
    }


def test_fcr_zero_reopens_stop_at_the_per_customer_cap_by_hand_count():
    data = chat_scenario(reasons={"complaint": 1.0})
    data["reasons"] = {"complaint": {"fcr": 0.0, "reopen_delay": FIXED(20)}}
    sc = parse_scenario(data)
    records = simulate(sc, 0)
    c = records.contacts
    per_customer = np.bincount(c["customer"])
    fresh = np.flatnonzero(c["origin"] == 0)
    # 30 agents for ~20 contacts an hour: nobody waits, so a chain is 50 × (10 s work + 20 s delay) = 1,500 s
    chain_s = MAX_CONTACTS_PER_CUSTOMER * 30
    whole = fresh[c["arrival"][fresh] + chain_s <= sc.horizon_s - 30]
    assert whole.size > 50
    assert per_customer.max() == MAX_CONTACTS_PER_CUSTOMER
    assert np.all(per_customer[c["customer"][whole]] == MAX_CONTACTS_PER_CUSTOMER)
    # a full chain's 50th contact would reopen at end + 20 s: refused (counted) if that is inside the horizon
    last_end = np.full(per_customer.size, -np.inf)
    np.maximum.at(last_end, c["customer"], np.nan_to_num(c["end"], nan=-np.inf))
    full = per_customer == MAX_CONTACTS_PER_CUSTOMER
    assert records.capped == int(np.sum(full & (last_end + 20 < sc.horizon_s)))


def test_the_cap_is_reported_as_a_warning_in_run_json(tmp_path):
    data = chat_scenario(reasons={"complaint": 1.0})
    data["reasons"] = {"complaint": {"fcr": 0.0, "reopen_delay": FIXED(20)}}
    out = tmp_path / "o"
    res = CliRunner().invoke(app, ["run", str(write_yaml(tmp_path, data)), "-o", str(out), "--no-report"])
    assert res.exit_code == 0, res.output
    import json
    meta = json.loads((out / "run.json").read_text())
    capped = [w for w in meta["warnings"] if w["kind"] == "customer_contact_cap"]
    assert meta["contacts_capped"] > 0 and capped and capped[0]["contacts"] == meta["contacts_capped"]
    assert f"already had {MAX_CONTACTS_PER_CUSTOMER} contacts" in res.stderr


def test_bot_bounces_with_a_delay_are_bounded_per_customer_too():
    data = chat_scenario(bot={"containment": 1.0, "false_containment": 1.0, "session": FIXED(5),
                              "return_delay": FIXED(5)})
    records = simulate(parse_scenario(data), 0)
    per_customer = np.bincount(records.contacts["customer"])
    assert per_customer.max() == MAX_CONTACTS_PER_CUSTOMER and records.capped > 0
    bounces = records.contacts["origin"] == ORIGINS.index("bot_bounce")
    assert bounces.sum() == per_customer.sum() - (records.contacts["origin"] == 0).sum()


# --- the per-replication limit counts every contact -------------------------------------------------------
def test_contact_log_refuses_rows_beyond_its_limit():
    log = ContactLog()
    log.limit = 3
    log.extend(2, arrival=np.zeros(2), channel=0, origin=0, customer=np.arange(2))
    log.append(1.0, 0, 1.0, np.inf, 3, 0)
    with pytest.raises(ContactLimitReached):
        log.append(2.0, 0, 1.0, np.inf, 3, 0)
    with pytest.raises(ContactLimitReached):
        log.extend(1, arrival=np.zeros(1), channel=0, origin=0, customer=np.arange(1))
    assert len(log) == 3


@pytest.mark.parametrize("kind,named", [
    ("reopen", "customers loop through reopens (reasons.complaint.fcr 0"),
    ("redial", "redials multiply the contacts (channels.chat.behaviour.redial)"),
])
def test_a_replication_stops_at_the_contact_limit_naming_the_loop(monkeypatch, kind, named):
    data = chat_scenario(reasons={"complaint": 1.0})
    if kind == "reopen":
        data["reasons"] = {"complaint": {"fcr": 0.0, "reopen_delay": FIXED(20)}}
    else:
        data["reasons"] = {"complaint": {}}
        data["channels"]["chat"].update(patience=FIXED(1), arrivals={"rate_per_hour": 200},
                                        behaviour={"redial": {"probability": 1.0, "delay": FIXED(5),
                                                              "max_attempts": 50}})
        data["agents"][0]["headcount"] = 0
    sc = parse_scenario(data)
    limit = 3000
    monkeypatch.setattr(sim.replication, "MAX_CONTACTS_PER_REPLICATION", limit)
    with pytest.raises(PeaksimError) as info:
        simulate(sc, 0)
    line = info.value.lines[0]
    assert line.startswith(f"replication 0: stopped at {limit:,} contacts, the limit per replication (got fresh ")
    assert named in line, line
    counts = [int(n.replace(",", "")) for n in __import__("re").findall(r"(?:fresh|redial|reopen) ([\d,]+)", line)]
    assert sum(counts) == limit  # every origin counted, fresh and created in the run


def test_the_limit_error_of_a_run_is_one_line_exit_2(tmp_path, monkeypatch):
    data = chat_scenario(reasons={"complaint": 1.0})
    data["reasons"] = {"complaint": {"fcr": 0.0, "reopen_delay": FIXED(20)}}
    data["replications"] = 2
    monkeypatch.setattr(sim.replication, "MAX_CONTACTS_PER_REPLICATION", 3000)
    res = CliRunner().invoke(app, ["run", str(write_yaml(tmp_path, data)), "-o", str(tmp_path / "o"), "--no-report"])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert res.stderr.strip().splitlines()[-1].startswith("replication 0: stopped at 3,000 contacts")


# --- zero-delay loops refused by validate --------------------------------------------------------------------
def _bot(containment=1.0, false=1.0, session=0, delay=0, **extra):
    return {"containment": containment, "false_containment": false, "session": FIXED(session),
            "return_delay": FIXED(delay), **extra}


def _refused(tmp_path, data) -> str:
    res = CliRunner().invoke(app, ["validate", str(write_yaml(tmp_path, data))])
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    return lines[0]


def test_a_zero_delay_bot_loop_is_refused_where_it_is_written(tmp_path):
    line = _refused(tmp_path, chat_scenario(bot=_bot()))
    text = (tmp_path / "s.yaml").read_text().splitlines()
    number = next(i for i, row in enumerate(text, 1) if "false_containment" in row)
    assert line.startswith(f"{tmp_path / 's.yaml'}:{number}: channels.chat.bot.false_containment: "), line
    assert "zero-delay loop" in line and "loop forever" in line


def test_a_zero_delay_loop_through_a_second_channel_or_a_reason_is_refused(tmp_path):
    data = chat_scenario(bot=_bot(return_channel={"web": 1.0}))
    data["channels"]["web"] = copy.deepcopy(data["channels"]["chat"])
    data["channels"]["web"]["bot"] = _bot(return_channel={"chat": 1.0})
    data["agents"][0]["skills"] = ["chat", "web"]
    assert "channels.chat.bot.false_containment" in _refused(tmp_path, data)
    data = chat_scenario(bot=_bot(containment=0.5), reasons={"status": 1.0})
    data["reasons"] = {"status": {"bot_containment": 1.0}}
    assert "reasons.status.bot_containment 1" in _refused(tmp_path, data)


@pytest.mark.parametrize("change", [
    {"false": 0.99}, {"containment": 0.99}, {"session": 1}, {"delay": 1},
])
def test_bot_cycles_that_let_customers_out_or_take_time_are_accepted(tmp_path, change):
    bot = _bot(**change)
    assert parse_scenario(chat_scenario(bot=bot)).channels["chat"].bot.containment == bot["containment"]
    _accepted(tmp_path, chat_scenario(bot=bot))


def test_a_bounce_to_a_channel_without_a_bot_is_accepted(tmp_path):
    data = chat_scenario(bot=_bot(return_channel={"voice": 1.0}))
    data["channels"]["voice"] = {k: v for k, v in copy.deepcopy(data["channels"]["chat"]).items() if k != "bot"}
    data["agents"][0]["skills"] = ["chat", "voice"]
    assert parse_scenario(data).channels["voice"].bot is None
    _accepted(tmp_path, data)
    data["channels"]["chat"]["bot"]["return_channel"] = {"voice": 0.5}  # the other half comes back to chat
    assert set(parse_scenario(data).channels) == {"chat", "voice"}
    _accepted(tmp_path, data)


def _accepted(tmp_path, data) -> None:
    """`validate` says OK (exit 0, nothing on stderr): the loop check let the scenario through."""
    res = CliRunner().invoke(app, ["validate", str(write_yaml(tmp_path, data))])
    assert res.exit_code == 0 and ": OK (" in res.output and not res.stderr.strip(), res.output


def test_validation_errors_name_the_zero_delay_loop_in_scenario_error():
    with pytest.raises(ScenarioError, match=r"channels\.chat\.bot\.false_containment: every contact the bot"):
        parse_scenario(chat_scenario(bot=_bot()))


def test_a_capped_run_is_still_reproducible(tmp_path):
    data = chat_scenario(reasons={"complaint": 1.0})
    data["reasons"] = {"complaint": {"fcr": 0.2, "reopen_delay": FIXED(20)}}
    data["replications"] = 2
    sc = parse_scenario(data)
    a, b = run_scenario(sc), run_scenario(sc, jobs=2)
    assert a.summary.equals(b.summary) and a.meta["contacts_capped"] == b.meta["contacts_capped"]
