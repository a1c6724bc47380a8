"""Rewards: which ones a flag holds, where a newly arrived reward goes (held, archived or left), the
hold sweep's holdability, the holds' steps and notices, and an override (SPEC 3.2, 4, 5)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from functions.shared.domain import holdables
from functions.shared.domain.cases import TAKES_HOLDS
from functions.shared.domain.holdables import HOLDABLE
from functions.shared.domain.model import Case, Reward, Subject
from functions.shared.domain.plans import audit, notify
from functions.shared.domain.writes import (
    MAX_STEP_ITEMS,
    ListRewards,
    MoveReward,
    Notify,
    Step,
    UpdateCase,
    UpdateProfile,
    Write,
)
from functions.shared.errors import Conflict
from functions.shared.money import amount_text, to_micros


def holdable(reward: Reward) -> bool:
    return reward.status in HOLDABLE and not reward.overridden


def released(reward: Reward) -> bool:
    """A reward an approved dispute of its partner's case put back to `pending` (SPEC 7). What the
    verdict released stays released: no later flag of its partner holds it again, whatever that
    flag's time (a flag dated inside the approved period, sent after the cycle, holds the rewards
    the approval never saw, SPEC 4, and not these). A customer's flag still holds it: the
    customer's rewards are held whatever their time, and the verdict judged its partner. One a
    customer's approval released is its partner's to hold, while the partner is flagged."""
    return reward.status in HOLDABLE and reward.released


def created_for_holds(reward: Reward, signup_at: datetime | None) -> datetime:
    """When a partner's reward counts as created for every hold decision: a reward cannot predate
    the partner it is paid to, so one dated before the partner's sign-up counts as created at the
    sign-up (a partner flagged by its sign-up holds it; one flagged later does not). A sign-up not
    arrived yet (`signup_at` None) changes nothing; the reward's stored date stays as sent."""
    if signup_at is not None and reward.created_at < signup_at:
        return signup_at
    return reward.created_at


def held_by_flag(
    subject_type: str, flagged_at: datetime, reward: Reward, signup_at: datetime | None = None
) -> bool:
    """A flagged partner's rewards from the flag on (`created_for_holds`, `signup_at` the
    partner's), but none an approval released (`released`); a flagged customer's rewards, all of
    them."""
    if subject_type == "customer":
        return True
    return created_for_holds(reward, signup_at) >= flagged_at and not released(reward)


def holds_since(subject: Subject, flagged_at: datetime | None) -> datetime | None:
    """The earliest creation time, as stored, of a reward a flag of `subject` at `flagged_at` holds:
    what its index (or its list) is read from. None (all of them) for a customer, and for a partner
    flagged at or before its sign-up, whose rewards dated before the sign-up count as created at it;
    else the flag's time: never more than the flag may hold (SPEC 4)."""
    if subject.type == "customer" or flagged_at is None:
        return None
    if subject.signup_at is not None and flagged_at <= subject.signup_at:
        return None
    return flagged_at


def flag_holds(
    subject_type: str, flagged_at: datetime, rewards: Iterable[Reward], signup_at: datetime | None = None
) -> list[Reward]:
    """What a flag puts on hold at once, and what the sweep puts on hold later."""
    return [r for r in rewards if holdable(r) and held_by_flag(subject_type, flagged_at, r, signup_at)]


def sweep_holds(subject: Subject, rewards: Iterable[Reward]) -> list[Reward]:
    if subject.status != "flagged" or subject.flagged_at is None or not subject.flag_case_id:
        return []
    return flag_holds(subject.type, subject.flagged_at, rewards, subject.signup_at)


@dataclass(frozen=True)
class Placement:
    """Where a newly arrived reward goes: its status, and the case it is counted under."""

    status: str
    case_id: str | None = None
    archived: bool = False


def place_reward(
    reward: Reward,
    *,
    partner: Subject | None,
    customer: Subject | None,
    flag: tuple[str, str, datetime] | None,
) -> Placement:
    """`flag`: (subject type, case id, flag time) when the reward's own event flags its subject;
    `partner`: the reward's partner as read before the event (its sign-up: `created_for_holds`)."""
    if partner is not None and partner.status == "removed":
        return Placement("archived", partner.flag_case_id, archived=True)  # never paid again
    if reward.status not in HOLDABLE:
        return Placement(reward.status)
    signup_at = partner.signup_at if partner is not None else None
    if flag is not None:
        subject_type, case_id, at = flag
        if held_by_flag(subject_type, at, reward, signup_at):
            return Placement("on_hold", case_id)
    if customer is not None and reward.customer_id == customer.id and holds_rewards(customer):
        return Placement("on_hold", customer.flag_case_id)
    if (
        partner is not None
        and holds_rewards(partner)
        and partner.flagged_at
        and held_by_flag("partner", partner.flagged_at, reward, signup_at)
    ):
        return Placement("on_hold", partner.flag_case_id)
    return Placement(reward.status)


