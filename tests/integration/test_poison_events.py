"""An event whose scoring fails with something other than a refusal (a fault of this code, or
DynamoDB calling a request malformed) still leaves the outbox at its last delivery: marked failed,
with a detail that names no internals, and the relay does not send it again. A batch whose first read
fails that way still scores each of its events."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import botocore.client
import pytest
from botocore.exceptions import ClientError

from functions.outbox_relay.service import relay_outbox
from functions.shared import runtime
from functions.shared.clock import FixedClock
from local_system.poller import poll_once
from tests.conftest import Aws, Tenant
from tests.integration.scoring_support import send, signup

REAL = botocore.client.BaseClient._make_api_call


def _drain(aws: Aws) -> None:
    aws.sqs.set_queue_attributes(QueueUrl=aws.resources.queue_url, Attributes={"VisibilityTimeout": "0"})
    arn = aws.sqs.get_queue_attributes(QueueUrl=aws.resources.queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    for _ in range(50):  # until the queue is empty: scored, or dead-lettered after its last delivery
        counts = aws.sqs.get_queue_attributes(QueueUrl=aws.resources.queue_url, AttributeNames=["All"])
        waiting = counts["Attributes"]
        if (
            int(waiting["ApproximateNumberOfMessages"])
            + int(waiting["ApproximateNumberOfMessagesNotVisible"])
            == 0
        ):
            return
        poll_once(aws.sqs, aws.resources.queue_url, arn, wait_seconds=0)


def _malformed(which: str) -> Any:
    """DynamoDB answering ValidationException to one kind of read: the adapter's `StorageBug`."""

    def call(client: Any, operation: str, params: dict[str, Any]) -> Any:
        if client.meta.service_model.service_name == "dynamodb" and operation == "BatchGetItem":
            snapshot = "LINK" in str(params)  # a scoring snapshot; else the batch's events
            if (which == "snapshot") == snapshot:
                raise ClientError(
                    {"Error": {"Code": "ValidationException", "Message": "injected"}}, operation
                )
        return REAL(client, operation, params)

    return call


def _failing(code: str) -> Any:
    """DynamoDB failing every scoring write with `code`, whatever its retries: throttling (a hot
    key), or a refusal (the role's grant not rolled out yet, credentials expired)."""

    def call(client: Any, operation: str, params: dict[str, Any]) -> Any:
        if client.meta.service_model.service_name == "dynamodb" and operation == "TransactWriteItems":
            raise ClientError({"Error": {"Code": code, "Message": "injected"}}, operation)
        return REAL(client, operation, params)

    return call


@pytest.mark.parametrize(
    "malformed",
    # a transaction called malformed was "the table did not answer": kept, sent again for a day
    [_malformed("snapshot"), _failing("ValidationException")],
    ids=["a-read", "the-step's-transaction"],
)
def test_an_event_failing_with_a_storage_bug_leaves_the_outbox_at_its_last_delivery(
    aws: Aws, tenant: Tenant, monkeypatch: Any, malformed: Any
) -> None:
    event = send(tenant, signup("p-poison"))
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", malformed)
    _drain(aws)
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", REAL)

    dead = aws.sqs.receive_message(QueueUrl=aws.resources.dead_letter_queue_url, MaxNumberOfMessages=10)
    assert len(dead.get("Messages", [])) == 1  # dead-lettered after its last delivery, as designed
    stored = aws.repository.get_event(tenant.program_id, event["id"])
    assert stored.status == "failed"
    assert stored.failure == "scoring failed: an internal error (reported to the operators)"
    assert "Validation" not in (stored.failure or "") and "injected" not in (stored.failure or "")
    deps = runtime.dependencies()
    deps.clock = FixedClock(deps.clock.now() + timedelta(minutes=10))
    assert relay_outbox(deps) == 0  # not sent to the queue again


