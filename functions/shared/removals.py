"""Finishing a partner's removal (SPEC 3.2): after its first step (`removal.removal_plan`), what is
left to archive and mark, the reviews of the partners on its strong links (`linked_removal`), and
the note that it is done (`removal.removal_mop_up`). The removal's own request does it at once; the
same removal asked again (a retry after a 503) or the hold sweep does it for one that stopped half
way."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from functions.shared.changes import carry_out, ending_empty
from functions.shared.documents import document_hash
from functions.shared.domain.linked_removal import REVIEW_TYPE, review_bodies, strong_identifiers
from functions.shared.domain.model import Case, StoredEvent, Subject
from functions.shared.domain.removal import removal_mop_up
from functions.shared.errors import DomainError
from functions.shared.messaging import EventPublisher, ScoringQueue
from functions.shared.observability import logger
from functions.shared.storage.port import RemovalsPort


def finish_removal(
    store: RemovalsPort,
    publisher: EventPublisher,
    case: Case,
    read: Subject | None,
    pepper: bytes,
    now: datetime,
    queue: ScoringQueue | None = None,
) -> Case:
    """`read`: the partner as the removal read it before its first step (what arrived since is
    archived and marked); None when the removal stopped half way, and then everything is done
    again (set additions and conditional moves: nothing twice). Before the note that it is done,
    the partners on its strong links are reviewed (`review_linked`): a removal stopped before that
    is finished by its retry or the sweep, which review them again (one review each, by its id).
    The case as it is then."""
    program_id, case_id = case.program_id, case.case_id
    removed = replace(case, status="removed")

    def mop_up(until_empty: bool) -> Case:
        subject = store.get_subject(program_id, "partner", case.subject_id)
        still_held = store.get_case(program_id, case_id).held_count  # one the index did not show yet
        arrived = read is None or subject.reward_seq != read.reward_seq or still_held > 0
        rewards = store.subject_rewards(program_id, "partner", subject.id) if arrived else []
        steps = removal_mop_up(removed, read, subject, rewards, pepper, now, until_empty)
        if steps:  # its identifiers all marked removed: the partners on them see it when reviewed
            carry_out(store, steps[:-1], publisher)
            review_linked(store, queue, removed, subject, now)
            carry_out(store, steps[-1:], publisher)
        return store.get_case(program_id, case_id)

    return ending_empty(mop_up, f"archiving what is left of the removal of {case_id}", case_id)


def review_linked(
    store: RemovalsPort, queue: ScoringQueue | None, case: Case, removed: Subject, now: datetime
) -> int:
    """Records a review (`linked_removal.review_bodies`) of each other partner of the program on the
    removed partner's e-mail addresses, devices and payout accounts, as an event in the events'
    outbox: delivered to scoring at least once (the relay sends what the queue did not take), and
    recorded once whoever asks again (its id is the removal's and the partner's). One write per
    partner, none of them in a transaction. How many it recorded now."""
    states = store.read_links(case.program_id, strong_identifiers(removed))
    recorded = []
    for body in review_bodies(case.case_id, removed, states, now):
        event = StoredEvent(
            program_id=case.program_id,
            event_id=body["id"],
            type=REVIEW_TYPE,
            body=body,
            body_hash=document_hash(body),
            occurred_at=now,
            received_at=now,
        )
        if store.record_event(event).created:
            recorded.append((case.program_id, event.event_id))
    if recorded and queue is not None:
        try:
            queue.send_many(recorded)
        except DomainError as error:  # recorded already: the relay sends them later
            logger.warning(
                "queue send of removal reviews failed; left in the outbox",
                extra={"case_id": case.case_id, "error": error.detail},
            )
    if recorded:
        logger.info("partners linked to a removed partner queued for review", extra={"count": len(recorded)})
    return len(recorded)
