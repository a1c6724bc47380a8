"""Helpers for scoring tests: send events through the real ingest handler, then drain the queue
through the real score handler, as the event source mapping would."""

from __future__ import annotations

import copy
import itertools
from datetime import datetime
from typing import Any

import botocore.client
from botocore.exceptions import ClientError

from functions.shared.domain.velocity import velocity
from local_system.poller import poll_once
from tests.support import call, proxy_event, sample

_ids = itertools.count(1)


def send(tenant: Any, body: dict[str, Any]) -> dict[str, Any]:
    answer = call("ingest", proxy_event("POST", "/v1/events", body, tenant.keys["integration"]))
    assert answer.status == 202, answer
    return body


def drain(aws: Any) -> int:
    arn = aws.sqs.get_queue_attributes(QueueUrl=aws.resources.queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    taken = 0
    while True:
        done = poll_once(aws.sqs, aws.resources.queue_url, arn, wait_seconds=0)
        if not done:
            return taken
        taken += done


def status(tenant: Any, event_id: str) -> dict[str, Any]:
    answer = call("ingest", proxy_event("GET", f"/v1/events/{event_id}", None, tenant.keys["integration"]))
    assert answer.status == 200, answer
    return answer.body


def device_signups(repository: Any, program_id: str, device: str, at: datetime) -> int:
    """The device's sign-up count of `at`'s three hours, as scoring reads it (its counter items and
    its link's slots): one count per sign-up scored, so a sign-up scored twice counts two."""
    counted = velocity("signup", f"device:{device}", at, ("device", device))
    snapshot = repository.scoring_snapshot(
        program_id, ("partner", "-"), None, [("device", device)], [], list(counted.names)
    )
    return counted.total(snapshot.counters, snapshot.links)


def codes(tenant: Any, event_id: str) -> set[str]:
    decision = status(tenant, event_id)["decision"]
    return {r["code"] for r in decision["reasons"]}


def signup(
    partner_id: str,
    *,
    email: str | None = None,
    device: str | None = None,
    ip: str = "81.2.69.160",
    country: str = "GB",
    name: str | None = None,
    at: str = "2026-11-02T09:15:00Z",
    ip_location: dict[str, float] | None = None,
    address: dict[str, Any] | None = None,
    payout: str | None = None,
) -> dict[str, Any]:
    event = sample("partnership.created", id=f"signup-{partner_id}-{next(_ids)}", occurred_at=at)
    partner = event["partner"]
    default_email = f"partner-{partner_id}-mail@example.com"  # no two ids look alike
    partner.update(id=partner_id, name=name or f"Partner {partner_id}", email=email or default_email)
    partner["country"] = country
    partner["address"]["country"] = country
    if address is not None:
        partner["address"] = address
    if payout:
        partner["payout_account"] = payout
    event["session"] = {"ip": ip, "device_fingerprint": device or f"fp-{partner_id}"}
    if ip_location:
        event["session"]["ip_location"] = ip_location
    return event


def purchase(
    customer_id: str,
    partner_id: str,
    *,
    email: str | None = None,
    device: str | None = None,
    ip: str = "81.2.69.161",
    country: str = "GB",
    name: str | None = None,
    reward: str | None = "10.00",
    currency: str = "USD",
    at: str = "2026-11-04T14:30:00Z",
) -> dict[str, Any]:
    n = next(_ids)
    event = copy.deepcopy(sample("transaction.created", id=f"txn-{customer_id}-{n}", occurred_at=at))
    event["partner_id"] = partner_id
    event["transaction"]["id"] = f"t-{customer_id}-{n}"
    event["customer"] = {
        "id": customer_id,
        "email": email or f"customer-{customer_id}-mail@example.net",
        "name": name or f"Customer {customer_id}",
        "country": country,
        "ip": ip,
        "device_fingerprint": device or f"fp-{customer_id}",
    }
    if reward is None:
        event.pop("reward")
    else:
        event["reward"] = {"id": f"r-{customer_id}-{n}", "amount": reward, "currency": currency}
    return event


REAL_CALL = botocore.client.BaseClient._make_api_call


def refusing_sends_of(prefix: str) -> Any:
    """A botocore call (for `BaseClient._make_api_call`) that refuses every queue send naming an id
    beginning `prefix` (a review's), as a queue down would; any other call goes through."""

    def refusing(client: Any, operation: str, params: dict[str, Any]) -> Any:
        if operation.startswith("SendMessage") and prefix in str(params):
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "injected"}}, operation)
        return REAL_CALL(client, operation, params)

    return refusing
