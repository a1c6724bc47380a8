"""A notification's times are written as the API writes them (SPEC 6; a contract tester's): a
`PartnerFlagged` delivery's `flagged_at` is "the case's" (README), and read
`2026-11-03T09:00:00.000000Z` where `GET /v1/cases` read `2026-11-03T09:00:00Z`: a receiver
comparing the two as text, or keying on them, met two values. Through the real handlers on moto:
scoring, the outbox's relay to the bus, the bus's rule and the webhook's delivery to a receiver."""

from __future__ import annotations

import json

from tests.integration.scoring_support import drain, send, signup, status
from tests.integration.test_webhooks_delivery import hooks, pump, receiver, subscribe
from tests.support import call, proxy_event

__all__ = ["hooks", "receiver"]  # fixtures


def test_a_partner_flagged_delivery_says_the_cases_flagged_at_as_the_api_does(aws, hooks, tenant, receiver):
    subscribe(tenant, receiver)
    first = signup("p-first", email="kai.brandt@brandtmedia.de", ip="81.2.69.131", at="2026-11-02T09:00:00Z")
    flagged = signup("p-x", email="kai.brandt@brandtmedia.de", ip="81.2.69.132", at="2026-11-03T09:00:00Z")
    for event in (first, flagged):
        send(tenant, event)
    drain(aws)
    case_id = status(tenant, flagged["id"])["case_id"]

    pump(hooks, lambda: len(receiver.got) == 1)

    body = json.loads(receiver.got[0].body)
    case = call("cases", proxy_event("GET", f"/v1/cases/{case_id}", None, tenant.keys["fraud"])).body
    assert (body["type"], body["data"]["case_id"]) == ("PartnerFlagged", case_id)
    assert body["data"]["flagged_at"] == case["flagged_at"] == "2026-11-03T09:00:00Z"
    assert body["created_at"].endswith("Z") and "+" not in body["created_at"]
