"""Disputes and verdicts (SPEC 3.3, 7): a dispute, the security team's verdict, its withdrawal, and
the monthly dispute cycle's resolution of each decided case (what an approval or a decline does to
the rewards, the subject and its marks)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from functions.shared.domain import actors
from functions.shared.domain.cases import evidence_of
from functions.shared.domain.marks import unflag_marks
from functions.shared.domain.model import Case, Reward, Subject
from functions.shared.domain.plans import Plan, audit, chunked, notify
from functions.shared.domain.rewards import reward_chunks
from functions.shared.domain.writes import NO_VERDICT, LocateCase, Step, UpdateCase, UpdateProfile
from functions.shared.errors import Conflict

VERDICTS = ("approve", "decline")
# a case's changes when its verdict is taken back (withdrawn by new evidence, or by a removal):
# the verdict and what it was decided on, all of it
VERDICT_TAKEN_BACK = {"verdict": None, "verdict_note": None, "verdict_evidence": None, "verdict_flags": None}
UNSEEN = object()  # a verdict recorded without saying which one the caller saw (`verdict_step`)
# reward ids a `DisputeResolved` names, the first by id (each id up to 128 characters: some 26 KB);
# `reward_count` says how many moved, and the rewards API lists them all by subject
NOTICE_REWARD_IDS = 200


def dispute_step(case: Case, reason: str, actor: str, at: datetime) -> Step:
    """A program team's dispute of an open case. Asked again as it was asked (the same analyst, the
    same reason: a retry after a 503 whose write had committed, a lost answer) of the case it
    disputed, while that dispute stands, it is that dispute: nothing written, answered as done.
    Anyone else's ask, or another reason, is refused: its 200 would say what it asked was done."""
    if dispute_asked_again(case, reason, actor):
        return Step([])
    if case.status != "open":
        raise Conflict(f"case {case.case_id} is {case.status}; only an open case can be disputed")
    return Step(
        [
            UpdateCase(
                case.program_id,
                case.case_id,
                expect=("open",),
                changes={
                    "status": "disputed",
                    "disputed_at": at,
                    "dispute_reason": reason,
                    "disputed_by": actor,
                },
            ),
            audit(case, "disputed", actor, at, {"reason": reason}),
            LocateCase(case.case_id, case.program_id),  # a verdict finds it by its id alone
            notify(
                case.program_id,
                "DisputeOpened",
                {
                    "program_id": case.program_id,
                    "case_id": case.case_id,
                    "subject": {"type": case.subject_type, "id": case.subject_id},
                    "reason": reason,
                    "by": actor,
                },
                at,
                case.case_id,
                "dispute",
                at.isoformat(),
            ),
        ]
    )


def dispute_asked_again(case: Case, reason: str, actor: str) -> bool:
    """The case stands disputed by `actor` for `reason` (a dispute recorded before cases kept who
    disputed them is no one's: asked again, refused as before)."""
    return case.status == "disputed" and case.disputed_by == actor and case.dispute_reason == reason


def resolution_under_way(case: Case, subject: Subject) -> bool:
    """A disputed case whose verdict the cycle has begun to apply: its subject no longer under it
    (`resolution_begin_step`: unflagged by an approval, left without an active case by a decline),
    its rewards not all moved yet. The next run of the cycle finishes it."""
    return case.status == "disputed" and case.verdict in VERDICTS and subject.active_case_id != case.case_id


def under_way(case: Case) -> str:
    doing, detail = (
        ("approved", "its subject is no longer flagged")
        if case.verdict == "approve"
        else ("declined", "its rewards are being declined")
    )
    return f"case {case.case_id} is being {doing} by the dispute cycle ({detail}); its next run finishes it"


