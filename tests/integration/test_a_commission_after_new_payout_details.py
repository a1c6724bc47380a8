"""A large commission sent with its purchase (SPEC 3.1 `transaction.created`'s `reward`) just after
the partner changed its payout details (an evasion tester's high finding; SPEC 5.1
`unusual_activity`): the same money as a `reward.created` flagged the partner, sent with a purchase
it was judged as the customer's purchase alone and stayed payable to the new details. Through the
real handlers on moto: the purchase records a review of its partner, which scoring flags."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import botocore.client
import pytest

from functions.score.weights import LARGE_REWARD
from functions.shared import runtime
from functions.shared.clock import FixedClock
from functions.shared.domain.commission_review import REVIEW_ID_PREFIX, REVIEW_TYPE, review_id
from functions.shared.errors import NotFound
from tests.integration.scoring_support import (
    REAL_CALL,
    drain,
    purchase,
    refusing_sends_of,
    send,
    signup,
    status,
)
from tests.integration.test_scoring_signals import payout_update
from tests.support import call, invoke_raw, proxy_event

SCHEDULED = {"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}


def cases_of(tenant: Any) -> dict[str, tuple[str, str, list[tuple[str, str]]]]:
    """Each active case's subject (type and id): its flag time, hold and reasons."""
    answer = call(
        "cases", proxy_event("GET", "/v1/cases", None, tenant.keys["fraud"], query={"view": "active"})
    )
    return {
        f"{c['subject']['type']}:{c['subject']['id']}": (
            c["flagged_at"],
            c["hold_amount"]["amount"] if c["hold_amount"] else None,
            [(r["code"], r["detail"]) for r in c["reasons"]],
        )
        for c in answer.body["items"]
    }


def rewards_of(tenant: Any, partner: str) -> dict[str, str]:
    answer = call(
        "cases", proxy_event("GET", "/v1/rewards", None, tenant.keys["fraud"], query={"partner_id": partner})
    )
    return {r["id"]: r["status"] for r in answer.body["items"]}


def recorded(tenant: Any, event_id: str) -> bool:
    try:
        runtime.dependencies().repository.get_event(tenant.program_id, event_id)
    except NotFound:
        return False
    return True


def decide(aws: Any, tenant: Any, *events: dict[str, Any]) -> None:
    for event in events:
        send(tenant, event)
        drain(aws)  # the event, then any review it recorded and sent


@pytest.mark.parametrize("received", ["in time order", "the change last"])
def test_a_large_commission_just_after_new_payout_details_flags_the_partner(aws, tenant, received):
    decide(aws, tenant, signup("p1", at="2026-10-01T08:00:00Z"))
    bought = purchase("c1", "p1", reward="900.00", at="2026-11-02T12:00:00Z")
    change = payout_update("p1", 1, 9)
    decide(aws, tenant, *([change, bought] if received == "in time order" else [bought, change]))

    assert status(tenant, bought["id"])["decision"]["action"] == "allow"  # the customer did nothing
    commission = bought["reward"]["id"]
    assert rewards_of(tenant, "p1") == {commission: "on_hold"}
    flagged_at, held, reasons = cases_of(tenant)["partner:p1"]
    assert reasons == [("unusual_activity", "payout details changed 3 hours before a reward of 900.00 USD")]
    assert held == "900.00"
    # from the purchase's time, not the review's arrival; received last, the change flags from its own
    assert flagged_at == ("2026-11-02T12:00:00Z" if received == "in time order" else "2026-11-02T09:00:00Z")
    if received == "in time order":  # the purchase's review flagged it; else the change itself
        review = status(tenant, review_id(bought["id"]))  # the integration's key reads it
        scored = (review["type"], review["status"], review["decision"]["action"])
        assert scored == (REVIEW_TYPE, "scored", "flag")
    else:
        assert not recorded(tenant, review_id(bought["id"]))


@pytest.mark.parametrize(
    ("amount", "hour", "day"),
    [
        ("199.99", 9, "2026-11-04"),  # under `LARGE_REWARD`
        ("900.00", 11, "2026-11-02"),  # 49 hours before: out of the window
        ("900.00", 13, "2026-11-04"),  # an hour after the purchase
    ],
)
def test_a_commission_not_large_or_not_just_after_the_change_records_no_review(
    aws, tenant, amount, hour, day
):
    assert LARGE_REWARD["USD"] == 200  # the line the first case is under
    decide(aws, tenant, signup("p1", at="2026-10-01T08:00:00Z"))
    bought = purchase("c1", "p1", reward=amount, at="2026-11-04T12:00:00Z")
    decide(aws, tenant, payout_update("p1", 1, hour, day=day), bought)

    assert rewards_of(tenant, "p1") == {bought["reward"]["id"]: "pending"}
    assert cases_of(tenant) == {}
    assert not recorded(tenant, review_id(bought["id"]))


def test_a_review_the_queue_refused_waits_in_the_outbox_for_the_relay(aws, tenant, monkeypatch):
    """Nothing accepted is lost: the review is written in the transaction that scores the purchase,
    so when its send fails (or the run stops after the commit) the relay sends it."""
    decide(aws, tenant, signup("p1", at="2026-10-01T08:00:00Z"), payout_update("p1", 1, 9))
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", refusing_sends_of(REVIEW_ID_PREFIX))
    bought = purchase("c1", "p1", reward="900.00", at="2026-11-02T12:00:00Z")
    decide(aws, tenant, bought)
    waiting = runtime.dependencies().repository.get_event(tenant.program_id, review_id(bought["id"]))
    assert (waiting.status, waiting.type) == ("queued", REVIEW_TYPE)
    assert cases_of(tenant) == {}

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", REAL_CALL)
    deps = runtime.dependencies()
    deps.clock = FixedClock(deps.clock.now() + timedelta(minutes=5))  # past the minutes left to the queue
    invoke_raw("outbox_relay", SCHEDULED)
    drain(aws)

    assert list(cases_of(tenant)) == ["partner:p1"]
    assert rewards_of(tenant, "p1") == {bought["reward"]["id"]: "on_hold"}


def test_a_commission_whose_id_another_reward_has_records_no_review(aws, tenant):
    # refused, not paid: nothing to hold, and no review to score again and again
    decide(aws, tenant, signup("p1", at="2026-10-01T08:00:00Z"))
    first = purchase("c1", "p1", reward="10.00", at="2026-11-01T12:00:00Z")
    decide(aws, tenant, first, payout_update("p1", 1, 9))
    again = purchase("c2", "p1", reward="900.00", at="2026-11-02T12:00:00Z")
    again["reward"]["id"] = first["reward"]["id"]
    decide(aws, tenant, again)

    assert not recorded(tenant, review_id(again["id"]))
    assert rewards_of(tenant, "p1") == {first["reward"]["id"]: "pending"}


def test_the_purchase_sent_again_under_new_ids_records_no_second_review(aws, tenant):
    # a reviewer's: the copy, its transaction recorded by the first, records no commission (refused,
    # `scoring_plan`); its review named a reward that never was, and counted the reason twice
    decide(aws, tenant, signup("p1", at="2026-10-01T08:00:00Z"), payout_update("p1", 1, 9))
    bought = purchase("c1", "p1", reward="900.00", at="2026-11-02T12:00:00Z")
    again = {**bought, "id": bought["id"] + "-again", "reward": {**bought["reward"], "id": "r-other"}}
    decide(aws, tenant, bought, again)

    assert not recorded(tenant, review_id(again["id"]))
    assert rewards_of(tenant, "p1") == {bought["reward"]["id"]: "on_hold"}
