"""A partner that gave another partner's e-mail address after it, scored before that partner's
sign-up arrived (an order tester's B1; SPEC 4, 5.2): through the real handlers on moto, the sign-up
arriving late is judged on the address as it stood at its time, and records a review of the one
that gave it after, which the outbox relay hands to scoring. The result is the one time order gives:
the copier flagged from when it gave the address, the owner not."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import botocore.client

from functions.shared import runtime
from functions.shared.clock import FixedClock
from functions.shared.domain.identity import email_keys
from functions.shared.domain.linked_earlier import REVIEW_ID_PREFIX, REVIEW_TYPE, review_id
from tests.integration.scoring_support import REAL_CALL, drain, refusing_sends_of, send, signup, status
from tests.support import call, invoke_raw, proxy_event

SCHEDULED = {"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}


def lives(of: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The copier's sign-up, the owner's, and the copier's login changed to the owner's address,
    with identifiers of their own for each program `of` (one program's flag marks its identifiers
    in the others: SPEC 5.3)."""
    owners = f"honest.owner.{of}@gmail.com"
    first = signup(f"{of}-f", email=f"first.copier.{of}@gmail.com", ip=IPS[of][0], at="2026-11-02T08:00:00Z")
    owner = signup(f"{of}-o", email=owners, ip=IPS[of][1], at="2026-11-02T09:00:00Z")
    change = signup(f"{of}-f", email=owners, ip=IPS[of][0], at="2026-11-02T10:00:00Z")
    change.update(type="account.updated", activity="email_change")
    change["partner"] = {"id": f"{of}-f", "email": owners}
    return first, owner, change


IPS = {"a": ("81.2.69.171", "81.2.69.180"), "b": ("81.2.69.172", "81.2.69.181")}


def relay() -> None:
    """The relay's next run, past the minutes it leaves an event to the queue, then scoring."""
    deps = runtime.dependencies()
    deps.clock = FixedClock(deps.clock.now() + timedelta(minutes=5))
    invoke_raw("outbox_relay", SCHEDULED)


def cases_of(tenant: Any) -> dict[str, tuple[str, list[tuple[str, str]]]]:
    """Each active case's partner: its flag time and reasons."""
    answer = call(
        "cases", proxy_event("GET", "/v1/cases", None, tenant.keys["fraud"], query={"view": "active"})
    )
    return {
        c["subject"]["id"]: (c["flagged_at"], [(r["code"], r["detail"]) for r in c["reasons"]])
        for c in answer.body["items"]
    }


def test_the_copier_is_flagged_whichever_sign_up_arrives_first(aws, tenant, other_tenant):
    # in time order, in one program
    for event in lives("b"):
        send(other_tenant, event)
        drain(aws)
    # the owner's sign-up last, in another
    first, owner, change = lives("a")
    for event in (first, change):
        send(tenant, event)
        drain(aws)
    assert status(tenant, change["id"])["decision"]["action"] == "allow"  # no one had it yet
    send(tenant, owner)
    drain(aws)  # the owner's sign-up, then the review it recorded and sent

    decided = status(tenant, owner["id"])["decision"]
    assert "email_duplicate" not in [r["code"] for r in decided["reasons"]]
    for of, program in (("a", tenant), ("b", other_tenant)):
        assert cases_of(program) == {
            f"{of}-f": (
                "2026-11-02T10:00:00Z",
                [("email_duplicate", f"e-mail address also used by partner {of}-o")],
            )
        }
    review = status(
        tenant, review_id(owner["id"], "a-f", ("email", email_keys("honest.owner.a@gmail.com").normalized))
    )  # the integration's key reads it
    assert (review["type"], review["status"], review["decision"]["action"]) == (REVIEW_TYPE, "scored", "flag")


def test_a_review_the_queue_refused_waits_in_the_outbox_for_the_relay(aws, tenant, monkeypatch):
    """Nothing accepted is lost: the review is written in the transaction that scores the late
    event, so when its send fails (or the run stops after the commit) the relay sends it."""
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", refusing_sends_of(REVIEW_ID_PREFIX))
    _, owner, change = lives("a")
    for event in (change, owner):
        send(tenant, event)
        drain(aws)

    waiting = runtime.dependencies().repository.get_event(
        tenant.program_id,
        review_id(owner["id"], "a-f", ("email", email_keys("honest.owner.a@gmail.com").normalized)),
    )
    assert (waiting.status, waiting.type) == ("queued", REVIEW_TYPE)
    assert waiting.body["earlier"] == {
        "subject_type": "partner",
        "subject_id": "a-o",
        "event_id": owner["id"],
        "flagged_at": None,
    }
    assert cases_of(tenant) == {}

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", REAL_CALL)
    relay()
    drain(aws)

    assert list(cases_of(tenant)) == ["a-f"]
