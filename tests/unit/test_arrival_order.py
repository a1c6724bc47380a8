"""Which queued events a synchronous decision scores before its own (`functions/ingest/arrival_order`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from functions.ingest.arrival_order import QUEUED_WINDOW, goes_first, subjects
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


def test_a_sign_up_goes_after_nothing_of_other_partners():
    signup = stored("join", "partnership.created", joined("p1"))
    other = stored("p2-bought", "transaction.created", bought("p2", "c9"), seconds_before=1)

    assert goes_first(signup, [other]) == []
