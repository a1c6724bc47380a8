"""Faults a cloud has (issue 13), injected at the boto3 client (botocore's `_make_api_call`, under the
code under test): the bus failing all or a fifth of its calls, SQS sends failing all or a fifth,
DynamoDB throttling a fifth of every call, DynamoDB writes whose answer is lost after they took
effect, and a scoring run that dies right after its commit.

Each run sends the same partner-program traffic through the real handlers on moto (sign-ups that
flag, transactions whose rewards are held, a dispute decided by the cycle), retrying a 503 as a client
would, then recovers as the schedules would (the outbox relay, the queue, the sweep). Counted:
events accepted, scored, lost; state changes doubled (hold figures that differ from the rewards,
a case opened twice); notifications published, doubled, lost. `pytest -s -k faults` prints the table.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from datetime import timedelta
from typing import Any

import botocore.client
import pytest
from botocore.exceptions import ClientError

from functions.disputes.service import run_cycle
from functions.hold_sweep.service import sweep
from functions.outbox_relay.service import relay_all_notifications, relay_outbox
from functions.shared import runtime
from functions.shared.clock import FixedClock
from local_system.poller import poll_once
from tests.integration.scoring_support import purchase, signup
from tests.support import call, proxy_event

DYNAMODB = "dynamodb"
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}


class Faults:
    """Which calls fail, and how often (a seeded draw: every run of a test fails the same calls)."""

    def __init__(self) -> None:
        self.rules: list[tuple[str, set[str] | None, float, str, bool]] = []
        self.random = random.Random(7)
        self.injected = Counter()

    def fail(
        self, service: str, operations: set[str] | None, rate: float, code: str, after: bool = False
    ) -> None:
        """`after`: the call is made and takes effect, then its answer is lost (a timeout, a
        connection reset after the commit): the caller sees the error of a call that happened."""
        self.rules.append((service, operations, rate, code, after))

    def clear(self) -> None:
        self.rules = []

    def check(self, client: Any, operation: str, after: bool = False) -> None:
        service = client.meta.service_model.service_name
        for wanted, operations, rate, code, when_after in self.rules:
            matches = service == wanted and (operations is None or operation in operations)
            if matches and when_after == after and self.random.random() < rate:
                self.injected[f"{service}:{operation}"] += 1
                raise ClientError({"Error": {"Code": code, "Message": "injected fault"}}, operation)


@pytest.fixture(name="faults")
def faults_fixture(monkeypatch):
    real = botocore.client.BaseClient._make_api_call
    injected = Faults()

    def call_with_faults(self, operation, params):
        injected.check(self, operation)
        answer = real(self, operation, params)
        injected.check(self, operation, after=True)
        return answer

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", call_with_faults)
    return injected


class Recorder:
    """The real publisher, recording what the bus took."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.published: list[tuple[str, str]] = []

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        self.real.publish(detail_type, detail)
        self.published.append((detail_type, detail["notification_id"]))


def _retrying(request, attempts: int = 8):
    """A client's retry of a 503 (it says so: Retry-After)."""
    for _ in range(attempts):
        answer = request()
        if answer.status != 503:
            return answer
    return answer


def _traffic() -> list[dict[str, Any]]:
    n = itertools.count(1)
    events: list[dict[str, Any]] = []
    for pair in range(3):  # three pairs sharing an address: the second of each is flagged
        email = f"pair{pair}@example.com"
        events.append(signup(f"fa{pair}", email=email, ip=f"81.2.73.{next(n)}", at="2026-11-02T09:00:00Z"))
        events.append(signup(f"fb{pair}", email=email, ip=f"81.2.73.{next(n)}", at="2026-11-02T10:00:00Z"))
    for pair in range(3):  # their sales after the flag: rewards held as they arrive
        events.append(purchase(f"fc{pair}", f"fb{pair}", reward="12.00", at="2026-11-03T10:00:00Z"))
        events.append(purchase(f"fd{pair}", f"fa{pair}", reward="8.00", at="2026-11-03T11:00:00Z"))
    return events


