"""Taking events off the scoring queue: score, record, notify."""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict

from functions.score.engine import Engine, Scored
from functions.score.identity import network_pepper
from functions.score.reference import EmbeddedReferenceData
from functions.shared.config import MAX_RECEIVES  # the queue's; the last delivery marks the event failed
from functions.shared.errors import DomainError, NotFound
from functions.shared.money import amount_text, to_micros
from functions.shared.observability import logger
from functions.shared.runtime import Dependencies
from functions.shared.storage.port_partners import Reward


class ScoringMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    program_id: str
    event_id: str


@lru_cache(maxsize=1)
def reference_data() -> EmbeddedReferenceData:
    return EmbeddedReferenceData()


def engine_for(deps: Dependencies) -> Engine:
    return Engine(deps.repository, reference_data(), network_pepper())


def take_message(deps: Dependencies, body: str, receive_count: int = 1) -> None:
    """Scores one queued event. A malformed message raises (the batch reports it, SQS retries it and
    then dead-letters it); an event already scored is not scored twice."""
    message = ScoringMessage.model_validate_json(body)
    event = deps.repository.get_event(message.program_id, message.event_id)
    if event.status == "scored":
        deps.repository.clear_outbox(event.program_id, event.event_id)
        return
    try:
        scored = engine_for(deps).score(event)
    except (DomainError, ValueError) as error:
        detail = error.detail if isinstance(error, DomainError) else str(error)
        if receive_count >= MAX_RECEIVES and not isinstance(error, NotFound):
            deps.repository.mark_event_failed(event.program_id, event.event_id, detail)
        raise
    if scored.outcome.already_scored:
        return
    logger.info(
        "event scored",
        extra={
            "event_id": event.event_id,
            "action": scored.decision["action"],
            "score": scored.decision["score"],
        },
    )
    notify(deps, event.program_id, scored)


def notify(deps: Dependencies, program_id: str, scored: Scored) -> None:
    subject_type, subject_id = scored.subject
    outcome = scored.outcome
    if outcome.opened:
        deps.publisher.publish(
            "PartnerFlagged" if subject_type == "partner" else "CustomerFlagged",
            {
                "program_id": program_id,
                "case_id": outcome.case_id,
                "subject": {"type": subject_type, "id": subject_id},
                "score": scored.decision["score"],
                "reasons": scored.decision["reasons"],
            },
        )
    if outcome.held and outcome.case_id:
        publish_held(deps, program_id, outcome.case_id, (subject_type, subject_id), outcome.held)
    if scored.partner_holds:
        case_id, held = scored.partner_holds
        publish_held(deps, program_id, case_id, ("partner", held[0].partner_id), held)


def publish_held(
    deps: Dependencies, program_id: str, case_id: str, subject: tuple[str, str], held: list[Reward]
) -> None:
    totals: dict[str, int] = defaultdict(int)
    for reward in held:
        totals[reward.currency] += to_micros(reward.amount)
    detail: dict[str, Any] = {
        "program_id": program_id,
        "case_id": case_id,
        "subject": {"type": subject[0], "id": subject[1]},
        "count": len(held),
        "amounts": [{"currency": c, "amount": amount_text(m)} for c, m in sorted(totals.items())],
        "reward_ids": [r.reward_id for r in held],
    }
    deps.publisher.publish("RewardsHeld", detail)
