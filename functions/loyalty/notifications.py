"""Loyalty notifications (SPEC 6: `CustomerSuspended`, `CustomerBlocked`, `LoyaltyCommunication`)
go through the partner programs' outbox.

Each is decided with the customer change that causes it and written in the same transaction
(`CustomerChange.notifications`: an `N#` item on the `outbox` index, as `Notify` writes it), then
published right after the commit and taken out of the outbox (`changes.deliver`). One the bus does
not take stays in the outbox and the outbox relay delivers it later: at least once, bus outage or
not; a bus outage never fails the change or the answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from functions.shared import changes
from functions.shared.domain.model import Notification
from functions.shared.domain.plans import derived_id
from functions.shared.observability import metrics
from functions.shared.runtime import Dependencies


def recorded(
    program_id: str,
    customer_id: str,
    version: int,
    at: datetime,
    events: Sequence[tuple[str, dict[str, Any]]],
) -> tuple[Notification, ...]:
    """The notifications of a customer change committing `version`, in order. Their ids come from
    what caused them (the customer, the version, the place in the change): the same on every copy
    the relay publishes again, so consumers (webhooks) drop a second delivery; never the same for
    two changes, since a customer's version is committed once."""
    return tuple(
        Notification(
            derived_id(program_id, "loyalty", customer_id, str(version), str(position), name),
            program_id,
            name,
            detail,
            at,
        )
        for position, (name, detail) in enumerate(events)
    )


def deliver(deps: Dependencies, notifications: Sequence[Notification]) -> None:
    """After the commit that recorded them: publishes them and takes those the bus took out of the
    outbox; the others stay there for the relay (counted, `LoyaltyPublishFailures`)."""
    if not notifications:
        return
    delivered = changes.deliver(deps.repository, deps.publisher, list(notifications))
    if delivered < len(notifications):
        metrics.add_metric(
            name="LoyaltyPublishFailures", unit=MetricUnit.Count, value=len(notifications) - delivered
        )