def verdict_step(
    case: Case,
    verdict: str,
    note: str,
    actor: str,
    at: datetime,
    subject: Subject | None = None,
    *,
    seen: str | None | object = UNSEEN,
) -> Step:
    """The security team's verdict on a disputed case. With the case's `subject` as read: any
    verdict but a retry of the one the cycle has begun to apply is refused (an approval half applied
    would leave the subject unflagged, a decline half applied some rewards declined; another verdict
    would be recorded and never applied, another note recorded after the resolution it is not
    part of), and the verdict holds only while the subject is still under the case, so the cycle
    beginning meanwhile refuses it too. With `seen`, the verdict the caller
    saw (None: none): one recorded since by a teammate is not replaced unseen (409), and the write
    holds only while the verdict it replaces is still there."""
    if verdict not in VERDICTS:
        raise Conflict(f"unknown verdict {verdict!r}")
    if case.status != "disputed":
        raise Conflict(f"case {case.case_id} is {case.status}; only a disputed case takes a verdict")
    under_way_now = subject is not None and resolution_under_way(case, subject)
    asked_again = (verdict, note) == (case.verdict, case.verdict_note)
    if asked_again and (under_way_now or evidence_of(case) == case.verdict_evidence):
        # the same verdict again on the same evidence, or while the cycle applies it whatever
        # joined the case since (a login abroad adds a reason and outdates no approval): a retry,
        # whatever it says it replaces (the verdict it saw was the one before its own first ask):
        # nothing to record
        return Step([])
    if seen is not UNSEEN and seen != case.verdict:
        raise Conflict(
            f"case {case.case_id} has a verdict recorded since you read it ({case.verdict or 'none'}, "
            f"not {seen or 'none'}): read it again before replacing it"
        )
    if under_way_now:
        # another verdict, or the same with another note: the cycle applies the one it read, whole,
        # and a note recorded as it ran would stand in the case's history after its resolution
        raise Conflict(under_way(case))
    step = Step(
        [
            UpdateCase(
                case.program_id,
                case.case_id,
                expect=("disputed",),
                changes={
                    "verdict": verdict,
                    "verdict_note": note,
                    "verdict_evidence": evidence_of(case),
                    "verdict_flags": case.flags,
                },
                # the verdict it replaces, still there (a first one: still none); unasked, any
                expect_verdict=(case.verdict or NO_VERDICT) if seen is not UNSEEN else None,
            ),
            audit(case, f"verdict_{verdict}", actor, at, {"note": note}),
        ]
    )
    if subject is not None and subject.active_case_id == case.case_id:
        step.add(UpdateProfile.guard(case.program_id, subject.type, subject.id, active_case_id=case.case_id))
    return step


def evidence_since_verdict(case: Case) -> dict[str, int]:
    """The reasons that fired on a disputed case since the security team approved the dispute (code:
    how many times more), when an event has flagged its subject again since. An approval was
    decided on the case as it was then: fraud its subject commits afterwards, while the case waits
    for the cycle, merges into the same case, and applied blindly the approval would release the
    rewards of that fraud too. Signals that do not flag on their own join the case too (SPEC 4)
    but outdate nothing: one login abroad does not undo a review. Empty when no flag came since;
    a decline stands whatever follows, and a verdict recorded before verdicts kept their evidence
    is applied as it was."""
    if case.verdict != "approve" or case.verdict_evidence is None:
        return {}
    if case.flags <= (case.verdict_flags or 0):  # none counted before 12-05: counted from 0
        return {}
    then = case.verdict_evidence
    return {r.code: r.count - then.get(r.code, 0) for r in case.reasons if r.count > then.get(r.code, 0)}


def verdict_withdrawal_step(case: Case, at: datetime) -> Step:
    """The dispute cycle's step for an approval that new evidence outdated: the verdict is taken
    back, the case stays disputed with its rewards on hold, and it waits in the security team's
    open disputes for a verdict on the case as it is now."""
    since = evidence_since_verdict(case)
    if case.status != "disputed" or not since:
        raise Conflict(f"case {case.case_id} has no approval that new evidence outdated")
    return Step(
        [
            UpdateCase(
                case.program_id,
                case.case_id,
                expect=("disputed",),
                changes=dict(VERDICT_TAKEN_BACK),
                expect_verdict="approve",
            ),
            audit(
                case,
                "verdict_withdrawn",
                actors.DISPUTE_CYCLE,
                at,
                {"reasons": sorted(since), "verdict_note": case.verdict_note},
            ),
        ]
    )


