"""Webhooks in the local system (SPEC 6), as the stack has them: a KMS key sealing secrets, the
webhooks queue with its dead-letter queue, a rule on the notification bus sending every
notification to the queue, and a poller standing in for the queue's event source mapping. Retries
wait seconds here, not hours (`LOCAL_WEBHOOK_RETRY_*`), and receivers may be on http://127.0.0.1."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

from functions.shared.domain.webhooks import NOTIFICATION_NAMES
from functions.shared.messaging import EventBridgePublisher
from functions.webhooks.settings import WEBHOOKS_MAX_RECEIVES
from local_system.poller import QueuePoller, poll_once

QUEUE_NAME = "fraud-webhooks"
DEAD_LETTER_QUEUE_NAME = "fraud-webhooks-dlq"
RULE_NAME = "fraud-webhooks-notifications"
DELIVER_HANDLER = "functions.webhooks.deliver.lambda_handler"


def notification_pattern() -> dict[str, Any]:
    """What the rule sends to the webhooks queue: every notification of SPEC 6 (the CDK rule uses
    the same pattern)."""
    return {"source": [EventBridgePublisher.SOURCE], "detail-type": list(NOTIFICATION_NAMES)}


def provision_webhooks(
    client: Callable[[str], Any],
    event_bus_name: str,
    *,
    retry_seconds: tuple[float, float, float] = (1, 2, 120),
) -> dict[str, str]:
    """Creates the key, the queues and the rule; returns the functions' environment for them."""
    key_id = client("kms").create_key(Description="webhook secrets (local)")["KeyMetadata"]["KeyId"]
    sqs = client("sqs")
    dlq_url = sqs.create_queue(QueueName=DEAD_LETTER_QUEUE_NAME)["QueueUrl"]
    dlq_arn = _arn(sqs, dlq_url)
    queue_url = sqs.create_queue(
        QueueName=QUEUE_NAME,
        Attributes={
            "VisibilityTimeout": "30",
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(WEBHOOKS_MAX_RECEIVES)}
            ),
        },
    )["QueueUrl"]
    events = client("events")
    events.put_rule(
        Name=RULE_NAME, EventBusName=event_bus_name, EventPattern=json.dumps(notification_pattern())
    )
    events.put_targets(
        Rule=RULE_NAME,
        EventBusName=event_bus_name,
        Targets=[{"Id": "webhooks-queue", "Arn": _arn(sqs, queue_url)}],
    )
    base, most, horizon = retry_seconds
    return {
        "WEBHOOKS_QUEUE_URL": queue_url,
        "WEBHOOKS_DLQ_URL": dlq_url,
        "WEBHOOKS_KMS_KEY_ID": key_id,
        "WEBHOOK_RETRY_BASE_SECONDS": str(base),
        "WEBHOOK_RETRY_MAX_SECONDS": str(most),
        "WEBHOOK_RETRY_HORIZON_SECONDS": str(horizon),
        "WEBHOOKS_ALLOW_LOOPBACK_HTTP": "true",
    }


def local_retry_seconds() -> tuple[float, float, float]:
    return (
        float(os.environ.get("LOCAL_WEBHOOK_RETRY_BASE_SECONDS", "1")),
        float(os.environ.get("LOCAL_WEBHOOK_RETRY_MAX_SECONDS", "4")),
        float(os.environ.get("LOCAL_WEBHOOK_RETRY_HORIZON_SECONDS", "300")),
    )


def _arn(sqs: Any, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def poll_webhooks_once(sqs: Any, queue_url: str, queue_arn: str, wait_seconds: int = 1) -> int:
    """One receive-invoke-delete round of the webhooks queue, partial batch failures honoured."""
    return poll_once(sqs, queue_url, queue_arn, 10, wait_seconds, DELIVER_HANDLER, timeout_seconds=120)


def webhooks_poller(sqs: Any, queue_url: str) -> QueuePoller:
    """The webhooks queue's event source mapping: batches as they come (no window), each try given
    the delivery function's time."""
    return QueuePoller(sqs, queue_url, DELIVER_HANDLER, 10, window_seconds=0, timeout_seconds=120)
