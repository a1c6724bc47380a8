"""Removing a partner (SPEC 3.2): what a removal archives and marks, and its mop-up of rewards that
arrive while it runs."""

from __future__ import annotations

from dataclasses import replace
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
    """Removes the case's partner (SPEC 3.2): every reward of theirs not yet paid or approved is
    archived (held ones leave the hold figures of whichever case held them), their identifiers are
    marked removed (and blocked) here and across the network, however many, then the case is
    `removed` and the partner too. From that last step on, a reward of theirs is archived as it
    arrives and an identifier marked as it is added; what arrived between the read and that step is
    `removal_mop_up`'s (noted by `marks_pending`). The last step does not wait for a moment
    without arrivals: a partner sending rewards faster than a removal takes would never see one.

    Against the dispute cycle: a disputed case's dispute is withdrawn first, its verdict taken back
    and the case open again, so a cycle that read it refuses to begin applying it and no verdict can
    be recorded while the removal goes on; a verdict the cycle has begun
    to apply refuses the removal (409: its rewards would be archived as the cycle releases them);
    and every step holds only while the partner is under the case as read, so the cycle beginning
    between the read and a step stops the removal rather than racing it."""
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
    still = UpdateProfile.guard(case.program_id, "partner", subject.id, active_case_id=subject.active_case_id)
    plan = Plan()
    if case.status == "disputed":
        # withdrawn first, its verdict (if any) taken back: the case is open again, out of the
        # security team's list, so no verdict can be recorded while the removal goes on
        plan.steps.append(
            Step(
                [
                    UpdateCase(
                        case.program_id,
                        case.case_id,
                        expect=("disputed",),
                        expect_verdict=case.verdict,
                        changes={"status": "open", **VERDICT_TAKEN_BACK},
                    ),
                    still,
                    audit(
                        case,
                        "dispute_withdrawn",
                        actor,
                        at,
                        {"by": "removal", "verdict": case.verdict},
                        "removed",
                    ),
                ]
            )
        )
    archivable = [r for r in rewards if r.status in ARCHIVABLE]
    plan.steps += reward_chunks(case, archivable, "archived", REMOVABLE, archive=True, also=still)
    plan.moved = [replace(r, status="archived") for r in archivable]
    plan.steps += chunked(
        removal_marks(subject, pepper, block_reapply),
        UpdateCase(case.program_id, case.case_id, expect=REMOVABLE),
        still,
    )
    changes = {
        "status": "removed",
        "removed_at": at,
        "removed_by": actor,
        "block_reapply": block_reapply,
        "subject_team": subject.team,
        "subject_name": subject.name or case.subject_name,  # as the partner is called now
    }
    final = Step(
        [
            # the status it has then, not any removable one: the summary takes its count away
            UpdateCase(case.program_id, case.case_id, expect=(_withdrawn(case.status),), changes=changes),
            UpdateProfile(
                case.program_id,
                "partner",
                subject.id,
                {
                    "status": "removed",
                    "active_case_id": None,
                    "flag_case_id": case.case_id,  # later rewards are archived under this case
                    "marks_pending": True,  # until `removal_mop_up` has seen what arrived meanwhile
                    "block_reapply": block_reapply,  # its later identifiers are blocked too
                },
            ),
            audit(
                case,
                "partner_removed",
                actor,
                at,
                {"block_reapply": block_reapply, "archived_rewards": case.archived_count + len(archivable)},
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
                    "archived_rewards": case.archived_count + len(archivable),
                    "by": actor,
                },
                at,
                case.case_id,
                "removed",
            ),
        ]
    )
    plan.steps.append(final)
    return plan


def _withdrawn(status: str) -> str:
    """A removal's case status after its first step: a dispute withdrawn leaves the case open."""
    return "open" if status == "disputed" else status


def removal_unfinished(case: Case, subject: Subject, block_reapply: bool, actor: str) -> bool:
    """A removal whose last step is written but not its mop-up (it stopped between them, or is
    still under way), asked again as it was asked (the same analyst, the same `block_reapply`): a
    retry, which finishes it instead of answering that the case is removed already. Anyone else's
    removal of it, or another choice of blocking, is a removal of a removed case (409): its 200
    would say that what was asked was done."""
    return (
        case.status == "removed"
        and subject.flag_case_id == case.case_id
        and subject.marks_pending
        and case.removed_by == actor
        and case.block_reapply == block_reapply
    )


def removal_mop_up(
    case: Case,
    read: Subject | None,
    subject: Subject,
    rewards: list[Reward],
    pepper: bytes,
    at: datetime,
    until_empty: bool = True,
) -> list[Step]:
    """After a removal's last step (`removal_plan`), what arrived between its read (`read`; None
    when a retry finishes a removal that stopped, and then everything is done again) and that step,
    or was held before it but missing from the rewards it read (an index a moment behind):
    the partner's `rewards` still archivable are archived, and their identifiers marked again when
    one was added (set additions: nothing is marked twice); then `marks_pending` is cleared. Nothing
    can arrive unseen after the last step, so one mop-up is enough (an event of the partner may
    have cleared `marks_pending` first, marking their identifiers: the rewards are still this one's).
    None when the partner is not removed by this case."""
    if subject.status != "removed" or subject.flag_case_id != case.case_id:
        return []
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
    done = UpdateProfile(
        case.program_id,
        "partner",
        subject.id,
        {"marks_pending": False},
        expect={"status": "removed", "flag_case_id": case.case_id},
        bump=False,
    )
    # done when the case holds none (`until_empty`): from the last step on a reward is archived as it
    # arrives, so one still held is one the rewards' index had not shown yet: read again. Without it
    # (the index waited for long enough): a figure no read bears out is left as counted
    empty = UpdateCase(case.program_id, case.case_id, expect=removed, expect_held=0)
    return [*steps, Step([done, empty] if until_empty else [done])]


def check_removable(case: Case) -> None:
    """A case whose partner may be removed: a partner's, neither approved nor removed already."""
    if case.subject_type != "partner":
        raise Conflict(f"case {case.case_id} is about a customer; only partners can be removed")
    if case.status not in REMOVABLE:
        raise Conflict(
            f"case {case.case_id} is {case.status}: the partner of a case {case.status} cannot be removed"
        )
