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

from functions.shared.documents import json_default
from functions.shared.domain import summary
from functions.shared.domain.model import Notification
from functions.shared.domain.writes import Step, StepRefused
from functions.shared.errors import DomainError, StorageUnavailable
from functions.shared.messaging import EventPublisher
from functions.shared.observability import logger
from functions.shared.storage.port import NotificationsPort, StepsPort

ATTEMPTS = 4  # reads and decides again when a concurrent change refused a step

T = TypeVar("T")


def carry_out(
    store: StepsPort,
    steps: list[Step],
    publisher: EventPublisher,
    delivered: list[Notification] | None = None,
) -> None:
    """With `delivered`, the notifications the bus took are added to it, to be taken out of the
    outbox later, many at once (`take_out`), instead of one round trip after each step."""
    for step in steps:
        store.apply(summary.counted(step))  # the summary figures move with the cases
        if delivered is None:
            deliver(store, publisher, step.notifications())
        else:
            delivered += publish(publisher, step.notifications())


def deliver(store: NotificationsPort, publisher: EventPublisher, notifications: list[Notification]) -> int:
    """Publishes each notification, then takes those the bus took out of the outbox (one round
    trip); at least once: one published whose removal failed is published again by the relay."""
    delivered = publish(publisher, notifications)
    take_out(store, delivered)
    return len(delivered)


def publish(
    publisher: EventPublisher,
    notifications: list[Notification],
    out_of_time: Callable[[], bool] | None = None,
) -> list[Notification]:
    """Hands each notification to the bus; returns those it took. One it did not take stays in the
    outbox for the relay. `out_of_time`: once the bus has failed one and this says so, the rest are
    left there untried (a bus that does not answer costs each one its wait)."""
    delivered = []
    failed = False
    for notification in notifications:
        if failed and out_of_time is not None and out_of_time():
            break
        try:
            # its id travels with it: a consumer drops a second delivery of the same notification;
            # and its time: a delivery after an outage says when it happened, not when it was sent
            publisher.publish(
                notification.name,
                {
                    **notification.detail,
                    "notification_id": notification.notification_id,
                    "created_at": json_default(notification.created_at),  # as the API writes a time
                },
            )
        except DomainError as error:
            logger.warning(
                "bus did not take a notification; the relay sends it later",
                extra={"notification": notification.name, "error": error.detail},
            )
            failed = True
            continue
        delivered.append(notification)
    return delivered


def take_out(store: NotificationsPort, delivered: list[Notification]) -> bool:
    """Takes notifications the bus took out of the outbox (a batch write per 25). Should that fail,
    they stay there and the relay sends them again: consumers drop the second by its id. Whether
    they are out (False: left in the outbox)."""
    if delivered:
        try:
            store.notifications_delivered(delivered)
        except DomainError as error:
            logger.warning("delivered notifications left in the outbox", extra={"error": error.detail})
            return False
    return True


def backoff(attempt: int) -> None:
    """A short random wait before reading again, so writers racing on one item spread out."""
    time.sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))  # noqa: S311 (jitter, not secrecy)


# the waits before reading an index again when what it answered is behind what the table says
# (DynamoDB's indexes are read eventually consistent: usually within a second)
INDEX_WAITS = (0.05, 0.2, 0.5, 1.0, 2.0)


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


def ending_empty(attempt: Callable[[bool], T], what: str, case_id: str) -> T:
    """`attempt(True)`, a plan that ends only when its case holds nothing more, while the index it
    read waits last (`INDEX_WAITS`: a reward held a moment before may not be in it yet); then
    `attempt(False)`, the case's count left as it is (one no read bears out: a figure an older
    version kept wrong), said in the log. Without the second, such a case could never end."""
    for pause in (*INDEX_WAITS, None):
        try:
            return attempt(True)
        except StepRefused:  # the index behind, or a concurrent change: read again after a pause
            if pause is None:
                break
            time.sleep(pause)
    logger.warning(
        "a case still counts held rewards no read shows after waiting on the index: ended, its count "
        "left as it is (a count an older version kept wrong, or an index far behind: see its rewards)",
        extra={"case_id": case_id},
    )
    return retrying(lambda: attempt(False), what)
