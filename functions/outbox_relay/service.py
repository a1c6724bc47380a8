"""The outbox relay (run every 5 minutes): what was recorded but not handed on is handed on.

- Events: every accepted event that scoring has not taken, recorded over two minutes ago (its queue
  send failed, or the function stopped after the commit), is sent to the scoring queue again, in
  batches, oldest shard pages first, until the run's time budget: a minute of queue outage at 3,000
  events/s (180,000 events) drains in one or two runs. Each once per copy's life in the queue
  (`relays.RelaySchedule`). An event that failed for good has left the outbox
  (`mark_event_failed`), so no poison is sent forever.
- Notifications: every notification the bus did not take when its change was made is published
  (at least once) and then taken out of the outbox. One the bus refuses again stays there, and the
  run fails once every program was tried (its error alarm): a bus down for days is not silent.
"""

from __future__ import annotations

import time
from datetime import timedelta

from functions.shared.changes import deliver
from functions.shared.errors import DomainError
from functions.shared.observability import logger
from functions.shared.relays import RelaySchedule, failed_after_all
from functions.shared.runtime import Dependencies

# every 5 minutes (infra/constants.py SCHEDULES) after 2; a copy stays in the scoring queue at most
# its 5 deliveries (MAX_RECEIVES) of 180 s (its visibility timeout): infra tests hold them together
SCORING_RELAY = RelaySchedule(
    after=timedelta(minutes=2), every=timedelta(minutes=5), copy_lifetime=timedelta(minutes=15)
)
PAGE = 500
BUDGET_SECONDS = 240.0  # the function's timeout is 5 minutes: stop in time, the next run goes on
NOTIFICATION_BUDGET_SECONDS = 40.0  # after the events' budget, within the 5 minutes
NOTIFICATION_PAGE = 1000


def relay_outbox(deps: Dependencies, budget_seconds: float = BUDGET_SECONDS) -> int:
    if deps.queue is None:
        return 0
    now = deps.clock.now()
    cutoff = now - SCORING_RELAY.after
    deadline = time.monotonic() + budget_seconds
    sent = 0
    failed: list[str] = []
    for program in deps.repository.list_programs():
        try:
            for page in deps.repository.outbox_pages(program.program_id, cutoff, PAGE):
                due = [(e.program_id, e.event_id) for e in page if SCORING_RELAY.due(e.received_at, now)]
                if due:
                    deps.queue.send_many(due)
                sent += len(due)
                if time.monotonic() > deadline:
                    logger.info("outbox relay stopped at its time budget", extra={"sent": sent})
                    return sent
        except DomainError as error:  # the queue refused, or the outbox unreadable: the others go on
            logger.warning("outbox relay skipped a program", extra={"error": error.detail})
            failed.append(f"{program.program_id}: {error.detail}")
    if sent:
        logger.info("outbox relayed", extra={"sent": sent})
    failed_after_all("outbox relay", "events", failed)
    return sent


def relay_all_notifications(
    deps: Dependencies, budget_seconds: float = NOTIFICATION_BUDGET_SECONDS, page: int = NOTIFICATION_PAGE
) -> int:
    """Notifications of every program still in the outbox (the bus was down when they were made),
    page after page while the bus takes them all, until the run's time budget: an outage during a
    workflow that suspends thousands of customers drains in a run or two, not 1,000 per run."""
    deadline = time.monotonic() + budget_seconds
    delivered = 0
    failed: list[str] = []
    for program in deps.repository.list_programs():
        try:
            while time.monotonic() < deadline:
                waiting = deps.repository.pending_notifications(program.program_id, page)
                sent = deliver(deps.repository, deps.publisher, waiting)
                delivered += sent
                if sent < len(waiting):  # the bus refused some: they wait, and the run fails at the end
                    failed.append(
                        f"{program.program_id}: the bus took {sent} of {len(waiting)} notifications"
                    )
                    break
                if sent < page:  # the outbox emptied
                    break
        except DomainError as error:  # one program's outbox unreadable: the others go on
            logger.warning("notification relay skipped a program", extra={"error": error.detail})
            failed.append(f"{program.program_id}: {error.detail}")
    if delivered:
        logger.info("notifications relayed", extra={"delivered": delivered})
    failed_after_all("outbox relay", "notifications", failed)
    return delivered
