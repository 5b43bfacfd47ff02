"""Independent truths for the peak levers, written apart from the model (tests/test_levers_*.py).

- `cobham_waits`: mean wait per class in an M/M/c queue with non-preemptive priorities and one
  service rate for all classes (Cobham 1954; e.g. Gross & Harris, Fundamentals of Queueing Theory).
- `overflow_reference`: a plain SimPy model of a queue whose contacts, after waiting T, may also be
  answered by a helper pool; one process per customer, `simpy.Resource`s and request races, as an
  idiomatic SimPy user would write it (nothing shared with sim/model.py).
"""

from __future__ import annotations

import numpy as np
import simpy

from sim.erlang import erlang_c


def cobham_waits(rates_per_s: list[float], mean_service_s: float, servers: int) -> list[float]:
    """W_k = C(c, a) / (c·μ) / ((1 − σ_{k−1})(1 − σ_k)), σ_k = Σ_{j≤k} λ_j / (c·μ), classes in priority order."""
    mu = 1.0 / mean_service_s
    a = sum(rates_per_s) / mu
    w0 = erlang_c(servers, a) / (servers * mu)
    waits, sigma = [], 0.0
    for rate in rates_per_s:
        before = sigma
        sigma += rate / (servers * mu)
        waits.append(w0 / ((1 - before) * (1 - sigma)))
    return waits


def overflow_reference(rate_per_s: float, mean_service_s: float, mean_patience_s: float, regular: int,
                       helpers: int, after_s: float, horizon_s: float, seed: int) -> dict[str, float]:
    """One replication: share abandoned, mean wait of the answered, share of answers given by helpers."""
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    desk = simpy.Resource(env, capacity=regular)
    help_desk = simpy.Resource(env, capacity=helpers)
    out = {"arrived": 0, "abandoned": 0, "answered": 0, "helped": 0, "wait": 0.0}

    def serve(request, pool, start):
        out["answered"] += 1
        out["wait"] += env.now - start
        out["helped"] += pool is help_desk
        yield env.timeout(rng.exponential(mean_service_s))
        pool.release(request)

    def customer():
        start = env.now
        patience = rng.exponential(mean_patience_s)
        out["arrived"] += 1
        regular_req = desk.request()
        first = yield regular_req | env.timeout(min(after_s, patience))
        if regular_req in first:
            yield from serve(regular_req, desk, start)
            return
        if patience <= after_s:
            regular_req.cancel()
            out["abandoned"] += 1
            return
        helper_req = help_desk.request()  # now eligible for the helpers too: the first free of either answers
        second = yield regular_req | helper_req | env.timeout(patience - after_s)
        if regular_req in second:
            helper_req.cancel() if not helper_req.triggered else help_desk.release(helper_req)
            yield from serve(regular_req, desk, start)
        elif helper_req in second:
            regular_req.cancel() if not regular_req.triggered else desk.release(regular_req)
            yield from serve(helper_req, help_desk, start)
        else:
            regular_req.cancel()
            helper_req.cancel()
            out["abandoned"] += 1

    def source():
        while True:
            yield env.timeout(rng.exponential(1.0 / rate_per_s))
            env.process(customer())

    env.process(source())
    env.run(until=horizon_s)
    answered = max(out["answered"], 1)
    return {"abandon_rate": out["abandoned"] / max(out["arrived"], 1), "asa_s": out["wait"] / answered,
            "helped_share": out["helped"] / answered}
