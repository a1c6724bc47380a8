"""The edge's effect on each request (issues 14 and 18): `make bench SUITES=edge`.

DynamoDB calls (counted on botocore) and time per warm `GET /v1/me`, in process against moto:
- direct: the cases handler called without an authorizer context, so it reads the key and its
  program itself, as every request did before the edge authorizer;
- edge: the same requests through the local gateway (`LocalApiGateway`: rate limit, the authorizer
  with API Gateway's result cache, the function's program cache).
"""

from __future__ import annotations

import contextlib
import json
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from benchmarks import moto_environment, moto_system

REQUESTS = 300
WARM_UP = 20


@contextlib.contextmanager
def counted_dynamodb_calls() -> Iterator[Counter[str]]:
    import botocore.client

    calls: Counter[str] = Counter()
    real = botocore.client.BaseClient._make_api_call

    def counting(client: Any, operation: str, params: dict[str, Any]) -> Any:
        if client.meta.service_model.service_name == "dynamodb":
            calls[operation] += 1
        return real(client, operation, params)

    botocore.client.BaseClient._make_api_call = counting  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        botocore.client.BaseClient._make_api_call = real  # type: ignore[method-assign]


def measure(count: int = REQUESTS) -> dict[str, dict[str, Any]]:
    moto_environment()
    from werkzeug.test import Client

    from functions.shared import runtime, tenancy
    from functions.shared.clock import SystemClock
    from local_system.http_adapter import LocalApiGateway
    from tests.support import call, proxy_event

    results: dict[str, dict[str, Any]] = {}
    with moto_system(), counted_dynamodb_calls() as calls:
        repository = runtime.dependencies().repository
        program = tenancy.create_program(repository, SystemClock(), "Bench")
        _, key = tenancy.create_key(repository, SystemClock(), program.program_id, "fraud", "bench")
        gateway = Client(LocalApiGateway())

        def direct() -> int:
            return call("cases", proxy_event("GET", "/v1/me", key=key)).status

        def edge() -> int:
            return gateway.get("/v1/me", headers={"Authorization": f"Bearer {key}"}).status_code

        subjects: dict[str, Callable[[], int]] = {"direct (as before)": direct, "through the edge": edge}
        for name, request in subjects.items():
            for _ in range(WARM_UP):
                assert request() == 200
            calls.clear()
            latencies = []
            for _ in range(count):
                started = time.perf_counter()
                assert request() == 200
                latencies.append(time.perf_counter() - started)
            results[name] = {
                "dynamodb_calls_per_request": round(sum(calls.values()) / count, 2),
                "calls": dict(calls),
                "p50_ms": round(statistics.median(latencies) * 1000, 2),
            }
    return results


def run() -> None:
    print(f"GET /v1/me, {REQUESTS} warm requests against moto in process (one core)")
    for name, figures in measure().items():
        print(f"  {name:<20} {json.dumps(figures)}")
