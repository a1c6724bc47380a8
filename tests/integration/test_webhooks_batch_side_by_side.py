"""A batch of the webhooks queue taken side by side (a webhooks tester's): taken in turn, one
program's receivers that accept a connection and never answer held another program's delivery of
the same batch behind each of their tries (5 of them: 25 s late; 10 s a try once tries had their
full time). The real delivery handler on moto, the batch as SQS gives it, the other program's try
last in it."""

from __future__ import annotations

import json
import socket
import threading
import time

import boto3
import pytest

from functions.webhooks import delivery
from local_system.poller import invoke, sqs_event
from local_system.webhooks import DELIVER_HANDLER
from tests.integration import test_webhooks_delivery
from tests.integration.test_webhooks_api import api
from tests.integration.test_webhooks_delivery import notify
from tests.integration.webhook_support import receiving


class Tarpit:
    """Accepts every connection and never answers; notes when each was closed by its caller."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(20)
        self.closed: list[float] = []
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.getsockname()[1]}/hook"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._hold, args=(conn,), daemon=True).start()

    def _hold(self, conn: socket.socket) -> None:
        with conn:
            while conn.recv(65536):  # until the caller gives up
                pass
            self.closed.append(time.monotonic())


hooks = test_webhooks_delivery.hooks  # the webhooks queue, its function's environment


@pytest.fixture
def tarpit():
    pit = Tarpit()
    yield pit
    pit.server.close()


def answering_webhook(tenant) -> tuple:
    """The program's webhook `b`, at a receiver that answers 200: (its generator, to close; it)."""
    answering = receiving([200])
    good = next(answering)
    answer = api(
        tenant.keys["admin"], "PUT", "/v1/webhooks/b", {"url": good.url, "events": ["PartnerFlagged"]}
    )
    assert answer.status == 200, answer
    return answering, good


class WebhooksQueue:
    """The webhooks queue as the delivery function's event source uses it: messages received, a
    batch of them taken by the real handler (then deleted, as the event source would)."""

    def __init__(self, hooks: dict[str, str]) -> None:
        self.sqs = boto3.client("sqs", region_name="us-east-1")
        self.url = hooks["WEBHOOKS_QUEUE_URL"]
        attributes = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])
        self.arn = attributes["Attributes"]["QueueArn"]

    def received(self, count: int) -> list[dict]:
        return received(self.sqs, self.url, count)

    def take(self, messages: list[dict]) -> dict:
        answer = invoke(DELIVER_HANDLER, sqs_event(messages, self.arn), timeout_seconds=60)
        for message in messages:
            self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
        return answer

    def delayed(self) -> int:
        names = ["ApproximateNumberOfMessagesDelayed"]
        return int(
            self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=names)["Attributes"][names[0]]
        )


def program_of(message: dict) -> str:
    return str(json.loads(message["Body"])["program_id"])


def received(sqs, url: str, count: int) -> list[dict]:
    found: list[dict] = []
    while len(found) < count:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])
        found += got.get("Messages", [])
    return found


def test_one_programs_silent_receivers_do_not_hold_anothers_delivery_of_the_same_batch(
    aws, hooks, tenant, other_tenant, tarpit, monkeypatch
):
    monkeypatch.setattr(delivery, "SEND_TIMEOUT_SECONDS", 1.0)  # a try's time (10 s deployed)
    for n in range(3):
        answer = api(
            tenant.keys["admin"],
            "PUT",
            f"/v1/webhooks/silent-{n}",
            {"url": tarpit.url, "events": ["PartnerFlagged"]},
        )
        assert answer.status == 200, answer
    answering, good = answering_webhook(other_tenant)
    notify(aws, tenant.program_id, notification_id="a-1")
    notify(aws, other_tenant.program_id, notification_id="b-1")
    queue = WebhooksQueue(hooks)
    assert queue.take(queue.received(2)) == {"batchItemFailures": []}  # the two notifications
    tries = queue.received(4)  # the first try of each webhook
    tries.sort(key=lambda m: json.loads(m["Body"])["program_id"] == other_tenant.program_id)  # B's last

    answer = queue.take(tries)

    assert answer == {"batchItemFailures": []}
    assert len(good.got) == 1 and len(tarpit.closed) == 3
    assert good.got[0].at < min(tarpit.closed)  # B's delivery made while A's tries still waited
    answering.close()


def test_a_body_past_the_parsers_depth_fails_alone_and_a_batch_with_none_taken_is_an_error(
    aws, hooks, tenant
):
    """A review's: the lanes were read before any record's own handling, so a body that stops the
    parser (`[` 100,000 deep: RecursionError) failed the whole batch at every receive; and a batch
    none of whose records is taken answered them all as failed where powertools' batch raised,
    which the function's Errors alarm counts (DynamoDB or KMS down would show only as a backlog)."""
    answering = receiving([200])
    good = next(answering)
    assert (
        api(
            tenant.keys["admin"], "PUT", "/v1/webhooks/w", {"url": good.url, "events": ["PartnerFlagged"]}
        ).status
        == 200
    )
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = hooks["WEBHOOKS_QUEUE_URL"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.send_message(QueueUrl=url, MessageBody="[" * 100_000)
    notify(aws, tenant.program_id, notification_id="n-deep")
    batch = received(sqs, url, 2)
    deep = next(m for m in batch if m["Body"].startswith("[["))

    answer = invoke(DELIVER_HANDLER, sqs_event(batch, arn), timeout_seconds=60)

    assert answer == {"batchItemFailures": [{"itemIdentifier": deep["MessageId"]}]}
    with pytest.raises(RuntimeError, match="none of the batch's 1 records was taken"):
        invoke(DELIVER_HANDLER, sqs_event([deep], arn), timeout_seconds=60)
    answering.close()
