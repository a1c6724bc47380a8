"""Removing a partner (SPEC 3.2): what a removal archives and marks, and its mop-up of rewards that
arrive while it runs."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from functions.shared.domain import actors
from functions.shared.domain.disputes import VERDICT_TAKEN_BACK, resolution_under_way, under_way
from functions.shared.domain.marks import removal_marks
from functions.shared.domain.model import Case, Reward, Subject
from functions.shared.domain.plans import Plan, audit, chunked, notify
from functions.shared.domain.rewards import reward_chunks
from functions.shared.domain.writes import Step, UpdateCase, UpdateProfile
from functions.shared.errors import Conflict

# what a removal archives: every reward of the partner not yet approved or paid (SPEC 3.2)
ARCHIVABLE = ("new", "pending", "on_hold", "declined")
REMOVABLE = ("open", "disputed", "declined")


def removal_plan(
    case: Case,
    subject: Subject,
    rewards: list[Reward],
    pepper: bytes,
    block_reapply: bool,
    actor: str,
    at: datetime,
) -> Plan:
    """Removes the case's partner (SPEC 3.2), forward only. Its first step says so for good: the
    case `removed` (a disputed one's dispute withdrawn and its verdict taken back in the same step),
    the partner `removed` under it with `removal_pending` and `marks_pending` set, the audit entry
    and the notification. The steps after it archive every reward of theirs not yet paid or approved
    (held ones leave the hold figures of whichever case held them) and mark their identifiers
    removed (and blocked) here and across the network, however many; `removal_mop_up` then archives
    and marks what arrived between the read and the first step, and notes the removal done. A
    removal that stops after its first step (a 503, a timeout) is never half undone: the case
    cannot be disputed or approved any more, a reward of theirs is archived as it arrives, and the
    rest is finished by the same removal asked again (`removal_asked_again`) or by the hold sweep.

    Against the dispute cycle: a verdict the cycle has begun to apply refuses the removal (409: its
    rewards would be archived as the cycle releases them); the first step holds only while the case
    has the status and verdict read and the partner the standing read, so a cycle beginning
    between the read and that step stops the removal (which reads again), and one that read the
    case before it refuses to begin."""
    check_removable(case)
    if subject.status == "removed":
        raise Conflict(f"partner {subject.id} is removed already (case {subject.flag_case_id})")
    if subject.active_case_id not in (None, case.case_id):  # its case now: the one to remove it from
        raise Conflict(
            f"partner {subject.id} is under case {subject.active_case_id} now; "
            "remove the partner from that case"
        )
    if resolution_under_way(case, subject):
        raise Conflict(under_way(case) + "; remove the partner after it, if it is still to be removed")
    archivable = [r for r in rewards if r.status in ARCHIVABLE]
    archived = case.archived_count + len(archivable)  # once the removal is done
    changes: dict[str, object] = {
        "status": "removed",
        "removed_at": at,
        "removed_by": actor,
        "block_reapply": block_reapply,
        "subject_team": subject.team,
        "subject_name": subject.name or case.subject_name,  # as the partner is called now
    }
    begun = Step()
    if case.status == "disputed":  # withdrawn, its verdict (if any) taken back (SPEC 3.2)
        changes.update(VERDICT_TAKEN_BACK)
        detail = {"by": "removal", "verdict": case.verdict}
        begun.add(audit(case, "dispute_withdrawn", actor, at, detail, "removed"))
    begun.add(
        # the status read, not any removable one: the summary takes its count away
        UpdateCase(
            case.program_id,
            case.case_id,
            expect=(case.status,),
            expect_verdict=case.verdict if case.status == "disputed" else None,
            changes=changes,
        ),
        UpdateProfile(
            case.program_id,
            "partner",
            subject.id,
            {
                "status": "removed",
                "active_case_id": None,
                "flag_case_id": case.case_id,  # later rewards are archived under this case
                "marks_pending": True,  # until `removal_mop_up` has seen what arrived meanwhile
                "removal_pending": True,  # until its rewards are archived and identifiers marked
                "block_reapply": block_reapply,  # its later identifiers are blocked too
            },
            # the partner's standing as read: a cycle that began meanwhile stops the removal
            expect={
                "status": subject.status,
                "active_case_id": subject.active_case_id,
                "flag_case_id": subject.flag_case_id,
            },
        ),
        audit(
            case,
            "partner_removed",
            actor,
            at,
            {"block_reapply": block_reapply, "archived_rewards": archived},
            "removed",
        ),
        notify(
            case.program_id,
            "PartnerRemoved",
            {
                "program_id": case.program_id,
                "case_id": case.case_id,
                "partner_id": subject.id,
                "block_reapply": block_reapply,
                "archived_rewards": archived,
                "by": actor,
                "dispute_withdrawn": case.status == "disputed",
            },
            at,
            case.case_id,
            "removed",
        ),
    )
    plan = Plan(steps=[begun])
    # from here on each step holds while the case and the partner stay removed by this removal
    removed = replace(case, status="removed")
    still = _removed_by(removed)
    plan.steps += reward_chunks(removed, archivable, "archived", ("removed",), archive=True, also=still)
    plan.moved = [replace(r, status="archived") for r in archivable]
    plan.steps += chunked(
        removal_marks(subject, pepper, block_reapply),
        UpdateCase(case.program_id, case.case_id, expect=("removed",)),
        still,
    )
    return plan


def _removed_by(case: Case) -> UpdateProfile:
    """A step's condition that the case's partner is removed by it."""
    return UpdateProfile.guard(
        case.program_id, "partner", case.subject_id, status="removed", flag_case_id=case.case_id
    )


def removal_under_way(case: Case, subject: Subject) -> bool:
    """A removal whose first step is written but not its last (`removal_plan`): stopped half way,
    or still going."""
    return (
        case.status == "removed"
        and subject.status == "removed"
        and subject.flag_case_id == case.case_id
        # `marks_pending` alone: one that an older version began, and stopped before its mop-up
        and (subject.removal_pending or subject.marks_pending)
    )


def removal_asked_again(case: Case, subject: Subject, block_reapply: bool, actor: str) -> bool:
    """A removal asked of a case removed already. Asked as it was asked (the same analyst, the same
    `block_reapply`), it is that removal again (a retry after a 503, a lost answer): True when it is
    still under way (`removal_under_way`: this ask finishes it), False when it is done (answered as
    done, nothing written). Anyone else's removal of it, or another choice of blocking, is a
    Conflict: its 200 would say that what was asked was done; while under way, the 409 names the
    removal that is."""
    going = removal_under_way(case, subject)
    if case.removed_by == actor and case.block_reapply == block_reapply:
        return going
    if going:
        # said as removed: whoever asked may have been answered 200 (the partner removed, reviews
        # of the partners on its links left to the sweep), and this ask is not theirs to finish;
        # the sweep lists a removal this version began (`removal_pending`), not one an older did
        later = "the hold sweep, or by that removal" if subject.removal_pending else "that removal"
        raise Conflict(
            f"case {case.case_id} is removed: its partner was removed by {case.removed_by} "
            f"(block_reapply {str(case.block_reapply).lower()}), and what is left of that removal is "
            f"under way, finished by {later} asked again as it was asked"
        )
    check_removable(case)  # removed: refused as such
    return False


@dataclass(frozen=True)
class MopUp:
    """What finishes a removal: its `work` (archives, marks), then its `done` step, the note that
    it is done (`marks_pending` and `removal_pending` cleared: off the sweep's list, and a retry of
    it answered as done). `done` comes last, after anything else the removal does (the reviews of
    the partners on its links, `linked_removal`): written, nothing finishes the rest."""

    work: list[Step]
    done: Step


def removal_mop_up(
    case: Case,
    read: Subject | None,
    subject: Subject,
    rewards: list[Reward],
    pepper: bytes,
    at: datetime,
    until_empty: bool = True,
) -> MopUp | None:
    """After a removal's steps (`removal_plan`), what arrived between its read (`read`; None when
    the removal stopped half way and its retry or the hold sweep finishes it: then everything is
    done again) and its first step, or was held before it but missing from the rewards it read (an
    index a moment behind): the partner's `rewards` still archivable are archived, and their
    identifiers marked again when one was added (set additions: nothing is marked twice); then
    `marks_pending` and `removal_pending` are cleared. Nothing can arrive unseen after the first
    step, so one mop-up is enough (an event of the partner may have cleared `marks_pending` first,
    marking their identifiers: the rewards are still this one's). None when the partner is not
    removed by this case."""
    if subject.status != "removed" or subject.flag_case_id != case.case_id:
        return None
    removed = ("removed",)
    archivable = [r for r in rewards if r.status in ARCHIVABLE]
    steps = reward_chunks(case, archivable, "archived", removed, archive=True)
    if archivable:
        detail = {"rewards": [r.reward_id for r in archivable[:100]], "count": len(archivable)}
        steps.append(
            Step([audit(case, "rewards_archived", actors.SYSTEM, at, detail, "mop-up", at.isoformat())])
        )
    if read is None or subject.identifier_seq != read.identifier_seq:
        marks = removal_marks(subject, pepper, subject.block_reapply)
        steps += chunked(marks, UpdateCase(case.program_id, case.case_id, expect=removed))
    # a new version: a scoring run that read the removal under way writes its profile again
    done = UpdateProfile(
        case.program_id,
        "partner",
        subject.id,
        {"marks_pending": False, "removal_pending": False},
        expect={"status": "removed", "flag_case_id": case.case_id},
    )
    # done when the case holds none (`until_empty`): from the last step on a reward is archived as it
    # arrives, so one still held is one the rewards' index had not shown yet: read again. Without it
    # (the index waited for long enough): a figure no read bears out is left as counted
    empty = UpdateCase(case.program_id, case.case_id, expect=removed, expect_held=0)
    return MopUp(steps, Step([done, empty] if until_empty else [done]))


def check_removable(case: Case, seen: str | None = None) -> None:
    """A case whose partner may be removed: a partner's, neither approved nor removed already; and,
    `seen`, still of the status the caller saw: a removal from a page read before a teammate disputed
    the case withdrew the dispute unseen (a console tester's find), and a removal cannot be undone."""
    if case.subject_type != "partner":
        raise Conflict(f"case {case.case_id} is about a customer; only partners can be removed")
    if case.status not in REMOVABLE:
        raise Conflict(
            f"case {case.case_id} is {case.status}: the partner of a case {case.status} cannot be removed"
        )
    if seen is not None and case.status != seen:
        by = f" by {case.disputed_by}" if case.status == "disputed" and case.disputed_by else ""
        raise Conflict(
            f"case {case.case_id} is {case.status}{by} now, not {seen} as you read it: "
            "read it again before removing its partner"
        )
