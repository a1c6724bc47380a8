"""A synchronous decision keeps a partner's events in the order they arrived (README "Synchronous
decision"): through the real ingest and score handlers against moto, the events of the same
partner still queued when `?wait=decision` arrives are scored first, in the order received."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.ingest.arrival_order import QUEUED_WINDOW
from functions.ingest.service import accept_event, decide_within
from functions.shared import runtime
from functions.shared.clock import FixedClock
from functions.shared.messaging import InMemoryPublisher
from functions.shared.runtime import Dependencies
from functions.shared.storage.memory import InMemoryRepository
from tests.conftest import make_tenant
from tests.integration.scoring_support import device_signups, drain, purchase, send, signup, status
from tests.support import call, proxy_event, sample

START = datetime(2026, 11, 5, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock(aws: Any) -> FixedClock:
    """The handlers' clock (they share their dependencies in one process): what `received_at` is."""
    clock = FixedClock(START)
    runtime.dependencies().clock = clock
    return clock


def decide(tenant: Any, body: dict[str, Any]) -> Any:
    return call(
        "ingest",
        proxy_event("POST", "/v1/events", body, tenant.keys["integration"], query={"wait": "decision"}),
    )


def mallory(partner_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A partner's sign-up and a purchase through that partner by the partner themself: the same
    e-mail, device, IP and name (a self-referral, once the partner is on file)."""
    same = {"email": f"{partner_id}.mallory@example.net", "device": f"fp-{partner_id}", "ip": "5.61.7.9"}
    name = f"Mallory {partner_id}"
    return (
        signup(partner_id, name=name, at="2026-11-02T09:15:00Z", **same),
        purchase(f"c-{partner_id}", partner_id, name=name, at="2026-11-02T09:40:00Z", **same),
    )


def reasons(answer: Any) -> set[str]:
    return {r["code"] for r in answer.body["decision"]["reasons"]}


def test_a_queued_sign_up_is_scored_before_the_self_referring_purchase_that_waits(aws, tenant, clock):
    # Given a partner's sign-up accepted (202) and still queued, the queue not having run yet
    joined, bought = mallory("p-mal")
    send(tenant, joined)
    clock.advance(seconds=0.5)

    # When, half a second later, the partner's own purchase asks for the decision
    answer = decide(tenant, bought)

    # Then it is decided as in arrival order: the partner is on file, the purchase a self-referral
    assert answer.status == 200, answer
    assert answer.body["decision"]["action"] == "flag", answer.body
    assert "self_referral" in reasons(answer)
    reward = aws.repository.get_reward(tenant.program_id, bought["reward"]["id"])
    assert reward.status == "on_hold"
    signed_up = status(tenant, joined["id"])
    assert signed_up["status"] == "scored"
    # and the queue's later deliveries of both find them scored: each was scored once
    assert drain(aws) == 2
    assert status(tenant, joined["id"]) == signed_up
    assert status(tenant, bought["id"]) == answer.body
    signed_up_at = datetime(2026, 11, 2, 9, 15, tzinfo=UTC)
    assert device_signups(aws.repository, tenant.program_id, "fp-p-mal", signed_up_at) == 1


def test_another_partners_queued_event_is_left_to_the_queue(aws, tenant, clock):
    # Given another partner's sign-up queued first, then this partner's
    other = signup("p-other", email="someone.else@example.org", device="fp-other", ip="81.2.69.190")
    joined, bought = mallory("p-own")
    send(tenant, other)
    clock.advance(seconds=0.2)
    send(tenant, joined)
    clock.advance(seconds=0.2)

    answer = decide(tenant, bought)

    # Then only this partner's sign-up went before the purchase; the other waits for the queue
    assert answer.status == 200, answer
    assert "self_referral" in reasons(answer)
    assert status(tenant, joined["id"])["status"] == "scored"
    assert status(tenant, other["id"])["status"] == "queued"
    assert drain(aws) == 3
    assert status(tenant, other["id"])["status"] == "scored"


def test_an_event_queued_before_the_window_is_not_read(aws, tenant, clock):
    # Given the partner's sign-up queued long ago (stuck, say), then a purchase through the partner
    # by another customer queued within the window
    joined, bought = mallory("p-old")
    send(tenant, joined)
    clock.advance(seconds=QUEUED_WINDOW.total_seconds() + 60)
    earlier = send(tenant, purchase("c-earlier", "p-old"))
    clock.advance(seconds=0.5)

    answer = decide(tenant, bought)

    # Then the recent one was scored first, and the old one is left to the queue (and its relay)
    assert answer.status == 200, answer
    assert status(tenant, earlier["id"])["status"] == "scored"
    assert status(tenant, joined["id"])["status"] == "queued"


def test_with_no_wait_left_for_earlier_events_the_request_scores_its_own():
    """The earlier events share the wait: once it is spent, the request scores its own event
    only and the queue scores the rest (here on the plain in-memory store, no time to spare)."""
    repository = InMemoryRepository()
    tenant = make_tenant(repository, "Program W")
    deps = Dependencies(repository, InMemoryPublisher(), FixedClock(START))
    joined, bought = mallory("p-late")
    at = datetime(2026, 11, 2, 9, 15, tzinfo=UTC)
    queued = accept_event(deps, tenant.program_id, joined["id"], joined["type"], at, joined)
    deps.clock = FixedClock(START + timedelta(seconds=0.5))
    stored = accept_event(deps, tenant.program_id, bought["id"], bought["type"], at, bought)

    decided = decide_within(deps, stored, 1e-9)

    assert decided.status == "scored"
    assert repository.get_event(tenant.program_id, queued.event_id).status == "queued"


def test_a_farms_sign_ups_queued_from_one_device_are_scored_before_the_one_that_waits(aws, tenant, clock):
    """A reviewer's: four sign-ups queued from one device, then a fifth asking for its decision, was
    `allow` on this path (the earlier ones were other partners', left to the queue) where the queue
    in arrival order flags it: they share its device and IP."""
    farm = [
        signup(f"p-farm-{n}", email=f"farm.{n}.x@example.net", device="fp-farm", ip="5.61.7.20")
        for n in range(5)
    ]
    for joined in farm[:4]:
        send(tenant, joined)
        clock.advance(seconds=0.2)

    answer = decide(tenant, farm[4])

    assert answer.status == 200, answer
    assert answer.body["decision"]["action"] == "flag", answer.body
    assert "device_shared" in reasons(answer)
    assert all(status(tenant, joined["id"])["status"] == "scored" for joined in farm[:4])


def test_a_known_partners_login_queued_before_its_own_purchase_that_waits_goes_first(aws, tenant, clock):
    """A fraud tester's: a partner on file logs in from a new device (queued), then buys through its
    own link from that device with `wait=decision`; skipped for partners on file, the purchase was
    allow for good (the login, scored later, does not look back) where the queue flags it."""
    joined, _ = mallory("p-known")
    send(tenant, joined)
    drain(aws)
    clock.advance(seconds=5)
    login = sample("account.updated", id="evt-login-known", occurred_at="2026-11-02T09:30:00Z")
    login["partner"] = {"id": "p-known"}
    login["activity"] = "login"
    login["session"] = {"ip": "81.2.69.200", "device_fingerprint": "fp-new-laptop"}
    send(tenant, login)
    clock.advance(seconds=0.8)
    bought = purchase(
        "c-stranger", "p-known", device="fp-new-laptop", ip="81.2.69.200", at="2026-11-02T09:40:00Z"
    )

    answer = decide(tenant, bought)

    assert answer.status == 200, answer
    assert answer.body["decision"]["action"] == "flag", answer.body
    assert "self_referral" in reasons(answer)
    assert status(tenant, login["id"])["status"] == "scored"
