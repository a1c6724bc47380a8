"""Finishing a partner's removal (SPEC 3.2): after its first step (`removal.removal_plan`), what is
left to archive and mark, the reviews of the partners on its strong links (`linked_removal`), and
the note that it is done (`removal.removal_mop_up`). The removal's own request does it at once; the
same removal asked again (a retry after a 503) or the hold sweep does it for one that stopped half
way, or that left reviews to record (`linked_removal.REVIEWS_PER_CALL`)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from functions.shared.changes import carry_out, ending_empty
from functions.shared.documents import document_hash
from functions.shared.domain import linked_removal
from functions.shared.domain.linked_removal import REVIEW_TYPE, review_bodies, reviews_due, strong_identifiers
from functions.shared.domain.model import Case, RecordOutcome, StoredEvent, Subject
from functions.shared.domain.removal import removal_mop_up
from functions.shared.errors import DomainError
from functions.shared.messaging import EventPublisher, ScoringQueue
from functions.shared.observability import logger
from functions.shared.storage.port import RemovalsPort


@dataclass(frozen=True)
class Finished:
    """A removal after `finish_removal`: its case, and the partners on its links still to review
    (none: the removal is done; else it is still under way, and asked again or by the hold sweep
    it goes on with them)."""

    case: Case
    reviews_left: int = 0


def finish_removal(
    store: RemovalsPort,
    publisher: EventPublisher,
    case: Case,
    read: Subject | None,
    pepper: bytes,
    now: datetime,
    queue: ScoringQueue | None,
) -> Finished:
    """`read`: the partner as the removal read it before its first step (what arrived since is
    archived and marked); None when the removal stopped half way, and then everything is done
    again (set additions and conditional moves: nothing twice). Before the note that it is done
    (`MopUp.done`), the partners on its strong links are reviewed (`review_linked`), at most
    `REVIEWS_PER_CALL` new ones: with more left, the note is not written, and the removal stays
    under way for its retry or the sweep, which go on with the rest (one review each, by its id).
    `queue`: where the reviews go to be scored (None: left to the outbox relay)."""
    program_id, case_id = case.program_id, case.case_id
    removed = replace(case, status="removed")

    def mop_up(until_empty: bool) -> int:
        subject = store.get_subject(program_id, "partner", case.subject_id)
        still_held = store.get_case(program_id, case_id).held_count  # one the index did not show yet
        arrived = read is None or subject.reward_seq != read.reward_seq or still_held > 0
        rewards = store.subject_rewards(program_id, "partner", subject.id) if arrived else []
        mop = removal_mop_up(removed, read, subject, rewards, pepper, now, until_empty)
        if mop is None:
            return 0
        carry_out(store, mop.work, publisher)
        # its identifiers all marked removed: the partners on them see it when reviewed
        left = review_linked(store, queue, removed, subject, now)
        if not left:
            carry_out(store, [mop.done], publisher)
        return left

    left = ending_empty(mop_up, f"archiving what is left of the removal of {case_id}", case_id)
    return Finished(store.get_case(program_id, case_id), left)


def review_linked(
    store: RemovalsPort, queue: ScoringQueue | None, case: Case, removed: Subject, now: datetime
) -> int:
    """Records a review (`linked_removal.review_bodies`) of each other partner of the program on the
    removed partner's e-mail addresses, devices and payout accounts, as an event in the events'
    outbox: delivered to scoring at least once (the relay sends what the queue did not take), and
    recorded once whoever asks again (its id is the removal's and the partner's). Those recorded
    already are read together first (one BatchGetItem per hundred), and at most
    `REVIEWS_PER_CALL` new ones are written, side by side (`REVIEW_WORKERS`). An event under a
    review's id that is no review is a fault, logged as an error (its partner is not reviewed):
    the ids' prefix is the system's (`POST /v1/events` refuses it). How many are left."""
    program_id = case.program_id
    states = store.read_links(program_id, strong_identifiers(removed))
    bodies = review_bodies(case.case_id, removed, states, now)
    found = store.get_events([(program_id, body["id"]) for body in bodies]) if bodies else {}
    due, left = reviews_due(bodies, {event_id for _, event_id in found})

    def record(body: dict[str, Any]) -> RecordOutcome:
        return store.record_event(
            StoredEvent(
                program_id=program_id,
                event_id=str(body["id"]),
                type=REVIEW_TYPE,
                body=body,
                body_hash=document_hash(body),
                occurred_at=now,
                received_at=now,
            )
        )

    with ThreadPoolExecutor(max_workers=max(1, min(linked_removal.REVIEW_WORKERS, len(due)))) as pool:
        outcomes = list(pool.map(record, due))
    recorded = [(program_id, o.event.event_id) for o in outcomes if o.created]
    taken = [e for e in [*found.values(), *(o.event for o in outcomes)] if e.type != REVIEW_TYPE]
    for event in taken:  # POST /v1/events refuses the prefix: an event an older version accepted
        logger.error(
            "a removal's review id is taken by another event: its partner is not reviewed",
            extra={"case_id": case.case_id, "event_id": event.event_id, "type": event.type},
        )
    if recorded and queue is not None:
        try:
            queue.send_many(recorded)
        except DomainError as error:  # recorded already: the relay sends them later
            logger.warning(
                "queue send of removal reviews failed; left in the outbox",
                extra={"case_id": case.case_id, "error": error.detail},
            )
    if recorded or left:
        logger.info(
            "partners linked to a removed partner queued for review",
            extra={"case_id": case.case_id, "count": len(recorded), "left": left},
        )
    return left
