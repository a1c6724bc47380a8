"""`POST /v1/events?wait=decision` (SPEC 3.1 "Synchronous decision") through the real ingest and
score handlers against moto: recorded first, scored on the request's path, exactly once whichever
of the request and the queue scores it first."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest

from functions.ingest.service import accept_event
from functions.score.engine import Engine
from functions.score.service import reference_data
from functions.shared import runtime
from functions.shared.clock import FixedClock
from functions.shared.domain.identity import network_pepper
from functions.shared.errors import StorageUnavailable
from functions.shared.messaging import InMemoryPublisher
from functions.shared.runtime import Dependencies
from functions.shared.storage.dynamodb import DynamoRepository
from functions.shared.storage.memory import InMemoryRepository
from local_system.poller import sqs_event
from tests.conftest import make_tenant
from tests.integration.scoring_support import device_signups, drain, send, signup, status
from tests.support import call, invoke_raw, proxy_event

WAIT = {"wait": "decision"}


def post(tenant: Any, body: dict[str, Any], query: dict[str, str] | None = WAIT):
    return call("ingest", proxy_event("POST", "/v1/events", body, tenant.keys["integration"], query=query))


class Recorder:
    """The real publisher, recording each notification the bus took."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.published: list[str] = []

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        self.real.publish(detail_type, detail)
        self.published.append(detail_type)


@pytest.fixture
def bus(aws):
    deps = runtime.dependencies()  # the ingest and score handlers share these in one process
    recorder = Recorder(deps.publisher)
    deps.publisher = recorder
    return recorder


def twins() -> tuple[dict[str, Any], dict[str, Any]]:
    """Two sign-ups of one person: the second is flagged (same e-mail, same device)."""
    first = signup("tw1", email="twin.one@example.com", device="fp-twin", at="2026-11-02T09:00:00Z")
    second = signup("tw2", email="twin.one@example.com", device="fp-twin", at="2026-11-02T09:05:00Z")
    return first, second


def test_a_new_event_answers_200_with_its_decision_and_the_queue_finds_it_scored(aws, tenant, bus):
    first, second = twins()
    send(tenant, first)
    drain(aws)

    answer = post(tenant, second)

    assert answer.status == 200, answer
    assert answer.body == status(tenant, second["id"])  # the body of GET /v1/events/{id}
    assert answer.body["status"] == "scored"
    assert answer.body["decision"]["action"] == "flag"
    assert answer.body["case_id"]
    # storage first, as always: the reference went to the queue too; scoring it changes nothing
    assert [json.loads(m["Body"])["event_id"] for m in aws.queued()] == [second["id"]]
    flagged = bus.published.count("PartnerFlagged")
    assert drain(aws) == 1
    assert status(tenant, second["id"]) == answer.body
    assert bus.published.count("PartnerFlagged") == flagged == 1


def test_a_retry_of_a_scored_event_answers_200_with_its_decision(aws, tenant):
    first, _ = twins()
    send(tenant, first)
    drain(aws)

    again = post(tenant, first)
    plain = post(tenant, first, query=None)

    assert again.status == 200, again
    assert again.body == status(tenant, first["id"])
    assert again.body["decision"]["action"] == "allow"
    assert plain.status == 202 and plain.body == {"event_id": first["id"], "status": "scored"}


def test_a_retry_with_another_body_is_409_even_when_waiting(aws, tenant):
    first, _ = twins()
    post(tenant, first)
    changed = {**first, "occurred_at": "2026-11-02T09:01:00Z"}

    answer = post(tenant, changed)

    assert answer.status == 409, answer


def test_no_wait_left_answers_the_usual_202(aws, tenant):
    first, _ = twins()

    answer = post(tenant, first, query={"wait": "decision", "timeout_ms": "0"})

    assert answer.status == 202, answer
    assert answer.body == {"event_id": first["id"], "status": "queued"}
    assert status(tenant, first["id"])["status"] == "queued"
    assert drain(aws) == 1  # the queue scores it
    assert status(tenant, first["id"])["status"] == "scored"


@pytest.mark.parametrize(
    "query",
    [
        {"wait": "soon"},
        {"wait": "decision", "timeout_ms": "10001"},
        {"wait": "decision", "timeout_ms": "-1"},
        {"wait": "decision", "timeout_ms": "3s"},
        {"timeout_ms": "500"},  # a wait asked for by half: said, not taken silently
    ],
)
def test_a_bad_wait_is_422_and_records_nothing(aws, tenant, query):
    first, _ = twins()

    answer = post(tenant, first, query=query)

    assert answer.status == 422, answer
    assert answer.headers["content-type"] == "application/problem+json"
    fields = {e["field"] for e in answer.body["errors"]}
    assert fields & {"query.wait", "query.timeout_ms"}, answer.body
    missing = call(
        "ingest", proxy_event("GET", f"/v1/events/{first['id']}", None, tenant.keys["integration"])
    )
    assert missing.status == 404
    assert aws.queued() == []


@pytest.mark.parametrize(
    "fault",
    [StorageUnavailable("throttled"), KeyError("a fault of this code"), RuntimeError("DynamoDB: malformed")],
    ids=["throttled", "a-bug", "storage-bug"],
)
def test_a_failing_scorer_leaves_the_event_to_the_queue(aws, tenant, monkeypatch, fault):
    """The bus and the table are fine but scoring throws on the request's path (a throttled read,
    say, or a fault of this code: the event is recorded and queued either way, so never a 500):
    the answer is the usual 202 once the wait is over, and the queue scores the event."""

    first, _ = twins()
    real = DynamoRepository.scoring_snapshot

    def throttled(self, *args, **kwargs):
        raise fault

    monkeypatch.setattr(DynamoRepository, "scoring_snapshot", throttled)
    answer = post(tenant, first, query={"wait": "decision", "timeout_ms": "200"})
    monkeypatch.setattr(DynamoRepository, "scoring_snapshot", real)

    assert answer.status == 202, answer
    assert answer.body == {"event_id": first["id"], "status": "queued"}
    assert drain(aws) == 1
    assert status(tenant, first["id"])["status"] == "scored"


