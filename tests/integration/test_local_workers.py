"""The local system's scoring consumers (`python -m local_system --score-consumers N`): several
batches are scored at once, as the deployed mapping runs several environments, and every event is
still scored once."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import boto3

from local_system.workers import score_consumers
from tests.integration.scoring_support import send, signup, status


def _counting_receipts(client: Any, receipts: Counter[int], index: int) -> Any:
    """Counts the messages each consumer's own client receives (botocore's after-call event)."""

    def count(parsed: dict[str, Any], **_: Any) -> None:
        receipts[index] += len(parsed.get("Messages", []))

    client.meta.events.register("after-call.sqs.ReceiveMessage", count)
    return client


def test_two_consumers_take_batches_of_their_own_and_score_every_event_once(aws, tenant):
    events = [send(tenant, signup(f"c{n}", email=f"twin-{n % 2}@example.com")) for n in range(20)]
    receipts: Counter[int] = Counter()
    made = iter(range(2))

    def client() -> Any:
        return _counting_receipts(boto3.client("sqs", region_name="us-east-1"), receipts, next(made))

    consumers = score_consumers(client, aws.resources.queue_url, 2, 0)
    assert len(consumers) == 2 and consumers[0].sqs is not consumers[1].sqs
    for consumer in consumers:
        consumer.start()
    try:
        deadline = time.monotonic() + 120
        while any(status(tenant, e["id"])["status"] != "scored" for e in events):
            assert time.monotonic() < deadline, "not every event was scored"
            time.sleep(0.2)
    finally:
        for consumer in consumers:
            consumer.stop()
        for consumer in consumers:
            consumer.join(timeout=10)

    # each consumer took messages of its own, and no message was taken twice
    assert receipts[0] > 0 and receipts[1] > 0, receipts
    assert receipts[0] + receipts[1] == len(events), receipts
    assert aws.queued() == []
    # ten partners share each address: whichever consumer scored them, nine of each ten are flagged
    flagged = [e for e in events if "email_duplicate" in _codes(tenant, e["id"])]
    assert len(flagged) == 18


def _codes(tenant: Any, event_id: str) -> set[str]:
    decision = status(tenant, event_id)["decision"]
    return {reason["code"] for reason in decision["reasons"]}
