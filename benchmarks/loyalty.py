"""Loyalty figures.

earns        POST /v1/loyalty/earn through the real handler against moto, in process: plain earns and
             capped campaign bonuses (a dynamic cap reached half way through the run)
round trips  DynamoDB calls per request, counted at botocore (every client), split into the edge's
             (the key and its program) and loyalty's own
audience     one campaign bonus that runs a `customer: all` workflow ("today's bonus over 3000:
             suspend"), in a program of 10 and of 10,000 customers below the threshold plus 5
             above it, then the same customers under a 30-day rolling workflow in its place: DynamoDB
             calls, the audience index's queries and the items they read, and the time of the earn
             and of its workflows' run behind the workflow queue (SQS calls not counted)

moto backs up the whole table once per item of a transaction (its rollback), so a transaction there
costs more the bigger the table: DynamoDB does nothing of the kind. Figures are given with that
backup limited to the items the transaction names (same semantics), and the plain earns once with
moto as shipped. moto also answers every query by walking the whole table, so wall times of the
audience grow with the table there; the items read are what DynamoDB would bill and wait for.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from benchmarks import moto_environment, moto_system

EARNS = 300
SIZES = (10, 10_000)
ABOVE = 5


@contextlib.contextmanager
def _system() -> Iterator[dict[str, Any]]:
    """A fresh moto account with the table, a program and its keys."""

    from functions.shared import runtime, tenancy
    from functions.shared.clock import SystemClock

    with moto_system():
        repository = runtime.dependencies().repository
        clock = SystemClock()
        program = tenancy.create_program(repository, clock, "Bench loyalty")
        keys = {
            role: tenancy.create_key(repository, clock, program.program_id, role, f"bench {role}")[1]
            for role in ("integration", "fraud")
        }
        yield {"program": program, "keys": keys, "repository": repository}


def _call(method: str, path: str, body: Any, key: str) -> Any:
    from tests.support import call, proxy_event

    return call("loyalty", proxy_event(method, path, body, key))


def _earn_and_its_workflows(body: dict[str, Any], key: str) -> Any:
    """An earn, then its workflows through the real runner on what the workflow queue holds (as its
    event source mapping hands it over): what the earn's workflows cost, wherever they run."""
    import boto3

    from local_system.poller import WORKFLOW_RUNNER_HANDLER, poll_once

    answer = _call("POST", "/v1/loyalty/earn", body, key)
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = os.environ["LOYALTY_WORKFLOW_QUEUE_URL"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    while poll_once(sqs, url, arn, wait_seconds=0, handler=WORKFLOW_RUNNER_HANDLER):
        pass
    return answer


def _quiet() -> Any:
    return contextlib.redirect_stdout(open(os.devnull, "w"))  # noqa: SIM115 (EMF metric lines)


def _throughput(
    system: dict[str, Any], body_of: Callable[[int], dict[str, Any]], count: int
) -> dict[str, float]:
    key = system["keys"]["integration"]
    latencies = []
    with _quiet():
        started = time.perf_counter()
        for n in range(count):
            t = time.perf_counter()
            answer = _call("POST", "/v1/loyalty/earn", body_of(n), key)
            latencies.append(time.perf_counter() - t)
            assert answer.status == 200, answer
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": count,
        "requests_per_second": count / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000,
    }


def _plain(n: int) -> dict[str, Any]:
    return {"id": f"e-{uuid.uuid4().hex}", "customer_id": f"m{n % 50}", "points": 10, "kind": "purchase"}


def _bonus(n: int) -> dict[str, Any]:
    return {
        "id": f"b-{uuid.uuid4().hex}",
        "customer_id": f"m{n % 50}",
        "points": 10,
        "kind": "campaign_bonus",
        "campaign_id": "capped",
    }


def _put_campaign(system: dict[str, Any], total: int, campaign: str = "capped") -> None:
    settings = {"total_cap": total, "per_customer_cap": 10**6, "limit_behavior": "dynamic"}
    with _quiet():
        path = f"/v1/loyalty/campaigns/{campaign}"
        assert _call("PUT", path, settings, system["keys"]["fraud"]).status == 200