def both_read(real: Any) -> Any:
    """`real` (a store's `scoring_snapshot`), holding each of two scorers after its first snapshot
    until the other has read its own: both decide on the same state and both try to write, the
    worst interleaving of the race."""
    barrier = threading.Barrier(2, timeout=20)
    held: set[int] = set()

    def scoring_snapshot(repository: Any, *args: Any, **kwargs: Any) -> Any:
        snapshot = real(repository, *args, **kwargs)
        if len(held) < 2 and threading.get_ident() not in held:  # the first two scorers only
            held.add(threading.get_ident())
            barrier.wait()
        return snapshot

    return scoring_snapshot


def test_a_synchronous_decision_racing_the_queue_scores_once(aws, tenant, bus, monkeypatch):
    # Given a flagging sign-up already recorded and queued (a first POST without a wait)
    first, second = twins()
    send(tenant, first)
    drain(aws)
    send(tenant, second)
    (queued,) = aws.queued()
    flagged_before = bus.published.count("PartnerFlagged")
    monkeypatch.setattr(DynamoRepository, "scoring_snapshot", both_read(DynamoRepository.scoring_snapshot))

    # When its retry waits for the decision while the queue delivers it to scoring
    batch = sqs_event([queued], "arn:aws:sqs:us-east-1:123456789012:fraud-scoring")
    with ThreadPoolExecutor(2) as pool:
        request = pool.submit(post, tenant, second)
        scoring = pool.submit(invoke_raw, "score", batch)
        answer, scored = request.result(timeout=60), scoring.result(timeout=60)

    # Then both end well, and the event was scored once: one decision, one case, one notification,
    # one count on its device's velocity counter
    assert scored == {"batchItemFailures": []}
    assert answer.status == 200, answer
    assert answer.body == status(tenant, second["id"])
    assert answer.body["decision"]["action"] == "flag"
    assert bus.published.count("PartnerFlagged") - flagged_before == 1
    case = aws.repository.get_case(tenant.program_id, answer.body["case_id"])
    assert case.status == "open"
    assert len(list(aws.repository.case_audit(tenant.program_id, case.case_id))) == 1
    assert device_signups(aws.repository, tenant.program_id, "fp-twin", status_time(second)) == 2  # once each


def status_time(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(event["occurred_at"].replace("Z", "+00:00"))


def test_the_memory_store_scores_a_raced_event_once(monkeypatch):
    """The same race on the plain in-memory store: two engines, one event, both read before either
    writes; one decision is written, the other run finds the event scored."""
    repository = InMemoryRepository()
    tenant = make_tenant(repository, "Program M")
    publisher = InMemoryPublisher()
    deps = Dependencies(repository, publisher, FixedClock(datetime(2026, 11, 3, tzinfo=UTC)))
    first, second = twins()
    engine = Engine(repository, reference_data(), network_pepper(), publisher)
    stored_first = accept_event(
        deps, tenant.program_id, first["id"], first["type"], status_time(first), first
    )
    engine.score(stored_first)
    stored = accept_event(deps, tenant.program_id, second["id"], second["type"], status_time(second), second)
    monkeypatch.setattr(
        InMemoryRepository, "scoring_snapshot", both_read(InMemoryRepository.scoring_snapshot)
    )

    with ThreadPoolExecutor(2) as pool:
        runs = [r.result(timeout=60) for r in [pool.submit(engine.score, stored) for _ in range(2)]]

    assert sorted(r.already_scored for r in runs) == [False, True]
    event = repository.get_event(tenant.program_id, second["id"])
    assert event.status == "scored" and event.decision["action"] == "flag"
    assert [name for name, _ in publisher.published].count("PartnerFlagged") == 1
    assert device_signups(repository, tenant.program_id, "fp-twin", status_time(second)) == 2


def test_the_openapi_document_describes_the_wait_and_the_200():
    from functions.openapi.handler import openapi_document

    operation = json.loads(openapi_document())["paths"]["/v1/events"]["post"]
    parameters = {p["name"]: p for p in operation["parameters"]}
    assert parameters["wait"]["in"] == "query"
    assert "decision" in json.dumps(parameters["wait"]["schema"])
    assert parameters["timeout_ms"]["schema"]["maximum"] == 10000
    assert parameters["timeout_ms"]["schema"]["default"] == 3000
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/EventStatus"}
    queued = operation["responses"]["202"]["content"]["application/json"]["schema"]
    assert queued == {"$ref": "#/components/schemas/Accepted"}


@pytest.mark.parametrize("amount", [12.5, 0.1, 7, "12.50"], ids=["decimals", "a-tenth", "whole", "text"])
def test_an_amount_sent_as_a_json_number_is_scored_on_the_requests_path(aws, tenant, amount):
    # SPEC 3.1: an amount is a decimal string or a JSON number; either is decided synchronously
    event = {
        "id": f"evt-amount-{amount}",
        "type": "reward.created",
        "occurred_at": "2026-11-02T10:00:00Z",
        "reward": {"id": f"r-amount-{amount}", "partner_id": "p-amount", "amount": amount, "currency": "EUR"},
    }

    answer = post(tenant, event)

    assert answer.status == 200, answer
    assert answer.body["status"] == "scored"
