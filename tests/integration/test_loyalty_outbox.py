"""Loyalty notifications through the outbox (SPEC 6), with the real handlers on moto: a suspension,
a block and a workflow's communication made while the bus fails, then the outbox relay run once it
is back. Faults are injected at botocore's `_make_api_call` (`test_faults.py`): every `PutEvents`
failing (the bus down), every `PutEvents` taking effect but its answer lost, and the outbox's
clean-up failing after the bus took the notification. Each notification reaches the bus at least
once (exactly once when the bus never had it) and each webhook gets it once."""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest

from functions.outbox_relay.service import relay_all_notifications
from functions.shared import runtime
from tests.conftest import Aws, Tenant
from tests.integration.test_faults import DYNAMODB, WRITES, Faults, faults_fixture  # noqa: F401 (fixture)
from tests.integration.test_loyalty_support import (  # noqa: F401 (fixtures)
    Bus,
    DynamoCalls,
    Loyalty,
    bus_fixture,
    clock_fixture,
    workflow_settings,
)
from tests.integration.test_webhooks_delivery import (  # noqa: F401 (fixtures)
    deliveries,
    hooks,
    pump,
    receiver,
    settled,
    subscribe,
)
from tests.integration.webhook_support import Receiver

NAMES = ["CustomerSuspended", "CustomerBlocked", "LoyaltyCommunication"]
EXPECTED = [("CustomerBlocked", "m2"), ("CustomerSuspended", "m1"), ("LoyaltyCommunication", "m3")]


@pytest.fixture
def loyalty(tenant, clock) -> Loyalty:
    return Loyalty(tenant.keys)


def _before_the_faults(loyalty: Loyalty) -> None:
    """A communication workflow (above 100 points earned today), customers m1 and m2."""
    communication = [{"type": "communication", "event": "loyalty.warning", "payload": {"t": "terms"}}]
    assert loyalty.workflow("warn", workflow_settings(threshold=100, actions=communication)).status == 200
    for customer in ("m1", "m2"):
        assert loyalty.earn(customer, 10).status == 200


def _made(loyalty: Loyalty) -> None:
    """m1 suspended and m2 blocked by hand, m3's earn crossing the workflow's threshold: each
    change made and answered whatever the bus does."""
    assert loyalty.status("m1", "suspend", {"note": "chargebacks"}).status == 200
    assert loyalty.status("m2", "block").status == 200
    assert loyalty.earn("m3", 150).status == 200  # the runner sends the communication (the queue)
    assert loyalty.customer("m1").body["status"] == "suspended"
    assert loyalty.customer("m2").body["status"] == "blocked"
    assert [h["action"] for h in loyalty.customer("m3").body["history"]] == ["communication"]


def _seen(bus: Bus) -> list[tuple[str, str, str]]:
    """What reached the bus: (name, customer, notification id), sorted."""
    return sorted((name, d["customer_id"], d.get("notification_id", "")) for name, d in _bus_events(bus))


def _bus_events(bus: Bus) -> list[tuple[str, dict]]:
    bus.events()
    return [(name, detail) for name, detail in bus.seen if name in NAMES]


def _webhook_deliveries(tenant: Tenant, env: dict[str, str], got: Receiver) -> Counter:
    """Runs the webhooks queue until every notification's delivery is made and answered; counts
    them by (name, customer)."""
    pump(env, lambda: len(got.got) >= 3 and settled(tenant)())
    time.sleep(0.2)
    pump(env, lambda: True)  # a copy published again would be taken here
    assert len(deliveries(tenant)) == len(got.got)
    bodies = [json.loads(g.body) for g in got.got]
    return Counter((body["type"], body["data"]["customer_id"]) for body in bodies)


