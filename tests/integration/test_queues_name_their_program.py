"""Every message the functions put on a queue that all programs share (scoring, webhook tries,
loyalty workflow runs) names its program as its message group: on a standard queue that is SQS's
fair queueing, which holds back a program taking more than its share of the consumers (a backfill
of a million events, a wave of flags times twenty webhooks) while other programs' messages wait,
instead of every program waiting behind it. Through the real handlers on moto; the groups read
back from the queues as a consumer would."""

from __future__ import annotations

import json
import os

import boto3

from functions.shared.messaging import SqsScoringQueue
from tests.integration import test_webhooks_delivery
from tests.integration.scoring_support import send, signup
from tests.integration.test_loyalty_support import Loyalty, clock_fixture, workflow_settings  # noqa: F401
from tests.integration.test_webhooks_api import api
from tests.integration.test_webhooks_batch_side_by_side import WebhooksQueue
from tests.integration.test_webhooks_delivery import notify
from tests.integration.webhook_support import receiving
from tests.support import call, proxy_event

hooks = test_webhooks_delivery.hooks  # the webhooks queue, its function's environment


def groups(url: str, count: int) -> dict[str, str]:
    """Each of `count` messages waiting on the queue: its body's program, to its message group."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    found: dict[str, str] = {}
    for _ in range(count * 3):
        answer = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["MessageGroupId"]
        )
        for message in answer.get("Messages", []):
            body = json.loads(message["Body"])
            found[
                f"{body['program_id']} {body.get('event_id') or body.get('webhook_id') or body['action_id']}"
            ] = message.get("Attributes", {}).get("MessageGroupId", "")
        if len(found) >= count:
            break
    assert len(found) == count, found
    return found


def test_scoring_messages_are_grouped_by_their_program(aws, tenant, other_tenant):
    # an event each through the ingest API, and the relay's batch of two programs' events
    send(tenant, signup("p-a"))
    send(other_tenant, signup("p-b"))
    SqsScoringQueue(boto3.client("sqs", region_name="us-east-1"), aws.resources.queue_url).send_many(
        [(tenant.program_id, "relayed-a"), (other_tenant.program_id, "relayed-b")]
    )

    found = groups(aws.resources.queue_url, 4)

    assert {key.split()[0]: group for key, group in found.items()} == {
        tenant.program_id: tenant.program_id,
        other_tenant.program_id: other_tenant.program_id,
    }
    assert all(key.split()[0] == group for key, group in found.items()), found


def test_webhook_tries_are_grouped_by_their_program(aws, hooks, tenant, other_tenant):
    answering = receiving([200])
    receiver = next(answering)
    for t in (tenant, other_tenant):
        for webhook_id in ("w-1", "w-2"):
            body = {"url": receiver.url, "events": ["PartnerFlagged"]}
            assert api(t.keys["admin"], "PUT", f"/v1/webhooks/{webhook_id}", body).status == 200
        notify(aws, t.program_id, notification_id=f"n-{t.program_id}")
    queue = WebhooksQueue(hooks)
    assert queue.take(queue.received(2)) == {"batchItemFailures": []}  # the two notifications

    found = groups(queue.url, 4)  # the first try of each program's two webhooks

    assert sorted(found) == sorted(
        f"{t.program_id} {w}" for t in (tenant, other_tenant) for w in ("w-1", "w-2")
    )
    assert all(key.split()[0] == group for key, group in found.items()), found
    answering.close()


def test_workflow_runs_are_grouped_by_their_program(tenant, other_tenant, clock):
    for t in (tenant, other_tenant):
        settings = workflow_settings(threshold=10, actions=[{"type": "suspend"}])
        assert Loyalty(t.keys).workflow("w1", settings).status == 200
        earn = {"id": "earn-1", "customer_id": "c1", "points": 60, "kind": "purchase"}
        answer = call("loyalty", proxy_event("POST", "/v1/loyalty/earn", earn, t.keys["integration"]))
        assert answer.status == 200  # over the threshold: its run waits on the workflow queue

    found = groups(os.environ["LOYALTY_WORKFLOW_QUEUE_URL"], 2)

    assert sorted(found) == sorted(f"{t.program_id} earn-1" for t in (tenant, other_tenant))
    assert all(key.split()[0] == group for key, group in found.items()), found
