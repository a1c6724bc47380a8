"""A synchronous decision's latency (issue 17): `POST /v1/events?wait=decision` through the real
ingest handler against moto in process (recorded, queued, scored on the request's path, answered
200 with the decision), beside the asynchronous path's accept latency (`POST /v1/events`, 202), and
their ratio. The two kinds of request alternate, so the machine's noise hits both alike; each
event is a new partner's sign-up or a sale with a reward, with identifiers of its own."""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import time
from typing import Any

from benchmarks import moto_environment, moto_system

COUNT = int(os.environ.get("BENCH_SYNC_EVENTS", "200"))  # of each kind


def _event(n: int) -> dict[str, Any]:
    from tests.support import sample

    if n % 2:
        event = sample("partnership.created", id=f"sync-{n}")
        event["partner"].update(id=f"p-{n}", email=f"partner-{n}@example.com")
        event["session"] = {"ip": f"81.2.{n // 250 % 250}.{n % 250 + 1}", "device_fingerprint": f"fp-{n}"}
        return event
    event = sample("transaction.created", id=f"sync-{n}")
    event["customer"].update(id=f"c-{n}", email=f"customer-{n}@example.com", device_fingerprint=f"fp-c-{n}")
    event["transaction"]["id"] = f"t-{n}"
    event["reward"]["id"] = f"r-{n}"
    return event


def _percentiles(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p99_ms": round(ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000, 1),
    }


def measure(count: int = COUNT) -> dict[str, Any]:
    moto_environment()

    from functions.shared import runtime, tenancy
    from functions.shared.clock import SystemClock
    from tests.support import call, proxy_event

    with moto_system():
        repository = runtime.dependencies().repository
        program = tenancy.create_program(repository, SystemClock(), "Bench")
        _, key = tenancy.create_key(repository, SystemClock(), program.program_id, "integration", "bench")
        timings: dict[str, list[float]] = {"async": [], "sync": []}
        with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):  # EMF metric lines
            # one of each first, untimed: imports and the scoring engine's reference data load once
            call("ingest", proxy_event("POST", "/v1/events", _event(-2), key))
            call("ingest", proxy_event("POST", "/v1/events", _event(-1), key, query={"wait": "decision"}))
            for n in range(2 * count):
                kind = "sync" if n % 2 else "async"
                query = {"wait": "decision"} if kind == "sync" else None
                started = time.perf_counter()
                answer = call("ingest", proxy_event("POST", "/v1/events", _event(n), key, query=query))
                timings[kind].append(time.perf_counter() - started)
                expected = 200 if kind == "sync" else 202
                assert answer.status == expected, answer
                assert kind == "async" or answer.body["status"] == "scored", answer
    figures: dict[str, Any] = {
        "events": count,
        "async_accept": _percentiles(timings["async"]),
        "sync_decision": _percentiles(timings["sync"]),
    }
    figures["ratio_p50"] = round(figures["sync_decision"]["p50_ms"] / figures["async_accept"]["p50_ms"], 2)
    figures["ratio_p99"] = round(figures["sync_decision"]["p99_ms"] / figures["async_accept"]["p99_ms"], 2)
    return figures


def run() -> None:
    figures = measure()
    print("synchronous decision vs asynchronous accept, through the ingest handler against moto")
    print("  " + json.dumps(figures))
