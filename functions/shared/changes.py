"""Carrying out what the rules decided: apply each step in order, then hand the step's
notifications to the bus. A notification the bus does not take stays in the outbox (it was written
with the change) and the relay delivers it later: a bus outage never stops a change half way, and
never turns a committed change into an error.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from functions.shared.domain import summary
from functions.shared.domain.model import Notification
from functions.shared.domain.writes import Step, StepRefused
from functions.shared.errors import DomainError, StorageUnavailable
from functions.shared.messaging import EventPublisher
from functions.shared.observability import logger
from functions.shared.storage.port import NotificationsPort, StepsPort

ATTEMPTS = 4  # reads and decides again when a concurrent change refused a step

T = TypeVar("T")


def carry_out(store: StepsPort, steps: list[Step], publisher: EventPublisher) -> None:
    for step in steps:
        store.apply(summary.counted(step))  # the summary figures move with the cases
        deliver(store, publisher, step.notifications())


def deliver(store: NotificationsPort, publisher: EventPublisher, notifications: list[Notification]) -> int:
    """Publishes each notification, then takes those the bus took out of the outbox (one round
    trip); at least once: one published whose removal failed is published again by the relay."""
    delivered = []
    for notification in notifications:
        try:
            # its id travels with it: a consumer drops a second delivery of the same notification
            publisher.publish(
                notification.name, {**notification.detail, "notification_id": notification.notification_id}
            )
        except DomainError as error:
            logger.warning(
                "bus did not take a notification; the relay sends it later",
                extra={"notification": notification.name, "error": error.detail},
            )
            continue
        delivered.append(notification)
    if delivered:
        try:
            store.notifications_delivered(delivered)
        except DomainError as error:
            logger.warning("delivered notifications left in the outbox", extra={"error": error.detail})
    return len(delivered)


def relay_notifications(
    store: NotificationsPort, publisher: EventPublisher, program_id: str, limit: int = 1000
) -> int:
    """Delivers what the bus did not take when the change was made."""
    return deliver(store, publisher, store.pending_notifications(program_id, limit))


def backoff(attempt: int) -> None:
    """A short random wait before reading again, so writers racing on one item spread out."""
    time.sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))  # noqa: S311 (jitter, not secrecy)


def retrying(attempt: Callable[[], T], what: str) -> T:
    """Runs read-decide-apply again while concurrent changes refuse its steps; the next reads see
    them, and the rules decide anew (a change no longer allowed is then a Conflict)."""
    for n in range(ATTEMPTS):
        try:
            return attempt()
        except StepRefused:
            if n == ATTEMPTS - 1:
                break
            backoff(n)
    raise StorageUnavailable(f"{what}: concurrent changes kept refusing it; try again")