def test_notifications_made_while_the_bus_is_down_are_delivered_once_by_the_relay(
    aws: Aws,
    tenant: Tenant,
    loyalty: Loyalty,
    bus: Bus,
    faults: Faults,
    hooks: dict[str, str],  # noqa: F811 (the fixture imported above)
    receiver: Receiver,  # noqa: F811 (the fixture imported above)
):
    subscribe(tenant, receiver, events=NAMES)
    _before_the_faults(loyalty)

    # Given every PutEvents failing: the changes are made and answered all the same
    faults.fail("events", {"PutEvents"}, 1.0, "InternalFailure")
    _made(loyalty)
    assert faults.injected["events:PutEvents"] == 3
    assert _seen(bus) == []
    assert len(aws.repository.pending_notifications(tenant.program_id, 100)) == 3  # kept in the outbox

    # When the bus is back and the outbox relay runs (twice: the second finds nothing left)
    faults.clear()
    deps = runtime.dependencies()
    assert relay_all_notifications(deps) == 3
    assert relay_all_notifications(deps) == 0

    # Then each notification reached the bus exactly once, and each webhook got it once
    seen = _seen(bus)
    assert [(name, customer) for name, customer, _ in seen] == EXPECTED
    assert len({notification_id for _, _, notification_id in seen}) == 3
    assert aws.repository.pending_notifications(tenant.program_id, 100) == []
    assert _webhook_deliveries(tenant, hooks, receiver) == Counter(EXPECTED)
    suspended = next(d for name, d in _bus_events(bus) if name == "CustomerSuspended")
    assert (suspended["program_id"], suspended["by"], suspended["note"]) == (
        tenant.program_id,
        "Program A fraud",
        "chargebacks",
    )


FAULTS_AFTER_THE_BUS_TOOK_IT = {
    # the bus takes the event, its answer is lost: the function thinks it failed
    "bus answer lost": lambda f: f.fail("events", {"PutEvents"}, 1.0, "InternalFailure", after=True),
    # the bus took it, but taking it out of the outbox fails
    "outbox clean-up fails": lambda f: f.fail(DYNAMODB, {"BatchWriteItem"}, 1.0, "InternalServerError"),
}


@pytest.mark.parametrize("fault", list(FAULTS_AFTER_THE_BUS_TOOK_IT))
def test_a_notification_the_bus_took_unbeknownst_is_sent_again_and_delivered_once(
    fault: str,
    aws: Aws,
    tenant: Tenant,
    loyalty: Loyalty,
    bus: Bus,
    faults: Faults,
    hooks: dict[str, str],  # noqa: F811 (the fixture imported above)
    receiver: Receiver,  # noqa: F811 (the fixture imported above)
):
    subscribe(tenant, receiver, events=NAMES)
    _before_the_faults(loyalty)

    # Given a bus that takes every notification while the function cannot tell it did
    FAULTS_AFTER_THE_BUS_TOOK_IT[fault](faults)
    _made(loyalty)
    first = _seen(bus)
    assert [(name, customer) for name, customer, _ in first] == EXPECTED
    assert len(aws.repository.pending_notifications(tenant.program_id, 100)) == 3
    assert sum(faults.injected.values()) >= 3

    # When the faults pass and the outbox relay runs
    faults.clear()
    assert relay_all_notifications(runtime.dependencies()) == 3

    # Then each is on the bus again under the same id (at least once, nothing lost), the outbox
    # is empty, and each webhook made one delivery of each
    again = _seen(bus)
    assert Counter(again) == Counter({seen: 2 for seen in first})
    assert aws.repository.pending_notifications(tenant.program_id, 100) == []
    assert _webhook_deliveries(tenant, hooks, receiver) == Counter(EXPECTED)


def test_the_notification_rides_in_the_changes_transaction(aws: Aws, tenant: Tenant, loyalty: Loyalty):
    # Given a customer
    assert loyalty.earn("m1", 10).status == 200

    # When a fraud analyst suspends them
    with DynamoCalls() as calls:
        assert loyalty.status("m1", "suspend").status == 200

    # Then the notification is written by the change's one transaction (no write of its own), and
    # after the bus took it, one batch write takes it out of the outbox
    writes = [
        (op, params)
        for op, params, _, _ in calls.calls
        if op in WRITES and "APIKEY" not in json.dumps(params)  # not the edge's note of the key's use
    ]
    assert [op for op, _ in writes] == ["TransactWriteItems", "BatchWriteItem"]
    (transaction,) = calls.named("TransactWriteItems")
    types = [next(iter(i.values()))["Item"]["item_type"]["S"] for i in transaction["TransactItems"]]
    assert sorted(types) == ["loyalty_customer", "loyalty_history", "notification"]
    assert aws.repository.pending_notifications(tenant.program_id, 10) == []
