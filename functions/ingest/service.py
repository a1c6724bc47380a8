"""Accepting events: storage first, then the scoring queue; nothing accepted is ever lost.

The event is recorded (with an outbox marker) before the 202. If the queue send then fails, the
event stays in the outbox and `relay_outbox` (run on a schedule) sends it again; scoring clears
the marker when it takes the event. A redelivered event is harmless: scoring is idempotent.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from functions.shared.domain.model import StoredEvent
from functions.shared.errors import Conflict, DomainError
from functions.shared.inputs import check_event_time
from functions.shared.observability import logger, metrics
from functions.shared.runtime import Dependencies


def body_hash(raw: dict[str, Any]) -> str:
    """The same JSON document gives the same hash, whatever its key order or spacing."""
    canonical = json.dumps(raw, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def parse_body(raw_body: str) -> dict[str, Any]:
    return json.loads(raw_body, parse_float=Decimal)


def accept_event(
    deps: Dependencies, program_id: str, event_id: str, event_type: str, occurred_at: Any, raw: dict[str, Any]
) -> StoredEvent:
    check_event_time(occurred_at, deps.clock.now())
    candidate = StoredEvent(
        program_id=program_id,
        event_id=event_id,
        type=event_type,
        body=raw,
        body_hash=body_hash(raw),
        occurred_at=occurred_at,
        received_at=deps.clock.now(),
    )
    outcome = deps.repository.record_event(candidate)
    if not outcome.created:
        if outcome.event.body_hash != candidate.body_hash:
            raise Conflict(f"event id '{event_id}' was already used with a different body")
        return outcome.event
    metrics.add_metric(name="EventsAccepted", unit=MetricUnit.Count, value=1)
    _hand_to_scoring(deps, program_id, event_id)
    return outcome.event


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
    event = deps.repository.get_event(program_id, event_id)
    return {
        "event_id": event.event_id,
        "type": event.type,
        "status": event.status,
        "decision": event.decision,
        "case_id": event.case_id,
        "failure": event.failure,
    }