def test_a_batch_whose_first_read_fails_scores_each_event_alone(
    aws: Aws, tenant: Tenant, monkeypatch: Any
) -> None:
    events = [send(tenant, signup(f"p-batch-{n}")) for n in range(3)]
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", _malformed("events"))
    _drain(aws)
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", REAL)
    assert {aws.repository.get_event(tenant.program_id, e["id"]).status for e in events} == {"scored"}


def test_a_stored_body_that_no_longer_validates_says_which_field_without_the_librarys_text() -> None:
    from pydantic import BaseModel, ValidationError

    from functions.score.service import failure_detail

    class Amounts(BaseModel):
        amount: int

    try:
        Amounts.model_validate({"amount": "1E+2"})
    except ValidationError as error:
        detail = failure_detail(error)
    assert detail.startswith("the event as stored does not validate: amount: ")
    assert "pydantic" not in detail and "errors.pydantic.dev" not in detail


_throttled = _failing("ProvisionedThroughputExceededException")
STORE_FAULTS = pytest.mark.parametrize(
    "code", ["ProvisionedThroughputExceededException", "AccessDeniedException", "ExpiredTokenException"]
)


REFUSED = "scoring failed: the platform's storage refused it (reported to the operators)"
FAILURES = {
    "ProvisionedThroughputExceededException": "writing a step failed: the table did not answer",
    "AccessDeniedException": REFUSED,
    "ExpiredTokenException": REFUSED,
}


@STORE_FAULTS
def test_an_event_the_store_throttles_or_refuses_past_its_deliveries_is_kept_and_scored_when_sent_again(
    aws: Aws, tenant: Tenant, monkeypatch: Any, code: str
) -> None:
    event = send(tenant, signup(f"p-{code}"))
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", _failing(code))
    _drain(aws)
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", REAL)

    dead = aws.sqs.receive_message(QueueUrl=aws.resources.dead_letter_queue_url, MaxNumberOfMessages=10)
    assert len(dead.get("Messages", [])) == 1  # its deliveries ran out, the alarm's message
    assert aws.repository.get_event(tenant.program_id, event["id"]).status == "queued"  # not lost
    deps = runtime.dependencies()
    deps.clock = FixedClock(deps.clock.now() + timedelta(minutes=5))
    assert relay_outbox(deps) == 1  # still in the outbox: sent again
    _drain(aws)
    assert aws.repository.get_event(tenant.program_id, event["id"]).status == "scored"


@STORE_FAULTS
def test_an_event_throttled_or_refused_for_a_day_is_marked_failed_at_its_last_delivery(
    aws: Aws, tenant: Tenant, monkeypatch: Any, code: str
) -> None:
    event = send(tenant, signup(f"p-{code}-for-ever"))
    deps = runtime.dependencies()
    monkeypatch.setattr(deps, "clock", FixedClock(deps.clock.now() + timedelta(hours=24, seconds=1)))
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", _failing(code))
    _drain(aws)
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", REAL)

    stored = aws.repository.get_event(tenant.program_id, event["id"])
    assert stored.status == "failed"
    assert "injected" not in (stored.failure or "")
    assert stored.failure == FAILURES[code]  # the program's to read: nothing of the deployment's set-up
    assert relay_outbox(deps) == 0  # out of the outbox


def test_an_event_kept_for_a_throttled_store_is_relayed_once_per_copys_life_in_the_queue(
    aws: Aws, tenant: Tenant, monkeypatch: Any
) -> None:
    # every run of the relay sent one more copy while the ones before were still queued: on a
    # throttled hot key, kept for a day, that piled copy on copy on the key that was throttled
    send(tenant, signup("p-throttled-long"))
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", _throttled)
    _drain(aws)
    deps = runtime.dependencies()
    start = deps.clock.now()
    sent = []
    for minutes in range(5, 50, 5):  # the relay's runs over 45 minutes, every 5
        deps.clock = FixedClock(start + timedelta(minutes=minutes))
        sent.append(relay_outbox(deps))
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", REAL)

    assert sum(sent) == 3, sent  # once per 15 minutes (5 deliveries x 180 s), not at every run
