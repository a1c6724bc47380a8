"""Holding what is due for one flagged subject (SPEC 4): any reward of it created at or after its flag
and still `new` or `pending` goes `on_hold` under its flag's case (never an overridden one), and a flag
whose marks on the subject's older identifiers were not all written is finished. The hold sweep does
it for every flagged subject every 15 minutes; the dispute cycle does it at once for a subject whose
approval it withdrew half way (what the approval's first steps released), and for each flagged
other side of a reward a resolution released (`disputes.other_holders`: the customer of a partner's
reward, say)."""

from __future__ import annotations

from datetime import datetime

from functions.shared.changes import carry_out
from functions.shared.domain.marks import pending_marks_plan
from functions.shared.domain.rewards import hold_steps, holds_since, sweep_holds
from functions.shared.messaging import EventPublisher
from functions.shared.storage.port import HoldsPort


def hold_due(
    store: HoldsPort,
    publisher: EventPublisher,
    subject_key: tuple[str, str, str],
    pepper: bytes,
    now: datetime,
    actor: str,
    origin: str,
) -> int:
    """`subject_key`: (program, subject type, subject id); `origin` names the run (the ids of what
    it records derive from it: a retry records the same). How many rewards it put on hold."""
    program_id, subject_type, subject_id = subject_key
    subject = store.get_subject(program_id, subject_type, subject_id)  # an index lags: read it
    steps = pending_marks_plan(subject, pepper)
    since = holds_since(subject, subject.flagged_at)  # a partner's sign-up may reach further back
    rewards = store.subject_rewards(subject.program_id, subject.type, subject.id, since)
    candidates = sweep_holds(subject, rewards)
    if candidates and subject.flag_case_id:
        steps += hold_steps(
            (subject.program_id, subject.flag_case_id),
            (subject.type, subject.id),
            candidates,
            actor,
            now,
            origin,
        )
    carry_out(store, steps, publisher)
    return len(candidates)
