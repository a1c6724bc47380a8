"""The outbox relay (run every 5 minutes): what was recorded but not handed on is handed on.

- Events: every accepted event that scoring has not taken, recorded over two minutes ago (its queue
  send failed, or the function stopped after the commit), is sent to the scoring queue again, in
  batches, oldest shard pages first, while the invocation has more left than the notifications'
  time (its Lambda context says, not a number of its own: the function has 120 s); a backlog
  drains over the next runs, five minutes apart. Each once per copy's life in the queue
  (`relays.RelaySchedule`). An event that failed for good has left the outbox
  (`mark_event_failed`), so no poison is sent forever.
- Notifications: every notification the bus did not take when its change was made is published
  (at least once) and then taken out of the outbox. One the bus refuses again stays there, and
  how long the oldest such has waited is a metric with an alarm: a bus down for days is not silent.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from aws_lambda_powertools.metrics import MetricUnit

from functions.shared.changes import publish, take_out
from functions.shared.domain.model import Notification
from functions.shared.errors import DomainError
from functions.shared.observability import logger, metrics
from functions.shared.relays import RelaySchedule, failed_after_all
from functions.shared.runtime import Dependencies

# every 5 minutes (infra/constants.py SCHEDULES) after 2; a copy stays in the scoring queue at most
# its 5 deliveries (MAX_RECEIVES) of 180 s (its visibility timeout): infra tests hold them together
SCORING_RELAY = RelaySchedule(
    after=timedelta(minutes=2), every=timedelta(minutes=5), copy_lifetime=timedelta(minutes=15)
)
PAGE = 500
# A run's time is its invocation's (`time_left`, from the Lambda context): the events half takes
# pages while more than the notifications' time and the margin are left, the notifications half
# while more than the margin is; the next run, five minutes later, goes on from there.
NOTIFICATION_SECONDS = 30.0  # kept for the notifications half, however many events wait
# left when a run stops: its last page's sends or publish (each call bounded: aws_calls.HANDED_ON)
# and the outbox's clean-up
MARGIN_SECONDS = 10.0
NOTIFICATION_PAGE = 1000
TAKEN_OUT_TOGETHER = 25  # a batch write's most: published, then taken out of the outbox
# how long the oldest notification the bus refused has waited (alarmed past half an hour)
WAITING_METRIC = "NotificationsWaitingSeconds"

TimeLeft = Callable[[], float]


def relay_outbox(deps: Dependencies, time_left: TimeLeft | None = None) -> int:
    """`time_left`: the seconds the invocation has left (none: no limit)."""
    if deps.queue is None:
        return 0
    now = deps.clock.now()
    cutoff = now - SCORING_RELAY.after
    out_of_time = _out_of_time(time_left, NOTIFICATION_SECONDS + MARGIN_SECONDS)
    sent = 0
    failed: list[str] = []
    for program in deps.repository.list_programs():
        try:
            for page in deps.repository.outbox_pages(program.program_id, cutoff, PAGE):
                due = [(e.program_id, e.event_id) for e in page if SCORING_RELAY.due(e.received_at, now)]
                if due:
                    deps.queue.send_many(due)
                sent += len(due)
                if out_of_time():
                    break
        except DomainError as error:  # the queue refused, or the outbox unreadable: the others go on
            logger.warning("outbox relay skipped a program", extra={"error": error.detail})
            failed.append(f"{program.program_id}: {error.detail}")
        if out_of_time():  # the next run goes on; what failed before fails this one
            logger.info("outbox relay stopped at its time budget", extra={"sent": sent})
            break
    if sent:
        logger.info("outbox relayed", extra={"sent": sent})
    failed_after_all("outbox relay", "events", failed)
    return sent


def relay_all_notifications(
    deps: Dependencies, time_left: TimeLeft | None = None, page: int = NOTIFICATION_PAGE
) -> int:
    """Notifications of every program still in the outbox (the bus was down when they were made),
    page after page while the bus takes them all, until `MARGIN_SECONDS` of the invocation are
    left (`time_left`; none: no limit): an outage during a workflow that suspends thousands of
    customers drains in a run or two, not 1,000 per run."""
    out_of_time = _out_of_time(time_left, MARGIN_SECONDS)
    delivered = 0
    failed: list[str] = []
    refused: list[Notification] = []  # by the bus: they wait in the outbox for the next run
    for program in deps.repository.list_programs():
        try:
            while not out_of_time():
                waiting = deps.repository.pending_notifications(program.program_id, page)
                taken, left, kept = _relay_page(deps, waiting, out_of_time)
                delivered += taken
                refused += left
                # the bus refused some (the next run tries again), the outbox emptied, the run is
                # out of time, or what the bus took stayed in the outbox (a throttled table): read
                # again, the same page was sent again and again until the run's time ran out
                if left or kept or taken < page:
                    break
        except DomainError as error:  # one program's outbox unreadable: the others go on
            logger.warning("notification relay skipped a program", extra={"error": error.detail})
            failed.append(f"{program.program_id}: {error.detail}")
    if delivered:
        logger.info("notifications relayed", extra={"delivered": delivered})
    if refused:
        _waiting(refused, deps.clock.now())
    failed_after_all("outbox relay", "notifications", failed)
    return delivered


def _relay_page(
    deps: Dependencies, waiting: list[Notification], out_of_time: Callable[[], bool]
) -> tuple[int, list[Notification], bool]:
    """One page of the outbox to the bus, `TAKEN_OUT_TOGETHER` at a time, each batch taken out of
    the outbox as soon as the bus took it and the time checked before the next: a bus that takes
    each one in 50 ms still keeps a page of 1,000 from fitting the time left, and a run stopped in
    the middle of a page sent it all again at the next run, taken out never. One the bus refuses
    does not keep the rest of the page from it. (how many the bus took, those it refused, whether
    some it took could not be taken out of the outbox: the rest of the page is sent all the same,
    not taken out, and the run reads no further page, which would be this one again)"""
    taken, refused, kept = 0, list[Notification](), False
    for start in range(0, len(waiting), TAKEN_OUT_TOGETHER):
        if out_of_time():
            break
        batch = waiting[start : start + TAKEN_OUT_TOGETHER]
        published = publish(deps.publisher, batch, out_of_time)
        taken += len(published)
        ids = {n.notification_id for n in published}
        refused += [n for n in batch if n.notification_id not in ids]
        kept = not take_out(deps.repository, published) or kept  # each batch tried: a throttle passes
    return taken, refused, kept


def _out_of_time(time_left: TimeLeft | None, keep_seconds: float) -> Callable[[], bool]:
    """Whether the run should stop taking work: less than `keep_seconds` of it left."""
    return lambda: time_left is not None and time_left() < keep_seconds


def _waiting(refused: list[Notification], now: datetime) -> None:
    """Notifications the bus refused again: counted, and the oldest one's wait measured, which an
    alarm watches (`WAITING_METRIC`): the bus down for half an hour, or one notification it refuses
    for good, says so, while the run itself ends well (failing every five minutes, it would keep its
    error alarm raised for good and fill the schedules' dead-letter queue over one bad item)."""
    oldest = min(n.created_at for n in refused)
    logger.warning(
        "the bus refused notifications; they wait in the outbox",
        extra={
            "refused": len(refused),
            "oldest": oldest.isoformat(),
            "notification": refused[0].notification_id,
        },
    )
    metrics.add_metric(name="NotificationsRefused", unit=MetricUnit.Count, value=len(refused))
    waited = max(0.0, (now - oldest).total_seconds())
    metrics.add_metric(name=WAITING_METRIC, unit=MetricUnit.Seconds, value=waited)