def _put_workflow(system: dict[str, Any], workflow_id: str, customer: str, date_range: str = "today") -> None:
    settings = {
        "trigger": {"event": "points.earned", "kind": "campaign_bonus"},
        "filter": {"aggregation": "bonus", "date_range": date_range, "customer": customer, "threshold": 3000},
        "actions": [{"type": "suspend"}],
        "enabled": True,
    }
    with _quiet():
        assert (
            _call("PUT", f"/v1/loyalty/workflows/{workflow_id}", settings, system["keys"]["fraud"]).status
            == 200
        )


def earns() -> dict[str, dict[str, float]]:
    results = {}
    with _system() as system:
        results["plain earns"] = _throughput(system, _plain, EARNS)
        _put_campaign(system, total=EARNS * 10 // 2)
        results["capped bonuses (dynamic)"] = _throughput(system, _bonus, EARNS)
    return results


def _counted(request: Callable[[], Any]) -> tuple[Counter[str], int, float, float, int]:
    """DynamoDB calls by operation, items read through the audience index, seconds, of which in
    the audience index's queries, and those queries."""
    from tests.integration.test_loyalty_support import DynamoCalls

    with _quiet(), DynamoCalls() as dynamodb:
        started = time.perf_counter()
        answer = request()
        elapsed = time.perf_counter() - started
    assert answer.status == 200, answer
    audience = [
        (read, took)
        for _, params, read, took in dynamodb.calls
        if params.get("IndexName", "").startswith("loyalty")
    ]
    read, took = sum(r for r, _ in audience), sum(t for _, t in audience)
    return Counter(dynamodb.operations), read, elapsed, took, len(audience)


def _own(calls: Counter[str]) -> Counter[str]:
    """Loyalty's own calls: without the edge's reads of the API key and its program (which an
    authorizer's context and cache take off the function)."""
    own = calls.copy()
    own["GetItem"] -= min(calls.get("GetItem", 0), 2)
    return +own


def _describe(calls: Counter[str]) -> str:
    edge = min(calls.get("GetItem", 0), 2)  # the API key, then its program
    own = _own(calls)
    shown = ", ".join(f"{n} {op}" for op, n in sorted((+own).items()))
    return f"{sum(calls.values())} in all = {edge} at the edge + {sum((+own).values())} loyalty ({shown})"


def _used_up(request: Callable[[], Any]) -> str:
    """A bonus on a campaign whose cap is used up: its calls, and the counter shards it read."""
    from tests.integration.test_loyalty_support import DynamoCalls

    with _quiet(), DynamoCalls() as dynamodb:
        answer = request()
    assert answer.status == 200 and answer.body["granted"] == 0, answer
    shards = sum(
        "#CAMPAIGN#" in get["Get"]["Key"]["pk"]["S"]
        for snapshot in dynamodb.named("TransactGetItems")
        for get in snapshot["TransactItems"]
    )
    return f"{_describe(Counter(dynamodb.operations))}; {shards} counter shard(s) read"


def round_trips() -> tuple[dict[str, str], int]:
    """Each request's calls described, and the most an earn (plain or capped) makes of its own."""
    results = {}
    with _system() as system:
        key = system["keys"]["integration"]
        _put_campaign(system, total=10**9)
        with _quiet():
            _call("POST", "/v1/loyalty/earn", _plain(1), key)  # an existing customer
        plain = _counted(lambda: _call("POST", "/v1/loyalty/earn", _plain(1), key))[0]
        results["plain earn"] = _describe(plain)
        capped = _counted(lambda: _call("POST", "/v1/loyalty/earn", _bonus(1), key))[0]
        results["capped bonus"] = _describe(capped)
        earn_max = max(sum(_own(plain).values()), sum(_own(capped).values()))
        _put_campaign(system, total=10, campaign="used-up")
        with _quiet():  # its cap used up at once
            _call("POST", "/v1/loyalty/earn", {**_bonus(3), "campaign_id": "used-up"}, key)
        results["capped bonus, cap used up: the first (marks it)"] = _used_up(
            lambda: _call("POST", "/v1/loyalty/earn", {**_bonus(4), "campaign_id": "used-up"}, key)
        )
        results["capped bonus, cap used up: every later one"] = _used_up(
            lambda: _call("POST", "/v1/loyalty/earn", {**_bonus(5), "campaign_id": "used-up"}, key)
        )
        spend = {"id": f"s-{uuid.uuid4().hex}", "customer_id": "m1", "points": 1}
        results["spend"] = _describe(_counted(lambda: _call("POST", "/v1/loyalty/spend", spend, key))[0])
        _put_workflow(system, "current", "current")
        results["capped bonus + a `current` workflow (not due)"] = _describe(
            _counted(lambda: _call("POST", "/v1/loyalty/earn", _bonus(1), key))[0]
        )
        big = {**_bonus(2), "points": 4000}
        results["capped bonus + a `current` workflow (runs: suspends)"] = _describe(
            _counted(lambda: _call("POST", "/v1/loyalty/earn", big, key))[0]
        )
    return results, earn_max


def _seed(system: dict[str, Any], below: int, above: int) -> None:
    """Customers with today's campaign bonus, written in the adapter's own item shapes, in batches
    (10,000 earns one by one would measure the seeding, not the audience)."""
    from dataclasses import replace

    from functions.shared.storage.port_loyalty import LoyaltyCustomer, PeriodTotals, Totals, periods_of

    repository = system["repository"]
    program_id = system["program"].program_id
    today = datetime.now(UTC)
    items: list[Any] = []

    class Collect:
        def save(self, model: Any, condition: Any = None) -> None:
            items.append(model)

    for n in range(below + above):
        points = 4000 if n < above else 10
        totals = Totals(earned=points, bonus=points)
        customer = LoyaltyCustomer(program_id, f"c{n:05d}", "active", points, 0, totals, today)
        periods = tuple(replace(PeriodTotals(p), totals=totals) for p in periods_of(today.date()))
        repository._write_customer(Collect(), 0, customer, periods)
    with repository._m.base.batch_write() as batch:
        for item in items:
            batch.save(item)


def _audience_once(size: int) -> dict[str, dict[str, float]]:
    with _system() as system:
        key = system["keys"]["integration"]
        _put_campaign(system, total=10**9)
        _seed(system, size, ABOVE)
        _put_workflow(system, "audience", "all")
        figures = {}
        cases = ("suspends 5", "nothing left to do", "last 30 days (runs)", "last 30 days (again)")
        for case in cases:
            if case == "last 30 days (runs)":  # the same customers, in place of today's workflow
                with _quiet():
                    _call("DELETE", "/v1/loyalty/workflows/audience", None, system["keys"]["fraud"])
                _put_workflow(system, "rolling", "all", "last_30_days")
            calls, read, seconds, in_index, queries = _counted(
                lambda: _earn_and_its_workflows(_bonus(1), key)
            )
            figures[case] = {
                "calls": sum(calls.values()),
                "index_queries": queries,
                "index_items_read": read,
                "ms": seconds * 1000,
                "index_query_ms": in_index * 1000,
            }
        return figures


def audience() -> dict[int, dict[str, dict[str, float]]]:
    return {size: _audience_once(size) for size in SIZES}


def run() -> dict[str, float]:
    moto_environment()
    print("earns through the handler against moto (one process, one core)")
    for name, figures in earns().items():
        print(f"  {name:<30} " + json.dumps({k: round(v, 1) for k, v in figures.items()}))
    print("DynamoDB round trips per request (botocore calls)")
    described, earn_max = round_trips()
    for name, text in described.items():
        print(f"  {name:<52} {text}")
    print(f"audience workflow (customer: all), program of N customers below the threshold + {ABOVE} above")
    for size, cases in audience().items():
        for case, figures in cases.items():
            print(
                f"  N={size:<6} {case:<20} {figures['calls']:3d} DynamoDB calls, "
                f"{figures['index_queries']:2d} index queries, {figures['index_items_read']:2d} items read, "
                f"{figures['ms']:8.1f} ms "
                f"(of which moto's index queries {figures['index_query_ms']:8.1f} ms)"
            )
    return {"earn_round_trips": float(earn_max)}