def flagged_since(subject: Subject, at: datetime) -> datetime:
    """When a flag at `at` leaves its subject flagged from (what it holds from): this flag's time,
    or, when the subject is flagged already (under an active case, or under a declined one: SPEC 4
    keeps it flagged), the earlier of that flag and this one (events arrive late, and a subject
    was flagged when the flagged event occurred). A new case after a declined dispute does not
    make what arrives dated between the two payable. After an approved dispute, a flag dated inside
    the approved period and sent after the cycle is new evidence, as it would have been had it come
    in time (`disputes.evidence_since_verdict`): it holds from its own time what the approval never
    saw, and nothing the approval released (`released`)."""
    return min(subject.flagged_at, at) if subject.status == "flagged" and subject.flagged_at else at


def judged_until(subject: Subject | None, at: datetime) -> datetime | None:
    """What a partner's sign-up sent again (`velocity.repeated`), dated at `at`, flags from: when it
    is dated no later than an approved dispute of the partner's, the approval's time (`approved_at`),
    else None (its own time). It is the evidence the security team judged, not new activity (SPEC
    4): a reviewer found a copy of the judged sign-up, sent after the cycle, opened a case reaching
    back to the first flag and holding what arrived late since. New evidence dated inside the
    approved period holds from its own time (`flagged_since`)."""
    if subject is None or subject.approved_at is None or at > subject.approved_at:
        return None
    return subject.approved_at


def holds_rewards(subject: Subject) -> bool:
    return subject.status == "flagged" and bool(subject.flag_case_id)


def flag_case_of(subject: Subject) -> str | None:
    return subject.flag_case_id if holds_rewards(subject) else None


def totals(rewards: Iterable[Reward]) -> dict[str, int]:
    found: dict[str, int] = {}
    for reward in rewards:
        found[reward.currency] = found.get(reward.currency, 0) + to_micros(reward.amount)
    return found


def negated(figures: dict[str, int]) -> dict[str, int]:
    return {currency: -micros for currency, micros in figures.items()}


def amounts(figures: dict[str, int]) -> list[dict[str, str]]:
    return [{"currency": c, "amount": amount_text(m, c)} for c, m in sorted(figures.items()) if m]


def held_notice(
    program_id: str, case_id: str, subject: tuple[str, str], held: list[Reward], at: datetime, origin: str
) -> Notify:
    return notify(
        program_id,
        "RewardsHeld",
        {
            "program_id": program_id,
            "case_id": case_id,
            "subject": {"type": subject[0], "id": subject[1]},
            "count": len(held),
            "amounts": amounts(totals(held)),
            "reward_ids": [r.reward_id for r in held],
        },
        at,
        origin,
        *sorted(r.reward_id for r in held),
    )


HOLD_STEP_ROOM = MAX_STEP_ITEMS - 3  # the case, the audit entry, the notification


def hold_steps(
    case: tuple[str, str],
    subject: tuple[str, str],
    rewards: list[Reward],
    actor: str,
    at: datetime,
    origin: str,
    noticed_at: datetime | None = None,
) -> list[Step]:
    """Puts rewards on hold under a case that still takes holds, in steps of at most 100 writes;
    each reward only if it is still what was read. `noticed_at`: the time of its notifications, when
    not `at` (`scoring_plan.ScoringInput.recorded_at`)."""
    program_id, case_id = case
    steps = []
    for start in range(0, len(rewards), HOLD_STEP_ROOM):
        chunk = rewards[start : start + HOLD_STEP_ROOM]
        step = Step([hold_write(r, case_id) for r in chunk])
        figures = totals(chunk)
        step.add(
            UpdateCase(program_id, case_id, expect=TAKES_HOLDS, held=len(chunk), hold_micros=figures),
            audit(
                case,
                "rewards_held",
                actor,
                at,
                {"rewards": [r.reward_id for r in chunk]},
                origin,
                chunk[0].reward_id,
            ),
            held_notice(program_id, case_id, subject, chunk, noticed_at or at, origin),
        )
        steps.append(step)
    return steps


def hold_write(reward: Reward, case_id: str) -> MoveReward:
    return MoveReward(
        reward.program_id,
        reward.reward_id,
        expect=reward.status,
        status="on_hold",
        case_id=case_id,
        never_overridden=True,
    )


