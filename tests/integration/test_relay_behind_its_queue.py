"""A relay sends nothing while its queue is behind (`relays.queue_behind`), through the outbox
relay's handler on moto, SQS's own count read: a copy not received yet stays in its queue for days,
not for its deliveries' quarter hour, so every event more than two minutes behind was sent again
each quarter hour while scoring was already short of time. Once the queue has caught up, what waits
in the outbox is sent as before: nothing accepted is lost."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from functions.shared import relays, runtime
from functions.shared.clock import FixedClock
from tests.conftest import Aws, Tenant
from tests.integration.scoring_support import send, signup
from tests.support import invoke_raw

SCHEDULED = {"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}
ACCEPTED = 3


def _waiting(aws: Aws) -> int:
    attributes = aws.sqs.get_queue_attributes(
        QueueUrl=aws.resources.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def _accepted_and_unscored(aws: Aws, tenant: Tenant) -> Any:
    for n in range(ACCEPTED):
        send(tenant, signup(f"pb{n}", at="2026-11-02T09:00:00Z"))
    assert _waiting(aws) == ACCEPTED  # ingest's copies, none received yet
    deps = runtime.dependencies()
    deps.clock = FixedClock(deps.clock.now() + timedelta(minutes=5))  # the relay's first run past them
    return deps


@pytest.fixture
def behind_at_three(monkeypatch: Any) -> None:
    """The queue behind from three messages waiting: the rule as it stands at 10,000, at a size a
    test fills."""
    monkeypatch.setattr(relays, "QUEUE_BEHIND", ACCEPTED)


def test_the_relay_sends_no_copy_while_its_queue_is_behind(
    aws: Aws, tenant: Tenant, behind_at_three: None, capsys: Any
) -> None:
    _accepted_and_unscored(aws, tenant)
    capsys.readouterr()

    done = invoke_raw("outbox_relay", SCHEDULED)

    assert done["relayed"] == 0
    assert _waiting(aws) == ACCEPTED  # ingest's copies alone, none beside them
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    held_back = relays.HELD_BACK_METRICS["outbox relay"]
    assert [m[held_back] for m in emitted if held_back in m] == [[1]]  # one run held back


def test_once_the_queue_has_caught_up_what_waits_in_the_outbox_is_sent(
    aws: Aws, tenant: Tenant, behind_at_three: None
) -> None:
    _accepted_and_unscored(aws, tenant)
    # the copies received and lost (a function that stopped before scoring, five times over)
    taken = aws.sqs.receive_message(QueueUrl=aws.resources.queue_url, MaxNumberOfMessages=10)["Messages"]
    for message in taken:
        aws.sqs.delete_message(QueueUrl=aws.resources.queue_url, ReceiptHandle=message["ReceiptHandle"])
    assert len(taken) == ACCEPTED and _waiting(aws) == 0

    done = invoke_raw("outbox_relay", SCHEDULED)

    assert done["relayed"] == ACCEPTED
    assert _waiting(aws) == ACCEPTED