def resolution_begin_step(case: Case, subject: Subject, at: datetime) -> Step | None:
    """The first step of a verdict's application (SPEC 7), on condition that the case is still
    disputed with that verdict (and, approved, on the evidence approved): its subject is no longer
    under the case. Approved, the subject is unflagged; from this step on nothing of it is held
    under the case or marked as flagged (an event or a sweep that read it flagged is refused by its
    version and reads it again), so what `resolution_plan` then reads is all there is to release
    and unmark: the approval never waits for a moment without new rewards or identifiers, which a
    busy partner (its customers buying every second) would never give it. Declined, the subject
    stays flagged under the case with no active case (what the decline leaves). Either way, from
    here on the verdict is under way (`resolution_under_way`): another verdict cannot change it
    half applied, and a removal waits for the cycle. None when the subject is not under
    this case (a run that stopped after this step). Approved, the subject keeps `at` as its
    `approved_at` (`linked_removal.reaches_back`), and what it releases is marked released for good
    (`rewards.released`)."""
    _check_resolvable(case)
    if subject.active_case_id != case.case_id:
        return None
    approve = case.verdict == "approve"
    changes: dict[str, Any]
    if not approve:
        changes = {"active_case_id": None, "declined_case_id": case.case_id}
    elif (standing := declined_before(case, subject)) is not None:
        changes = {"active_case_id": None, "flag_case_id": standing}  # still flagged, marks kept
    else:
        # its unfamiliar sessions and the partners it met were the review's to judge: approved,
        # they are the partner's own (a group met again after it is a group again)
        changes = {
            "status": "active",
            "approved_at": at,
            "active_case_id": None,
            "flag_case_id": None,
            "marks_pending": False,
            "unfamiliar": (),
            "linked": (),
        }
    return Step(
        [
            UpdateCase(
                case.program_id,
                case.case_id,
                expect=("disputed",),
                expect_flags=case.flags if approve else None,
                expect_verdict=case.verdict,
            ),
            UpdateProfile(
                case.program_id, subject.type, subject.id, changes, expect={"active_case_id": case.case_id}
            ),
        ]
    )


def declined_before(case: Case, subject: Subject) -> str | None:
    """The earlier case whose declined dispute keeps `case`'s subject flagged (SPEC 4: after a
    declined dispute the subject stays flagged; no whitelisting): approving a later case withdraws
    that case's flag only. Its subject goes back under the declined case, its marks kept, and what
    the later case held stays held under the declined one. None when the subject has no such case."""
    standing = subject.declined_case_id
    return standing if standing and standing != case.case_id and subject.status == "flagged" else None


