"""Which queued events a synchronous decision scores before its own (`functions/ingest/arrival_order`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from functions.ingest.arrival_order import MOST_FIRST, QUEUED_WINDOW, goes_first, identifiers, subjects
from functions.shared.domain.model import StoredEvent

NOW = datetime(2026, 11, 5, 12, 0, tzinfo=UTC)


def stored(event_id: str, event_type: str, body: dict[str, Any], seconds_before: float = 0) -> StoredEvent:
    at = NOW - timedelta(seconds=seconds_before)
    return StoredEvent("prg-a", event_id, event_type, body, "hash", at, at)


def joined(partner: str) -> dict[str, Any]:
    return {"partner": {"id": partner, "name": "P", "email": "p@example.com", "country": "GB"}}


def bought(partner: str, customer: str) -> dict[str, Any]:
    return {"partner_id": partner, "customer": {"id": customer}, "transaction": {"id": "t"}}


def test_each_type_names_its_partner_and_customer():
    assert subjects("partnership.created", joined("p1")) == {("partner", "p1")}
    assert subjects("account.updated", {"partner": {"id": "p1"}}) == {("partner", "p1")}
    assert subjects("transaction.created", bought("p1", "c1")) == {("partner", "p1"), ("customer", "c1")}
    reward = {"reward": {"id": "r", "partner_id": "p1", "customer_id": "c1"}}
    assert subjects("reward.created", reward) == {("partner", "p1"), ("customer", "c1")}
    bonus = {"reward": {"id": "r", "partner_id": "p1", "customer_id": " "}}  # blank: none
    assert subjects("reward.created", bonus) == {("partner", "p1")}
    assert subjects("loyalty.earned", {"customer_id": "c1"}) == frozenset()


def test_the_partners_and_the_customers_recent_queued_events_go_first_in_the_order_received():
    purchase = stored("buy", "transaction.created", bought("p1", "c1"))
    queued = [
        stored("p1-later", "account.updated", {"partner": {"id": "p1"}}, seconds_before=1),
        stored("p1-joined", "partnership.created", joined("p1"), seconds_before=2),
        stored("c1-elsewhere", "transaction.created", bought("p2", "c1"), seconds_before=1.5),
        stored("p2-joined", "partnership.created", joined("p2"), seconds_before=1.2),  # another partner
        stored("p1-stuck", "partnership.created", joined("p1"), QUEUED_WINDOW.total_seconds() + 1),
        stored("p1-same-instant", "account.updated", {"partner": {"id": "p1"}}),
        replace(stored("p1-scored", "account.updated", {"partner": {"id": "p1"}}, 0.5), status="scored"),
        replace(stored("p1-other-program", "partnership.created", joined("p1"), 0.5), program_id="prg-b"),
        purchase,  # the event itself is in the outbox too
    ]

    first = goes_first(purchase, queued)

    assert [e.event_id for e in first] == ["p1-joined", "c1-elsewhere", "p1-later"]


def test_a_sign_up_goes_after_nothing_of_other_partners_that_shares_nothing_with_it():
    signup = stored("join", "partnership.created", joined("p1"))
    other = stored("p2-bought", "transaction.created", bought("p2", "c9"), seconds_before=1)

    assert goes_first(signup, [other]) == []


WORDS = [
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliet",
    "kilo",
    "lima",
    "mike",
    "november",
]


def farmed(n: int, **session: str) -> StoredEvent:
    # addresses nothing links: no shared skeleton, no one edit apart (`identity.email_keys`)
    body = {
        "partner": {"id": f"p{n}", "email": f"{WORDS[n % len(WORDS)]}.{n}x@example.org"},
        "session": session,
    }
    return stored(f"farm-{n}", "partnership.created", body, seconds_before=n + 1)


def test_events_sharing_a_device_an_ip_or_an_e_mail_address_go_first_as_the_engine_keys_them():
    signup = stored(
        "join", "partnership.created", {**joined("p0"), "session": {"device_fingerprint": "fp-x"}}
    )
    queued = [farmed(n, device_fingerprint=" FP-X ", ip=f"5.61.7.{n}") for n in range(MOST_FIRST - 2)]
    queued.append(farmed(50, device_fingerprint="fp-y", ip="5.61.8.1"))  # shares nothing
    same_mail = {"partner": {"id": "p60", "email": " P@Example.com "}}  # the same mailbox
    queued.append(stored("mail", "account.updated", same_mail, seconds_before=0.5))

    first = goes_first(signup, queued)

    assert [e.event_id for e in first] == [f"farm-{n}" for n in reversed(range(MOST_FIRST - 2))] + ["mail"]


def test_an_ip_a_crowd_shares_orders_nothing_a_farms_device_orders_and_the_same_partner_the_newest_few():
    """A reviewer's: ten of 300 strangers queued on a carrier's IP scored first made a cluster of
    ten (flag, 100) where arrival order reads the crowd's link as evidence about no one (40)."""
    signup = stored("join", "partnership.created", {**joined("p0"), "session": {"ip": "5.61.7.1"}})
    crowd = [farmed(n, ip="5.61.7.1") for n in range(1, MOST_FIRST + 2)]  # other partners
    assert goes_first(signup, crowd) == []
    # a fraud tester's: eleven sign-ups queued on one device made it a "crowd", and the twelfth,
    # waiting, was allow where the queue flags it
    on_device = stored(
        "join", "partnership.created", {**joined("p0"), "session": {"device_fingerprint": "fp-f"}}
    )
    farm = [farmed(n, device_fingerprint="fp-f", ip=f"5.61.9.{n}") for n in range(1, MOST_FIRST + 2)]
    assert [e.event_id for e in goes_first(on_device, farm)] == [f"farm-{n}" for n in reversed(range(1, 11))]

    purchase = stored("buy", "transaction.created", bought("p1", "c1"))
    own = [stored(f"own-{n}", "account.updated", {"partner": {"id": "p1"}}, n + 1) for n in range(12)]
    assert [e.event_id for e in goes_first(purchase, own)] == [f"own-{n}" for n in reversed(range(10))]


