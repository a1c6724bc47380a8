"""Webhooks in the stack (SPEC 6), by intent: every notification on the bus reaches the webhooks
queue (retried, then dead-lettered), the delivery function reads it in batches reporting each failed
record, secrets are sealed by a rotating, retained KMS key that only the two webhook functions use,
and only the API may seal (Encrypt)."""

from __future__ import annotations

import json

from functions.shared.domain.webhooks import NOTIFICATION_NAMES, SEND_TIMEOUT_SECONDS
from functions.shared.messaging import EventBridgePublisher
from infra import constants, permissions
from tests.infra import cfn


def _queue(template: cfn.Template) -> tuple[str, dict]:
    _, mapping = template.event_source_mapping(constants.WEBHOOK_DELIVERY.handler)
    queue = cfn.referenced_id(mapping["Properties"]["EventSourceArn"])
    return queue, template.props(queue)


def test_every_notification_on_the_bus_goes_to_the_webhooks_queue(template: cfn.Template) -> None:
    queue, _ = _queue(template)
    bus, _ = template.only("AWS::Events::EventBus")
    [rule] = [
        r["Properties"]
        for r in template.of_type("AWS::Events::Rule").values()
        if any(cfn.referenced_id(t["Arn"]) == queue for t in r["Properties"]["Targets"])
    ]
    assert cfn.referenced_id(rule["EventBusName"]) == bus
    assert rule["EventPattern"] == {
        "source": [EventBridgePublisher.SOURCE],
        "detail-type": list(NOTIFICATION_NAMES),
    }
    [target] = rule["Targets"]
    assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 3
    # what SQS does not take after the retries waits in the dead-letter queue, as a failed try does
    assert cfn.referenced_id(target["DeadLetterConfig"]["Arn"]) == cfn.referenced_id(
        template.props(queue)["RedrivePolicy"]["deadLetterTargetArn"]
    )


def test_the_queue_dead_letters_after_as_many_receives_as_locally(
    template: cfn.Template,
) -> None:
    _, props = _queue(template)
    assert props["RedrivePolicy"]["maxReceiveCount"] == constants.WEBHOOKS_MAX_RECEIVES
    assert props["SqsManagedSseEnabled"] is True
    assert props["VisibilityTimeout"] >= 6 * constants.WEBHOOK_DELIVERY.timeout_seconds


def test_the_delivery_function_reads_batches_that_fit_its_timeout(template: cfn.Template) -> None:
    _, mapping = template.event_source_mapping(constants.WEBHOOK_DELIVERY.handler)
    props = mapping["Properties"]
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["ScalingConfig"]["MaximumConcurrency"] == constants.WEBHOOKS_MAX_CONCURRENCY
    # the ceiling on how hard receivers are called, in small runs: a run lasts as long as its
    # slowest try, and a program's slow receivers have one try at a time, so they hold a tenth
    assert props["BatchSize"] * props["ScalingConfig"]["MaximumConcurrency"] == 20
    assert props["ScalingConfig"]["MaximumConcurrency"] >= 10
    # every try of a batch may wait the whole send timeout: the batch still ends in time
    function = template.props(template.functions_by_handler()[constants.WEBHOOK_DELIVERY.handler])
    assert props["BatchSize"] * SEND_TIMEOUT_SECONDS < function["Timeout"]


def test_secrets_are_sealed_by_a_rotating_retained_key(template: cfn.Template) -> None:
    key_id, key = template.only("AWS::KMS::Key", **cfn.WEBHOOK_SECRETS_KEY)
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain" and key["UpdateReplacePolicy"] == "Retain"
    users = {
        spec.name: {
            g.action
            for g in template.grants(template.function_role(fid))
            if g.action.startswith("kms:") and g.resource == f"<{key_id}.Arn>"
        }
        for spec in constants.ALL_FUNCTIONS
        for handler, fid in template.functions_by_handler().items()
        if handler == spec.handler
    }
    assert {name: actions for name, actions in users.items() if actions} == {
        "webhooks": {permissions.KMS_ENCRYPT, permissions.KMS_DECRYPT},
        "webhook_delivery": {permissions.KMS_DECRYPT},  # it signs; it never seals
    }
    # the key's own policy leaves use to IAM (the account root): no other principal may decrypt
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    assert all(s["Action"] == "kms:*" or "kms:Decrypt" not in json.dumps(s["Action"]) for s in statements)


def test_the_webhooks_dead_letter_queue_alarms(template: cfn.Template) -> None:
    _, props = _queue(template)
    dead_letters = cfn.referenced_id(props["RedrivePolicy"]["deadLetterTargetArn"])
    watched = {
        cfn.referenced_id(d["Value"])
        for a in template.of_type("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
        for d in a["Properties"]["Dimensions"]
    }
    assert dead_letters in watched
