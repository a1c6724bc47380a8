"""Taking events off the scoring queue: score, record, notify."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, ValidationError

from functions.score.engine import Engine, Scored
from functions.score.reference import EmbeddedReferenceData
from functions.shared.config import MAX_RECEIVES  # the queue's; the last delivery marks the event failed
from functions.shared.domain.identity import network_pepper
from functions.shared.domain.model import Notification, StoredEvent
from functions.shared.errors import DomainError, NotFound, StorageRefused, described, retried_later
from functions.shared.observability import logger
from functions.shared.runtime import Dependencies


class ScoringMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    program_id: str
    event_id: str


@lru_cache(maxsize=1)
def reference_data() -> EmbeddedReferenceData:
    return EmbeddedReferenceData()


def engine_for(deps: Dependencies, delivered: list[Notification] | None = None) -> Engine:
    return Engine(
        deps.repository,
        reference_data(),
        network_pepper(),
        deps.publisher,
        delivered,
        memory=deps.read_memory,
        clock=deps.clock,
    )


def read_batch(deps: Dependencies, bodies: list[str]) -> dict[tuple[str, str], StoredEvent]:
    """The events of a batch of messages, read together (one `BatchGetItem` for an SQS batch of up
    to 25, instead of one read per event). Best effort: a malformed message is left for
    `take_message` to report, and should the read fail each message reads its own event."""
    refs = []
    for body in bodies:
        try:
            message = ScoringMessage.model_validate_json(body)
        except ValueError:
            continue
        refs.append((message.program_id, message.event_id))
    if not refs:
        return {}
    try:
        return deps.repository.get_events(refs)
    except Exception as error:  # any failure: each message still reads its own
        logger.warning(
            "reading the batch's events failed; each reads its own", extra={"error": described(error)}
        )
        return {}


def hand_on_reviews(deps: Dependencies, scored: Scored) -> None:
    """The reviews a scored event recorded (`linked_earlier`), sent to the scoring queue at once.
    Recorded with its decision, they wait in the events' outbox: should the send fail (or the run
    stop before it), the outbox relay sends them minutes later."""
    if not scored.reviews or deps.queue is None:
        return
    try:
        deps.queue.send_many(list(scored.reviews))
    except DomainError as error:
        logger.warning(
            "queue send of reviews failed; left in the outbox",
            extra={"count": len(scored.reviews), "error": error.detail},
        )


def gives_up(error: Exception, received_at: datetime, now: datetime) -> bool:
    """Whether an event's last delivery, failing with `error`, marks it failed and takes it out of the
    outbox: not for an event that is not there (nothing to mark), nor while a store that did not
    answer, or refused the call, may still take it (`retried_later`: the relay sends it again)."""
    return not isinstance(error, NotFound) and not retried_later(error, received_at, now)


def failure_detail(error: Exception) -> str:
    """What a failed event's status says: the refusal, or for a fault of this code only that (the
    log has the rest: an internal error's text is not the program's to read; nor is how the
    platform's storage is set up, when it refused)."""
    if isinstance(error, StorageRefused):
        logger.error("scoring refused by the storage at its last delivery", extra={"error": error.detail})
        return "scoring failed: the platform's storage refused it (reported to the operators)"
    if isinstance(error, DomainError):
        return error.detail
    if isinstance(error, ValidationError):  # the stored body: each field and why, no library's text
        found = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()[:5])
        return f"the event as stored does not validate: {found}"
    if isinstance(error, ValueError | OverflowError):
        return str(error)
    logger.exception("scoring failed at its last delivery", extra={"error": type(error).__name__})
    return "scoring failed: an internal error (reported to the operators)"


def take_message(
    deps: Dependencies,
    body: str,
    receive_count: int = 1,
    delivered: list[Notification] | None = None,
    read: dict[tuple[str, str], StoredEvent] | None = None,
) -> None:
    """Scores one queued event. A malformed message raises (the batch reports it, SQS retries it and
    then dead-letters it); an event already scored is not scored twice. With `delivered`, the
    notifications the bus took are added to it for the caller to take out of the outbox (`take_out`)
    once for many events; without, they are taken out as each step is written. `read`: the batch's
    events as `read_batch` read them (an event not there is read on its own)."""
    message = ScoringMessage.model_validate_json(body)
    event = (read or {}).get((message.program_id, message.event_id)) or deps.repository.get_event(
        message.program_id, message.event_id
    )
    if event.status == "scored":
        deps.repository.clear_outbox(event.program_id, event.event_id)
        return
    try:
        scored = engine_for(deps, delivered).score(event)
    except Exception as error:
        if receive_count >= MAX_RECEIVES and gives_up(error, event.received_at, deps.clock.now()):
            deps.repository.mark_event_failed(event.program_id, event.event_id, failure_detail(error))
        raise
    if scored.already_scored:
        return
    hand_on_reviews(deps, scored)
    logger.info(
        "event scored",
        extra={
            "event_id": event.event_id,
            "action": scored.decision["action"],
            "score": scored.decision["score"],
        },
    )
