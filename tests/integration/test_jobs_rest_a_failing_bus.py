"""The hold sweep and the dispute cycle during a bus outage (a review's): each change's notification
waited its call's bound on a bus that did not answer (4 s), so a run of hundreds of changes spent its
time waiting, a hundred times slower. Once the bus failed a call, a run leaves its notifications in
the outbox without calling it for a while (`messaging.RestingPublisher`); nothing is lost. The real
services on moto."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from functions.hold_sweep.service import sweep
from functions.shared import runtime
from functions.shared.clock import FixedClock
from functions.shared.errors import StorageUnavailable
from functions.shared.messaging import RestingPublisher
from tests.integration.scoring_support import drain, send, signup, status
from tests.integration.test_sweep_at_scale import FLAGGED, P, flagged_with_a_stray, held


class DownBus:
    """A bus that fails every call (as one that does not answer, after its bound)."""

    def __init__(self) -> None:
        self.calls = 0

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        self.calls += 1
        raise StorageUnavailable("event bus unavailable (test)")


def test_a_sweep_during_an_outage_calls_the_bus_once_and_keeps_every_notification(aws):
    store = aws.repository
    for n in range(6):
        flagged_with_a_stray(store, n)
    bus = DownBus()
    deps = replace(runtime.dependencies(), clock=FixedClock(FLAGGED + timedelta(days=1)), publisher=bus)

    report = sweep(deps)

    assert report.held == 6 and held(store, 6) == set(range(6))  # every change made
    assert bus.calls == 1  # and the bus, down, asked once
    waiting = store.pending_notifications(P, 100)
    assert len([n for n in waiting if n.name == "RewardsHeld"]) == 6  # each notification kept


def test_a_resting_publisher_calls_again_once_its_rest_is_over(monkeypatch: pytest.MonkeyPatch):
    from functions.shared import messaging

    now = [100.0]
    monkeypatch.setattr(messaging.time, "monotonic", lambda: now[0])
    bus = DownBus()
    resting = RestingPublisher(bus, rest_seconds=30)

    for _ in range(3):
        with pytest.raises(StorageUnavailable):
            resting.publish("RewardsHeld", {})
    assert bus.calls == 1
    now[0] += 30
    with pytest.raises(StorageUnavailable):
        resting.publish("RewardsHeld", {})
    assert bus.calls == 2


def test_a_batch_scored_while_the_bus_is_down_calls_it_once_and_leaves_the_rest_in_the_outbox(
    aws, tenant, monkeypatch
):
    # a webhooks tester's: each of a batch's notifications waited the bus call's whole bound (about
    # 2 s on a bus that never answers), so 25 flags took 51 s against the score function's 30 s, and
    # the batch came back again and again for as long as the outage lasted (SPEC 6: a bus outage
    # stops nothing). A batch now rests the bus after its first failure, as the sweep does.
    send(tenant, signup("p0", email="one.person@example.com", ip="81.2.69.10"))
    drain(aws)
    down = DownBus()
    monkeypatch.setattr(runtime.dependencies(), "publisher", down)
    flagged = [signup(f"p{n}", email="one.person@example.com", ip=f"81.2.69.{10 + n}") for n in range(1, 9)]
    for event in flagged:
        send(tenant, event)
    drain(aws)  # the eight in one receive of up to ten (two at most)

    assert [status(tenant, e["id"])["decision"]["action"] for e in flagged] == ["flag"] * 8
    assert down.calls <= 2, down.calls  # once a batch, not once a notification
    waiting = aws.repository.pending_notifications(tenant.program_id, 50)
    assert sorted({n.name for n in waiting}) >= ["PartnerFlagged"] and len(waiting) >= 8