def resolution_plan(
    case: Case, subject: Subject, rewards: list[Reward], pepper: bytes, at: datetime, until_empty: bool = True
) -> Plan:
    """The dispute cycle's steps for one case with a verdict (SPEC 7): approved, its held rewards
    back to `pending` and the subject's marks withdrawn on every identifier; declined, its held
    rewards `declined`, the subject still flagged (later rewards go on hold under this case).
    Rewards first, then marks, the case last: a cycle stopped half way finds the case still
    disputed and does the rest. An approval is planned on the subject and rewards read after its
    `resolution_begin_step`; its marks are withdrawn only while the subject is flagged by no case
    (a new flag meanwhile marks it again, and keeps its marks). Evidence that lands while an
    approval is under way refuses its first step or its last (`expect_flags`): the cycle plans
    again, and withdraws the approval (`evidence_since_verdict`). An approval ends only when its
    case holds nothing more (`until_empty`: a reward the index had not shown yet refuses its last
    step, and the cycle reads again; without it, a figure no read bears out is left as counted)."""
    _check_resolvable(case)
    approve = case.verdict == "approve"
    if subject.active_case_id == case.case_id:
        raise ValueError(f"case {case.case_id}: its subject is under it; begin with resolution_begin_step")
    # approved while an earlier declined case keeps its subject flagged: what it held stays held,
    # under the case the subject's rewards now go under
    keeper = subject.flag_case_id if approve and declined_before(case, subject) else None
    target = "on_hold" if keeper else "pending" if approve else "declined"
    held = [r for r in rewards if r.status == "on_hold" and r.case_id == case.case_id and not r.overridden]
    # what a run that stopped half way moved already: reported with the rest
    moved_before = (
        []  # under the keeper, they are not told apart from its own
        if keeper
        else [r for r in rewards if r.status == target and r.case_id == case.case_id and not r.overridden]
    )
    # what it moves, and what a run that stopped half way moved already: reported, counted and
    # held for their other side (`other_holders`) alike
    moved = [replace(r, status=target, case_id=keeper or r.case_id) for r in held] + moved_before
    plan = Plan(
        reward_chunks(case, held, target, ("disputed",), archive=False, verdict=case.verdict, under=keeper),
        moved,
    )
    if approve and subject.status == "active" and subject.active_case_id is None:
        unflagged = UpdateProfile.guard(
            case.program_id, subject.type, subject.id, status="active", active_case_id=None
        )
        plan.steps += chunked(unflag_marks(subject, pepper), unflagged)
    outcome = "approved" if approve else "declined"
    final = Step(
        [
            UpdateCase(
                case.program_id,
                case.case_id,
                expect=("disputed",),
                changes={"status": outcome, "resolved_at": at},
                # evidence since the case was read outdates an approval: planned again, withdrawn
                expect_flags=case.flags if approve else None,
                expect_verdict=case.verdict,
                # an approved case holds none (nothing is held under it once begun: the subject is
                # under no case): one the index had not shown yet refuses this, and the cycle reads again
                expect_held=0 if approve and until_empty else None,
            ),
            audit(
                case,
                f"dispute_{outcome}",
                actors.DISPUTE_CYCLE,
                at,
                {"rewards": len(moved), "note": case.verdict_note}
                | ({"still_flagged_under": keeper} if keeper else {}),
                "resolved",
            ),
            notify(
                case.program_id,
                "DisputeResolved",
                {
                    "program_id": case.program_id,
                    "case_id": case.case_id,
                    "subject": {"type": case.subject_type, "id": case.subject_id},
                    "outcome": outcome,
                    # bounded: a prolific partner's thousands of ids would pass the bus's 256 KB (and
                    # the outbox item's 400 KB) and the case would never resolve; the count is whole
                    "rewards": sorted(r.reward_id for r in moved)[:NOTICE_REWARD_IDS],
                    "reward_count": len(moved),
                    "rewards_now": target,
                }
                | ({"held_under": keeper} if keeper else {}),
                at,
                case.case_id,
                "resolved",
            ),
        ]
    )
    plan.steps.append(final)
    return plan


def other_holders(case: Case, moved: list[Reward]) -> list[tuple[str, str, str]]:
    """Who else may hold the rewards an approval put back to `pending`: each one's other side (a
    customer case's rewards' partners, a partner case's rewards' customers). A reward released from
    a customer's case is still a flagged partner's to hold (SPEC 4: a flagged partner's rewards from
    its flag on go on hold), and the reverse: the cycle holds what they are due at once, not at the
    next sweep (which could be a payout later)."""
    released = [r for r in moved if r.status == "pending"]
    if case.subject_type == "customer":
        others = {r.partner_id for r in released}
        return [(case.program_id, "partner", partner_id) for partner_id in sorted(others)]
    others = {r.customer_id for r in released if r.customer_id}
    return [(case.program_id, "customer", customer_id) for customer_id in sorted(others)]


def _check_resolvable(case: Case) -> None:
    if case.status != "disputed" or case.verdict not in VERDICTS:
        raise Conflict(f"case {case.case_id} is not a disputed case with a verdict")
