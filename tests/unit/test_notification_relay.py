"""The outbox relay's notifications (SPEC 6): page after page within its time budget, not a fixed
1,000 a run, and no further than the bus takes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from functions.outbox_relay.service import relay_all_notifications
from functions.shared.clock import FixedClock
from functions.shared.domain.model import Notification, Program
from functions.shared.domain.writes import Notify, Step
from functions.shared.errors import StorageUnavailable
from functions.shared.messaging import InMemoryPublisher
from functions.shared.runtime import Dependencies
from functions.shared.storage.memory import InMemoryRepository

T0 = datetime(2026, 12, 4, 9, tzinfo=UTC)


def _outbox_of(count: int) -> Dependencies:
    """A program whose `count` notifications the bus did not take when they were made."""
    store = InMemoryRepository()
    store.create_program(Program("prg-relay", "Relay", T0))
    for n in range(count):
        at = T0 + timedelta(seconds=n)
        store.apply(
            Step([Notify(Notification(f"n-{n:04d}", "prg-relay", "CustomerSuspended", {"n": n}, at))])
        )
    return Dependencies(store, InMemoryPublisher(), FixedClock(T0 + timedelta(hours=1)))


def test_a_run_relays_every_page_while_the_bus_takes_them():
    deps = _outbox_of(25)

    assert relay_all_notifications(deps, page=10) == 25

    assert sorted(d["n"] for _, d in deps.publisher.published) == list(range(25))  # each once
    assert deps.repository.pending_notifications("prg-relay", 100) == []


def test_a_run_stops_where_the_bus_stops_taking_them_and_the_next_goes_on():
    deps = _outbox_of(25)
    bus = deps.publisher

    class FailingAfter(InMemoryPublisher):
        def publish(self, detail_type, detail):
            if len(bus.published) >= 12:
                raise StorageUnavailable("event bus unavailable (test)")
            bus.publish(detail_type, detail)

    deps.publisher = FailingAfter()
    assert relay_all_notifications(deps, page=10) == 12  # not a loop on the pages left
    assert len(deps.repository.pending_notifications("prg-relay", 100)) == 13
    deps.publisher = bus
    bus.published.clear()
    assert relay_all_notifications(deps, page=10) == 13
    assert deps.repository.pending_notifications("prg-relay", 100) == []


def test_a_run_stops_at_its_time_budget():
    deps = _outbox_of(25)

    assert relay_all_notifications(deps, time_left=lambda: 0.0, page=10) == 0
    assert len(deps.repository.pending_notifications("prg-relay", 100)) == 25


def test_a_run_whose_outbox_cannot_be_cleared_sends_each_notification_once_and_ends():
    # the bus back, the table throttled: what the bus took stayed in the outbox, the next page read
    # was the same page, and one run published it again and again until its time ran out
    # (more than one batch taken out together: a first version sent only the first batch, run
    # after run, while the table stayed throttled)
    deps = _outbox_of(60)
    store = deps.repository

    def throttled(delivered):
        raise StorageUnavailable("DynamoDB throttled the write (test)")

    store.notifications_delivered = throttled
    spent = iter(range(10_000))  # a budget that ends after many looks, as a Lambda's does

    sent = relay_all_notifications(deps, time_left=lambda: 10_000.0 - next(spent), page=60)

    assert sent == 60
    assert sorted(d["n"] for _, d in deps.publisher.published) == list(range(60))  # each once
    assert len(store.pending_notifications("prg-relay", 100)) == 60  # the next run sends them again