def test_identifiers_are_keyed_as_the_engine_keys_them_and_odd_bodies_name_nothing():
    purchase = {
        "partner_id": "p1",
        "customer": {"id": "c1", "ip": "::ffff:8.8.4.4", "device_fingerprint": "FP"},
    }
    assert identifiers(purchase) == {("ip", "8.8.4.4"), ("device", "fp")}
    placeholders = {"session": {"device_fingerprint": "unknown", "ip": "10.0.0.7"}, "partner": {"email": "x"}}
    assert identifiers(placeholders) == frozenset()  # a placeholder, a private IP, no address
    assert identifiers({"partner": "p1", "session": ["x"], "customer": None}) == frozenset()
    assert subjects("transaction.created", {"partner_id": "p1", "customer": "c1"}) == {("partner", "p1")}


def test_a_payout_account_and_a_near_duplicate_address_order_as_the_engine_links_them():
    """An integrator's: a third sign-up paid into the ring's account, waiting, was allow where the
    queue flags it (`cluster`); one a letter off another's address lost `email_similar`."""
    ring = {
        "partner": {
            "id": "r0",
            "email": "ring.zero@example.org",
            "payout_account": "GB29 NWBK 6016 1331 9268 19",
        }
    }
    paid_alike = {
        "partner": {"id": "r1", "email": "ring.one@example.net", "payout_account": "60-16-13 31926819"}
    }
    near = {"partner": {"id": "r2", "email": "farmd2.acme@example.com"}}
    third = stored("third", "partnership.created", ring)

    queued = [
        stored("paid", "partnership.created", paid_alike, 1),
        stored("near", "partnership.created", near, 2),
    ]
    assert [e.event_id for e in goes_first(third, queued)] == ["paid"]
    one_off = stored(
        "one-off", "partnership.created", {"partner": {"id": "r3", "email": "farmi2.acme@example.com"}}
    )
    assert [e.event_id for e in goes_first(one_off, queued)] == ["near"]
