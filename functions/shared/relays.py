"""When a relay sends again what waits in an outbox (accepted events for scoring, loyalty workflow
runs): once per copy's life in its queue, so a copy sent is scored (or run), or dead-lettered after
its deliveries, before the next one is sent. Work a throttled or refusing store keeps failing is
kept for a day (`errors.retried_later`): sent at every run instead, it piled copy on copy on the key
that was already throttled. Stateless: the runs' times say which run sends, no write per item sent.

A copy's life counts from its first delivery: one not received yet stays in its queue up to the
queue's retention (days). So while the queue is behind (`queue_behind`), a relay sends nothing:
its copies would wait behind the copies already there, every event behind by more than two
minutes sent again each quarter hour, more work for a consumer already short of time. The queue's
backlog alarm says it is behind; what waits in the outbox is sent once the queue has caught up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from aws_lambda_powertools.metrics import MetricUnit

from functions.shared.errors import StorageUnavailable
from functions.shared.messaging import ScoringQueue, WorkflowQueue
from functions.shared.observability import logger, metrics


@dataclass(frozen=True)
class RelaySchedule:
    after: timedelta  # younger work may still be on its way to the queue
    every: timedelta  # the relay schedule's rate
    # the longest a copy stays in the queue once first received: deliveries x visibility timeout
    copy_lifetime: timedelta

    def due(self, since: datetime, now: datetime) -> bool:
        """Whether a run at `now` sends work waiting since `since`: in its first run past `after`,
        then once in each `copy_lifetime`. Each window is open at its start, as the outbox reads
        work waiting strictly longer than `after` (a run exactly at its end is in it), so runs
        `every` apart, whatever their phase, send it once per window (a run missed costs one)."""
        waited = now - since - self.after
        return waited > timedelta(0) and (waited - _TICK) % self.copy_lifetime < self.every


_TICK = timedelta(microseconds=1)  # the finest a time here is


def failed_after_all(relay: str, what: str, failed: list[str]) -> None:
    """Every program tried, a relay run fails if one program's work could not be handed on: its
    error is the alarm that says accepted work waits unsent. One program's failure never keeps the
    others' work waiting (each goes on to the next program and fails here, at the end)."""
    if failed:  # `<program id>: <why>`, one or more a program (a page or a run of it refused)
        programs = len({entry.partition(": ")[0] for entry in failed})
        raise StorageUnavailable(f"{relay}: {what} of {programs} program(s) not relayed ({failed[0]})")


# A queue holding this many messages not received yet is behind: about three seconds of SPEC 1's
# peak (3,000 events a second), which the scoring function at its cap takes in well under the two
# minutes a relay waits before it sends (`RelaySchedule.after`).
QUEUE_BEHIND = 10_000
# a relay's run that sent nothing, its queue behind: one metric per relay, each a count of runs
HELD_BACK_METRICS = {"outbox relay": "OutboxRelayHeldBack", "workflow relay": "WorkflowRelayHeldBack"}


def queue_behind(relay: str, queue: ScoringQueue | WorkflowQueue) -> bool:
    """Whether the relay's queue is behind (`QUEUE_BEHIND` or more messages not received yet): then
    the run sends nothing, and says so (`HELD_BACK_METRICS`; the messages waiting in its log). A
    queue that does not say is taken as not behind: the relay sends as before, and a queue down
    refuses the sends, which fails the run (its alarm)."""
    try:
        waiting = queue.waiting()
    except StorageUnavailable as error:
        logger.warning(f"{relay}: the queue's backlog unknown; relaying", extra={"error": error.detail})
        return False
    if waiting < QUEUE_BEHIND:
        return False
    logger.info(
        f"{relay}: the queue is behind; what waits to be sent waits for it", extra={"waiting": waiting}
    )
    metrics.add_metric(name=HELD_BACK_METRICS[relay], unit=MetricUnit.Count, value=1)
    return True
