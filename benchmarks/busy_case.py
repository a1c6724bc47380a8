"""A busy case's reads: the drawer (`GET /v1/cases/{id}`) and a page of the partner's rewards (`GET
/v1/rewards?partner_id=`, 50) for a partner whose case holds BENCH_BUSY_HELD rewards (one audit
entry each, as rewards held on arrival leave), after BENCH_BUSY_BEFORE approved ones: the answer's
size, the items DynamoDB reads (`ScannedCount`) and the median wall time of five requests through
the real handler, on moto in process. The figures must not grow with the case: run it with two
sizes (`BENCH_BUSY_HELD=1000` and `5000`) and compare."""

from __future__ import annotations

import json
import os
import statistics
import time
from typing import Any

from benchmarks import moto_system

HELD = int(os.environ.get("BENCH_BUSY_HELD", "2000"))
BEFORE = int(os.environ.get("BENCH_BUSY_BEFORE", "200"))
REQUESTS = 5


def _measure(ask: Any) -> tuple[int, int, float]:
    """(answer bytes, items read, median seconds) of REQUESTS requests."""
    from botocore.client import BaseClient

    original = BaseClient._make_api_call
    read = [0]

    def counted(client: Any, operation: str, params: dict[str, Any]) -> Any:
        answer = original(client, operation, params)
        if operation == "Query":
            read[0] += answer.get("ScannedCount", 0)
        return answer

    BaseClient._make_api_call = counted  # type: ignore[method-assign]
    times, size = [], 0
    try:
        for _ in range(REQUESTS):
            read[0] = 0
            started = time.perf_counter()
            answer = ask()
            times.append(time.perf_counter() - started)
            assert answer.status == 200, answer
            size = len(json.dumps(answer.body))
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]
    return size, read[0], statistics.median(times)


def run() -> None:
    from functions.shared import runtime, tenancy
    from functions.shared.clock import SystemClock
    from tests.integration.test_prolific_case import prolific  # the tests' busy case, at this size
    from tests.support import call, proxy_event

    with moto_system():
        deps = runtime.dependencies()
        program = tenancy.create_program(deps.repository, SystemClock(), "Busy")
        _, key = tenancy.create_key(deps.repository, SystemClock(), program.program_id, "fraud", "bench")
        prolific(deps.repository, program.program_id, HELD, BEFORE)
        drawer = _measure(lambda: call("cases", proxy_event("GET", "/v1/cases/c1", None, key)))
        query = {"partner_id": "p1", "limit": "50"}
        page = _measure(lambda: call("cases", proxy_event("GET", "/v1/rewards", None, key, query=query)))
    for name, (size, read, seconds) in (("drawer", drawer), ("partner's rewards page (50)", page)):
        print(
            f"  {HELD:,} held rewards after {BEFORE:,} approved: {name}: {size:,} bytes, "
            f"{read:,} items read, median {seconds * 1000:.0f} ms"
        )