def _drain(aws: Any) -> None:
    arn = aws.sqs.get_queue_attributes(QueueUrl=aws.resources.queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    for _ in range(200):
        if not poll_once(aws.sqs, aws.resources.queue_url, arn, wait_seconds=0):
            return


def run_scenario(aws, tenant, security_key, faults: Faults, setup=None) -> dict[str, Any]:
    deps = runtime.dependencies()
    bus = Recorder(deps.publisher)
    deps.publisher = bus
    if setup:
        setup(deps)
    events = _traffic()
    accepted = []
    for event in events:
        answer = _retrying(
            lambda e=event: call("ingest", proxy_event("POST", "/v1/events", e, tenant.keys["integration"]))
        )
        if answer.status == 202:
            accepted.append(event["id"])
    _drain(aws)
    # one flagged partner's dispute, decided and applied by the cycle, under the same faults
    flagged = call(
        "ingest", proxy_event("GET", f"/v1/events/{events[1]['id']}", None, tenant.keys["integration"])
    )
    case_id = flagged.body.get("case_id") if flagged.status == 200 else None
    if case_id:
        _retrying(
            lambda: call(
                "disputes",
                proxy_event("POST", f"/v1/cases/{case_id}/dispute", {"reason": "x"}, tenant.keys["fraud"]),
            )
        )
        _retrying(
            lambda: call(
                "disputes",
                proxy_event("POST", f"/v1/disputes/{case_id}/verdict", {"verdict": "decline"}, security_key),
            )
        )
        try:
            run_cycle(deps)
            sweep(deps)
        except Exception:  # noqa: BLE001, S110 (a scheduled run that fails: the next one goes on)
            pass
    # recovery: the faults pass; the schedules run as they would
    faults.clear()
    deps.clock = FixedClock(deps.clock.now() + timedelta(minutes=5))  # the relay's first run past them
    for _ in range(2):
        relay_outbox(deps)
        _drain(aws)
        run_cycle(deps)
        sweep(deps)
        relay_all_notifications(deps)
    return _count(deps, tenant, events, accepted, bus)


def _count(deps, tenant, events, accepted, bus) -> dict[str, Any]:
    repo = deps.repository
    statuses = Counter(repo.get_event(tenant.program_id, e).status for e in accepted)
    cases = {}
    for view in ("active", "resolved", "removed"):
        for case in repo.cases_in_view(tenant.program_id, view, True):
            cases[case.case_id] = case
    doubled_state = 0
    subjects = Counter((c.subject_type, c.subject_id) for c in cases.values())
    doubled_state += sum(n - 1 for n in subjects.values())  # a subject with two cases from one flag
    for case in cases.values():
        held = [
            r
            for r in repo.subject_rewards(tenant.program_id, case.subject_type, case.subject_id)
            if r.status == "on_hold" and r.case_id == case.case_id
        ]
        doubled_state += case.held_count != len(held)
    published = Counter(bus.published)  # by notification id: what a consumer would see twice
    kinds = Counter(name for name, _ in bus.published)
    return {
        "sent": len(events),
        "accepted": len(accepted),
        "scored": statuses["scored"],
        "lost": len(accepted) - statuses["scored"],
        "doubled": doubled_state,
        "published": len(bus.published),
        "notifications_redelivered": sum(n - 1 for n in published.values()),
        "notifications_lost": len(repo.pending_notifications(tenant.program_id, 1000))
        + max(0, len(cases) - kinds["PartnerFlagged"] - kinds["CustomerFlagged"]),
        "cases": len(cases),
    }


def _timeout_after_commit(deps) -> None:
    """The first scoring run of each event dies right after its first step is committed (the
    Lambda's timeout): SQS delivers it again."""
    from functions.score import engine as engine_module

    real = engine_module.carry_out
    died: set[int] = set()

    def carry_out(store, steps, publisher, delivered=None):
        for step in steps:
            store.apply(step)
            key = id(step)
            if any(type(w).__name__ == "ScoreEvent" for w in step.writes) and key not in died:
                died.add(key)
                raise TimeoutError("Task timed out after the commit")
            real(store, [], publisher, delivered)

    engine_module.carry_out = carry_out  # restored by the fixture below


@pytest.fixture
def restore_engine():
    from functions.score import engine as engine_module

    real = engine_module.carry_out
    yield
    engine_module.carry_out = real


SCENARIOS = {
    "bus 100%": lambda f: f.fail("events", {"PutEvents"}, 1.0, "InternalFailure"),
    "bus 20%": lambda f: f.fail("events", {"PutEvents"}, 0.2, "InternalFailure"),
    "sqs send 100%": lambda f: f.fail("sqs", {"SendMessage", "SendMessageBatch"}, 1.0, "ServiceUnavailable"),
    "sqs send 20%": lambda f: f.fail("sqs", {"SendMessage", "SendMessageBatch"}, 0.2, "ServiceUnavailable"),
    "dynamodb throttling 20%": lambda f: f.fail(DYNAMODB, None, 0.2, "ThrottlingException"),
    "dynamodb write answers lost 30%": lambda f: f.fail(
        DYNAMODB, WRITES, 0.3, "InternalServerError", after=True
    ),
}


@pytest.mark.parametrize("name", list(SCENARIOS) + ["timeout after commit"])
def test_faults_lose_nothing_and_double_nothing(name, aws, tenant, security_key, faults, restore_engine):
    if name in SCENARIOS:
        SCENARIOS[name](faults)
    result = run_scenario(
        aws,
        tenant,
        security_key,
        faults,
        setup=_timeout_after_commit if name == "timeout after commit" else None,
    )
    row = " | ".join(f"{k}={v}" for k, v in result.items())
    print(f"\nFAULTS | {name} | {row} | injected={sum(faults.injected.values())} |")

    assert result["accepted"] == result["sent"]  # a 503 retried by the client is accepted
    assert result["lost"] == 0
    assert result["doubled"] == 0
    assert result["notifications_lost"] == 0
    assert result["cases"] >= 3  # the three partners sharing an address (the order may flag more)
