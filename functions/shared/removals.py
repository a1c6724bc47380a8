"""Finishing a partner's removal (SPEC 3.2): after its first step (`removal.removal_plan`), what is
left to archive and mark, and the note that it is done (`removal.removal_mop_up`). The removal's
own request does it at once; the same removal asked again (a retry after a 503) or the hold sweep
does it for one that stopped half way."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from functions.shared.changes import carry_out, ending_empty
from functions.shared.domain.model import Case, Subject
from functions.shared.domain.removal import removal_mop_up
from functions.shared.messaging import EventPublisher
from functions.shared.storage.port import CasesPort


def finish_removal(
    store: CasesPort,
    publisher: EventPublisher,
    case: Case,
    read: Subject | None,
    pepper: bytes,
    now: datetime,
) -> Case:
    """`read`: the partner as the removal read it before its first step (what arrived since is
    archived and marked); None when the removal stopped half way, and then everything is done
    again (set additions and conditional moves: nothing twice). The case as it is then."""
    program_id, case_id = case.program_id, case.case_id
    removed = replace(case, status="removed")

    def mop_up(until_empty: bool) -> Case:
        subject = store.get_subject(program_id, "partner", case.subject_id)
        still_held = store.get_case(program_id, case_id).held_count  # one the index did not show yet
        arrived = read is None or subject.reward_seq != read.reward_seq or still_held > 0
        rewards = store.subject_rewards(program_id, "partner", subject.id) if arrived else []
        steps = removal_mop_up(removed, read, subject, rewards, pepper, now, until_empty)
        carry_out(store, steps, publisher)
        return store.get_case(program_id, case_id)

    return ending_empty(mop_up, f"archiving what is left of the removal of {case_id}", case_id)
