"""The outbox relay (run every 5 minutes): what was recorded but not handed on is handed on.

- Events: every accepted event that scoring has not taken, recorded over two minutes ago (its queue
  send failed, or the function stopped after the commit), is sent to the scoring queue again, in
  batches, oldest shard pages first, while the invocation has more left than the notifications'
  time (its Lambda context says, not a number of its own: the function has 120 s); a backlog
  drains over the next runs, five minutes apart. Each once per copy's life in the queue
  (`relays.RelaySchedule`), and none while the queue is behind (`relays.queue_behind`). An event
  that failed for good has left the outbox (`mark_event_failed`), so no poison is sent forever.
- Notifications: every notification the bus did not take when its change was made is published
  (at least once) and then taken out of the outbox. One the bus refuses again stays there, and
  how long the oldest such has waited is a metric with an alarm: a bus down for days is not silent.

Programs are taken in turn (`in_turn`): each run first gives every program its share (a page of
events, a batch of notifications), starting at another program each run, and only then drains the
backlogs in the same order. Taken one program's backlog after another, in the same order every
run, one program's thousands (a workflow that suspended its customers during a bus outage) took
every run's time while the programs after it waited, their notifications unsent for hours.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from aws_lambda_powertools.metrics import MetricUnit

from functions.shared.changes import publish, take_out
from functions.shared.domain.model import Notification, StoredEvent
from functions.shared.domain.turns import in_turn
from functions.shared.errors import DomainError
from functions.shared.messaging import PartlyRefused
from functions.shared.observability import logger, metrics
from functions.shared.relays import RelaySchedule, failed_after_all, queue_behind
from functions.shared.runtime import Dependencies

# every 5 minutes (infra/constants.py SCHEDULES) after 2; a copy received stays in the scoring queue
# at most its 5 deliveries (MAX_RECEIVES) of 180 s (its visibility timeout): infra tests hold them
# together (one not received yet: `relays.queue_behind`)
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

RUN_SECONDS = 5 * 60  # the schedule's (infra/constants.py SCHEDULES): each run starts elsewhere

TimeLeft = Callable[[], float]


def relay_outbox(deps: Dependencies, time_left: TimeLeft | None = None) -> int:
    """`time_left`: the seconds the invocation has left (none: no limit)."""
    if deps.queue is None:
        return 0
    queue = deps.queue
    if queue_behind("outbox relay", queue):  # its copies would wait behind those already there
        return 0
    now = deps.clock.now()
    cutoff = now - SCORING_RELAY.after
    out_of_time = _out_of_time(time_left, NOTIFICATION_SECONDS + MARGIN_SECONDS)
    sent = 0
    failed: list[str] = []
    pages: dict[str, Iterator[list[StoredEvent]]] = {}

    def send_page(program_id: str) -> bool:
        """The program's next page sent; whether it may have more."""
        nonlocal sent
        try:
            page = next(pages[program_id], None)
            if page is None:
                return False
            due = [(e.program_id, e.event_id) for e in page if SCORING_RELAY.due(e.received_at, now)]
            refused = 0
            if due:
                try:
                    queue.send_many(due)
                except PartlyRefused as error:
                    refused = error.refused
                    # the queue answers: its refusals wait in the outbox for their next window, the
                    # program's next pages go now (a faults tester's: one refused message of a batch
                    # held the program's whole backlog back for the relay's next window, 15 minutes)
                    logger.warning("outbox relay: the queue refused some", extra={"error": error.detail})
                    failed.append(f"{program_id}: {error.detail}")
            sent += len(due) - refused
            return True
        except DomainError as error:  # the queue refused, or the outbox unreadable: the others go on
            logger.warning("outbox relay skipped a program", extra={"error": error.detail})
            failed.append(f"{program_id}: {error.detail}")
            return False

    backlog: list[str] = []
    for program in in_turn(deps.repository.list_programs(), now, RUN_SECONDS):  # a page each first
        if out_of_time():
            break
        pages[program.program_id] = iter(deps.repository.outbox_pages(program.program_id, cutoff, PAGE))
        if send_page(program.program_id):
            backlog.append(program.program_id)
    for program_id in backlog:  # then the rest, in the same order
        while not out_of_time() and send_page(program_id):
            pass
    if out_of_time():  # the next run goes on; what failed before fails this one
        logger.info("outbox relay stopped at its time budget", extra={"sent": sent})
    if sent:
        logger.info("outbox relayed", extra={"sent": sent})
    failed_after_all("outbox relay", "events", failed)
    return sent


def relay_all_notifications(
    deps: Dependencies, time_left: TimeLeft | None = None, page: int = NOTIFICATION_PAGE
) -> int:
    """Notifications of every program still in the outbox (the bus was down when they were made),
    a batch of each program's first, then page after page while the bus takes them all, until
    `MARGIN_SECONDS` of the invocation are left (`time_left`; none: no limit): an outage during a
    workflow that suspends thousands of customers drains in a run or two, not 1,000 per run, and
    holds no other program's notifications back."""
    out_of_time = _out_of_time(time_left, MARGIN_SECONDS)
    delivered = 0
    failed: list[str] = []
    refused: list[Notification] = []  # by the bus: they wait in the outbox for the next run

    def relay(program_id: str, share: int | None) -> bool:
        """The program's outbox to the bus, page after page, or only its first `share` when given;
        whether it may have more the bus would take now."""
        nonlocal delivered
        try:
            while not out_of_time():
                waiting = deps.repository.pending_notifications(program_id, page)
                taken, left, kept = _relay_page(deps, waiting[:share], out_of_time)
                if kept and share is not None:
                    # what the bus took stayed in the outbox (a throttled table): the rest of the
                    # page in hand is sent too, as a whole page is, for a later read would be this
                    # page again (below)
                    more = _relay_page(deps, waiting[share:], out_of_time)
                    taken, left = taken + more[0], left + more[1]
                delivered += taken
                refused.extend(left)
                # the bus refused some (the next run tries again), the outbox emptied, the run is
                # out of time, or what the bus took stayed in the outbox: read again, the same page
                # was sent again and again until the run's time ran out
                if left or kept or (len(waiting) < page and taken == len(waiting)):
                    return False
                if share is not None:
                    return True
        except DomainError as error:  # one program's outbox unreadable: the others go on
            logger.warning("notification relay skipped a program", extra={"error": error.detail})
            failed.append(f"{program_id}: {error.detail}")
        return False

    backlog = [
        program.program_id
        for program in in_turn(deps.repository.list_programs(), deps.clock.now(), RUN_SECONDS)
        if relay(program.program_id, TAKEN_OUT_TOGETHER)  # a batch each first
    ]
    for program_id in backlog:  # then the rest, in the same order
        relay(program_id, None)
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
