"""The score function's queue contract: batches, partial failures, redelivery."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import botocore.client
import pytest
from botocore.exceptions import ClientError

from functions.shared import runtime
from functions.shared.changes import deliver
from functions.shared.errors import StorageUnavailable
from functions.shared.messaging import InMemoryPublisher
from local_system.poller import poll_once, sqs_event
from tests.integration.scoring_support import send, signup, status
from tests.support import call, invoke_raw, proxy_event, sample


def message(body: str, message_id: str) -> dict:
    return {
        "MessageId": message_id,
        "ReceiptHandle": f"rh-{message_id}",
        "Body": body,
        "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795740000000"},
    }


def test_a_poison_message_fails_alone_and_the_rest_of_the_batch_is_taken(aws, tenant):
    event = sample("reward.created")
    call("ingest", proxy_event("POST", "/v1/events", event, tenant.keys["integration"]))
    good = json.dumps({"program_id": tenant.program_id, "event_id": event["id"]})
    batch = sqs_event(
        [
            message(good, "m-good"),
            message("not json", "m-poison"),
            message(json.dumps({"program_id": "x"}), "m-partial"),
        ],
        "arn:aws:sqs:us-east-1:123456789012:fraud-scoring",
    )

    answer = invoke_raw("score", batch)

    assert answer == {"batchItemFailures": [{"itemIdentifier": "m-poison"}, {"itemIdentifier": "m-partial"}]}
    later = datetime.now(UTC) + timedelta(hours=1)
    assert aws.repository.outbox(tenant.program_id, later, 10) == []  # scoring has it


def test_a_redelivered_message_is_harmless(aws, tenant):
    event = sample("reward.created")
    call("ingest", proxy_event("POST", "/v1/events", event, tenant.keys["integration"]))
    body = json.dumps({"program_id": tenant.program_id, "event_id": event["id"]})
    batch = sqs_event([message(body, "m1")], "arn:aws:sqs:us-east-1:123456789012:fraud-scoring")

    assert invoke_raw("score", batch) == {"batchItemFailures": []}
    first = aws.repository.get_event(tenant.program_id, event["id"])
    assert invoke_raw("score", batch) == {"batchItemFailures": []}
    again = aws.repository.get_event(tenant.program_id, event["id"])
    assert first.status == again.status == "scored"
    assert again.decision == first.decision
    assert (
        len(aws.repository.subject_rewards(tenant.program_id, "partner", event["reward"]["partner_id"])) == 1
    )


def test_messages_that_keep_failing_end_in_the_dead_letter_queue(aws, tenant):
    """The local poller against the queue's real redrive policy, as the event source mapping does."""
    sqs = aws.sqs
    arn = sqs.get_queue_attributes(QueueUrl=aws.resources.queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    event = sample("reward.created")
    call("ingest", proxy_event("POST", "/v1/events", event, tenant.keys["integration"]))
    sqs.send_message(QueueUrl=aws.resources.queue_url, MessageBody="poison")
    sqs.set_queue_attributes(QueueUrl=aws.resources.queue_url, Attributes={"VisibilityTimeout": "0"})

    taken = sum(poll_once(sqs, aws.resources.queue_url, arn, wait_seconds=0) for _ in range(6))

    assert taken == 1
    dead = sqs.receive_message(QueueUrl=aws.resources.dead_letter_queue_url, MaxNumberOfMessages=10)[
        "Messages"
    ]
    assert [m["Body"] for m in dead] == ["poison"]
    assert aws.queued() == []


# --- the outbox: delivered notifications leave it once per batch --------------------------------
def _flagging_batch(tenant: Any, pairs: int) -> dict[str, Any]:
    """`pairs` partners who each change their address to another partner's, scored in one batch."""
    records = []
    for n in range(pairs):
        twin = f"twin-batch-{n}@example.com"
        first = send(tenant, signup(f"p-batch-twin-{n}", email=twin, ip=f"81.2.71.{n + 1}"))
        update = sample("account.updated", id=f"upd-batch-{n}", activity="email_change")
        update["partner"] = {"id": f"p-batch-{n}", "email": twin}
        send(tenant, update)
        for event in (first, update):
            body = json.dumps({"program_id": tenant.program_id, "event_id": event["id"]})
            records.append(message(body, f"m-{event['id']}"))
    return sqs_event(records, "arn:aws:sqs:us-east-1:123456789012:fraud-scoring")


@pytest.fixture
def dynamodb_calls(monkeypatch):
    """Every DynamoDB operation the functions call, by name; `fail` makes one operation throttle."""
    real = botocore.client.BaseClient._make_api_call
    state = SimpleNamespace(calls=[], fail=None)

    def recording(self, operation, params):
        if self.meta.service_model.service_name == "dynamodb":
            state.calls.append(operation)
            if operation == state.fail:
                raise ClientError(
                    {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, operation
                )
        return real(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    return state


def test_a_batch_takes_the_notifications_it_delivered_out_of_the_outbox_in_one_write(
    aws, tenant, dynamodb_calls
):
    batch = _flagging_batch(tenant, pairs=3)
    dynamodb_calls.calls.clear()

    assert invoke_raw("score", batch) == {"batchItemFailures": []}

    flagged = [status(tenant, f"upd-batch-{n}") for n in range(3)]
    assert [f["decision"]["action"] for f in flagged] == ["flag"] * 3
    assert aws.repository.pending_notifications(tenant.program_id, 100) == []  # every one delivered
    assert dynamodb_calls.calls.count("BatchWriteItem") == 1  # not one per flagged event


def test_when_the_outbox_cannot_be_cleared_the_batch_succeeds_and_the_relay_sends_them_again(
    aws, tenant, dynamodb_calls
):
    batch = _flagging_batch(tenant, pairs=2)
    dynamodb_calls.fail = "BatchWriteItem"

    assert invoke_raw("score", batch) == {"batchItemFailures": []}  # scored: nothing to retry

    assert [status(tenant, f"upd-batch-{n}")["decision"]["action"] for n in range(2)] == ["flag"] * 2
    left = aws.repository.pending_notifications(tenant.program_id, 100)
    assert len(left) >= 2  # published, still in the outbox: the relay sends them again
    dynamodb_calls.fail = None
    publisher = InMemoryPublisher()
    assert deliver(
        aws.repository, publisher, aws.repository.pending_notifications(tenant.program_id, 1000)
    ) == len(left)
    assert sorted(d["notification_id"] for _, d in publisher.published) == sorted(
        n.notification_id for n in left
    )  # the same ids: a consumer drops what it already had
    assert aws.repository.pending_notifications(tenant.program_id, 100) == []


def test_a_batch_reads_its_events_at_once_and_each_event_is_one_snapshot_and_one_transaction(
    aws, tenant, dynamodb_calls
):
    batch = _flagging_batch(tenant, pairs=3)  # three sign-ups, three account updates that flag
    dynamodb_calls.calls.clear()

    assert invoke_raw("score", batch) == {"batchItemFailures": []}
    calls = list(dynamodb_calls.calls)

    assert [status(tenant, f"upd-batch-{n}")["decision"]["action"] for n in range(3)] == ["flag"] * 3
    assert "GetItem" not in calls and "Query" not in calls  # no event read alone, no reward query
    assert calls.count("BatchGetItem") == 1 + 6  # the batch's events, then one snapshot each
    assert calls.count("TransactWriteItems") == 6  # a flag and its marks in one transaction


def test_when_the_batch_read_fails_each_event_reads_its_own(aws, tenant, dynamodb_calls, monkeypatch):
    batch = _flagging_batch(tenant, pairs=1)
    monkeypatch.setattr(runtime.dependencies().repository, "get_events", _throttled)

    dynamodb_calls.calls.clear()
    assert invoke_raw("score", batch) == {"batchItemFailures": []}
    calls = list(dynamodb_calls.calls)

    assert status(tenant, "upd-batch-0")["decision"]["action"] == "flag"
    assert calls.count("GetItem") == 2  # each event on its own


def _throttled(refs):
    raise StorageUnavailable("throttled")
