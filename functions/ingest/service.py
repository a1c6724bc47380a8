"""Accepting events: storage first, then the scoring queue; nothing accepted is ever lost.

The event is recorded (with an outbox marker) before the 202. If the queue send then fails, the
event stays in the outbox and `relay_outbox` (run on a schedule) sends it again; scoring clears
the marker when it takes the event. A redelivered event is harmless: scoring is idempotent.

A synchronous decision (`?wait=decision`) does all of that first, then scores the event on the
request's path with the scoring function's own engine. The engine's first write is conditional on
the event not being scored yet, so whichever of the request and the queue scores it first, the
other finds it scored: the request then answers with the stored decision.
"""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from functions.ingest import arrival_order
from functions.shared.documents import document_hash, same_document
from functions.shared.domain.model import StoredEvent
from functions.shared.errors import Conflict, DomainError, InvalidInput, NotFound, described
from functions.shared.inputs import check_event_time
from functions.shared.observability import logger, metrics
from functions.shared.runtime import Dependencies


def accept_event(
    deps: Dependencies, program_id: str, event_id: str, event_type: str, occurred_at: Any, raw: dict[str, Any]
) -> StoredEvent:
    now = deps.clock.now()
    try:
        check_event_time(occurred_at, now)
    except InvalidInput:
        # a retry may reach a copy whose clock is behind the one that accepted it: the id answers
        # first (the read costs only a request refused for its time)
        stored = _stored(deps, program_id, event_id)
        if stored is None:
            raise
        return _retried(stored, raw)
    candidate = StoredEvent(
        program_id=program_id,
        event_id=event_id,
        type=event_type,
        body=raw,
        body_hash=document_hash(raw),
        occurred_at=occurred_at,
        received_at=now,
    )
    outcome = deps.repository.record_event(candidate)
    if not outcome.created:
        return _retried(outcome.event, raw)
    metrics.add_metric(name="EventsAccepted", unit=MetricUnit.Count, value=1)
    _hand_to_scoring(deps, program_id, event_id)
    return outcome.event


def _retried(stored: StoredEvent, raw: dict[str, Any]) -> StoredEvent:
    """The event stored under the id, when `raw` is the body it was accepted with (SPEC 3.1): by its
    hash, in whichever form it was made, or else by the stored body read as this version reads a
    body (`document_hash`): one stored before a form that equates more (`"USD "` and `"USD"`, a
    reward of nulls and none) is the same event to its retry as one stored since (a reviewer: a
    client answered 409 sends it again under a new id, and it counts twice)."""
    if not (same_document(stored.body_hash, raw) or document_hash(stored.body) == document_hash(raw)):
        raise Conflict(f"event id '{stored.event_id}' was already used with a different body")
    return stored


def _stored(deps: Dependencies, program_id: str, event_id: str) -> StoredEvent | None:
    try:
        return deps.repository.get_event(program_id, event_id)
    except NotFound:
        return None


def _hand_to_scoring(deps: Dependencies, program_id: str, event_id: str) -> None:
    if deps.queue is None:
        logger.warning("no scoring queue configured; event stays in the outbox", extra={"event_id": event_id})
        return
    try:
        deps.queue.send(program_id, event_id)
    except DomainError as error:  # recorded already: the relay sends it later
        logger.warning(
            "queue send failed; left in the outbox", extra={"event_id": event_id, "error": error.detail}
        )
        metrics.add_metric(name="QueueSendFailures", unit=MetricUnit.Count, value=1)


def event_status(deps: Dependencies, program_id: str, event_id: str) -> dict[str, Any]:
    return status_of(deps.repository.get_event(program_id, event_id))


def status_of(event: StoredEvent) -> dict[str, Any]:
    """What `GET /v1/events/{id}` answers (and a synchronous decision's 200)."""
    return {
        "event_id": event.event_id,
        "type": event.type,
        "status": event.status,
        "decision": event.decision,
        "case_id": event.case_id,
        "failure": event.failure,
        "notes": list(event.notes),
    }


