"""An API reward naming only a customer's transaction is that customer's (SPEC 4: a flagged
customer's transactions' rewards go on hold): the transaction's claim keeps its customer. On both
stores, as a reviewer checked them."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from functions.shared import runtime
from functions.shared.clock import FixedClock
from functions.shared.domain.holdables import LISTED_MOST, listed_id, micros
from functions.shared.messaging import InMemoryPublisher
from functions.shared.storage.memory import InMemoryRepository
from tests.conftest import make_tenant
from tests.integration.scoring_support import drain, purchase, send, signup
from tests.integration.test_disputes import DISPUTED_AT
from tests.support import sample


@pytest.fixture(params=["dynamodb", "memory"])
def stores(request, aws, monkeypatch):
    deps = runtime.dependencies()
    store = aws.repository
    if request.param == "memory":
        store = InMemoryRepository()
        monkeypatch.setattr(deps, "repository", store)
    monkeypatch.setattr(deps, "publisher", InMemoryPublisher())
    monkeypatch.setattr(deps, "clock", FixedClock(DISPUTED_AT))
    return SimpleNamespace(aws=aws, tenant=make_tenant(store, "Program A"), store=store)


def test_rewards_naming_only_a_transaction_keep_its_customers_list_within_its_bound(stores):
    """The customer's list of holdable rewards was not read (the reward did not name the customer),
    so it was written as if empty: twenty such rewards listed twenty-one entries, past the eight an
    item keeps. It is read now, with the customer's profile (the claim's customer joins a second
    read), so it keeps the newest eight and marks the older ones unlisted: the flag asks the index."""
    send(
        stores.tenant, signup("p-h", email="host.h@example.com", ip="81.2.69.220", at="2026-11-01T09:00:00Z")
    )
    first = purchase("cz", "p-h", at="2026-11-02T10:00:00Z", reward="5.00", ip="81.2.69.222")
    send(stores.tenant, first)
    drain(stores.aws)

    for n in range(20):
        event = sample("reward.created", id=f"evt-r{n}", occurred_at=f"2026-11-03T08:{n:02d}:00Z")
        event["reward"].update(
            id=f"r{n}", partner_id="p-h", transaction_id=first["transaction"]["id"], amount="2.00"
        )
        event["reward"].pop("customer_id", None)
        send(stores.tenant, event)
    drain(stores.aws)

    snapshot = stores.store.scoring_snapshot(
        stores.tenant.program_id, ("customer", "cz"), None, [], [], [], None, None, None
    )
    assert len(snapshot.holdables.entries) == LISTED_MOST, snapshot.holdables
    assert {listed_id(text) for text in snapshot.holdables.entries} == {f"r{n}" for n in range(12, 20)}
    assert max(snapshot.holdables.unlisted) == micros(datetime(2026, 11, 3, 8, 11, tzinfo=UTC))
