"""The local poller's batching window, as the event source mapping's: the first message opens it,
and what arrives before it closes goes in the same invocation of the score function."""

from __future__ import annotations

import threading
import time

from local_system.poller import poll_once
from tests.integration.scoring_support import send, signup


def _arn(aws) -> str:
    return aws.sqs.get_queue_attributes(QueueUrl=aws.resources.queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]


def test_messages_that_arrive_within_the_window_are_scored_in_one_batch(aws, tenant):
    send(tenant, signup("w0"))
    later = threading.Timer(0.2, lambda: [send(tenant, signup(f"w{n}")) for n in range(1, 4)])
    later.start()

    started = time.monotonic()
    taken = poll_once(aws.sqs, aws.resources.queue_url, _arn(aws), 10, 0, window_seconds=3)
    later.join()

    assert taken == 4
    assert time.monotonic() - started >= 0.2


def test_a_full_batch_does_not_wait_for_the_window(aws, tenant):
    for n in range(3):
        send(tenant, signup(f"f{n}"))

    started = time.monotonic()
    taken = poll_once(aws.sqs, aws.resources.queue_url, _arn(aws), 3, 0, window_seconds=30)

    assert taken == 3
    assert time.monotonic() - started < 25


def test_without_a_window_one_receive_is_one_batch(aws, tenant):
    send(tenant, signup("n0"))
    later = threading.Timer(0.2, lambda: send(tenant, signup("n1")))
    later.start()

    taken = poll_once(aws.sqs, aws.resources.queue_url, _arn(aws), 10, 0)
    later.join()

    assert taken == 1
    assert poll_once(aws.sqs, aws.resources.queue_url, _arn(aws), 10, 0) == 1