DEFAULT_WAIT_MS = 3000  # SPEC 3.1: three seconds unless `timeout_ms` says otherwise
MAX_WAIT_MS = 10000
_FIRST_LOOK_S = 0.05  # between reads of an event another scorer has; doubles up to _LAST_LOOK_S
_LAST_LOOK_S = 0.5


def decide_within(deps: Dependencies, stored: StoredEvent, wait_s: float) -> StoredEvent:
    """The event as last read: scored, if it is scored within `wait_s` seconds (by this request or
    by the queue); else as it is when the wait is over (the caller answers 202 with that status,
    and the queue goes on with it).

    First the events of its partner or customer still queued that arrived before it
    (`arrival_order`) are scored, in the order received, while the wait lasts: the decision is the
    one the queue would give in arrival order. Then the event itself, whatever time is left.
    Scoring here is the same engine the queue runs; its decision write holds only while the event
    is not scored, so a race with the queue scores each event once. A pass that has started is
    finished even if it ends after the wait: stopping it would undo nothing, and its decision is
    the answer. Any failure here is left to the queue, which retries and dead-letters as it always
    does."""
    if stored.status != "queued" or wait_s <= 0:
        return stored
    deadline = time.monotonic() + wait_s
    for earlier in _queued_before(deps, stored):
        if time.monotonic() >= deadline:  # the wait is spent: the queue scores the rest
            break
        if _still_queued(deps, earlier):  # scored meanwhile (the queue, another request): no pass
            _score(deps, earlier, f"an event before {stored.event_id}")
    _score(deps, stored, "the event itself")
    pause = _FIRST_LOOK_S
    while True:
        try:
            event = deps.repository.get_event(stored.program_id, stored.event_id)
        except DomainError as error:  # throttled or unavailable: look again while the wait lasts
            logger.warning(
                "reading the decision failed", extra={"event_id": stored.event_id, "error": error.detail}
            )
            event = stored
        if event.status == "scored":
            metrics.add_metric(name="SynchronousDecisions", unit=MetricUnit.Count, value=1)
            return event
        left = deadline - time.monotonic()
        if event.status == "failed" or left <= 0:
            metrics.add_metric(name="SynchronousDecisionsTimedOut", unit=MetricUnit.Count, value=1)
            return event
        time.sleep(min(pause, left))
        pause = min(pause * 2, _LAST_LOOK_S)


def _queued_before(deps: Dependencies, stored: StoredEvent) -> list[StoredEvent]:
    """What `arrival_order.goes_first` puts before the event, of the newest events queued in its
    window; none when the outbox cannot be read (the queue keeps its order as best it can)."""
    received_after, received_before = arrival_order.window(stored)
    try:
        queued = deps.repository.recently_queued(
            stored.program_id, received_after, received_before, arrival_order.QUEUED_PER_SHARD
        )
        return arrival_order.goes_first(stored, queued)
    except Exception as error:  # any failure: the request still scores its own event
        logger.warning(
            "reading the events queued before it failed; scoring it alone",
            extra={"event_id": stored.event_id, "error": described(error)},
            exc_info=not isinstance(error, DomainError),
        )
        return []


def _still_queued(deps: Dependencies, event: StoredEvent) -> bool:
    """Read again from the table right before scoring it: the index follows the table, and a
    concurrent request or the queue may have scored it since it was listed."""
    try:
        return deps.repository.get_event(event.program_id, event.event_id).status == "queued"
    except DomainError:
        return False


def _score(deps: Dependencies, event: StoredEvent, what: str) -> None:
    """Scores `event` on the request's path; a failure is logged and left to the queue."""
    try:
        from functions.score.service import engine_for, hand_on_reviews  # scoring's, only when asked

        hand_on_reviews(deps, engine_for(deps).score(event))
    except Exception as error:  # any failure: the event is recorded and queued, never a 500 for it
        logger.warning(
            "synchronous scoring failed; the queue scores it",
            extra={"event_id": event.event_id, "scoring": what, "error": described(error)},
            exc_info=not isinstance(error, DomainError),
        )
