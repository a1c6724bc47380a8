"""An identifier the sender controls becomes part of a DynamoDB key, bounded in characters by the
API and DynamoDB in bytes (2,048 for a partition key, 1,024 for a sort key). Past them every scoring
write was refused as malformed: the event was accepted (202), never scored, and after its
deliveries `failed: an internal error`: no decision, no case, no flag. Keys hold an identifier past
`keys.KEY_TEXT_MOST` bytes as its digest, and a fingerprint long in bytes is kept as its SHA-256."""

from __future__ import annotations

import contextlib
import json

from local_system.poller import sqs_event
from tests.integration.scoring_support import drain, purchase, signup, status
from tests.support import call, invoke_raw, proxy_event, sample

MAX_RECEIVES = 5
EMOJI_510 = "".join(chr(0x1F600 + i % 64) for i in range(510))  # 510 characters, 2,040 bytes: kept as sent
EMOJI_300 = "".join(chr(0x1F600 + i % 64) for i in range(300))  # 300 characters, 1,200 bytes


def post(body, key, query=None):
    return call("ingest", proxy_event("POST", "/v1/events", body, key, None, query))


def deliver_until_last(tenant, event_id):
    """The scoring queue's deliveries, as the event source mapping makes them, up to the last."""
    for count in range(1, MAX_RECEIVES + 1):
        record = {
            "MessageId": f"m{count}",
            "ReceiptHandle": f"r{count}",
            "MD5OfBody": "x",
            "EventSource": "aws:sqs",
            "Body": json.dumps({"program_id": tenant.program_id, "event_id": event_id}),
            "Attributes": {"ApproximateReceiveCount": str(count)},
            "MessageAttributes": {},
        }
        with contextlib.suppress(Exception):  # Powertools raises when every record of a batch failed
            invoke_raw("score", sqs_event([record], "arn:aws:sqs:us-east-1:123456789012:scoring"))


def test_a_sign_up_whose_device_fingerprint_is_510_emoji_is_scored(aws, tenant):
    event = signup("long-fp", device=EMOJI_510)
    assert post(event, tenant.keys["integration"]).status == 202

    deliver_until_last(tenant, event["id"])

    answer = status(tenant, event["id"])
    assert answer["status"] == "scored", answer  # today: failed, "scoring failed: an internal error"


def test_a_synchronous_decision_on_such_a_sign_up_answers_200(aws, tenant):
    event = signup("long-fp-sync", device=EMOJI_510)

    answer = post(event, tenant.keys["integration"], {"wait": "decision"})

    assert answer.status == 200, answer  # today: 202 queued after the whole 3-second wait


def test_a_duplicate_sign_up_hidden_behind_a_long_fingerprint_is_still_flagged(aws, tenant):
    """The fraud team's view: a second account of one person (same address) is never flagged when
    the sign-up's own browser reports a fingerprint of 510 emoji."""
    key = tenant.keys["integration"]
    first = signup("dup-1", email="same.person@example.com", at="2026-11-02T09:00:00Z")
    second = signup("dup-2", email="same.person@example.com", device=EMOJI_510, at="2026-11-02T09:05:00Z")
    assert post(first, key).status == 202
    drain(aws)
    assert post(second, key).status == 202

    deliver_until_last(tenant, second["id"])

    answer = status(tenant, second["id"])
    assert answer["status"] == "scored", answer
    assert answer["decision"]["action"] == "flag", answer


def test_the_51st_device_of_a_partner_spilled_under_a_1200_byte_fingerprint_is_scored(aws, tenant):
    """A profile keeps 50 devices; the 51st is spilled to an item whose sort key is
    `SPILL#devices#<fingerprint>`: 300 emoji (under the 512 characters kept as sent) are past the
    sort key's 1,024 bytes."""
    key = tenant.keys["integration"]
    assert post(signup("rot", device="fp-rot-0"), key).status == 202
    for n in range(1, 51):
        e = sample("account.updated", id=f"login-{n}", activity="login", occurred_at="2026-11-03T10:00:00Z")
        e["partner"] = {"id": "rot"}
        e["session"] = {"ip": "81.2.69.160", "device_fingerprint": f"fp-rot-{n}"}
        assert post(e, key).status == 202
    drain(aws)
    e = sample("account.updated", id="login-long", activity="login", occurred_at="2026-11-03T11:00:00Z")
    e["partner"] = {"id": "rot"}
    e["session"] = {"ip": "81.2.69.160", "device_fingerprint": EMOJI_300}

    answer = post(e, key, {"wait": "decision"})

    assert answer.status == 200, answer


def test_a_customer_email_that_grows_when_normalized_is_scored(aws, tenant):
    """U+FDFA (one character, 3 bytes) reads as 18 characters (33 bytes) under compatibility
    folding: 70 of them and `@example.com` are an 82-character address (valid, under 254) whose
    normalized link key is over 2,048 bytes."""
    event = purchase("c-wide", "p-wide", email="\ufdfa" * 70 + "@example.com")

    answer = post(event, tenant.keys["integration"], {"wait": "decision"})

    assert answer.status == 200, answer
