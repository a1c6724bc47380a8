"""The score function's queue contract: batches, partial failures, redelivery."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from local_system.poller import poll_once, sqs_event
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