def overridden(reward: Reward) -> bool:
    """The reward stands as an override leaves it: approved, for good."""
    return reward.status == "approved" and reward.overridden


def override_step(reward: Reward, actor: str, at: datetime, partner: Subject | None = None) -> Step:
    """on_hold -> approved, for good: no sweep or verdict holds it again (SPEC 3.2). Never a reward of
    a removed partner (`partner`: as read, None when it is not stored), which is archived, never
    paid (SPEC 3.2): one still on hold while its removal is under way (its first step written, the
    rest left to a retry or the sweep) is refused, and the step holds only while the partner still
    has the status read (a removal landing meanwhile refuses it, and the next read says why)."""
    if reward.status != "on_hold":
        raise Conflict(
            f"reward {reward.reward_id} is {reward.status}; only a reward on hold can be overridden"
        )
    if partner is not None and partner.status == "removed":
        raise Conflict(
            f"reward {reward.reward_id} is of partner {partner.id}, removed (case {partner.flag_case_id}): "
            "its rewards are archived, never paid"
        )
    step = Step(
        [
            MoveReward(
                reward.program_id,
                reward.reward_id,
                expect="on_hold",
                status="approved",
                overridden=True,
                expect_case=reward.case_id,  # whose figures it leaves (the cycle may move it meanwhile)
            )
        ]
    )
    if partner is not None:
        step.add(UpdateProfile.guard(reward.program_id, "partner", partner.id, status=partner.status))
    if reward.case_id:
        step.add(
            UpdateCase(reward.program_id, reward.case_id, held=-1, hold_micros=negated(totals([reward]))),
            audit(
                (reward.program_id, reward.case_id),
                "reward_overridden",
                actor,
                at,
                {
                    "reward_id": reward.reward_id,
                    "amount": amount_text(to_micros(reward.amount), reward.currency),
                    "currency": reward.currency,
                },
            ),
        )
    return step


def reward_chunks(
    case: Case,
    rewards: list[Reward],
    to_status: str,
    guard: tuple[str, ...],
    *,
    archive: bool,
    verdict: str | None = None,
    also: Write | None = None,
    under: str | None = None,
) -> list[Step]:
    """Moves rewards in steps, each also conditional on the case's status (`guard`), its `verdict`
    (the one a cycle applies) and `also` (a removal's condition on its partner): a case changed
    meanwhile (a removal racing a dispute cycle) stops the plan, and nothing more moves. Held
    rewards leave the hold figures of whichever case holds them; moved `on_hold` `under` another
    case, they join that case's."""
    holdable_again = to_status in HOLDABLE  # an approval: each reward's subjects list it (marked)
    # what the approval of a partner's case releases stays released from that partner's flags
    released_for_good = holdable_again and verdict == "approve" and case.subject_type == "partner"
    room = MAX_STEP_ITEMS // (3 if holdable_again else 2) - 1 - (1 if also else 0) - (1 if under else 0)
    steps = []
    for start in range(0, len(rewards), room):
        chunk = rewards[start : start + room]
        step = Step(
            [
                MoveReward(
                    r.program_id,
                    r.reward_id,
                    expect=r.status,
                    status=to_status,
                    case_id=under,
                    # a held one leaves the figures of the case it was read under: only if still there
                    expect_case=r.case_id if r.status == "on_hold" else None,
                    released=released_for_good,
                )
                for r in chunk
            ]
        )
        if under is not None:
            step.add(UpdateCase(case.program_id, under, held=len(chunk), hold_micros=totals(chunk)))
        if holdable_again:
            subjects = {("partner", r.partner_id) for r in chunk} | {
                ("customer", r.customer_id) for r in chunk if r.customer_id
            }
            step.add(
                *(
                    ListRewards(case.program_id, kind, subject_id, holdables.EVERYTHING_UNLISTED)
                    for kind, subject_id in sorted(subjects)
                )
            )
        holders: dict[str, list[Reward]] = {}
        for reward in chunk:
            if reward.status == "on_hold" and reward.case_id:
                holders.setdefault(reward.case_id, []).append(reward)
        own = holders.pop(case.case_id, [])
        own_update = UpdateCase(
            case.program_id,
            case.case_id,
            expect=guard,
            held=-len(own),
            hold_micros=negated(totals(own)),
            archived=len(chunk) if archive else 0,
            archived_micros=totals(chunk) if archive else {},
            expect_verdict=verdict,
        )
        step.add(own_update)
        if also is not None:
            step.add(also)
        for holder, held in sorted(holders.items()):
            step.add(UpdateCase(case.program_id, holder, held=-len(held), hold_micros=negated(totals(held))))
        steps.append(step)
    return steps
