"""Taking events off the scoring queue."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from functions.shared.observability import logger
from functions.shared.runtime import Dependencies


class ScoringMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    program_id: str
    event_id: str


def take_message(deps: Dependencies, body: str) -> None:
    """Parses one queue message and takes its event. A malformed message raises, so the batch
    reports it failed and SQS moves it to the dead-letter queue after its retries."""
    message = ScoringMessage.model_validate_json(body)
    event = deps.repository.get_event(message.program_id, message.event_id)
    deps.repository.clear_outbox(event.program_id, event.event_id)
    logger.info("event taken for scoring", extra={"event_id": event.event_id, "type": event.type})
